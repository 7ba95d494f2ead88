"""File fingerprints that survive reformatting and small edits: the keys of the release KB.

Two fingerprints per C/C++ file, both computed from the token stream (comments, whitespace,
line endings and line continuations dropped; string and character literals kept whole):

* ``normalised_hash``: sha256 of the tokens joined by one space. Equal for a file that was
  only re-indented, re-commented or converted between CRLF and LF: an *unchanged* copy.
* ``winnow``: winnowed token k-grams (Schleimer, Wilkerson and Aiken, "Winnowing: local
  algorithms for document fingerprinting", SIGMOD 2003). Any run of ``W + K - 1`` equal tokens
  shares at least one fingerprint, so a *modified* copy still shares most of them.

Speed: the tokenizer is one compiled ``re`` over bytes; the k-gram and window-minimum steps
run as big-integer arithmetic and ``map``/``itertools.accumulate`` over whole lists (the
loops run in C), and token hashes come from a cache. Nothing depends on Python's randomised
``hash()``: token hashes are blake2b, so fingerprints are equal across processes and runs.
"""

from __future__ import annotations

import hashlib
import re
import sys
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Final

K: Final = 12
"""Tokens per k-gram. Twelve tokens are about two lines of C: long enough that shared
boilerplate (``} return 0; }``, include lists) rarely makes unrelated files look alike, short
enough that an edited line spoils only the few grams that overlap it."""

W: Final = 48
"""Window of k-grams from which the smallest is kept. About ``2 / (W + 1)`` of the grams
survive (one fingerprint per ~25 tokens, ~4 lines), which keeps the shipped KB to a few MB,
and any common run of ``W + K - 1`` = 59 tokens (~10 lines) is still guaranteed a match."""

SIMILAR: Final = 0.5
"""``similarity`` at or above which a file counts as a modified copy of a release file.
A few edited lines of a file of a few hundred lines stay near 0.8; unrelated C files,
even in the same style, stay well under 0.1 (see tests/components/test_fingerprint.py)."""

_MULTIPLIERS: Final = tuple(
    int.from_bytes(hashlib.blake2b(b"assay-gram-%d" % p, digest_size=4).digest(), "little") | 1
    for p in range(64)
)
"""One odd 32-bit multiplier per gram position (so ``k`` is at most 64), fixed forever."""
_NOISE_BITS: Final = 8
_LANES: dict[bytes, bytes] = {}
_LANES_MAX: Final = 1 << 20

_TOKEN: Final = re.compile(
    rb"""
      (                                         # group 1: a token; the rest is dropped
        [A-Za-z_$\x80-\xff][A-Za-z0-9_$\x80-\xff]*            # identifier or keyword
      | "(?:[^"\\\n]|\\.)*"?                    # string literal (unterminated: to the line end)
      | '(?:[^'\\\n]|\\.)*'?                    # character literal
      | \.?[0-9](?:[eEpP][+-]|[0-9A-Za-z_.']|)*               # preprocessing number
      | ->\*|\.\.\.|<<=|>>=|<=>|::|->|\+\+|--|<<|>>|&&|\|\||\#\#|[-+*/%&|^!=<>]=
      | [^\s/]|/(?![/*])                        # any other punctuator or stray byte
      )
    | \s+                                       # whitespace, in one step
    | //[^\n]*                                  # line comment (continuations already joined)
    | /\*[^*]*\*+(?:[^/*][^*]*\*+)*/            # block comment
    | /\*.*                                     # unterminated block comment: to the end
    """,
    re.VERBOSE | re.DOTALL,
)
_CONTINUATION: Final = re.compile(rb"\\\r?\n")


@dataclass(frozen=True, slots=True)
class FileDigest:
    """Everything the KB records about one file's content, from one tokenization."""

    nhash: str
    """``normalised_hash`` of the file."""
    lines: int
    """Physical lines (a last line without a newline counts)."""
    grams: tuple[int, ...]
    """``winnow`` fingerprints with the default ``K`` and ``W``."""


def tokens(source: bytes) -> list[bytes]:
    """The C/C++ tokens of ``source``, without comments, whitespace or line continuations."""
    joined = _CONTINUATION.sub(b"", source)
    return list(filter(None, _TOKEN.findall(joined)))


def normalised_hash(source: bytes) -> str:
    """Hex sha256 of the tokens joined by one space: blind to layout, comments, line endings."""
    return token_hash(tokens(source))


def token_hash(stream: Sequence[bytes]) -> str:
    """``normalised_hash`` of a file whose ``tokens`` are ``stream``."""
    return hashlib.sha256(b" ".join(stream)).hexdigest()


def _lanes(stream: list[bytes]) -> bytes:
    """Each token's 32-bit hash in a 64-bit little-endian lane, from a bounded cache."""
    if len(_LANES) > _LANES_MAX:
        _LANES.clear()
    for token in set(stream).difference(_LANES):
        _LANES[token] = hashlib.blake2b(token, digest_size=4).digest() + bytes(4)
    return b"".join(map(_LANES.__getitem__, stream))


def _gram_hashes(stream: list[bytes], k: int) -> list[int]:
    """Hash of each k-gram: ``sum(C[p] * h[i + p]) mod 2**64`` over its tokens' 32-bit hashes.

    All grams are computed at once on one big integer holding a 64-bit lane per token:
    shifting it by 64 bits moves every token one position, and multiplying by a 32-bit
    constant scales every lane, so the whole sum is a few C-level big-integer operations.
    A lane's sum overflows into the next lane's lowest bits (by at most ``k``), so callers
    drop the low ``_NOISE_BITS`` of each selected value.
    """
    count = len(stream) - k + 1
    lanes = int.from_bytes(_lanes(stream), "little")
    total = 0
    for position in range(k):
        total += _MULTIPLIERS[position] * (lanes >> (64 * position))
    values = array("Q")
    values.frombytes((total & ((1 << (64 * count)) - 1)).to_bytes(8 * count, "little"))
    if sys.byteorder == "big":
        values.byteswap()
    return values.tolist()


def _window_minima(values: list[int], w: int) -> set[int]:
    """The minimum of every window of ``w`` consecutive values (van Herk / Gil-Werman).

    Prefix minima within blocks of ``w`` and suffix minima within the same blocks give each
    window's minimum as ``min(suffix[i], prefix[i + w - 1])``.
    """
    if len(values) <= w:
        return {min(values)} if values else set()
    prefix: list[int] = []
    suffix: list[int] = []
    for start in range(0, len(values), w):
        block = values[start : start + w]
        prefix.extend(accumulate(block, min))
        suffix.extend(reversed(list(accumulate(reversed(block), min))))
    return set(map(min, suffix[: len(values) - w + 1], prefix[w - 1 :]))


def _winnow_tokens(stream: list[bytes], k: int, w: int) -> tuple[int, ...]:
    if not stream:
        return ()
    grams = _gram_hashes(stream, min(k, len(stream)))
    return tuple(sorted({v >> _NOISE_BITS for v in _window_minima(grams, w)}))


def winnow(source: bytes, k: int = K, w: int = W) -> tuple[int, ...]:
    """Winnowed k-gram fingerprints of ``source``: sorted, unique, non-negative ints.

    Values have 56 bits (64-bit gram hashes without their low carry bits), so they fit the
    signed 63-bit range of SQLite integers and ``array("q")``.

    Identifiers are kept (not renamed), so that different files of one library differ. A
    file shorter than ``k`` tokens gets one fingerprint of all its tokens, or none if empty.
    The set of window minima equals the winnowing selection up to ties, which a set ignores.
    """
    return _winnow_tokens(tokens(source), k, w)


def digest(source: bytes) -> FileDigest:
    """Normalised hash, line count and winnowed fingerprints of ``source``, tokenized once."""
    stream = tokens(source)
    lines = source.count(b"\n") + (1 if source and not source.endswith(b"\n") else 0)
    return FileDigest(token_hash(stream), lines, _winnow_tokens(stream, K, W))


def identity(source: bytes) -> FileDigest:
    """Normalised hash and line count of ``source`` without fingerprints (cheaper)."""
    lines = source.count(b"\n") + (1 if source and not source.endswith(b"\n") else 0)
    return FileDigest(normalised_hash(source), lines, ())


def similarity(a: Sequence[int], b: Sequence[int]) -> float:
    """Jaccard similarity of two fingerprint sets: shared over all, 0.0 when both are empty.

    Jaccard rather than containment: it is symmetric and falls as either file grows, so among
    several versions of one file the closest version scores highest, not the largest one.
    """
    first, second = set(a), set(b)
    union = len(first | second)
    return len(first & second) / union if union else 0.0
