"""Lexical helpers on bytes: find wanted identifiers fast, blank comments and literals.

``occurrences`` finds every whole identifier among a set of names with a handful of literal
searches (C speed) instead of a tokenizer or a walk: each search looks for a substring
("anchor") that several names share, and each hit is widened to its identifier and looked up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

_WORD = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$")
_WORD_END = re.compile(rb"[A-Za-z0-9_$]*")
_LITERAL = re.compile(
    rb'/\*.*?(?:\*/|\Z)|//[^\n]*|"(?:\\.|[^"\\\n])*"?|\'(?:\\.|[^\'\\\n])*\'?', re.S
)
_SHARED_ANCHORS = (
    *(b"cpy", b"Cpy", b"opy", b"cat", b"Cat", b"rintf", b"scanf", b"get"),
    *(b"mem", b"Memory", b"tok", b"tmp", b"temp"),
)
"""Substrings that several names share: one search finds them all. They decide speed, never
coverage (a name containing none is searched for itself). One search costs about as much as
500 hits per MB; on six real trees (curl, OpenSSL, busybox, sqlite, mbedtls, libxml2) the most
frequent anchors, get, opy, cat, mem and rintf, hit 200-420 times per MB."""


@dataclass(frozen=True, slots=True)
class Matcher:
    """Which identifiers are wanted: exact names, plus any name ending with ``suffix``."""

    names: frozenset[str]
    """Exact names."""
    suffix: str = ""
    """A suffix such as ``_s``; empty for none."""


@cache
def _anchors(names: frozenset[str]) -> tuple[re.Pattern[bytes], ...]:
    """Few substrings such that every name contains at least one of them, compiled (a literal
    pattern searches faster than ``bytes.find`` on short needles)."""
    chosen: list[bytes] = []
    for name in sorted((n.encode() for n in names), key=len):
        if any(anchor in name for anchor in chosen):
            continue
        shared = [a for a in _SHARED_ANCHORS if a in name]
        chosen.append(shared[0] if shared else name)
    return tuple(re.compile(re.escape(anchor)) for anchor in chosen)


@cache
def _suffix_pattern(suffix: str) -> re.Pattern[bytes]:
    return re.compile(re.escape(suffix.encode()) + rb"(?![A-Za-z0-9_$])")


def _word_around(source: bytes, pos: int) -> tuple[int, int]:
    start = pos
    while start and source[start - 1] in _WORD:
        start -= 1
    match = _WORD_END.match(source, pos)
    return start, match.end() if match else pos


def occurrences(source: bytes, matcher: Matcher) -> list[tuple[int, str]]:
    """(offset, name) of every whole identifier the matcher wants, in source order."""
    found: dict[int, str] = {}
    for anchor in _anchors(matcher.names):
        for match in anchor.finditer(source):
            start, end = _word_around(source, match.start())
            word = source[start:end].decode("ascii", "replace")
            if word in matcher.names and not source[start : start + 1].isdigit():
                found[start] = word
    if matcher.suffix:
        for match in _suffix_pattern(matcher.suffix).finditer(source):
            start, end = _word_around(source, match.start())
            if start < match.start() and not source[start : start + 1].isdigit():
                found[start] = source[start:end].decode("ascii", "replace")
    return sorted(found.items())


def code_only(text: bytes) -> bytes:
    """``text`` with comments and string/char literals blanked (same length, same offsets)."""
    if b"/" not in text and b'"' not in text and b"'" not in text:
        return text
    return _LITERAL.sub(lambda m: b" " * len(m.group()), text)


def line_text(source: bytes, line_start_offset: int) -> str:
    """The physical line containing ``line_start_offset``, stripped (evidence)."""
    start = source.rfind(b"\n", 0, line_start_offset) + 1
    end = source.find(b"\n", line_start_offset)
    return source[start : end if end >= 0 else len(source)].decode("utf-8", "replace").strip()
