"""``assay rebuild`` writes evaluation.json, results.sarif and report.html, with exit codes."""

from __future__ import annotations

import json
import time
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from assay import sandbox
from assay.cli import main
from assay.rebuild.build import FIXED_EPOCH
from support import write_tree

STAMP = 'const char *stamp(void) { return "built " __DATE__ " " __TIME__; }\n'


@pytest.fixture(autouse=True)
def _bwrap() -> None:
    reason = sandbox.available()
    assert reason is None, f"the sandbox is needed (install bubblewrap): {reason}"


def _rebuild(tmp_path: Path, *extra: str) -> tuple[int, Path]:
    source = write_tree(tmp_path / "src", {"stamp.c": STAMP})
    out = tmp_path / "out"
    build = "gcc -O2 -fPIC -shared -o libstamp.so stamp.c"
    code = main(["rebuild", str(source), "--build", build, "--artifacts", "*.so", "-o", str(out),
                 "-q", *extra])  # fmt: skip
    return code, out


def test_outputs_and_fail_on(tmp_path: Path) -> None:
    code, out = _rebuild(tmp_path, "--fail-on", "medium")
    assert code == 1
    document = json.loads((out / "evaluation.json").read_text())
    schema = json.loads((resources.files("assay") / "schemas" / "evaluation.schema.json")
                        .read_text("utf-8"))  # fmt: skip
    jsonschema.validate(document, schema)
    section = document["equivalence"]
    assert section["reproducibility"] == {"compared": 1, "identical": 0, "equivalent": 0,
                                          "percent": 0.0}  # fmt: skip
    [finding] = document["findings"]
    assert finding["rule_id"] == "equivalence/not-reproducible"
    assert finding["path"] == "libstamp.so"
    assert "date-time" in finding["properties"]["causes"]
    sarif = json.loads((out / "results.sarif").read_text())
    [result] = sarif["runs"][0]["results"]
    assert result["ruleId"] == "equivalence/not-reproducible"
    assert result["properties"]["category"] == "equivalence"
    page = (out / "report.html").read_text()
    assert "equivalence/not-reproducible" in page
    assert section["verdicts"][0] | {"evidence": ""} == {
        "artefact": "libstamp.so", "pair": "rebuild-1 vs rebuild-2", "verdict": "different",
        "cause": "date-time", "evidence": "",
    }  # fmt: skip
    epoch_time = time.strftime("%H:%M:%S", time.gmtime(FIXED_EPOCH))
    assert f"rebuild-2: {epoch_time}" in section["verdicts"][0]["evidence"]
    assert f"rebuild-2: {epoch_time}" in page


def test_exit_zero_without_fail_on(tmp_path: Path) -> None:
    code, out = _rebuild(tmp_path)
    assert code == 0
    assert (out / "evaluation.json").is_file()
