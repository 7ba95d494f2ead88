"""An analyzer that never finishes on a marked file (a quadratic loop on hostile input, as
the engine sees it): it spins in Python until its step's time budget interrupts it, or gives
up after ``GIVE_UP`` seconds so that a broken budget fails a test instead of hanging it.
Importable by name, so pool workers can unpickle it."""

from __future__ import annotations

import time
from dataclasses import dataclass

from assay.analyze.interface import FileResult
from assay.parse import ParsedFile
from crashing import Delegating

MARK = b"ASSAY_STALL"
GIVE_UP = 60.0
"""Seconds after which the spinning analyzer returns (the budget did not stop it)."""
GAVE_UP = "stalling analyzer was not interrupted"


@dataclass(frozen=True)
class Stalling(Delegating):
    """Delegates to ``inner``; when ``stalls``, ``analyze`` spins on a file containing
    ``MARK``."""

    stalls: bool = True

    def analyze(self, parsed: ParsedFile) -> FileResult:
        if self.stalls and MARK in parsed.source:
            end = time.monotonic() + GIVE_UP
            spins = 0
            while time.monotonic() < end:
                spins += 1
            raise RuntimeError(GAVE_UP)
        result: FileResult = self.inner.analyze(parsed)
        return result
