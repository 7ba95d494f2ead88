"""The ``endpoints`` aggregator: the inventory of endpoints per component.

Each distinct endpoint of a component (``(vendor)`` for the vendor's own code) is listed once
with its kind, class, usages, contexts, number of occurrences and where it appears (capped
list of ``path:line``, or ``path@0xOFFSET`` in a binary). Endpoints in comments are counted by
class, not listed. The section opens with ``destinations``: the public and private endpoints
the code passes to a connect, resolve, HTTP-client or command call, i.e. the answer to "where
could this device send data?".
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from assay.analyze.interface import FileResult, PathContext
from assay.model import JSONValue, RawFinding

OUTBOUND = frozenset({"connect", "resolve", "http-client", "command"})
"""Usages that send data to the endpoint."""
MAX_LOCATIONS = 10
"""Locations listed per endpoint (the total is in ``occurrences``)."""
MAX_LISTED = 2000
"""Endpoints listed per component, most relevant first (the total is in ``distinct``)."""
_RANK = {"public": 0, "private": 1, "unknown": 2, "special": 3, "loopback": 4, "documentation": 5}


@dataclass(slots=True)
class _Entry:
    """One distinct endpoint of one component."""

    kind: str
    klass: str
    usage: set[str] = field(default_factory=set)
    contexts: set[str] = field(default_factory=set)
    locations: list[tuple[str, int, str]] = field(default_factory=list)
    occurrences: int = 0

    def add(self, where: tuple[str, int, str], row: Mapping[str, Any]) -> None:
        """Count one occurrence; ``where`` is (path, line or offset, label).

        The first ``MAX_LOCATIONS`` by path and position are kept, not the first to arrive:
        results reach the aggregator in the pool's completion order, which varies by run.
        """
        self.usage.update(row.get("usage", ()))
        self.contexts.add(row["context"])
        self.occurrences += 1
        self.locations.append(where)
        if len(self.locations) > 4 * MAX_LOCATIONS:
            self.locations.sort()
            del self.locations[MAX_LOCATIONS:]

    def as_data(self, value: str) -> dict[str, JSONValue]:
        return {
            "class": self.klass,
            "contexts": sorted(self.contexts),
            "endpoint": value,
            "kind": self.kind,
            "locations": [label for _, _, label in sorted(self.locations)[:MAX_LOCATIONS]],
            "occurrences": self.occurrences,
            "usage": sorted(self.usage),
        }

    def key(self, value: str) -> tuple[int, str, str]:
        return (_RANK.get(self.klass, 9), self.kind, value)


class EndpointInventory:
    """Folds per-path endpoints into the per-component inventory."""

    def __init__(self) -> None:
        self._entries: dict[str, dict[str, _Entry]] = defaultdict(dict)
        self._comments: dict[str, Counter[str]] = defaultdict(Counter)
        self._classes: Counter[str] = Counter()
        self._contexts: Counter[str] = Counter()
        self._files = 0

    def add(self, ctx: PathContext, result: FileResult) -> None:
        """Record one path's endpoints (every copy counts)."""
        rows = result.data.get("endpoints", [])
        if not isinstance(rows, list) or not rows:
            return
        self._files += 1
        entries = self._entries[ctx.scope]
        for row in rows:
            assert isinstance(row, dict)
            self._classes[row["class"]] += 1
            self._contexts[row["context"]] += 1
            if row["context"] == "comment":
                self._comments[ctx.scope][row["class"]] += 1
                continue
            entry = entries.get(row["value"])
            if entry is None:
                entry = entries[row["value"]] = _Entry(row["kind"], row["class"])
            offset = row.get("offset")
            if offset is not None:
                where = (ctx.path, int(offset), f"{ctx.path}@{offset:#x}")
            else:
                where = (ctx.path, int(row["line"]), f"{ctx.path}:{row['line']}")
            entry.add(where, row)

    def add_unique(self, result: FileResult) -> None:
        """Nothing per unique content: the inventory counts paths."""

    def finish(self) -> tuple[Mapping[str, JSONValue], Iterable[tuple[str, RawFinding]]]:
        """The section; findings were emitted per file."""
        return {
            "destinations": self._destinations(),
            "components": {scope: self._component(scope) for scope in self._scopes()},
            "totals": {
                "by_class": dict(sorted(self._classes.items())),
                "by_context": dict(sorted(self._contexts.items())),
                "distinct": sum(len(e) for e in self._entries.values()),
                "files": self._files,
            },
        }, ()

    def _scopes(self) -> list[str]:
        return sorted(set(self._entries) | set(self._comments))

    def _destinations(self) -> list[JSONValue]:
        found: list[tuple[tuple[int, str, str], str, dict[str, JSONValue]]] = []
        for scope, entries in self._entries.items():
            for value, entry in entries.items():
                if entry.klass in ("public", "private") and entry.usage & OUTBOUND:
                    found.append((entry.key(value), scope, entry.as_data(value)))
        found.sort(key=lambda item: (item[0][0], item[1], item[0][1:]))
        return [{"component": scope, **data} for _, scope, data in found]

    def _component(self, scope: str) -> dict[str, JSONValue]:
        entries = self._entries.get(scope, {})
        ordered = sorted(entries.items(), key=lambda kv: kv[1].key(kv[0]))
        return {
            "by_class": dict(sorted(Counter(e.klass for e in entries.values()).items())),
            "comments_by_class": dict(sorted(self._comments.get(scope, Counter()).items())),
            "distinct": len(entries),
            "endpoints": [entry.as_data(value) for value, entry in ordered[:MAX_LISTED]],
        }
