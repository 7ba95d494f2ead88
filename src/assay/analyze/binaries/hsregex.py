"""A Python bytes regex rewritten as a Hyperscan expression that matches a superset of it.

The binary signature rows are Python regexes (``re``); the pre-filter (:mod:`.prefilter`) runs
them through Hyperscan, whose syntax is PCRE's. The two differ in places where a pattern would
silently mean something else (``a{,3}`` is a repeat in Python and four literal bytes in PCRE;
``[[:alpha:]]`` is a class of six bytes in Python and a POSIX class in PCRE). So the source is
not handed over as it is: Python's own parser (``re._parser``, the one ``re.compile`` uses)
reads it, and the expression is written again from the parse tree using only constructs whose
meaning is the same in both: bytes as ``\\xHH``, classes as explicit byte ranges (``\\d``,
``\\w`` and ``\\s`` of a bytes pattern are ASCII), ``(?:...)``, ``|`` and ``{m,n}``.

Every rewrite keeps or widens what matches, never narrows it: look-arounds and anchors are
dropped (a match of the pattern is a match without them), a back-reference becomes a copy of
the group it names, lazy, possessive and atomic forms become the plain repeat. A hit of the
expression therefore only says that the Python regex *may* match; the exact regex decides.
What cannot be rewritten so (case-insensitive matching, conditionals, anything unknown) raises
:class:`Untranslatable`, and the row runs without a pattern gate.

Hand-written because no library converts Python regexes to PCRE; it is a walk over the parse
tree the standard library produces.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable
from typing import Any

_parser: Any = importlib.import_module("re._parser")
_MAXREPEAT: int = importlib.import_module("re._constants").MAXREPEAT

_DIGIT = frozenset(b"0123456789")
_WORD = _DIGIT | frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_SPACE = frozenset(b" \t\n\r\f\v")
_ALL = frozenset(range(256))
_CATEGORIES = {
    "CATEGORY_DIGIT": _DIGIT,
    "CATEGORY_NOT_DIGIT": _ALL - _DIGIT,
    "CATEGORY_WORD": _WORD,
    "CATEGORY_NOT_WORD": _ALL - _WORD,
    "CATEGORY_SPACE": _SPACE,
    "CATEGORY_NOT_SPACE": _ALL - _SPACE,
}
"""Python's classes of a bytes pattern without the LOCALE flag (ASCII)."""
_REFUSED_FLAGS = re.IGNORECASE | re.LOCALE | re.UNICODE
_DROPPED = frozenset({"AT", "ASSERT", "ASSERT_NOT"})
"""Zero-width items: leaving them out widens the match."""
_REPEATS = frozenset({"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"})


class Untranslatable(ValueError):
    """The pattern has a construct that has no superset rewrite here."""


def literal(text: bytes) -> bytes:
    """A Hyperscan expression matching exactly ``text``."""
    return b"".join(b"\\x%02x" % byte for byte in text)


def translate(pattern: re.Pattern[bytes]) -> bytes:
    """The Hyperscan expression for ``pattern`` (see the module docstring)."""
    if not isinstance(pattern.pattern, bytes):
        raise Untranslatable("not a bytes pattern")
    if pattern.flags & _REFUSED_FLAGS:
        raise Untranslatable(f"flags {pattern.flags:#x}")
    tree = _parser.parse(pattern.pattern, pattern.flags)
    return _Writer().sequence(tree)


class _Writer:
    """Writes parse-tree items out; remembers each group's expression for back-references."""

    def __init__(self) -> None:
        self.groups: dict[int, bytes] = {}

    def sequence(self, items: Iterable[tuple[Any, Any]]) -> bytes:
        return b"".join(self.item(op.name, arg) for op, arg in items)

    def item(self, op: str, arg: Any) -> bytes:
        if op == "LITERAL":
            return literal(bytes((arg,)))
        if op == "NOT_LITERAL":
            return _byte_class(_ALL - {arg})
        if op == "ANY":
            return _byte_class(_ALL)
        if op == "IN":
            return _byte_class(_in_set(arg))
        if op == "BRANCH":
            return b"(?:" + b"|".join(self.sequence(alt) for alt in arg[1]) + b")"
        if op == "SUBPATTERN":
            group, add_flags, del_flags, items = arg
            if (add_flags | del_flags) & _REFUSED_FLAGS:
                raise Untranslatable(f"scoped flags {add_flags:#x}/{del_flags:#x}")
            text = b"(?:" + self.sequence(items) + b")"
            if group is not None:
                self.groups[group] = text
            return text
        if op in _REPEATS:
            low, high, items = arg
            bound = b"" if high == _MAXREPEAT else b"%d" % high
            return b"(?:" + self.sequence(items) + b"){%d,%s}" % (low, bound)
        if op == "ATOMIC_GROUP":
            return b"(?:" + self.sequence(arg) + b")"
        if op == "GROUPREF":
            if arg not in self.groups:
                raise Untranslatable(f"reference to group {arg} before it closes")
            return self.groups[arg]
        if op in _DROPPED:
            return b""
        raise Untranslatable(f"{op} is not rewritten")


def _in_set(items: Iterable[tuple[Any, Any]]) -> frozenset[int]:
    chosen: set[int] = set()
    negate = False
    for op, arg in items:
        name = op.name
        if name == "NEGATE":
            negate = True
        elif name == "LITERAL":
            chosen.add(arg)
        elif name == "RANGE":
            chosen.update(range(arg[0], arg[1] + 1))
        elif name == "CATEGORY" and arg.name in _CATEGORIES:
            chosen.update(_CATEGORIES[arg.name])
        else:
            raise Untranslatable(f"{name} {arg} in a class")
    return _ALL - chosen if negate else frozenset(chosen)


def _byte_class(members: frozenset[int]) -> bytes:
    if not members:
        raise Untranslatable("empty class")
    ranges: list[bytes] = []
    ordered = sorted(members)
    start = previous = ordered[0]
    for byte in [*ordered[1:], -1]:
        if byte == previous + 1:
            previous = byte
            continue
        ranges.append(
            b"\\x%02x" % start if start == previous else b"\\x%02x-\\x%02x" % (start, previous)
        )
        start = previous = byte
    return b"[" + b"".join(ranges) + b"]"
