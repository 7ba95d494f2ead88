"""The local process pool executor (``-j N``): batches in flight, cache hits consumed while
the workers compute, and a worker that dies is survived.

A worker that dies (e.g. a native crash on hostile input) breaks the pool, and every batch in
flight with it: those batches are retried one task at a time on a fresh pool, a task that
breaks that one too is run on a pool of its own, and a task that breaks a pool alone becomes a
``worker-crashed`` outcome (a skipped record for each of its paths). The run goes on.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import ClassVar

from assay.analyze.interface import FileAnalyzer
from assay.engine.execute import InProcess
from assay.engine.plan import Unit, batches, huge
from assay.engine.worker import Outcome, Task, crashed, init, run_batch
from assay.errors import AssayError
from assay.parse import ParseLimits

READY_STEP = 64
_CANNOT_START = "worker processes could not start (run assay from a script file)"
"""Ready outcomes (cache hits) yielded between two polls of the pool."""

Batch = list[Task]


@dataclass(frozen=True, slots=True)
class Pool:
    """Computes on ``jobs`` worker processes started by the fork server."""

    jobs: int
    analyzers: tuple[FileAnalyzer, ...]
    limits: ParseLimits
    on_submit: Callable[[Batch], None] | None = None
    """Told of every batch submitted to the pool (an observer: tests, tracing)."""

    serial: ClassVar[bool] = False

    def compute(
        self, todo: Sequence[Unit], ready: Iterator[Outcome], total: int
    ) -> Iterator[Outcome]:
        """Keep ``2 * jobs`` batches in flight; ``ready`` is yielded ``READY_STEP`` at a time
        whenever no batch has completed, once the first batches are submitted. Fewer than two
        units are computed in this process."""
        if len(todo) < 2:
            yield from InProcess(self.analyzers, self.limits).compute(todo, ready, total)
            return
        sizes = {unit.task.key: unit for unit in todo}
        yield from _Run(self, sizes, list(reversed(list(batches(todo))))).outcomes(ready)


@dataclass(slots=True)
class _Run:
    """One pool computation: the batches still to submit, and the tasks to run alone."""

    pool: Pool
    units: Mapping[int, Unit]
    pending: list[Batch]
    alone: list[Task] = field(default_factory=list)
    """Tasks whose pool broke while they were in flight with others: each is run on a pool
    of its own, so that only the task that kills its worker is blamed for it."""
    started: bool = False
    """Whether a worker ever completed a batch (so workers can start)."""

    def outcomes(self, ready: Iterator[Outcome]) -> Iterator[Outcome]:
        """Every outcome; a fresh pool after each broken one."""
        more = True
        while self.pending or self.alone:
            isolated = not self.pending
            if isolated:
                self.pending.append([self.alone.pop()])
            broken, more = yield from self._round(
                ready, more, 1 if isolated else 2 * self.pool.jobs
            )
            yield from self._after(broken, isolated)
        yield from ready

    def _round(
        self, ready: Iterator[Outcome], more: bool, limit: int
    ) -> Generator[Outcome, None, tuple[list[Batch], bool]]:
        """Run batches on one pool until it breaks or no batch is left; the broken batches."""
        broken: list[Batch] = []
        with ProcessPoolExecutor(
            self.pool.jobs, get_context("forkserver"), initializer=init,
            initargs=(self.pool.analyzers, self.pool.limits),
        ) as executor:  # fmt: skip
            inflight: dict[Future[list[Outcome]], Batch] = {}
            while (self.pending or inflight) and not broken:
                if not self._fill(executor, inflight, limit) or not inflight:
                    break
                done, _ = wait(inflight, 0 if more else None, FIRST_COMPLETED)
                for future in done:
                    batch = inflight.pop(future)
                    try:
                        outcomes = future.result()
                    except BrokenProcessPool:
                        broken.append(batch)
                        continue
                    self.started = True
                    yield from outcomes
                if more and not done:
                    more = yield from _step(ready, READY_STEP)
            broken.extend(inflight.values())
        if not broken and self.pending and not self._workers_start():
            raise AssayError(_CANNOT_START)
        return broken, more

    def _after(self, broken: list[Batch], isolated: bool) -> Iterator[Outcome]:
        """Requeue the batches of a broken pool one task each; a task that broke a pool while
        others were in flight is run alone; a task that broke one alone becomes a crash
        outcome (unless no worker can start at all)."""
        for batch in broken:
            if len(batch) > 1:
                self.pending.extend([task] for task in batch)
            elif not isolated:
                self.alone.extend(batch)
            elif self.started or self._workers_start():
                yield crashed(batch[0])
            else:
                raise AssayError(_CANNOT_START)

    def _workers_start(self) -> bool:
        """Whether a worker process can start and run an empty batch."""
        try:
            with ProcessPoolExecutor(
                1, get_context("forkserver"), initializer=init,
                initargs=(self.pool.analyzers, self.pool.limits),
            ) as executor:  # fmt: skip
                executor.submit(run_batch, []).result()
        except BrokenProcessPool:
            return False
        self.started = True
        return True

    def _fill(
        self,
        executor: ProcessPoolExecutor,
        inflight: dict[Future[list[Outcome]], Batch],
        limit: int,
    ) -> bool:
        """Submit batches until ``limit`` are in flight; ``False`` when the pool is broken."""
        while self.pending and len(inflight) < limit:
            batch = self._next_batch(inflight.values())
            if batch is None:
                return True
            try:
                inflight[executor.submit(run_batch, batch)] = batch
            except BrokenProcessPool:
                self.pending.append(batch)
                return False
            if self.pool.on_submit is not None:
                self.pool.on_submit(batch)
        return True

    def _huge(self, batch: Batch) -> bool:
        return any(huge(self.units[t.key]) for t in batch)

    def _next_batch(self, inflight: Iterable[Batch]) -> Batch | None:
        """Pop the next batch to submit, holding a huge one back while another huge one runs."""
        if not any(self._huge(b) for b in inflight):
            return self.pending.pop()
        for index in range(len(self.pending) - 1, -1, -1):
            if not self._huge(self.pending[index]):
                return self.pending.pop(index)
        return None


def _step(ready: Iterator[Outcome], count: int) -> Generator[Outcome, None, bool]:
    """Yield up to ``count`` outcomes of ``ready``; ``False`` once it is exhausted."""
    for _ in range(count):
        outcome = next(ready, None)
        if outcome is None:
            return False
        yield outcome
    return True
