"""Find where named functions are called, defined or redefined, on the one tree-sitter parse.

The core is targeted, not a walk: a handful of substring searches (C speed) find every whole
identifier that is one of the wanted names, and only those few positions are looked up in the
tree (``descendant_for_byte_range``), which says what the name is there: a call, a function
definition, a macro name, or anything else (a comment, a string, a member, a function pointer,
a declaration), which is dropped.

Macro bodies are not parsed by tree-sitter (a ``preproc_arg`` is one token). A name inside the
body of ``#define`` is read lexically: it is a call (``MACRO_CALL``) when it is outside the body's
comments and string literals, not a member (``.``/``->``) and followed by ``(``. Such calls are
counted, as flawfinder counts them, because every use of the macro makes the call.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

import tree_sitter

from assay.parse import ParsedFile

_WORD = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$")
_WORD_END = re.compile(rb"[A-Za-z0-9_$]*")
_LITERAL = re.compile(
    rb'/\*.*?(?:\*/|\Z)|//[^\n]*|"(?:\\.|[^"\\\n])*"?|\'(?:\\.|[^\'\\\n])*\'?', re.S
)
_SHARED_ANCHORS = (
    *(b"cpy", b"Cpy", b"cat", b"Cat", b"rintf", b"scanf", b"gets", b"getws", b"getts"),
    *(b"mem", b"Memory", b"String", b"tok", b"tmp", b"temp", b"wd"),
)
"""Substrings that several names share: one search finds them all. They decide speed, never
coverage (a name containing none is searched for itself). A search costs about as much as 270
hits per MB; on curl and OpenSSL the most frequent anchors, cat, tmp, mem and rintf, hit 210-300
times per MB (cat in "allocate"), the others under 100."""
_MACRO_DEFS = frozenset({"preproc_def", "preproc_function_def"})
_DECLARATOR_WRAPPERS = frozenset(
    {
        "pointer_declarator",
        "parenthesized_declarator",
        "attributed_declarator",
        "reference_declarator",
    }
)


class SiteKind(StrEnum):
    """What a wanted name is where it occurs."""

    CALL = "call"
    MACRO_CALL = "macro-call"
    MACRO_DEF = "macro-def"
    FUNCTION_DEF = "function-def"


@dataclass(frozen=True, slots=True)
class Site:
    """One occurrence of a wanted name that matters. Worker-local: holds tree nodes."""

    name: str
    """The identifier."""
    offset: int
    """Byte offset of the identifier."""
    line: int
    """1-based line of the identifier."""
    kind: SiteKind
    """Call, macro-body call, macro name or function definition."""
    node: tree_sitter.Node
    """CALL: the call_expression; MACRO_CALL: the preproc_arg; *_DEF: the definition node."""


@dataclass(frozen=True, slots=True)
class Matcher:
    """Which identifiers are wanted: exact names, plus any name ending with ``suffix``."""

    names: frozenset[str]
    """Exact names."""
    suffix: str = ""
    """A suffix such as ``_s``; empty for none."""


@cache
def _anchors(names: frozenset[str]) -> tuple[bytes, ...]:
    """Few substrings such that every name contains at least one of them."""
    chosen: list[bytes] = []
    for name in sorted((n.encode() for n in names), key=len):
        if any(anchor in name for anchor in chosen):
            continue
        shared = [a for a in _SHARED_ANCHORS if a in name]
        chosen.append(shared[0] if shared else name)
    return tuple(chosen)


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
        pos = source.find(anchor)
        while pos >= 0:
            start, end = _word_around(source, pos)
            word = source[start:end].decode("ascii", "replace")
            if word in matcher.names and not source[start : start + 1].isdigit():
                found[start] = word
            pos = source.find(anchor, end)
    if matcher.suffix:
        for match in _suffix_pattern(matcher.suffix).finditer(source):
            start, end = _word_around(source, match.start())
            if start < match.start() and not source[start : start + 1].isdigit():
                found[start] = source[start:end].decode("ascii", "replace")
    return sorted(found.items())


def sites(parsed: ParsedFile, matcher: Matcher) -> Iterator[Site]:
    """Every call, macro-body call, macro definition and function definition of wanted names."""
    root = parsed.tree.root_node
    for offset, name in occurrences(parsed.source, matcher):
        node = root.descendant_for_byte_range(offset, offset + len(name))
        if node is None:
            continue
        if node.type == "preproc_arg":
            site = _macro_body_site(parsed.source, node, offset, name)
        else:
            site = _tree_site(node, name) if node.type == "identifier" else None
        if site is not None:
            yield site


def _tree_site(ident: tree_sitter.Node, name: str) -> Site | None:
    offset = ident.start_byte
    """Classify an identifier node by its parents."""
    line = ident.start_point.row + 1
    parent = ident.parent
    if parent is None:
        return None
    if parent.type in _MACRO_DEFS and _is_field(parent, "name", ident):
        return Site(name, offset, line, SiteKind.MACRO_DEF, parent)
    if parent.type == "function_declarator":
        return _declarator_site(parent, ident, name)
    call = _called_by(ident)
    if call is not None:
        return Site(name, offset, line, SiteKind.CALL, call)
    return None


def _called_by(ident: tree_sitter.Node) -> tree_sitter.Node | None:
    """The call_expression whose callee is ``ident`` (``f``, ``(f)``, ``std::f``, ``::f``)."""
    callee, parent = ident, ident.parent
    if parent is not None and parent.type == "qualified_identifier":
        scope = parent.child_by_field_name("scope")
        if scope is not None and scope.text != b"std":
            return None
        callee, parent = parent, parent.parent
    while parent is not None and parent.type == "parenthesized_expression":
        callee, parent = parent, parent.parent
    if parent is not None and parent.type == "call_expression":
        return parent if _is_field(parent, "function", callee) else None
    if parent is not None and parent.type == "ERROR":
        return parent if _next_is_paren(ident) else None
    return None


def _declarator_site(
    declarator: tree_sitter.Node, ident: tree_sitter.Node, name: str
) -> Site | None:
    """A definition; or, inside a block, a call the parser took for a declaration."""
    offset, line = ident.start_byte, ident.start_point.row + 1
    if not _is_field(declarator, "declarator", ident):
        return None
    outer = declarator.parent
    while outer is not None and outer.type in _DECLARATOR_WRAPPERS:
        outer = outer.parent
    if outer is None:
        return None
    if outer.type == "function_definition":
        return Site(name, offset, line, SiteKind.FUNCTION_DEF, outer)
    # NOTE: `MACRO memcpy(a, b, n);` in a function body parses as a local prototype, and macros
    # the parser cannot see through turn whole functions into one broken declaration. Real C
    # almost never declares a library function inside a block or in a broken declaration.
    block = outer.parent
    in_block = block is not None and block.type == "compound_statement"
    if outer.type == "declaration" and (in_block or outer.has_error):
        return Site(name, offset, line, SiteKind.CALL, outer)
    return None


def _is_field(parent: tree_sitter.Node, field: str, child: tree_sitter.Node) -> bool:
    node = parent.child_by_field_name(field)
    return (
        node is not None and node.start_byte == child.start_byte and node.end_byte == child.end_byte
    )


def _next_is_paren(node: tree_sitter.Node) -> bool:
    following = node.next_sibling
    return following is not None and following.type in (
        "(",
        "argument_list",
        "parenthesized_expression",
    )


def _macro_body_site(source: bytes, arg: tree_sitter.Node, offset: int, name: str) -> Site | None:
    """A call written in a ``#define`` body, read lexically."""
    parent = arg.parent
    if parent is None or parent.type not in _MACRO_DEFS:
        return None
    body = code_only(source[arg.start_byte : arg.end_byte])
    rel = offset - arg.start_byte
    if body[rel : rel + len(name)] != name.encode():
        return None  # inside a comment or a string literal of the body
    if body[:rel].rstrip().endswith((b".", b"->")) or not body[
        rel + len(name) :
    ].lstrip().startswith(b"("):
        return None
    line = arg.start_point.row + 1 + source.count(b"\n", arg.start_byte, offset)
    return Site(name, offset, line, SiteKind.MACRO_CALL, arg)


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
