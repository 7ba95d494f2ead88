"""The process pool executor on real worker processes: a worker that dies is survived, the
file that killed it is recorded as skipped, and every other file is evaluated."""

from __future__ import annotations

from pathlib import Path

from assay import analyze
from assay.analyze.interface import FileAnalyzer
from assay.config import Options
from assay.engine import Executor
from assay.engine.pool import Pool
from crashing import MARK, Crashing
from support import run_evaluation, write_tree

STRCPY = "void f(char *a, const char *b)\n{\n    strcpy(a, b);\n}\n"


def crashing_pool(options: Options, analyzers: tuple[FileAnalyzer, ...]) -> Executor:
    """A two-process pool whose analyzers kill their worker on a marked file."""
    wrapped = tuple(Crashing(a) for a in analyzers)
    return Pool(2, wrapped, options.parse)  # type: ignore[arg-type]


def test_a_worker_killed_by_one_file_costs_only_that_file(tmp_path: Path) -> None:
    files = {f"src/ok{n}.c": STRCPY.replace("f(", f"f{n}(") for n in range(6)}
    files["src/zz_kill.c"] = f"/* {MARK.decode()} */\n{STRCPY}"
    files["copy/zz_kill.c"] = files["src/zz_kill.c"]
    tree = write_tree(tmp_path / "t", files)
    run = run_evaluation(tree, tmp_path / "out", crashing_pool, jobs=2)
    crashed = [(s.path, s.stage, s.reason) for s in run.evaluation.skipped]
    assert crashed == [
        ("copy/zz_kill.c", "parse", "worker-crashed"),
        ("src/zz_kill.c", "parse", "worker-crashed"),
    ]
    found = sorted(f["path"] for f in run.findings("unsafe-calls"))
    assert found == sorted(p for p in files if "kill" not in p)
    assert analyze.build({})  # the registry is untouched by the wrapping
