"""Analyzers: the explicit registry of built-in analyzers, configured from ``Options.settings``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from assay.analyzers.interface import FileAnalyzer


def build(settings: Mapping[str, Mapping[str, Any]]) -> tuple[FileAnalyzer, ...]:
    """Configure every built-in analyzer from its ``[analyzer-id]`` settings table.

    The user's wrapper rows are declared once, under ``[unsafe-calls] functions``, and also
    tell ``safe-defeated`` which names are bounded.
    """
    from assay.analyzers import (
        binaries,
        clones,
        complexity,
        endpoints,
        safe_defeated,
        secrets,
        suppressions,
        unsafe_calls,
    )

    census = settings.get(unsafe_calls.ID, {})
    defeated = {**settings.get(safe_defeated.ID, {})}
    if "functions" in census:
        defeated["functions"] = [*census["functions"], *defeated.get("functions", [])]
    return (
        unsafe_calls.configure(census),
        safe_defeated.configure(defeated),
        complexity.configure(settings.get(complexity.ID, {})),
        secrets.configure(settings.get(secrets.ID, {})),
        binaries.configure(census),
        suppressions.configure(settings.get(suppressions.ID, {})),
        endpoints.configure(settings.get(endpoints.ID, {})),
        clones.configure(settings.get(clones.ID, {})),
    )
