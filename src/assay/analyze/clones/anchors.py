"""Clone anchors: the few token positions of a file whose windows are indexed across the tree.

Indexing every token window of a 5-million-line tree would cost gigabytes; instead each file
offers *anchors*: the first token of every line, plus one every ``gap`` tokens along lines
longer than that (``gap`` is a fifth of ``min_tokens``; C lines average five tokens). The
key of an anchor is a 32-bit hash of its window of ``window`` tokens (kinds in normalised mode,
exact hashes in exact mode). With ``window + gap == min_tokens``, every clone of at least
``min_tokens`` tokens whose copies break lines alike has an anchor in its first ``gap``
tokens, whose whole window lies inside the clone in every copy, so equal keys find it; the
match is then extended token by token in both directions.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from assay.analyze.clones.tokens import TokenStreams

EXACT_WIDTH = 2
"""Bytes per token in ``TokenStreams.exact``."""
_BASE = np.uint64(0x100000001B3)
"""Odd multiplier of the window hash (the 64-bit FNV prime)."""
_INVERSE = np.uint64(pow(0x100000001B3, -1, 1 << 64))
"""Its inverse modulo 2**64."""
_MIX = np.uint64(0xBF58476D1CE4E5B9)
"""Multiplier of the final mix (splitmix64's)."""


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


def anchor_positions(streams: TokenStreams, geometry: Geometry) -> npt.NDArray[np.uint64]:
    """Token positions of the anchors of one file (line starts, and every ``gap`` along)."""
    count = streams.count
    last = count - geometry.window
    if last < 0:
        return np.zeros(0, dtype=np.uint64)
    starts = np.frombuffer(streams.line_starts, dtype=np.uint32).astype(np.int64)
    starts = starts[starts < count]
    line_start = np.zeros(count, dtype=np.int64)
    line_start[starts] = starts  # each token's line begins at the last start at or before it
    np.maximum.accumulate(line_start, out=line_start)
    tokens = np.arange(last + 1, dtype=np.int64)
    chosen = tokens[(tokens - line_start[: last + 1]) % geometry.gap == 0]
    result: npt.NDArray[np.uint64] = chosen.astype(np.uint64)
    return result


def _window_hashes(data: bytes, width: int, window: int) -> npt.NDArray[np.uint64]:
    """A 64-bit polynomial hash of every window of ``window`` tokens, all at once.

    With ``S[i]`` the sum of ``t[j] * B**j`` for ``j < i`` (arithmetic modulo 2**64, where an
    odd ``B`` has an inverse), the window at ``p`` hashes to ``(S[p + window] - S[p]) / B**p``;
    a final multiply-xorshift mixes the high half, which becomes the key.
    """
    tokens = np.frombuffer(data, dtype=np.uint8 if width == 1 else np.uint16).astype(np.uint64)
    count = len(tokens)
    with np.errstate(over="ignore"):
        powers = np.cumprod(np.full(count, _BASE, dtype=np.uint64), dtype=np.uint64)
        powers = np.concatenate((np.ones(1, dtype=np.uint64), powers[:-1]))
        sums = np.concatenate((np.zeros(1, dtype=np.uint64), np.cumsum(tokens * powers)))
        windows = count - window + 1
        inverse = np.cumprod(np.full(windows, _INVERSE, dtype=np.uint64), dtype=np.uint64)
        inverse = np.concatenate((np.ones(1, dtype=np.uint64), inverse[:-1]))
        hashes: npt.NDArray[np.uint64] = (sums[window:] - sums[:windows]) * inverse
        hashes ^= hashes >> np.uint64(31)
        hashes *= _MIX
        hashes ^= hashes >> np.uint64(29)
    return hashes


def anchors(streams: TokenStreams, mode: Mode, geometry: Geometry) -> bytes:
    """The anchors of one file as packed ``key << 32 | position`` unsigned 64-bit values,
    sorted (so by key, then position)."""
    positions = anchor_positions(streams, geometry)
    if not len(positions):
        return b""
    data, width = stream_of(streams, mode)
    hashes = _window_hashes(data, width, geometry.window)[positions.astype(np.int64)]
    keys = hashes >> np.uint64(32)
    packed: npt.NDArray[np.uint64] = (keys << np.uint64(32)) | positions
    packed.sort()  # by key, then position: the tree-wide sort then merges sorted runs
    return packed.tobytes()
