"""Acceptance 5 on real trees: the code before the architecture refactor and the code now write
the same evaluation.json, results.sarif and sbom.cdx.json (serial number and timestamp aside).

The pre-refactor code is ``git archive``-d from ``BEFORE`` into a temporary directory; both
versions run as child processes whose ``PYTHONPATH`` is their own ``src/`` alone, and each
checks that ``assay`` is imported from there (``scripts/golden.py``), so the editable install
cannot answer for the old code. Both evaluate the same input path (its name is in the outputs)
into separate output directories, ``--no-cache --no-history -j 2``. Each reads a knowledge base
that its own code built (``assay kb add`` of the same release, at the same path), so that
rebuilding the shipped KB, or changing its file format, is not taken for a change of the code.
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


def _evaluate(src: Path, release: Any, out: Path) -> dict[str, bytes]:
    kb = out.parent / "kb.sqlite"
    kb.unlink(missing_ok=True)
    tree = str(release.path)
    add = ["kb", "add", tree, "--name", release.name, "--version", release.version, "--kb", str(kb)]
    golden.run(src, add, cwd=out.parent)
    args = ["evaluate", tree, "-o", str(out), "-q", "--no-cache", "--no-history", "-j", "2"]
    golden.run(src, [*args, "--kb", str(kb)], cwd=out.parent)
    return golden.outputs(out)


@pytest.mark.parametrize("spec", ["zlib/bookworm", "libpng1.6/bookworm"])
def test_outputs_identical_to_pre_refactor_code(
    spec: str, upstream: Callable[[str], Any], before_src: Path, tmp_path: Path
) -> None:
    release = upstream(spec)
    tree = release.path
    before = _evaluate(before_src, release, tmp_path / "before")
    now = _evaluate(CURRENT, release, tmp_path / "now")
    evaluation = json.loads(before["evaluation.json"])
    assert evaluation["input"]["name"] == tree.name and evaluation["findings"]
    differ = [name for name in golden.OUTPUTS if before[name] != now[name]]
    assert not differ, f"{spec}: {', '.join(differ)} differ from the pre-refactor outputs"
