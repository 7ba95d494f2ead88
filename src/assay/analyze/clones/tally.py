"""Tally of clone classes: counts, the largest classes, and the lines they cover per path.

Each kept class adds its places as line intervals tagged exact, renamed or component copy;
duplicated lines per path are the size of the union of its intervals of the chosen tags.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from assay.analyze.clones.match import CloneClass

LARGEST = 10
"""Classes listed in the section (by tokens)."""
EXACT, RENAMED, COPY = 0, 1, 2
"""Tags of covered intervals: exact class, renamed class, copies of one library."""
CLONES = frozenset({EXACT, RENAMED})
"""The tags of reported classes."""


@dataclass(frozen=True, slots=True)
class Place:
    """One place of a class at one path (lines inclusive)."""

    path: int
    """Index of the path in the aggregator's (sorted) path list."""
    start_line: int
    """First line."""
    end_line: int
    """Last line."""


@dataclass(slots=True)
class Tally:
    """Counts over the kept classes and the line intervals they cover at each path."""

    paths: int
    """Number of paths."""
    classes: int = 0
    """Reported classes."""
    exact_classes: int = 0
    """Reported classes whose places have the same text."""
    places: int = 0
    """Places of reported classes."""
    tokens: int = 0
    """Tokens times places, over reported classes."""
    copy_classes: int = 0
    """Classes lying wholly in copies of one library."""
    copy_places: int = 0
    """Places of those classes."""
    largest: list[tuple[CloneClass, list[Place]]] = field(default_factory=list)
    """The largest reported classes seen so far (trimmed to ``LARGEST``)."""
    _intervals: dict[int, list[tuple[int, int, int]]] = field(default_factory=dict)

    def clone(self, clone: CloneClass, places: list[Place]) -> None:
        """Count one reported class."""
        self.classes += 1
        self.exact_classes += clone.exact
        self.places += len(places)
        self.tokens += clone.spans[0].length * len(places)
        self._cover(places, EXACT if clone.exact else RENAMED)
        self.largest.append((clone, places))
        if len(self.largest) > 4 * LARGEST:
            self._trim()

    def component_copy(self, clone: CloneClass, places: list[Place]) -> None:
        """Count one class lying wholly in copies of one library."""
        self.copy_classes += 1
        self.copy_places += len(places)
        self._cover(places, COPY)

    def _cover(self, places: list[Place], kind: int) -> None:
        for place in places:
            spans = self._intervals.setdefault(place.path, [])
            spans.append((place.start_line, place.end_line, kind))

    def _trim(self) -> None:
        self.largest.sort(key=lambda item: (-item[0].spans[0].length, item[0].spans[0]))
        del self.largest[LARGEST:]

    def duplicated(self, kinds: frozenset[int]) -> list[int]:
        """Lines per path covered by classes of ``kinds``: the size of the union of intervals."""
        self._trim()
        counts = [0] * self.paths
        for path, spans in self._intervals.items():
            counts[path] = _union_size((start, end) for start, end, k in spans if k in kinds)
        return counts


def _union_size(spans: Iterable[tuple[int, int]]) -> int:
    total, reach = 0, 0
    for start, end in sorted(spans):
        if end > reach:
            total += end - max(start - 1, reach)
            reach = end
    return total
