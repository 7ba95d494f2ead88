"""Analyzers: the explicit registry of built-in analyzers, configured from ``Options.settings``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from assay.analyzers.interface import FileAnalyzer


def build(settings: Mapping[str, Mapping[str, Any]]) -> tuple[FileAnalyzer, ...]:
    """Configure every built-in analyzer from its ``[analyzer-id]`` settings table."""
    from assay.analyzers import complexity, safe_defeated, unsafe_calls

    return (
        unsafe_calls.configure(settings.get(unsafe_calls.ID, {})),
        safe_defeated.configure(settings.get(safe_defeated.ID, {})),
        complexity.configure(settings.get(complexity.ID, {})),
    )
