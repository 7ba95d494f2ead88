"""The progress observer: on a terminal, a rich progress bar on stderr; otherwise (a log, a CI
job, a pipe) a plain line now and then. Either shows only on runs longer than
``DELAY_SECONDS``."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

DELAY_SECONDS = 2.0
"""A run shorter than this shows no bar at all."""
LINE_SECONDS = 15.0
"""Without a terminal: the least time between two progress lines of one stage."""
PREFIX = "assay: "
"""How a progress line starts (a log reader can drop them by it)."""


class RichProgress:
    """Implements ``assay.progress.Progress``; starts drawing after ``DELAY_SECONDS``."""

    def __init__(
        self,
        enabled: bool = True,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream if stream is not None else sys.stderr
        terminal = self._stream.isatty()
        self._enabled = enabled and terminal
        self._lines = enabled and not terminal
        self._clock = clock
        self._start = clock()
        self._last_line: float | None = None
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        self._name = ""
        self._total: int | None = None
        self._done = 0

    def stage(self, name: str, total: int | None = None) -> None:
        """Switch to a new stage."""
        self._name, self._total, self._done = name, total, 0
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, description=name, total=total, completed=0)
        if self._lines and self._clock() - self._start >= DELAY_SECONDS:
            self._line()

    def advance(self, units: int = 1) -> None:
        """Count finished work; start the bar once the run has lasted long enough."""
        self._done += units
        if self._lines:
            now = self._clock()
            if now - self._start >= DELAY_SECONDS and (
                self._last_line is None or now - self._last_line >= LINE_SECONDS
            ):
                self._line()
            return
        if self._bar is None and self._enabled:
            if time.monotonic() - self._start < DELAY_SECONDS:
                return
            self._bar = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                TimeElapsedColumn(), console=Console(stderr=True), transient=True,
            )  # fmt: skip
            self._bar.start()
            self._task = self._bar.add_task(self._name, total=self._total)
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, completed=self._done)

    def done(self) -> None:
        """Remove the bar; without a terminal, say the run ended if progress was shown."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
        if self._lines and self._last_line is not None:
            self._write(f"done in {self._clock() - self._start:.0f} s")

    def _line(self) -> None:
        """One progress line: the stage, the work done (of how much) and the time so far."""
        self._last_line = self._clock()
        of = f"/{self._total}" if self._total is not None else ""
        elapsed = self._last_line - self._start
        self._write(f"{self._name} {self._done}{of} files, {elapsed:.0f} s")

    def _write(self, text: str) -> None:
        try:
            print(f"{PREFIX}{text}", file=self._stream, flush=True)
        except (OSError, ValueError):  # a closed pipe or stream: progress is not worth an error
            self._lines = False
