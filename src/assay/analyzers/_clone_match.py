"""Clone matching over the whole tree: equal anchor keys → pairs extended both ways → classes.

Runs once, in the main process, over the token streams of every unique content. Anchors are
grouped by key with one numpy sort (no dictionary of millions of entries); each pair of
places with equal keys is extended token by token, comparing slices in C, and kept when it
reaches ``min_tokens`` tokens and ``min_lines`` lines. Locations of equal extent that were
paired are joined into classes (union-find). Within one content, the two places of a pair
never overlap, so a repeated table yields clones of its halves, not of itself shifted.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from assay.analyzers._clone_anchors import Geometry, Mode, stream_of
from assay.analyzers._clone_tokens import TokenStreams

ALL_PAIRS = 16
"""Places sharing one key that are compared pairwise; larger groups are split first by the
``min_tokens`` tokens after the anchor (clones that start before it are then found from an
earlier anchor)."""
MAX_PARTNERS = 64
"""Places paired with the first of a group of equal ``min_tokens`` contexts (tables and
generated code repeat one window thousands of times)."""
_CHUNK = 64
_POSITION_BITS = 24
_LIMIT = 1 << _POSITION_BITS


@dataclass(frozen=True, slots=True, order=True)
class Span:
    """A token range of one unique content."""

    content: int
    """Index of the unique content."""
    start: int
    """First token."""
    length: int
    """Tokens."""


@dataclass(frozen=True, slots=True)
class CloneClass:
    """Places holding the same token sequence (at least two)."""

    spans: tuple[Span, ...]
    """Every place, sorted; all of one length."""
    exact: bool
    """Whether the exact texts are equal too (else it is a renamed clone)."""


@dataclass(slots=True)
class Corpus:
    """Token streams and anchors of every unique content, and the matching over them."""

    mode: Mode
    """What counts as the same token."""
    geometry: Geometry
    """Minimum tokens, window and gap."""
    min_lines: int
    """Smallest clone reported, in lines of its first place."""
    library_internal: bool = False
    """Whether code of one library is matched against other code of the same library; copies
    of one library (e.g. two OpenSSL versions) are never matched against each other."""
    streams: list[TokenStreams] = field(default_factory=list)
    """Per content, its tokens."""
    dropped: int = 0
    """Anchors beyond token 2**24 of a file (not indexed)."""
    library_of: list[int] = field(default_factory=list)
    """Per content, the library it lies wholly in (an index), or -1 (vendor code, or mixed)."""
    copies_of: list[frozenset[str]] = field(default_factory=list)
    """Per content, the keys of the library copies holding it."""
    skipped_pairs: int = 0
    """Candidate pairs not compared: both contents lie wholly in code of one library."""
    skipped_groups: int = 0
    """Groups of places with one anchor key, all in code of one library, not compared."""
    _anchors: list[bytes] = field(default_factory=list)
    """Per content, its packed anchors (until matching reads them)."""

    def add(self, streams: TokenStreams, anchors: bytes) -> int:
        """Index one unique content; its number."""
        content = len(self.streams)
        if content >= _LIMIT:
            raise ValueError(f"more than {_LIMIT} unique contents to match")
        self.streams.append(streams)
        self._anchors.append(anchors)
        return content

    def classes(self) -> list[CloneClass]:
        """Every clone class of the corpus (pairs joined by equal extents); call once: the
        anchor index is freed as it is read."""
        parent: dict[Span, Span] = {}
        for first, second in self._pairs():
            _union(parent, first, second)
        members: dict[Span, list[Span]] = {}
        for span in parent:
            members.setdefault(_find(parent, span), []).append(span)
        return sorted(
            (CloneClass(tuple(sorted(group)), self._exact(group)) for group in members.values()),
            key=lambda c: c.spans[0],
        )

    def _pairs(self) -> Iterator[tuple[Span, Span]]:
        """Extended pairs of places, each diagonal stretch extended once."""
        covered: dict[tuple[int, int, int], list[tuple[int, int]]] = {}
        libraries, copies = self.library_of, self.copies_of
        for group in self._groups():
            for (ca, pa), (cb, pb) in self._candidates(group):
                # Code shared by copies of one library (e.g. two OpenSSL versions) is one
                # library's code: the inventory reports the copies, they are not compared.
                if (
                    libraries
                    and 0 <= libraries[ca] == libraries[cb]
                    and not (self.library_internal and copies[ca] & copies[cb])
                ):
                    self.skipped_pairs += 1
                    continue
                diagonal = (ca, cb, pb - pa)
                done = covered.get(diagonal)
                if done is not None and _inside(done, pa):
                    continue
                pair = self._extend(ca, pa, cb, pb)
                if pair is not None:
                    first = pair[0]
                    covered.setdefault(diagonal, []).append(
                        (first.start, first.start + first.length)
                    )
                    yield pair

    def _groups(self) -> Iterator[list[tuple[int, int]]]:
        """Places (content, token) sharing one anchor key, in key order (each group sorted).

        All anchors are sorted at once (numpy, stable: contents were added in order and each
        content's positions ascend); groups of one place are dropped, and, unless
        ``library_internal``, so are groups lying wholly in code of one library, counted in
        ``skipped_groups``. The index is freed before the first group is yielded.
        """
        places = self._index()
        if places is None:
            return
        keys, contents, positions = places
        order = np.argsort(keys, kind="stable")
        keys, contents, positions = keys[order], contents[order], positions[order]
        del order
        first = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
        sizes = np.diff(np.append(first, len(keys)))
        del keys
        keep = sizes > 1
        if self.library_of and not self.library_internal:
            library = np.asarray(self.library_of, dtype=np.int64)[contents]
            low = np.minimum.reduceat(library, first)
            high = np.maximum.reduceat(library, first)
            one = keep & (low == high) & (low >= 0)
            self.skipped_groups += int(np.count_nonzero(one))
            keep &= ~one
        kept = np.repeat(keep, sizes)
        content_list, position_list = contents[kept].tolist(), positions[kept].tolist()
        ends = np.cumsum(sizes[keep]).tolist()
        del contents, positions, first, sizes, keep, kept
        start = 0
        for end in ends:
            yield list(zip(content_list[start:end], position_list[start:end], strict=True))
            start = end

    def _index(
        self,
    ) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.int64], npt.NDArray[np.int64]] | None:
        """Every anchor's key, content and position (anchors past token 2**24 are dropped and
        counted); ``None`` when none is left. Frees the per-content anchors."""
        chunks = [np.frombuffer(a, dtype=np.uint64) for a in self._anchors]
        self._anchors = []
        if not chunks:
            return None
        counts = [len(c) for c in chunks]
        packed = np.concatenate(chunks)
        del chunks
        contents = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
        positions = (packed & np.uint64(0xFFFFFFFF)).astype(np.int64)
        inside = positions < _LIMIT
        self.dropped += int(len(inside) - np.count_nonzero(inside))
        if not np.any(inside):
            return None
        keys = (packed[inside] >> np.uint64(32)).astype(np.uint32)
        return keys, contents[inside], positions[inside]

    def _candidates(
        self, group: list[tuple[int, int]]
    ) -> Iterator[tuple[tuple[int, int], tuple[int, int]]]:
        """The pairs of a group worth extending."""
        if len(group) <= ALL_PAIRS:
            for i, a in enumerate(group):
                for b in group[i + 1 :]:
                    yield a, b
            return
        contexts: dict[bytes, list[tuple[int, int]]] = {}
        size = self.geometry.min_tokens
        for content, token in group:
            data, width = stream_of(self.streams[content], self.mode)
            context = data[token * width : (token + size) * width]
            contexts.setdefault(context, []).append((content, token))
        for places in contexts.values():
            first = places[0]
            for other in places[1 : MAX_PARTNERS + 1]:
                yield first, other

    def _extend(self, ca: int, pa: int, cb: int, pb: int) -> tuple[Span, Span] | None:
        """Grow a pair of equal windows both ways; the two places, or ``None`` if too small."""
        da, width = stream_of(self.streams[ca], self.mode)
        db, _ = stream_of(self.streams[cb], self.mode)
        cap = pb - pa if ca == cb else len(da) + len(db)
        back = _common(da, pa - 1, db, pb - 1, width, min(pa, pb, cap), -1)
        ahead_limit = min(len(da) // width - pa, len(db) // width - pb, cap - back)
        length = back + _common(da, pa, db, pb, width, ahead_limit, 1)
        if length < self.geometry.min_tokens:
            return None
        first = Span(ca, pa - back, length)
        streams = self.streams[ca]
        lines = streams.line_of(first.start + length - 1) - streams.line_of(first.start) + 1
        if lines < self.min_lines:
            return None
        return first, Span(cb, pb - back, length)

    def _exact(self, group: list[Span]) -> bool:
        """Whether every place of a class has the same exact token texts."""
        if self.mode is Mode.EXACT:
            return True
        texts = {
            self.streams[s.content].exact[s.start * 2 : (s.start + s.length) * 2] for s in group
        }
        return len(texts) == 1


def _common(a: bytes, i: int, b: bytes, j: int, width: int, limit: int, step: int) -> int:
    """Equal tokens from token ``i`` of ``a`` and ``j`` of ``b``, walking by ``step`` (±1).

    Slices are compared in C: whole chunks while they match, then a bisection of the first
    chunk that does not.
    """
    count = 0
    while count < limit:
        size = min(_CHUNK, limit - count)
        if _equal(a, i, b, j, width, count, size, step):
            count += size
            continue
        low, high = 0, size - 1  # the first `low` tokens match; token `high` + 1 does not
        while low < high:
            middle = (low + high + 1) // 2
            if _equal(a, i, b, j, width, count, middle, step):
                low = middle
            else:
                high = middle - 1
        return count + low
    return count


def _equal(a: bytes, i: int, b: bytes, j: int, width: int, done: int, size: int, step: int) -> bool:
    """Whether the ``size`` tokens after the ``done`` already matched ones are equal."""
    if step > 0:
        lo_a, lo_b = i + done, j + done
    else:
        lo_a, lo_b = i - done - size + 1, j - done - size + 1
    return a[lo_a * width : (lo_a + size) * width] == b[lo_b * width : (lo_b + size) * width]


def _inside(spans: list[tuple[int, int]], token: int) -> bool:
    for start, end in spans:  # noqa: SIM110 (hot path: a plain loop beats any() on a genexpr)
        if start <= token < end:
            return True
    return False


def _find(parent: dict[Span, Span], span: Span) -> Span:
    root = span
    while parent[root] != root:
        root = parent[root]
    while parent[span] != root:
        parent[span], span = root, parent[span]
    return root


def _union(parent: dict[Span, Span], a: Span, b: Span) -> None:
    parent.setdefault(a, a)
    parent.setdefault(b, b)
    ra, rb = _find(parent, a), _find(parent, b)
    if ra != rb:
        parent[max(ra, rb)] = min(ra, rb)
