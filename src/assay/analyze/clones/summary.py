"""The ``clones`` aggregator: token streams of unique contents in, classes over paths out.

Per unique content it keeps the token streams and anchors (``add_unique``); per path, where
the content sits (``add``). ``finish`` matches the corpus, adds one whole-file class per
content found at two paths or more, expands every class to the paths holding its contents,
sets aside classes that lie wholly in copies of one third-party library (reported as
``component_copies``), and counts duplicated lines per path, top-level directory and
component: a line is duplicated when some kept class covers it at that path.
"""

from __future__ import annotations

import hashlib
from array import array
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from assay.analyze.clones.anchors import Geometry, Mode
from assay.analyze.clones.match import CloneClass, Corpus, Span
from assay.analyze.clones.tally import CLONES, COPY, EXACT, Place, Tally
from assay.analyze.clones.tokens import TokenStreams
from assay.analyze.interface import FileResult, PathContext
from assay.model import JSONValue, RawFinding, RuleId

EXACT_RULE = RuleId("clones/exact")
"""Rule of a class whose places have the same text."""
RENAMED_RULE = RuleId("clones/renamed")
"""Rule of a class whose places differ in identifiers or literals only."""


@dataclass(frozen=True, slots=True)
class _Path:
    path: str
    directory: str
    scope: str
    library: str | None
    content: str


def streams_data(
    streams: TokenStreams, anchors: bytes, source: bytes, lines: int
) -> dict[str, JSONValue]:
    """The per-file facts the aggregator needs (compact bytes, not lists)."""
    return {
        "digest": hashlib.blake2b(source, digest_size=16).hexdigest(),
        "kinds": streams.kinds,
        "exact": streams.exact,
        "line_starts": streams.line_starts.tobytes(),
        "anchors": anchors,
        "lines": lines,
    }


@dataclass(slots=True)
class CloneSummary:
    """Aggregator of the ``clones`` analyzer."""

    finish_beside: ClassVar[bool] = True
    """Its finish (the tree-wide matching, sorts in numpy) runs on a thread beside the other
    aggregators' (see ``Aggregator``)."""
    mode: Mode
    """What counts as the same token."""
    geometry: Geometry
    """Minimum tokens, window and gap."""
    min_lines: int
    """Smallest clone, in lines."""
    library_internal: bool = False
    """Whether code of one library is matched against other code of the same library."""
    corpus: Corpus = field(init=False)
    _pending: dict[str, tuple[TokenStreams, bytes, int]] = field(default_factory=dict)
    _contents: dict[str, int] = field(default_factory=dict)
    _lines: list[int] = field(default_factory=list)
    _paths: list[_Path] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.corpus = Corpus(self.mode, self.geometry, self.min_lines, self.library_internal)

    def add_unique(self, result: FileResult) -> None:
        """Index one unique content's tokens."""
        data = result.data
        starts = array("I")
        starts.frombytes(data["line_starts"])
        streams = TokenStreams(data["kinds"], data["exact"], starts)
        self._pending[data["digest"]] = (streams, data["anchors"], int(data["lines"]))

    def add(self, ctx: PathContext, result: FileResult) -> None:
        """Remember where one copy of a content sits."""
        library = ctx.component.partition("@")[0] if ctx.component else None
        self._paths.append(
            _Path(ctx.path, ctx.directory, ctx.scope, library, result.data["digest"])
        )

    def finish(self) -> tuple[Mapping[str, JSONValue], Iterable[tuple[str, RawFinding]]]:
        """The section and one finding per class on its first place."""
        self._index()
        by_content: dict[int, list[int]] = {}
        for index, where in enumerate(self._paths):
            by_content.setdefault(self._contents[where.content], []).append(index)
        self._owners(by_content)
        classes = [*self.corpus.classes(), *self._identical(by_content)]
        tally = Tally(len(self._paths))
        findings: list[tuple[str, RawFinding]] = []
        for clone in classes:
            places = [place for span in clone.spans for place in self._places(span, by_content)]
            if len(places) < 2:
                continue
            libraries = {self._paths[p.path].library for p in places}
            if None not in libraries and len(libraries) == 1:
                tally.component_copy(clone, places)
                continue
            tally.clone(clone, places)
            findings.append(self._finding(clone, places))
        return self._section(tally), findings

    def _index(self) -> None:
        """Number contents by digest and paths by path (the pool's order varies from run to
        run; results must not), and index every content's anchors."""
        self._paths.sort(key=lambda where: where.path)
        for digest in sorted(self._pending):
            streams, anchors, lines = self._pending.pop(digest)
            self._contents[digest] = self.corpus.add(streams, anchors)
            self._lines.append(lines)

    def _owners(self, by_content: Mapping[int, list[int]]) -> None:
        """Tell the corpus which contents lie wholly in copies of one library, and in which
        copies, so that two copies of a library are not matched against each other."""
        names: dict[str, int] = {}
        library_of = [-1] * len(self.corpus.streams)
        copies_of: list[frozenset[str]] = [frozenset()] * len(self.corpus.streams)
        for content, paths in by_content.items():
            libraries = {self._paths[p].library for p in paths}
            if len(libraries) == 1 and None not in libraries:
                (name,) = libraries
                library_of[content] = names.setdefault(str(name), len(names))
                copies_of[content] = frozenset(self._paths[p].scope for p in paths)
        self.corpus.library_of, self.corpus.copies_of = library_of, copies_of

    def _identical(self, by_content: Mapping[int, list[int]]) -> list[CloneClass]:
        """One whole-content class per content held by several paths."""
        found = []
        for content, paths in by_content.items():
            streams = self.corpus.streams[content]
            if len(paths) < 2 or streams.count < self.geometry.min_tokens:
                continue
            if streams.line_of(streams.count - 1) - streams.line_of(0) + 1 < self.min_lines:
                continue
            found.append(CloneClass((Span(content, 0, streams.count),), exact=True))
        return found

    def _places(self, span: Span, by_content: Mapping[int, list[int]]) -> list[Place]:
        streams = self.corpus.streams[span.content]
        first = streams.line_of(span.start)
        last = streams.line_of(span.start + span.length - 1)
        return [Place(path, first, last) for path in by_content.get(span.content, ())]

    def _finding(self, clone: CloneClass, places: list[Place]) -> tuple[str, RawFinding]:
        places = sorted(places, key=lambda p: (self._paths[p.path].path, p.start_line))
        head, tokens = places[0], clone.spans[0].length
        kind = "exact" if clone.exact else "renamed"
        lines = head.end_line - head.start_line + 1
        streams = self.corpus.streams[clone.spans[0].content]
        digest = hashlib.blake2b(
            streams.kinds[clone.spans[0].start : clone.spans[0].start + tokens], digest_size=8
        ).hexdigest()
        related: list[JSONValue] = [
            {"path": self._paths[p.path].path, "start_line": p.start_line, "end_line": p.end_line}
            for p in places[1:]
        ]
        raw = RawFinding(
            rule_id=EXACT_RULE if clone.exact else RENAMED_RULE,
            start_line=head.start_line,
            end_line=head.end_line,
            message=f"{kind} clone: {tokens} tokens ({lines} lines) at {len(places)} places",
            evidence=f"clone of {tokens} tokens, token digest {digest}",
            properties={"kind": kind, "tokens": tokens, "places": len(places), "related": related},
        )
        return self._paths[head.path].path, raw

    def _section(self, tally: Tally) -> dict[str, JSONValue]:
        per_path = tally.duplicated(CLONES)
        exact_only = tally.duplicated(frozenset({EXACT}))
        with_copies = sum(tally.duplicated(frozenset({*CLONES, COPY})))
        directories: dict[str, Counter[str]] = {}
        scopes: dict[str, Counter[str]] = {}
        for index, where in enumerate(self._paths):
            figures = Counter(
                {"lines": self._line_count(where), "duplicated_lines": per_path[index]}
            )
            directories.setdefault(where.directory, Counter()).update(figures)
            scopes.setdefault(where.scope, Counter()).update(figures)
        total = sum(map(self._line_count, self._paths))
        duplicated = sum(per_path)
        return {
            "mode": self.mode.value,
            "min_tokens": self.geometry.min_tokens,
            "min_lines": self.min_lines,
            "totals": {
                **_percent(total, duplicated),
                "exact_duplicated_lines": sum(exact_only),
                "renamed_only_duplicated_lines": duplicated - sum(exact_only),
                "classes": tally.classes,
                "exact_classes": tally.exact_classes,
                "renamed_classes": tally.classes - tally.exact_classes,
                "places": tally.places,
                "duplicated_tokens": tally.tokens,
                "unique_contents": len(self.corpus.streams),
                "tokens": sum(s.count for s in self.corpus.streams),
            },
            "component_copies": {
                "pairs_not_compared": self.corpus.skipped_pairs,
                "anchor_groups_not_compared": self.corpus.skipped_groups,
                "classes": tally.copy_classes,
                "places": tally.copy_places,
                "duplicated_lines": with_copies - duplicated,
            },
            "by_directory": _percents(directories),
            "by_component": _percents(scopes),
            "largest": [self._largest(c, p) for c, p in tally.largest],
        }

    def _line_count(self, where: _Path) -> int:
        return self._lines[self._contents[where.content]]

    def _largest(self, clone: CloneClass, places: list[Place]) -> dict[str, JSONValue]:
        return {
            "tokens": clone.spans[0].length,
            "kind": "exact" if clone.exact else "renamed",
            "places": [
                {
                    "path": self._paths[p.path].path,
                    "start_line": p.start_line,
                    "end_line": p.end_line,
                }
                for p in sorted(places, key=lambda p: (self._paths[p.path].path, p.start_line))
            ],
        }


def _percents(groups: Mapping[str, Counter[str]]) -> dict[str, JSONValue]:
    return {k: _percent(v["lines"], v["duplicated_lines"]) for k, v in sorted(groups.items())}


def _percent(lines: int, duplicated: int) -> dict[str, JSONValue]:
    return {
        "lines": lines,
        "duplicated_lines": duplicated,
        "duplicated_percent": round(100.0 * duplicated / lines, 2) if lines else 0.0,
    }
