"""Acceptance 5 on real trees: the code before the architecture refactor and the code now write
the same evaluation.json, results.sarif and sbom.cdx.json (serial number and timestamp aside).

The pre-refactor code is ``git archive``-d from ``BEFORE`` into a temporary directory; both
versions run as child processes whose ``PYTHONPATH`` is their own ``src/`` alone, and each
checks that ``assay`` is imported from there (``scripts/golden.py``), so the editable install
cannot answer for the old code. Both evaluate the same input path (its name is in the outputs)
into separate output directories, ``--no-cache --no-history -j 2``.

What the vulnerability and end-of-life data gives was changed on purpose since (issue 18:
support policies, release dates, new rules and fields): that part (the ``vulnerabilities``
section and findings, the rating and summary that count them, the rule list and SARIF rule
indexes, the SBOM's vulnerabilities and metadata) is left out of the comparison, every other
byte of meaning is compared (``_without_vulnerability_data``).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

_SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
if str(_SCRIPTS) not in sys.path:
    sys.path.insert(0, str(_SCRIPTS))

import golden  # noqa: E402  (scripts/ is a plain script folder)

pytestmark = pytest.mark.realworld

BEFORE = "d57aa78ad66345279d5280e95aaad03a470b6b05"
"""The last commit before the architecture refactor (issue 15)."""

CURRENT = golden.REPO / "src"


@pytest.fixture(scope="module")
def before_src(tmp_path_factory: pytest.TempPathFactory) -> Path:
    try:
        return golden.extract(BEFORE, tmp_path_factory.mktemp("before"))
    except golden.RunError as exc:
        pytest.fail(f"cannot compare with the pre-refactor commit {BEFORE}: {exc}")


def _without_vulnerability_data(name: str, raw: bytes) -> Any:
    """One output as JSON, without the parts the vulnerability data decides (module doc)."""
    doc = json.loads(raw)
    if name == "evaluation.json":
        for key in ("vulnerabilities", "rating", "summary", "rules"):
            doc.pop(key, None)
        doc["findings"] = [f for f in doc["findings"] if f["category"] != "vulnerabilities"]
    elif name == "results.sarif":
        for run in doc["runs"]:
            run["tool"]["driver"].pop("rules", None)
            run["properties"].pop("vulnerabilityDataSnapshot", None)
            run["results"] = [{k: v for k, v in r.items() if k != "ruleIndex"}
                              for r in run["results"]
                              if not r["ruleId"].startswith("vulnerabilities/")]  # fmt: skip
    else:
        doc.pop("vulnerabilities", None)
        doc.get("metadata", {}).pop("properties", None)
    return doc


def _evaluate(src: Path, tree: Path, out: Path) -> dict[str, Any]:
    args = ["evaluate", str(tree), "-o", str(out), "-q", "--no-cache", "--no-history", "-j", "2"]
    golden.run(src, args, cwd=out.parent)
    return {name: _without_vulnerability_data(name, raw)
            for name, raw in golden.outputs(out).items()}  # fmt: skip


@pytest.mark.parametrize("spec", ["zlib/bookworm", "libpng1.6/bookworm"])
def test_outputs_identical_to_pre_refactor_code(
    spec: str, upstream: Callable[[str], Any], before_src: Path, tmp_path: Path
) -> None:
    tree = upstream(spec).path
    before = _evaluate(before_src, tree, tmp_path / "before")
    now = _evaluate(CURRENT, tree, tmp_path / "now")
    evaluation = before["evaluation.json"]
    assert evaluation["input"]["name"] == tree.name and evaluation["findings"]
    differ = [name for name in golden.OUTPUTS if before[name] != now[name]]
    assert not differ, f"{spec}: {', '.join(differ)} differ from the pre-refactor outputs"
