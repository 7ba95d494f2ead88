"""The ``suppressions`` aggregator: counts per directory and component, per KLOC of C/C++.

A C/C++ file's data is ``{"lines": n, "kinds": {kind: count}, "warnings": {name: count},
"classes": {class: count}}``; a build file's has no ``lines`` and ``"build": true``. Every path
counts (each copy ships). The density is source suppressions per 1,000 physical lines of the
scope's C/C++ files; build-file flags are counted beside it, not in it (one ``-Wno-x`` in a
Makefile covers every file it compiles, so a per-line rate would mean nothing).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from assay.analyze.interface import FileResult, PathContext
from assay.model import JSONValue, RawFinding

TOP_WARNINGS = 50
"""Warnings listed per scope, most suppressed first."""


class _Tally:
    """Counts of one scope (the tree, a directory, a component)."""

    def __init__(self) -> None:
        self.files = Counter[str]()
        self.lines = 0
        self.kinds = Counter[str]()
        self.classes = Counter[str]()
        self.warnings = Counter[str]()
        self.in_source = 0
        self.in_build = 0

    def add(self, data: Mapping[str, Any]) -> None:
        """Count one path's data."""
        count = sum(data.get("kinds", {}).values())
        if data.get("build"):
            self.files["build"] += 1
            self.in_build += count
        else:
            self.files["source"] += 1
            self.lines += int(data.get("lines", 0))
            self.in_source += count
        self.kinds.update(data.get("kinds", {}))
        self.classes.update(data.get("classes", {}))
        self.warnings.update(data.get("warnings", {}))

    def summary(self) -> dict[str, JSONValue]:
        """The scope's figures."""
        top = sorted(self.warnings.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_WARNINGS]
        return {
            "build_files": self.files["build"],
            "by_class": dict(sorted(self.classes.items())),
            "by_kind": dict(sorted(self.kinds.items())),
            "in_build_files": self.in_build,
            "in_source": self.in_source,
            "per_kloc": round(self.in_source * 1000 / self.lines, 3) if self.lines else None,
            "source_files": self.files["source"],
            "source_lines": self.lines,
            "warnings": dict(top),
        }


class SuppressionTally:
    """Folds per-path suppression counts into the section."""

    def __init__(self) -> None:
        self._all = _Tally()
        self._unique = _Tally()
        self._directories: dict[str, _Tally] = defaultdict(_Tally)
        self._components: dict[str, _Tally] = defaultdict(_Tally)
        self._generated = 0

    def add(self, ctx: PathContext, result: FileResult) -> None:
        """Count one path (every copy counts)."""
        if result.data.get("generated"):
            self._generated += 1
            return
        self._all.add(result.data)
        self._directories[ctx.directory].add(result.data)
        self._components[ctx.scope].add(result.data)

    def add_unique(self, result: FileResult) -> None:
        """Count one distinct content."""
        if not result.data.get("generated"):
            self._unique.add(result.data)

    def finish(self) -> tuple[Mapping[str, JSONValue], Iterable[tuple[str, RawFinding]]]:
        """The section; findings were emitted per file."""
        return {
            "components": {k: v.summary() for k, v in sorted(self._components.items())},
            "directories": {k: v.summary() for k, v in sorted(self._directories.items())},
            "generated_build_files": self._generated,
            "totals": self._all.summary(),
            "unique": self._unique.summary(),
        }, ()
