"""The per-file work that runs in pool processes: read, check limits, parse once, analyze.

Everything here is a pure function of (bytes, kind, analyzers, limits): it never depends on the
executor, so the same code runs in-process, in a local process pool or on a cluster.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from assay.analyzers.interface import AnalyzerFailure, FileAnalyzer, FileResult
from assay.model import FileKind
from assay.parse import ParseLimits, check_limits, parse


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


_STATE: tuple[tuple[FileAnalyzer, ...], ParseLimits] | None = None


def init(analyzers: tuple[FileAnalyzer, ...], limits: ParseLimits) -> None:
    """Pool initializer: keep the configured analyzers in this process."""
    global _STATE
    _STATE = (analyzers, limits)
    os.environ.setdefault("OMP_NUM_THREADS", "1")


def run_batch(tasks: list[Task]) -> list[Outcome]:
    """Run a batch of tasks in this process (pool entry point)."""
    assert _STATE is not None, "worker.init was not called"
    analyzers, limits = _STATE
    return [run(task, analyzers, limits) for task in tasks]


def run(task: Task, analyzers: tuple[FileAnalyzer, ...], limits: ParseLimits) -> Outcome:
    """Read, check, parse once and run every wanted analyzer on one content."""
    try:
        source = Path(task.disk_path).read_bytes()
    except OSError as exc:
        return Outcome(task.key, skip=("unreadable", str(exc)))
    reason = check_limits(source, limits)
    if reason is not None:
        name, _, detail = reason.partition(": ")
        return Outcome(task.key, skip=(name, detail), lines=source.count(b"\n"))
    parsed = parse(source, task.kind)
    results: dict[int, FileResult] = {}
    failures: dict[int, tuple[str, str]] = {}
    for index in task.analyzers:
        try:
            results[index] = analyzers[index].analyze(parsed)
        except AnalyzerFailure as exc:
            failures[index] = (exc.reason, exc.detail)
        except Exception as exc:  # an analyzer bug on hostile input is data, not a crash
            failures[index] = ("analyzer-error", f"{type(exc).__name__}: {exc}")
    return Outcome(task.key, None, parsed.line_count, parsed.labels, results, failures)
