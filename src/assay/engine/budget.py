"""The time budget of each per-file step (read, parse, each analyzer): a step that runs past it
is interrupted with :class:`StepTimeout`, and the worker records the file as skipped.

How a step is interrupted depends on the thread it runs on:

- the main thread of a process (pool workers, ``-j 1`` run from the main thread): an
  ``ITIMER_REAL`` timer and a ``SIGALRM`` handler that raises. Python checks signals between
  bytecodes and inside long regular-expression matches, so a quadratic Python loop or a
  catastrophic regex is stopped within the budget;
- any other thread (Dask workers run tasks on threads, a library caller may evaluate from one):
  one watchdog thread per process raises the exception asynchronously in the step's thread
  (``PyThreadState_SetAsyncExc``), which takes effect between bytecodes.

Re-arming is one ``setitimer`` call per step (about 1 µs). Native code that never returns to
the interpreter cannot be interrupted from inside; the pool workers' backstop for it is a CPU
time limit (:func:`cpu_backstop`): a worker that exceeds it is killed by the kernel and the
pool records its file as ``worker-crashed`` (``engine/pool.py``).
"""

from __future__ import annotations

import contextlib
import ctypes
import math
import resource
import signal
import threading
import time
from types import FrameType, TracebackType

BACKSTOP_GRACE = 10.0
"""Seconds of CPU time a pool worker may spend past the sum of a task's step budgets before the
kernel kills it (``RLIMIT_CPU``): only native code that ignores the timer gets that far."""


class StepTimeout(BaseException):
    """A per-file step ran past its budget. A ``BaseException``, as ``KeyboardInterrupt`` is,
    so that no ``except Exception`` in an analyzer or a library swallows it."""


class Budget:
    """The budget of one task's steps: ``with Budget(seconds) as clock: clock.step("parse")...``.

    Each :meth:`step` gives the named step ``seconds`` from now; leaving the block disarms.
    The step running when the budget ran out is :attr:`current`.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.current = ""
        self._main = threading.current_thread() is threading.main_thread()
        self._previous: object = None
        self._outer = (0.0, 0.0)
        self._entered = 0.0

    def __enter__(self) -> Budget:
        if self._main:
            self._previous = signal.signal(signal.SIGALRM, self._expired)
            self._outer = signal.getitimer(signal.ITIMER_REAL)
            self._entered = time.monotonic()
        return self

    def step(self, name: str) -> None:
        """Start step ``name`` with a fresh budget."""
        self.current = name
        if self._main:
            signal.setitimer(signal.ITIMER_REAL, self.seconds)
        else:
            _watchdog().arm(threading.get_ident(), time.monotonic() + self.seconds)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._main:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._previous)  # type: ignore[arg-type]
            remaining, interval = self._outer
            if remaining > 0:  # a caller's own timer: re-armed for what is left of it
                left = remaining - (time.monotonic() - self._entered)
                signal.setitimer(signal.ITIMER_REAL, max(left, 1e-3), interval)
        else:
            # an exception sent just before the step ended may be raised while disarming
            with contextlib.suppress(StepTimeout):
                _watchdog().disarm(threading.get_ident())

    def _expired(self, signum: int, frame: FrameType | None) -> None:
        raise StepTimeout


class _Watchdog:
    """One daemon thread that raises :class:`StepTimeout` in threads past their deadline."""

    def __init__(self) -> None:
        self._deadlines: dict[int, float] = {}
        self._fired: set[int] = set()
        self._wake = threading.Condition()
        threading.Thread(target=self._watch, name="assay-budget", daemon=True).start()

    def arm(self, thread: int, deadline: float) -> None:
        with self._wake:
            self._deadlines[thread] = deadline
            self._wake.notify()

    def disarm(self, thread: int) -> None:
        """Forget ``thread``'s deadline (called on that thread). An exception sent to it and
        not yet raised is raised and swallowed here, not later outside the step. (Withdrawing
        it with ``PyThreadState_SetAsyncExc(thread, NULL)`` is not an option: on CPython 3.11
        that leaves the interpreter's pending flag set for good, and a thread that profiles
        then loops at its next function entry.)"""
        with self._wake:
            self._deadlines.pop(thread, None)
            fired = thread in self._fired
            self._fired.discard(thread)
        if fired:
            _absorb()

    def _watch(self) -> None:
        with self._wake:
            while True:
                now = time.monotonic()
                for thread, deadline in list(self._deadlines.items()):
                    if deadline <= now:
                        del self._deadlines[thread]
                        self._fired.add(thread)
                        ctypes.pythonapi.PyThreadState_SetAsyncExc(
                            ctypes.c_ulong(thread), ctypes.py_object(StepTimeout)
                        )
                soonest = min(self._deadlines.values(), default=math.inf)
                self._wake.wait(None if soonest == math.inf else soonest - now)


def _absorb() -> None:
    """Give a pending asynchronous ``StepTimeout`` the chance to be raised, and swallow it: the
    interpreter checks for one at every backward jump."""
    with contextlib.suppress(StepTimeout):
        for _ in range(3):
            pass


_WATCHDOG: _Watchdog | None = None
_WATCHDOG_LOCK = threading.Lock()


def _watchdog() -> _Watchdog:
    global _WATCHDOG
    with _WATCHDOG_LOCK:
        if _WATCHDOG is None:
            _WATCHDOG = _Watchdog()
        return _WATCHDOG


def cpu_backstop(seconds: float, grace: float = BACKSTOP_GRACE) -> None:
    """Let this process spend at most ``seconds`` more CPU time (plus ``grace``, rounded up
    to a whole second) before the kernel ends it (``SIGXCPU``, default action). Pool workers
    only: it would end the calling process, whatever it is. The hard limit is left alone
    (lowering it could not be undone)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = usage.ru_utime + usage.ru_stime
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = math.ceil(used + seconds + grace)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def no_core_dumps() -> None:
    """A worker that the kernel ends (the CPU backstop, a native crash) writes no core file:
    nothing is written outside the output directory."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1]))
