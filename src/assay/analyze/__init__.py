"""Analyzers: the explicit registry of built-in analyzers, configured from ``Options.settings``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from assay.analyze.interface import FileAnalyzer
from assay.errors import ConfigError

MODULES = (
    "assay.analyze.binaries",
    "assay.analyze.clones",
    "assay.analyze.complexity",
    "assay.analyze.endpoints",
    "assay.analyze.safe_defeated",
    "assay.analyze.secrets",
    "assay.analyze.suppressions",
    "assay.analyze.unsafe_calls",
)
"""The modules of the built-in analyzers (imported by ``build``; preloaded by the fork server
that starts the worker processes, so each worker starts with them imported)."""


def build(settings: Mapping[str, Mapping[str, Any]]) -> tuple[FileAnalyzer, ...]:
    """Configure every built-in analyzer from its ``[analyzer-id]`` settings table.

    The user's wrapper rows are declared once, under ``[unsafe-calls] functions``, and also
    tell ``safe-defeated`` which names are bounded.
    """
    from assay.analyze import (
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


def select(chosen: tuple[FileAnalyzer, ...], ids: tuple[str, ...]) -> tuple[FileAnalyzer, ...]:
    """The analyzers of ``chosen`` whose id is in ``ids`` (all when ``ids`` is empty), in
    registry order; an unknown id is a ``ConfigError`` naming the known ones."""
    if not ids:
        return chosen
    known = [a.id for a in chosen]
    unknown = sorted(set(ids) - set(known))
    if unknown:
        raise ConfigError(f"unknown categories {', '.join(unknown)}; known: {', '.join(known)}")
    return tuple(a for a in chosen if a.id in ids)
