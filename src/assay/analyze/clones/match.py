"""Clone matching over the whole tree: equal anchor keys → pairs extended both ways → classes.

Runs once, in the main process, over the token streams of every unique content. Anchors are
grouped by key with one numpy sort (no dictionary of millions of entries); each pair of
places with equal keys is extended token by token, comparing slices in C, and kept when it
reaches ``min_tokens`` tokens and ``min_lines`` lines. Locations of equal extent that were
paired are joined into classes (union-find). Within one content, the two places of a pair
never overlap, so a repeated table yields clones of its halves, not of itself shifted.

Longer than 300 lines: one ``Corpus`` class whose steps (anchor index, candidate groups, extension,
classes) share its numpy arrays; split apart, every step would take those arrays as arguments.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from assay.analyze.clones.anchors import Geometry, Mode, stream_of
from assay.analyze.clones.tokens import TokenStreams

ALL_PAIRS = 16
"""Places sharing one key that are compared pairwise; larger groups are split first by the
``min_tokens`` tokens after the anchor (clones that start before it are then found from an
earlier anchor)."""
MAX_PARTNERS = 64
"""Places paired with the first of a group of equal ``min_tokens`` contexts (tables and
generated code repeat one window thousands of times)."""
_CHUNK = 64
_CONTEXT_BASE = np.uint64(0x9E3779B97F4A7C15)
"""Odd multiplier of the context hash."""
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
        for candidates in self.group_candidates():
            for (ca, pa), (cb, pb) in candidates:
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

    def group_candidates(self) -> Iterator[list[tuple[tuple[int, int], tuple[int, int]]]]:
        """Per kept group of places sharing one anchor key, in key order, the pairs of places
        worth extending: every pair of a small group (``candidates``); for groups of more
        than ``ALL_PAIRS`` places, the first place of each equal ``min_tokens`` context paired
        with up to ``MAX_PARTNERS`` others, computed for all such groups at once (numpy)."""
        kept = self.kept_groups()
        if kept is None:
            return
        contents, positions, sizes = kept
        big = sizes > ALL_PAIRS
        in_big = np.repeat(big, sizes)
        small_contents = contents[~in_big].tolist()
        small_positions = positions[~in_big].tolist()
        small_ends = np.cumsum(sizes[~big]).tolist()
        ordinal = np.repeat(np.arange(int(np.count_nonzero(big))), sizes[big])
        pairs, big_ends = self._big_candidates(contents[in_big], positions[in_big], ordinal)
        del contents, positions, in_big, ordinal
        small = big_index = start = big_start = 0
        for is_big in big.tolist():
            if is_big:
                end = big_ends[big_index]
                yield pairs[big_start:end]
                big_index, big_start = big_index + 1, end
                continue
            end = small_ends[small]
            group = list(zip(small_contents[start:end], small_positions[start:end], strict=True))
            yield list(self.candidates(group))
            small, start = small + 1, end

    def kept_groups(
        self,
    ) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32], npt.NDArray[np.int64]] | None:
        """The places (contents, positions) of every kept group in key order, each group's
        places in (content, position) order, and the size of each kept group.

        All anchors are sorted at once, in the order a stable sort by key gives: contents were
        added in order and each content's anchors arrive sorted by (key, position), so an
        anchor's index in the concatenation breaks ties between equal keys; each key is packed
        with its index into one unique 64-bit value, sorted with numpy's (vectorised) sort.
        Groups of one place are dropped, and, unless ``library_internal``, so are groups lying
        wholly in code of one library, counted in ``skipped_groups``. The per-content anchors
        are freed.
        """
        places = self._index()
        if places is None:
            return None
        packed, contents, positions = places
        packed &= np.uint64(0xFFFFFFFF00000000)  # the key, in the high word
        packed |= np.arange(len(packed), dtype=np.uint64)  # its index, in the low word
        packed.sort()
        order = packed.astype(np.uint32).astype(np.int64)  # the low word
        packed >>= np.uint64(32)
        keys = packed.astype(np.uint32)
        del packed
        first = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
        sizes = np.diff(np.append(first, len(keys)))
        del keys
        multi = sizes > 1
        order = order[np.repeat(multi, sizes)]  # places of groups of two or more
        sizes = sizes[multi]
        keep = np.ones(len(sizes), dtype=bool)
        if self.library_of and not self.library_internal and len(sizes):
            library = np.asarray(self.library_of, dtype=np.int64)[contents[order]]
            starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
            low = np.minimum.reduceat(library, starts)
            high = np.maximum.reduceat(library, starts)
            one = (low == high) & (low >= 0)
            self.skipped_groups += int(np.count_nonzero(one))
            keep = ~one
        order = order[np.repeat(keep, sizes)]
        return contents[order], positions[order], sizes[keep]

    def _big_candidates(
        self,
        contents: npt.NDArray[np.int32],
        positions: npt.NDArray[np.int32],
        ordinal: npt.NDArray[np.int64],
    ) -> tuple[list[tuple[tuple[int, int], tuple[int, int]]], list[int]]:
        """The candidate pairs of the big groups (places given in group order, ``ordinal``
        numbering their group), in the order ``candidates`` would give them, and the end of
        each group's pairs. Contexts are told apart by a 64-bit hash of their tokens and
        length instead of by their bytes."""
        if not len(contents):
            return [], []
        context = self._contexts(contents, positions)
        index = np.arange(len(contents))
        by_context = np.lexsort((index, context, ordinal))
        group, hashed = ordinal[by_context], context[by_context]
        starts = np.concatenate(([True], (group[1:] != group[:-1]) | (hashed[1:] != hashed[:-1])))
        first_seen = by_context[starts][np.cumsum(starts) - 1]  # first place of its context
        final = np.lexsort((by_context, first_seen, group))  # contexts by first appearance
        order, first_seen = by_context[final], first_seen[final]
        starts = np.concatenate(([True], first_seen[1:] != first_seen[:-1]))
        head = np.flatnonzero(starts)
        rank = index - head[np.cumsum(starts) - 1]
        chosen = (rank >= 1) & (rank <= MAX_PARTNERS)
        a, b = first_seen[chosen], order[chosen]
        ca, pa = contents[a].tolist(), positions[a].tolist()
        cb, pb = contents[b].tolist(), positions[b].tolist()
        pairs = [((w, x), (y, z)) for w, x, y, z in zip(ca, pa, cb, pb, strict=True)]
        ends = np.searchsorted(ordinal[b], np.arange(int(ordinal[-1]) + 1), side="right")
        return pairs, ends.tolist()

    def _contexts(
        self, contents: npt.NDArray[np.int32], positions: npt.NDArray[np.int32]
    ) -> npt.NDArray[np.uint64]:
        """A 64-bit hash of the ``min_tokens`` tokens (fewer at the end of a file) from each
        place, and of their number: the bytes are read eight at a time through an unaligned
        view of every content's stream laid end to end; places whose context is cut short by
        the end of their file are hashed token by token."""
        size = self.geometry.min_tokens
        streams = [stream_of(s, self.mode) for s in self.streams]
        width = streams[0][1] if streams else 1
        raw = b"".join(data for data, _ in streams) + bytes(8)
        counts = [len(data) // width for data, _ in streams]
        bounds = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
        start = bounds[contents] + positions.astype(np.int64)
        length = np.minimum(size, bounds[contents + 1] - start)
        words = np.ndarray((len(raw) - 7,), dtype=np.uint64, buffer=raw, strides=(1,))
        first_byte = start * width
        hashed: npt.NDArray[np.uint64] = length.astype(np.uint64)
        total = size * width
        last = len(words) - 1  # short contexts may reach past the end; they are redone below
        with np.errstate(over="ignore"):
            for offset in range(0, total, 8):
                word = words[np.minimum(first_byte + offset, last)]
                if total - offset < 8:
                    word &= np.uint64((1 << (8 * (total - offset))) - 1)
                hashed = (hashed ^ word) * _CONTEXT_BASE
                hashed ^= hashed >> np.uint64(29)
        short = np.flatnonzero(length < size)
        if len(short):
            tokens = np.frombuffer(raw[: len(raw) - 8], dtype=np.uint8 if width == 1 else np.uint16)
            hashed[short] = _short_contexts(tokens, start[short], length[short], size)
        return hashed

    def _index(
        self,
    ) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.int32], npt.NDArray[np.int32]] | None:
        """Every anchor as packed (key in the high word, position in the low one), with its
        content and position (anchors past token 2**24 are dropped); ``None``
        when none is left. Frees the per-content anchors. Contents and positions fit 24 bits:
        32-bit arrays keep four copies of the tree in memory budget."""
        chunks = [np.frombuffer(a, dtype=np.uint64) for a in self._anchors]
        self._anchors = []
        if not chunks:
            return None
        counts = [len(c) for c in chunks]
        packed = np.concatenate(chunks)
        del chunks
        contents = np.repeat(np.arange(len(counts), dtype=np.int32), counts)
        low = packed.astype(np.uint32)  # the position (casting keeps the low word)
        inside = low < _LIMIT
        kept = int(np.count_nonzero(inside))
        if not kept:
            return None
        if kept < len(inside):
            packed, contents, low = packed[inside], contents[inside], low[inside]
        return packed, contents, low.view(np.int32)

    @staticmethod
    def candidates(
        group: list[tuple[int, int]],
    ) -> Iterator[tuple[tuple[int, int], tuple[int, int]]]:
        """Every pair of places of a small group (at most ``ALL_PAIRS``), in order."""
        for i, a in enumerate(group):
            for b in group[i + 1 :]:
                yield a, b

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


def _short_contexts(
    tokens: npt.NDArray[Any],
    start: npt.NDArray[np.int64],
    length: npt.NDArray[np.int64],
    size: int,
) -> npt.NDArray[np.uint64]:
    """Context hashes of places with fewer than ``size`` tokens left, token by token (the
    length is hashed too; tokens past it are not read). Distinct from the word-wise hashes
    of full contexts, which is all that matters: contexts of different lengths differ."""
    hashed = length.astype(np.uint64) | np.uint64(1 << 63)
    last = max(len(tokens) - 1, 0)
    with np.errstate(over="ignore"):
        for k in range(size):
            token = tokens[np.minimum(start + k, last)].astype(np.uint64) + np.uint64(1)
            hashed = hashed * _CONTEXT_BASE + np.where(k < length, token, np.uint64(0))
    return hashed
