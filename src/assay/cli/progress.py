"""The terminal progress observer: a rich progress bar on stderr, shown only on long runs."""

from __future__ import annotations

import sys
import time

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


class RichProgress:
    """Implements ``assay.progress.Progress``; starts drawing after ``DELAY_SECONDS``."""

    def __init__(self, enabled: bool = True) -> None:
        self._enabled = enabled and sys.stderr.isatty()
        self._start = time.monotonic()
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

    def advance(self, units: int = 1) -> None:
        """Count finished work; start the bar once the run has lasted long enough."""
        self._done += units
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
        """Remove the bar."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
