"""Clone anchors: the few token positions of a file whose windows are indexed across the tree.

Indexing every token window of a 5-million-line tree would cost gigabytes; instead each file
offers *anchors*: the first token of every line, plus one every ``gap`` tokens along lines
longer than that (``gap`` is a fifth of ``min_tokens``; C lines average five tokens). The
key of an anchor is the CRC-32 of its window of ``window`` tokens (kinds in normalised mode,
exact hashes in exact mode). With ``window + gap == min_tokens``, every clone of at least
``min_tokens`` tokens whose copies break lines alike has an anchor in its first ``gap``
tokens, whose whole window lies inside the clone in every copy, so equal keys find it; the
match is then extended token by token in both directions.
"""

from __future__ import annotations

import zlib
from array import array
from dataclasses import dataclass
from enum import StrEnum

from assay.analyzers._clone_tokens import TokenStreams

EXACT_WIDTH = 2
"""Bytes per token in ``TokenStreams.exact``."""


class Mode(StrEnum):
    """What counts as the same token."""

    NORMALISED = "normalised"
    """Identifiers equal each other, and literals of one kind too (finds renamed copies)."""
    EXACT = "exact"
    """Tokens must have the same text."""


@dataclass(frozen=True, slots=True)
class Geometry:
    """Sizes of the index: the minimum clone, the window hashed at each anchor, the gap."""

    min_tokens: int
    """Smallest clone reported, in tokens."""

    @property
    def gap(self) -> int:
        """Largest distance between anchors along one line: a fifth of ``min_tokens``."""
        return max(1, self.min_tokens // 5)

    @property
    def window(self) -> int:
        """Tokens hashed at each anchor: long windows keep unrelated places apart."""
        return max(1, self.min_tokens - self.gap)


def stream_of(streams: TokenStreams, mode: Mode) -> tuple[bytes, int]:
    """The bytes compared in ``mode`` and the bytes per token."""
    if mode is Mode.EXACT:
        return streams.exact, EXACT_WIDTH
    return streams.kinds, 1


def anchor_positions(streams: TokenStreams, geometry: Geometry) -> list[int]:
    """Token positions of the anchors of one file (line starts, and every ``gap`` along)."""
    starts = streams.line_starts
    last = streams.count - geometry.window
    positions: list[int] = []
    gap = geometry.gap
    ends = [*starts[1:], streams.count]
    for start, end in zip(starts, ends, strict=True):
        if start < end and start <= last:
            positions.extend(range(start, min(end, last + 1), gap))
    return positions


def anchors(streams: TokenStreams, mode: Mode, geometry: Geometry) -> bytes:
    """The anchors of one file as packed ``key << 32 | position`` unsigned 64-bit values."""
    data, width = stream_of(streams, mode)
    size = geometry.window * width
    crc32 = zlib.crc32
    packed = array(
        "Q",
        [
            (crc32(data[p * width : p * width + size]) << 32) | p
            for p in anchor_positions(streams, geometry)
        ],
    )
    return packed.tobytes()
