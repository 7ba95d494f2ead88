"""Execute the per-file work: an ``Executor`` computes outcomes; the result cache supplies
the outcomes it already holds.

Three executors: in this process (``InProcess``, ``-j 1``), a local process pool (``Pool``,
``assay.engine.pool``) and a Dask cluster (``Cluster``). The work never depends on which one
runs it. Tests inject their own executor through ``assay.engine.evaluate``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from typing import ClassVar, Protocol

from assay.analyze.interface import FileAnalyzer
from assay.engine import cache, cluster
from assay.engine.plan import Unit, batches
from assay.engine.worker import Outcome, run
from assay.parse import ParseLimits

LOOKUP_BATCH = 500
"""Cached outcomes read from the result cache per query."""


class Executor(Protocol):
    """Computes the outcomes of units of work."""

    @property
    def serial(self) -> bool:
        """Whether outcomes are computed here, one at a time, in the order asked (then the
        result cache is read in unit order too, so a warm run keeps a cold run's order)."""
        ...

    def compute(
        self, todo: Sequence[Unit], ready: Iterator[Outcome], total: int
    ) -> Iterator[Outcome]:
        """The outcome of every unit of ``todo`` (in any order), and every outcome of ``ready``
        (known without work: cache hits), yielded while the work is in flight; ``total`` is the
        number of both."""
        ...


@dataclass(frozen=True, slots=True)
class InProcess:
    """Computes in this process, in order (``-j 1``)."""

    analyzers: tuple[FileAnalyzer, ...]
    limits: ParseLimits

    serial: ClassVar[bool] = True

    def compute(
        self, todo: Sequence[Unit], ready: Iterator[Outcome], total: int
    ) -> Iterator[Outcome]:
        """``ready`` first, then each unit of ``todo`` in order."""
        yield from ready
        for unit in todo:
            yield run(unit.task, self.analyzers, self.limits)


@dataclass(frozen=True, slots=True)
class Cluster:
    """Computes on the Dask cluster at ``address`` (``--scheduler``)."""

    address: str
    analyzers: tuple[FileAnalyzer, ...]
    limits: ParseLimits
    shared_path: bool = False
    """Workers read the input at its path instead of receiving its bytes."""

    serial: ClassVar[bool] = False

    def compute(
        self, todo: Sequence[Unit], ready: Iterator[Outcome], total: int
    ) -> Iterator[Outcome]:
        """Each computed outcome followed by a share of ``ready``."""
        computed = cluster.run(
            self.address, list(batches(todo)), self.analyzers, self.limits, self.shared_path
        )
        yield from interleave(computed, ready, total // max(1, len(todo)) + 1)


def interleave(
    computed: Iterator[Outcome], ready: Iterator[Outcome], share: int
) -> Iterator[Outcome]:
    """Each computed outcome followed by ``share`` ready ones, then the ready ones left.

    Starting ``computed`` submits its work; while it is suspended, the work in flight goes on.
    """
    for outcome in computed:
        yield outcome
        yield from islice(ready, share)
    yield from ready


@dataclass(frozen=True, slots=True)
class Remembered:
    """The result cache, opened, and the context part of its keys (analyzers, settings,
    parse limits, knowledge snapshots)."""

    results: cache.ResultCache
    context: str


def execute(
    units: Sequence[Unit],
    executor: Executor,
    remembered: Remembered | None = None,
    side: ThreadPoolExecutor | None = None,
) -> Iterator[Outcome]:
    """Every unit's outcome: from the result cache where it holds one, else computed by
    ``executor`` (and stored as it arrives). Once every outcome is given, the cache is closed
    (its last writes and its trim) on ``side`` if given; the caller waits for ``side``
    before the cache may be read again.

    With a parallel executor every key is looked up first (in batches), the misses are
    submitted, and the hits are decoded while the workers compute. Outcomes arrive in any
    order (a pool's completion order varies from run to run anyway).
    """
    if remembered is None:
        yield from executor.compute(units, iter(()), len(units))
        return
    try:
        yield from _through_cache(remembered, units, executor)
    except BaseException:
        remembered.results.close()
        raise
    if side is None:
        remembered.results.close()
    else:
        side.submit(remembered.results.close)


def _through_cache(
    remembered: Remembered, units: Sequence[Unit], executor: Executor
) -> Iterator[Outcome]:
    """``execute`` with the cache open: hits read, misses computed and stored."""
    results = remembered.results
    pairs = [(unit, cache.task_key(remembered.context, unit.sha256, unit.task)) for unit in units]
    if executor.serial:
        yield from _in_order(results, pairs, executor)
        return
    present = results.present([key for _, key in pairs])
    misses = [unit for unit, key in pairs if key not in present]
    keys = {unit.task.key: key for unit, key in pairs if key not in present}
    hits = _in_order(results, [(u, k) for u, k in pairs if k in present], executor)
    for outcome in executor.compute(misses, hits, len(units)):
        key = keys.get(outcome.key)
        yield outcome if key is None else _remember(results, key, outcome)


def _in_order(
    results: cache.ResultCache, pairs: Sequence[tuple[Unit, bytes]], executor: Executor
) -> Iterator[Outcome]:
    """The outcomes of ``pairs`` (unit, key) in order, read a batch of keys at a time; a
    unit without a stored outcome (a miss, or one another process trimmed since the lookup)
    is computed (alone: in this process for a pool) and stored."""
    for start in range(0, len(pairs), LOOKUP_BATCH):
        chunk = pairs[start : start + LOOKUP_BATCH]
        blobs = results.get_many([key for _, key in chunk])
        for unit, key in chunk:
            blob = blobs.pop(key, None)
            if blob is None:
                for outcome in executor.compute([unit], iter(()), 1):
                    yield _remember(results, key, outcome)
            else:
                yield cache.decode(unit.task.key, blob)


def _remember(results: cache.ResultCache, key: bytes, outcome: Outcome) -> Outcome:
    """Store an outcome that depends on the content alone; return it."""
    if cache.cacheable(outcome):
        results.put(key, cache.encode(outcome))
    return outcome
