"""The time budget of each per-file step: an analyzer that never finishes on one file is
interrupted at its budget, that file gets a ``timeout`` skipped record naming the step and the
budget, and the other analyzers and files go on. Shown in this process (-j 1), in pool workers
and on a thread that is not the main thread (as Dask workers run tasks); no time is asserted,
only what was recorded."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from assay import analyze
from assay.analyze.interface import FileAnalyzer
from assay.config import Options, load
from assay.engine import Executor, budget, cache, worker
from assay.engine.execute import InProcess
from assay.engine.pool import Pool
from assay.errors import ConfigError
from assay.model import FileKind
from assay.parse import ParseLimits
from stalling import MARK, Stalling
from support import Computed, run_evaluation, write_tree

STRCPY = "void f(char *a, const char *b)\n{\n    strcpy(a, b);\n}\n"
BUDGET = 2.0
"""Seconds per step in these tests (the stalling analyzer would spin for 60). The slowest
other step on these files, a fresh process's first complexity run, took 65 ms at a load
average of 12 on two cores: 30 times less, so a busy machine gives no false timeout."""
DETAIL = f"unsafe-calls exceeded its time budget of {BUDGET:g} s"


def _stalling(analyzers: tuple[FileAnalyzer, ...]) -> tuple[FileAnalyzer, ...]:
    """The analyzers, the unsafe-calls one stalling on marked files."""
    return tuple(Stalling(a, a.id == "unsafe-calls") for a in analyzers)  # type: ignore[misc]


def in_process(options: Options, analyzers: tuple[FileAnalyzer, ...]) -> Executor:
    return InProcess(_stalling(analyzers), options.parse)


def in_pool(options: Options, analyzers: tuple[FileAnalyzer, ...]) -> Executor:
    return Pool(2, _stalling(analyzers), options.parse)


def _tree(tmp_path: Path) -> Path:
    files = {f"src/ok{n}.c": STRCPY.replace("f(", f"f{n}(") for n in range(4)}
    files["src/stall.c"] = f"/* {MARK.decode()} */\n{STRCPY}"
    files["copy/stall.c"] = files["src/stall.c"]
    return write_tree(tmp_path / "t", files)


@pytest.mark.parametrize("executor", [in_process, in_pool], ids=["in-process", "pool"])
def test_an_analyzer_past_its_budget_is_a_timeout_and_the_run_goes_on(
    tmp_path: Path, executor: object
) -> None:
    run = run_evaluation(
        _tree(tmp_path), tmp_path / "out", executor, jobs=2,
        parse=ParseLimits(step_timeout=BUDGET),
    )  # fmt: skip
    skipped = [(s.path, s.stage, s.reason, s.detail) for s in run.evaluation.skipped]
    assert skipped == [
        ("copy/stall.c", "unsafe-calls", "timeout", DETAIL),
        ("src/stall.c", "unsafe-calls", "timeout", DETAIL),
    ]
    found = sorted(f["path"] for f in run.findings("unsafe-calls"))
    assert found == [f"src/ok{n}.c" for n in range(4)]
    # the other analyzers still ran on the stalled file: its function was measured
    functions = run.json()["complexity"]["functions"]
    assert {"copy/stall.c", "src/stall.c"} <= {f["path"] for f in functions}


def test_a_step_on_another_thread_is_stopped_by_the_watchdog(tmp_path: Path) -> None:
    source = tmp_path / "stall.c"
    source.write_bytes(f"/* {MARK.decode()} */\n{STRCPY}".encode())
    analyzers = _stalling(analyze.build({}))
    wanted = tuple(i for i, a in enumerate(analyzers) if a.id in ("unsafe-calls", "complexity"))
    task = worker.Task(0, str(source), FileKind.C, wanted)
    outcomes: list[worker.Outcome] = []
    thread = threading.Thread(
        target=lambda: outcomes.append(
            worker.run(task, analyzers, ParseLimits(step_timeout=BUDGET))
        )
    )
    thread.start()
    thread.join()
    [outcome] = outcomes
    stalled = analyzers.index(next(a for a in analyzers if a.id == "unsafe-calls"))
    assert outcome.skip is None
    assert outcome.failures == {stalled: ("timeout", DETAIL)}
    assert set(outcome.results) == set(wanted) - {stalled}
    assert not cache.cacheable(outcome)


def test_a_timeout_is_never_stored_in_the_result_cache(tmp_path: Path) -> None:
    tree = _tree(tmp_path)
    limits = ParseLimits(step_timeout=BUDGET)

    def stalling_then(computed: Computed) -> object:
        def factory(options: Options, analyzers: tuple[FileAnalyzer, ...]) -> Executor:
            return computed.factory(options, _stalling(analyzers))

        return factory

    first = Computed()
    run_evaluation(tree, tmp_path / "o1", stalling_then(first), cache_dir=tmp_path / "c",
                   parse=limits)  # fmt: skip
    again = Computed()
    warm = run_evaluation(tree, tmp_path / "o2", again.factory, cache_dir=tmp_path / "c",
                          parse=limits)  # fmt: skip
    assert len(first) == 5  # four ok files and one stalled content
    [recomputed] = again  # only the timed-out content is computed again
    assert recomputed.endswith("stall.c")
    assert warm.evaluation.skipped == ()


def test_the_budget_is_a_config_key_checked_like_every_cap(tmp_path: Path) -> None:
    opts = load(tmp_path, tmp_path / "out", {"parse": {"step_timeout": 5}})
    assert opts.parse.step_timeout == 5
    assert ParseLimits().step_timeout == 60.0
    # not an option of the results (evaluation.json): each timeout record names its budget
    assert "step_timeout" not in opts.effective()["parse"]
    for bad in (0, -1.0, float("nan"), float("inf"), "60", True):
        with pytest.raises(ConfigError, match="step_timeout"):
            load(tmp_path, tmp_path / "out", {"parse": {"step_timeout": bad}})


def test_native_code_past_its_cpu_budget_ends_the_worker_process() -> None:
    """The pool workers' backstop for code the timer cannot interrupt: a child sets the limit
    a worker sets before each task, blocks ``SIGALRM`` (as native code never returning to the
    interpreter would ignore it) and spins; the kernel ends it with ``SIGXCPU``."""
    body = """\
import os
import signal
from assay.engine.budget import cpu_backstop
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGALRM])
cpu_backstop(0.2, grace=0)
spins = 0
while spins < 10**12:
    spins += 1
print("not stopped")
"""
    child = subprocess.run([sys.executable, "-c", body], capture_output=True, timeout=120)
    assert child.returncode == -signal.SIGXCPU
    assert b"not stopped" not in child.stdout


def test_a_callers_own_timer_survives_the_budget() -> None:
    """A caller's ``ITIMER_REAL`` running when a task starts is armed again afterwards."""
    previous = signal.signal(signal.SIGALRM, lambda *_: None)
    try:
        signal.setitimer(signal.ITIMER_REAL, 500.0)
        with budget.Budget(BUDGET) as clock:
            clock.step("parse")
        remaining, _ = signal.getitimer(signal.ITIMER_REAL)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert 0 < remaining <= 500.0


def test_after_the_watchdog_fires_other_threads_run_normally(tmp_path: Path) -> None:
    """A step stopped by the watchdog leaves no pending state behind: the main thread then
    calls a function under a profiler (withdrawing a sent exception with
    ``PyThreadState_SetAsyncExc(thread, NULL)``, as an earlier version did, left CPython
    3.11's pending flag set, and this call looped for ever). Run in a child, which must end."""
    source = tmp_path / "stall.c"
    source.write_bytes(f"/* {MARK.decode()} */\n{STRCPY}".encode())
    body = f"""\
import sys, threading
from assay import analyze
from assay.engine import worker
from assay.model import FileKind
from assay.parse import ParseLimits
from stalling import Stalling
analyzers = tuple(Stalling(a, a.id == "unsafe-calls") for a in analyze.build({{}}))
wanted = tuple(i for i, a in enumerate(analyzers) if a.id in ("unsafe-calls", "complexity"))
task = worker.Task(0, {str(source)!r}, FileKind.C, wanted)
found = []
thread = threading.Thread(
    target=lambda: found.append(worker.run(task, analyzers, ParseLimits(step_timeout=0.5)))
)
thread.start()
thread.join()
calls = []
def called():
    return 1
sys.setprofile(lambda frame, event, arg: calls.append(event))
called()
sys.setprofile(None)
print(sorted(reason for reason, _ in found[0].failures.values()), "profiled", bool(calls))
"""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent)}
    child = subprocess.run(
        [sys.executable, "-c", body], capture_output=True, text=True, timeout=300, env=env
    )
    assert child.returncode == 0, child.stderr[-2000:]
    assert child.stdout.split("\n")[-2] == "['timeout'] profiled True"
