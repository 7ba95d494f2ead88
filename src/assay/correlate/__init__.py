"""Correlate: what the release holds as a whole, before its per-file results are credited.

The registry of this stage's steps (``assay.correlate.step`` is their contract). Today one:
the copies of third-party code (``components``), which decide the component each finding of
the later stages belongs to.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from assay.correlate.components.step import ComponentsStep
from assay.correlate.step import Step


def steps(kb: Path | None, compile_db: Path | None, kb_info: Mapping[str, Any]) -> tuple[Step, ...]:
    """The correlate steps in the order they run, configured for one evaluation."""
    return (ComponentsStep(kb, compile_db, kb_info),)
