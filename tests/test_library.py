"""``assay`` as a library: the documented use, and a facade that stays cheap to import."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import assay
from assay import examples


def test_the_documented_library_use_writes_the_four_outputs(tmp_path: Path) -> None:
    source = examples.materialise(tmp_path / "router")
    options = assay.load_options(source, tmp_path / "out", assay.read_config(None), jobs=1)
    db = tmp_path / "history.sqlite"
    result = assay.run(options, recording=assay.Recording(db, "router", "1.0"))
    names = {p.name for p in result.written}
    assert names == {"evaluation.json", "results.sarif", "report.html", "sbom.cdx.json"}
    assert all(p.is_file() for p in result.written)
    doc = json.loads((tmp_path / "out" / "evaluation.json").read_text(encoding="utf-8"))
    assert doc["findings"] and doc["rating"] == dict(result.evaluation.rating)
    assert result.history_id is not None and result.warnings == ()
    assert result.max_severity is assay.Severity.CRITICAL
    assert result.fails(assay.Severity.HIGH) and not result.fails(None)


def test_evaluate_alone_only_evaluates(tmp_path: Path) -> None:
    source = examples.materialise(tmp_path / "router")
    options = assay.Options.default(source, tmp_path / "out")
    evaluation = assay.evaluate(options)
    assert isinstance(evaluation, assay.Evaluation) and evaluation.total_findings
    assert not (tmp_path / "out" / "evaluation.json").exists()


def test_a_producer_needs_the_output_directory() -> None:
    with pytest.raises(TypeError, match="output_dir"):
        assay.run(lambda: pytest.fail("not called"))


def test_errors_are_assay_errors(tmp_path: Path) -> None:
    options = assay.load_options(tmp_path / "missing", tmp_path / "out", {}, jobs=1)
    with pytest.raises(assay.AssayError):
        assay.run(options)


def test_every_public_name_resolves_and_importing_assay_loads_nothing_else() -> None:
    for name in assay.__all__:
        assert getattr(assay, name) is not None
    code = "import sys, assay; print(sorted(m for m in sys.modules if m.startswith('assay')))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout.strip()  # fmt: skip
    assert loaded == "['assay']"
    with pytest.raises(AttributeError):
        _ = assay.no_such_name  # type: ignore[attr-defined]
