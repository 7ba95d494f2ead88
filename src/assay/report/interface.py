"""What reporters read: one ``Evaluation`` and the sorted streams of its store."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol, TextIO

from assay.model import Evaluation, Finding


class Streams(Protocol):
    """Sorted streams of an evaluation's findings and per-item rows (``FindingStore``)."""

    def findings(self) -> Iterator[Finding]:
        """Every finding sorted by (path, line, rule id)."""
        ...

    def rows(self, section: str) -> Iterator[dict[str, Any]]:
        """Per-item records of one section, sorted by path and line."""
        ...

    def rows_json(self, section: str) -> Iterator[str]:
        """The same records, each as JSON text (keys sorted, non-ASCII kept)."""
        ...


class Writer(Protocol):
    """A reporter: writes one format of ``evaluation`` to ``out`` without holding all findings."""

    def __call__(self, evaluation: Evaluation, streams: Streams, out: TextIO) -> None:
        """Write the report."""
