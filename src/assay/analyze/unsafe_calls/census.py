"""Per-file call counts of ``unsafe-calls`` and the aggregator that folds them into the census.

A file's data is ``{"calls": {name: {"bounded": b, "unbounded": u, "in_macro": m}}}``: a call of
a bounded row is bounded; a call of an unbounded row is unbounded unless it allocates (e.g.
``realpath(p, NULL)``); ``in_macro`` counts the calls written in ``#define`` bodies. The summary
gives, per family, the distinct functions used and the call counts, over every path (each copy
ships), per top-level directory, per component, and over unique contents.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from assay.analyze.calltable import CallTable
from assay.analyze.interface import FileResult, PathContext
from assay.model import JSONValue, RawFinding

_KEYS = ("bounded", "unbounded", "in_macro")


@dataclass(slots=True)
class FileCalls:
    """Builder of one file's call counts."""

    counts: dict[str, list[int]] = field(default_factory=dict)
    """Function name -> [bounded, unbounded, in_macro]."""

    def add(self, name: str, *, bounded: bool, in_macro: bool) -> None:
        """Count one call site."""
        slot = self.counts.setdefault(name, [0, 0, 0])
        slot[0 if bounded else 1] += 1
        slot[2] += in_macro

    def as_data(self) -> dict[str, dict[str, int]]:
        """The JSON-able per-file data, sorted by name."""
        return {
            name: dict(zip(_KEYS, self.counts[name], strict=True)) for name in sorted(self.counts)
        }


class _Tally:
    """Call counts of one scope (the tree, a directory, a component, the unique contents)."""

    def __init__(self) -> None:
        self.calls: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        self.files = 0
        self.files_unbounded = 0

    def add(self, calls: Mapping[str, Mapping[str, int]]) -> None:
        """Count one file's per-function calls."""
        self.files += 1
        self.files_unbounded += any(c.get("unbounded", 0) for c in calls.values())
        for name, counts in calls.items():
            slot = self.calls[name]
            for i, key in enumerate(_KEYS):
                slot[i] += counts.get(key, 0)

    def summary(self, families: Mapping[str, str]) -> dict[str, JSONValue]:
        """Per-family figures, totals and file counts of this scope."""
        by_family: dict[str, dict[str, list[int]]] = defaultdict(dict)
        for name, counts in self.calls.items():
            by_family[families.get(name, "other")][name] = counts
        return {
            "families": {f: _figure(by_family[f]) for f in sorted(by_family)},
            "files": self.files,
            "files_with_unbounded": self.files_unbounded,
            "totals": _counts(list(self.calls.values())),
        }


def _counts(slots: list[list[int]]) -> dict[str, JSONValue]:
    bounded = sum(s[0] for s in slots)
    unbounded = sum(s[1] for s in slots)
    total = bounded + unbounded
    return {
        "calls_bounded": bounded,
        "calls_in_macros": sum(s[2] for s in slots),
        "calls_unbounded": unbounded,
        "share_unbounded": round(unbounded / total, 4) if total else None,
    }


def _figure(calls: Mapping[str, list[int]]) -> dict[str, JSONValue]:
    """One family's figure: distinct functions used and call counts."""
    return {
        **_counts(list(calls.values())),
        "functions_bounded": sorted(n for n, c in calls.items() if c[0]),
        "functions_unbounded": sorted(n for n, c in calls.items() if c[1]),
    }


class Census:
    """The ``unsafe-calls`` aggregator."""

    def __init__(self, table: CallTable) -> None:
        self._families = {row.name: row.family for row in table.rows}
        self._all = _Tally()
        self._unique = _Tally()
        self._directories: dict[str, _Tally] = defaultdict(_Tally)
        self._components: dict[str, _Tally] = defaultdict(_Tally)

    def add(self, ctx: PathContext, result: FileResult) -> None:
        """Count one path (every copy counts)."""
        calls = result.data.get("calls", {})
        self._all.add(calls)
        self._directories[ctx.directory].add(calls)
        self._components[ctx.scope].add(calls)

    def add_unique(self, result: FileResult) -> None:
        """Count one distinct content."""
        self._unique.add(result.data.get("calls", {}))

    def finish(self) -> tuple[Mapping[str, JSONValue], Iterable[tuple[str, RawFinding]]]:
        """The census summary; no corpus-level findings."""
        summary = self._all.summary(self._families)
        return {
            "components": self._scopes(self._components),
            "directories": self._scopes(self._directories),
            "families": summary["families"],
            "files": summary["files"],
            "files_with_unbounded": summary["files_with_unbounded"],
            "functions": self._functions(),
            "totals": summary["totals"],
            "unique": self._unique.summary(self._families),
        }, ()

    def _scopes(self, tallies: Mapping[str, _Tally]) -> dict[str, JSONValue]:
        return {key: tallies[key].summary(self._families) for key in sorted(tallies)}

    def _functions(self) -> dict[str, JSONValue]:
        calls = self._all.calls
        return {
            name: {
                "family": self._families.get(name, "other"),
                **dict(zip(_KEYS, calls[name], strict=True)),
            }
            for name in sorted(calls)
        }
