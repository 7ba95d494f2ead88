"""The per-file work that runs in pool processes: read, check limits, parse once, analyze.

Everything here is a pure function of (bytes, kind, analyzers, limits): it never depends on the
executor, so the same code runs in-process, in a local process pool or on a cluster.
"""

from __future__ import annotations

import gc
import hashlib
import os
import stat
from dataclasses import dataclass, field, replace

from assay.analyze.interface import AnalyzerFailure, Content, FileAnalyzer, FileResult
from assay.engine.budget import Budget, StepTimeout, cpu_backstop, no_core_dumps
from assay.model import SOURCE_KINDS, FileKind
from assay.parse import ParsedFile, ParseLimits, check_limits, parse
from assay.storage.findings import EncodedFinding, EncodedRows, encode_findings, encode_rows


@dataclass(frozen=True, slots=True)
class Task:
    """One unique file content to analyze."""

    key: int
    """Index of the unique content in the engine's table."""
    disk_path: str
    """Where to read it."""
    kind: FileKind
    """Its kind (decides the grammar)."""
    analyzers: tuple[int, ...]
    """Indexes of the analyzers that want it."""
    name: str = ""
    """Base name of the file, for analyzers of non-source kinds (``Makefile``, ``shadow``)."""
    sha256: str = ""
    """The content's sha256 as listed (the result cache's key); the bytes read must have it,
    else the file changed after it was listed and is skipped (``changed``). Empty: unchecked."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the per-file work produced for one unique content."""

    key: int
    """The task's key."""
    skip: tuple[str, str] | None = None
    """(reason, detail) when the file could not be parsed at all."""
    lines: int = 0
    """Physical lines."""
    labels: frozenset[str] = frozenset()
    """Labels from the parse stage (generated, non-utf8, has-errors)."""
    results: dict[int, FileResult] = field(default_factory=dict)
    """Analyzer index to its result."""
    failures: dict[int, tuple[str, str]] = field(default_factory=dict)
    """Analyzer index to (reason, detail) where the analyzer could not evaluate the file."""
    rows: dict[int, EncodedRows] = field(default_factory=dict)
    """Analyzer index to its ``FileResult.rows``, encoded here as the store keeps them (the
    results then carry none): strings cost far less to ship, cache and load than dicts."""
    findings: dict[int, tuple[EncodedFinding, ...]] = field(default_factory=dict)
    """Analyzer index to its ``FileResult.findings``, encoded here as the store inserts them
    (the results then carry none): tuples load faster than objects, and the store is left
    only the path-dependent part of each row (the fingerprint)."""


_STATE: tuple[tuple[FileAnalyzer, ...], ParseLimits] | None = None


GC_THRESHOLDS = (100_000, 50, 1000)
"""Cyclic garbage collection far less often than Python's default (700, 10, 10), set by the
command line (not for library callers; pool workers: ``WORKER_GC_THRESHOLDS``): an evaluation
keeps hundreds of thousands of long-lived, acyclic objects (units, paths, per-file results)
that every full collection would walk again."""

WORKER_GC_THRESHOLDS = (10_000, 10, 10)
"""A pool worker's: its objects die with each file, but reading an ELF file builds cyclic
structures (pyelftools' file, sections and segments refer to each other), which wait for a
young-generation collection. With the command line's 100,000 they piled up to a peak of 540
MiB for the process tree on 2,000 ELF files (``bench/bench_binaries.py``), 340 MiB with this;
on OpenSSL's source tree neither memory (330-339 MiB) nor wall time (9.5-11.1 s) moved."""


def init(analyzers: tuple[FileAnalyzer, ...], limits: ParseLimits) -> None:
    """Pool initializer: keep the configured analyzers in this process."""
    global _STATE
    _STATE = (analyzers, limits)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    gc.set_threshold(*WORKER_GC_THRESHOLDS)
    no_core_dumps()


def run_batch(tasks: list[Task]) -> list[Outcome]:
    """Run a batch of tasks in this process (pool entry point). Before each task the
    worker's CPU time is capped at the sum of the task's step budgets and a grace
    (``budget.cpu_backstop``): native code that ignores the step timer ends the worker."""
    assert _STATE is not None, "worker.init was not called"
    analyzers, limits = _STATE
    outcomes = []
    for task in tasks:
        cpu_backstop((2 + len(task.analyzers)) * limits.step_timeout)
        outcomes.append(run(task, analyzers, limits))
    return outcomes


def run_shipped(
    items: list[tuple[Task, bytes | None]],
    analyzers: tuple[FileAnalyzer, ...],
    limits: ParseLimits,
) -> list[Outcome]:
    """Run a batch whose contents travel with it (cluster entry point); ``None`` reads the
    task's path, for workers that see the input at the same path."""
    return [run(task, analyzers, limits, source) for task, source in items]


CRASHED = ("worker-crashed", "the worker process died")
"""The skip of a task whose worker process died while computing it (alone in its batch)."""


def crashed(task: Task) -> Outcome:
    """The outcome of a task that killed its worker process."""
    return Outcome(task.key, skip=CRASHED)


TIMEOUT = "timeout"
"""The skip reason of a step that ran past ``ParseLimits.step_timeout``."""


def timed_out(step: str, seconds: float) -> tuple[str, str]:
    """(reason, detail) of a step that ran past its budget."""
    return TIMEOUT, f"{step} exceeded its time budget of {seconds:g} s"


def run(
    task: Task,
    analyzers: tuple[FileAnalyzer, ...],
    limits: ParseLimits,
    source: bytes | None = None,
) -> Outcome:
    """Read (unless ``source`` is given), check, parse once (C/C++) and run every wanted
    analyzer on one content; every step under ``limits.step_timeout`` (``engine.budget``).
    A read or parse past its budget skips the file; an analyzer past it is that analyzer's
    failure, and the others still run."""
    with Budget(limits.step_timeout) as clock:
        try:
            return _run(task, analyzers, limits, source, clock)
        except StepTimeout:
            return Outcome(task.key, skip=timed_out(clock.current, clock.seconds))


def _run(
    task: Task,
    analyzers: tuple[FileAnalyzer, ...],
    limits: ParseLimits,
    source: bytes | None,
    clock: Budget,
) -> Outcome:
    if source is None:
        clock.step("read")
        try:
            source = read_bounded(task.disk_path, limits.max_bytes)
        except OSError as exc:
            return Outcome(task.key, skip=("unreadable", str(exc)))
        except TooLarge as exc:
            return Outcome(task.key, skip=("too-large", f"{exc.size} bytes > {limits.max_bytes}"))
    if task.sha256 and (read := hashlib.sha256(source).hexdigest()) != task.sha256:
        return Outcome(task.key, skip=changed(task.sha256, read))
    if task.kind not in SOURCE_KINDS:
        return _run_content(task, source, analyzers, limits, clock)
    clock.step("parse")
    reason = check_limits(source, limits)
    if reason is not None:
        name, _, detail = reason.partition(": ")
        return Outcome(task.key, skip=(name, detail), lines=source.count(b"\n"))
    parsed = parse(source, task.kind)
    results, failures = _apply(task, analyzers, parsed, clock)
    rows, findings = _encode(results)
    return Outcome(
        task.key, None, parsed.line_count, parsed.labels, results, failures, rows, findings
    )


CHANGED = "changed"
"""The skip reason of a file whose bytes, when read for analysis, are not those listed."""


def changed(listed: str, read: str) -> tuple[str, str]:
    """(reason, detail) of a file that changed between listing and analysis."""
    return CHANGED, f"the file changed after it was listed (sha256 {listed}, now {read})"


class TooLarge(Exception):
    """A file over the size limit, found before it is read."""

    def __init__(self, size: int) -> None:
        super().__init__(f"{size} bytes")
        self.size = size


def read_bounded(path: str, limit: int) -> bytes:
    """The bytes of ``path``, or ``TooLarge`` when it holds more than ``limit`` bytes.

    The size is checked before reading, and at most ``limit + 1`` bytes are read, so a file
    that grows meanwhile is bounded too (its size is then what was read, at least). Only a
    regular file is read: a link, a FIFO or a device put in its place since it was listed is
    ``OSError`` (opened without following links and without blocking).
    """
    fd = os.open(path, _OPEN_FLAGS)
    with open(fd, "rb") as stream:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            raise OSError(f"{path}: not a regular file")
        if status.st_size > limit:
            raise TooLarge(status.st_size)
        data = stream.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(len(data))
    return data


_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


def _run_content(
    task: Task,
    source: bytes,
    analyzers: tuple[FileAnalyzer, ...],
    limits: ParseLimits,
    clock: Budget,
) -> Outcome:
    """Run the analyzers of a non-source file (text, build file, binary) on its bytes."""
    if len(source) > limits.max_bytes:
        return Outcome(task.key, skip=("too-large", f"{len(source)} bytes > {limits.max_bytes}"))
    content = Content(source, task.kind, task.name)
    results, failures = _apply(task, analyzers, content, clock)
    rows, findings = _encode(results)
    return Outcome(task.key, None, 0, frozenset(), results, failures, rows, findings)


def _encode(
    results: dict[int, FileResult],
) -> tuple[dict[int, EncodedRows], dict[int, tuple[EncodedFinding, ...]]]:
    """Move every result's rows and findings out of it, encoded; ``results`` keeps the rest."""
    rows: dict[int, EncodedRows] = {}
    findings: dict[int, tuple[EncodedFinding, ...]] = {}
    for index, result in results.items():
        if result.rows or result.findings:
            if result.rows:
                rows[index] = encode_rows(result.rows)
            if result.findings:
                findings[index] = encode_findings(result.findings)
            results[index] = replace(result, rows=(), findings=())
    return rows, findings


def _apply(
    task: Task,
    analyzers: tuple[FileAnalyzer, ...],
    item: ParsedFile | Content,
    clock: Budget,
) -> tuple[dict[int, FileResult], dict[int, tuple[str, str]]]:
    """Every wanted analyzer on one parse or content, each a step of ``clock``; failures
    (and an analyzer past its budget) become data, not crashes."""
    results: dict[int, FileResult] = {}
    failures: dict[int, tuple[str, str]] = {}
    for index in task.analyzers:
        analyzer = analyzers[index]
        try:
            clock.step(analyzer.id)
            if isinstance(item, ParsedFile):
                results[index] = analyzer.analyze(item)
            else:
                results[index] = analyzer.analyze_content(item)
        except StepTimeout:
            failures[index] = timed_out(analyzer.id, clock.seconds)
        except AnalyzerFailure as exc:
            failures[index] = (exc.reason, exc.detail)
        except Exception as exc:  # an analyzer bug on hostile input is data, not a crash
            failures[index] = ("analyzer-error", f"{type(exc).__name__}: {exc}")
    return results, failures
