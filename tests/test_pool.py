"""The process pool executor on real worker processes: a worker that dies is survived, the
file that killed it is recorded as skipped, and every other file is evaluated."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from assay import analyze
from assay.analyze.interface import FileAnalyzer
from assay.config import Options
from assay.engine import Executor, ExecutorFactory
from assay.engine.plan import BATCH_FILES
from assay.engine.pool import Pool
from assay.engine.worker import Task
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


MANY = 100
"""Files of the multi-batch tests: more than three batches of ``plan.BATCH_FILES`` (32)."""


def submitted_pool(seen: list[list[str]], crash: bool = False) -> ExecutorFactory:
    """The real two-process pool, recording the base name of every task of every batch it
    submits (``crash``: its analyzers kill their worker on a marked file)."""

    def make(options: Options, analyzers: tuple[FileAnalyzer, ...]) -> Executor:
        used = tuple(Crashing(a) for a in analyzers) if crash else analyzers

        def record(batch: list[Task]) -> None:
            seen.append([Path(task.disk_path).name for task in batch])

        return Pool(2, used, options.parse, record)  # type: ignore[arg-type]

    return make


def many_files() -> dict[str, str]:
    return {f"src/m{n:03}.c": STRCPY.replace("f(", f"f{n}(") for n in range(MANY)}


def test_several_batches_compute_every_file_exactly_once(tmp_path: Path) -> None:
    seen: list[list[str]] = []
    files = many_files()
    run = run_evaluation(write_tree(tmp_path / "t", files), tmp_path / "out", submitted_pool(seen))
    assert [len(batch) for batch in seen] == [BATCH_FILES] * 3 + [MANY - 3 * BATCH_FILES]
    assert Counter(name for batch in seen for name in batch) == Counter(Path(p).name for p in files)
    assert sorted(f["path"] for f in run.findings("unsafe-calls")) == sorted(files)


def test_a_crash_among_several_batches_recomputes_its_batch_one_task_at_a_time(
    tmp_path: Path,
) -> None:
    """The killing file is submitted exactly three times: in its batch, alone in a pool with
    other single tasks, and alone in a pool of its own, which makes it a crash record. Every
    other file gives its finding exactly once, however often the breaks made it run again."""
    seen: list[list[str]] = []
    files = many_files()
    files["src/m050.c"] = f"/* {MARK.decode()} */\n{files['src/m050.c']}"
    tree = write_tree(tmp_path / "t", files)
    run = run_evaluation(tree, tmp_path / "out", submitted_pool(seen, crash=True), jobs=2)
    crashed = [(s.path, s.reason) for s in run.evaluation.skipped]
    assert crashed == [("src/m050.c", "worker-crashed")]
    sizes = [len(batch) for batch in seen if "m050.c" in batch]
    assert sizes[0] > 1 and sizes[1:] == [1, 1]
    found = Counter(f["path"] for f in run.findings("unsafe-calls"))
    assert found == Counter(p for p in files if p != "src/m050.c")
