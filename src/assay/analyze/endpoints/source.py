"""Endpoints of one C/C++ file: string literals, ``#define`` bodies and comments, with usage.

The file's text is searched first (regular expressions, C speed); each match is then placed on
the parse: inside a string literal it is ``code``, inside a comment ``comment``, inside a
quoted string of a ``#define`` body ``code`` held by the macro; anywhere else (a member access
such as ``dev.net``, a ``#error`` message, an ``#include`` name) it is not an endpoint.

A literal's usage is the usage of the call it is an argument of (``getaddrinfo("ntp.org", ...)``
is ``resolve``), or the usage of every call that names the variable, array or macro it
initialises in the same file (``#define SERVER "ntp.org"`` ... ``getaddrinfo(SERVER, ...)``).
Calls written through function pointers or through macros that wrap them are not seen.

A literal that is a dotted quad and nothing else, passed to a call together with something
named ``version`` (``strcmp(zlibVersion(), "1.2.0.4")``, curl's check of its zlib), is a
version it is compared with, not an address.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cache

from tree_sitter import Node

from assay.analyze.endpoints.match import Match, find, tables
from assay.analyze.lexical import Matcher, occurrences
from assay.parse import ParsedFile

_LITERALS = frozenset({"string_literal", "raw_string_literal"})
_MACROS = frozenset({"preproc_def", "preproc_function_def"})
_THROUGH = frozenset(
    {"concatenated_string", "parenthesized_expression", "cast_expression", "initializer_list",
     "initializer_pair", "pointer_declarator", "array_declarator", "argument_list"}
)  # fmt: skip
_DEPTH = 8
"""Ancestors of a literal looked at for its call or declaration."""


@dataclass(frozen=True, slots=True)
class Site:
    """One endpoint occurrence placed on the parse."""

    match: Match
    """What was found (its ``start`` is a byte offset in the file)."""
    context: str
    """``code`` or ``comment``."""
    holder: str | None
    """Name of the variable or macro the literal initialises, if any."""
    usage: frozenset[str]
    """Usages seen directly (the literal is a call argument)."""


@cache
def usage_table() -> tuple[Mapping[str, str], Mapping[str, frozenset[str]]]:
    """Function name to usage, and calls that need one of the option names among arguments."""
    usage = {fn: use for use, names in tables()["usage"].items() for fn in names}
    options = {fn: frozenset(names) for fn, names in tables()["usage_options"].items()}
    return usage, options


@cache
def _matcher() -> Matcher:
    return Matcher(frozenset(usage_table()[0]))


def endpoints(parsed: ParsedFile) -> list[tuple[int, Match, str, tuple[str, ...]]]:
    """(line, match, context, usages) of every endpoint of one file, in order."""
    matches = _find_bytes(parsed.source)
    if not matches:
        return []
    root = parsed.tree.root_node
    sites = [site for m in matches if (site := _site(parsed, root, m)) is not None]
    held = _held(parsed) if any(site.holder for site in sites) else {}
    found = []
    line, offset = 1, 0
    for site in sites:
        uses = set(site.usage) | (held.get(site.holder, set()) if site.holder else set())
        line += parsed.source.count(b"\n", offset, site.match.start)
        offset = site.match.start
        found.append((line, site.match, site.context, tuple(sorted(uses))))
    return found


def _find_bytes(source: bytes) -> list[Match]:
    """:func:`find` on a file's bytes: offsets are byte offsets, values decoded as UTF-8."""
    if source.isascii():
        return find(source.decode("ascii"))
    # NOTE: surrogateescape keeps invalid bytes, so that every prefix encodes back to its bytes.
    text = source.decode("utf-8", "surrogateescape")
    found = []
    chars = offset = 0
    for match in find(text):
        offset += len(text[chars : match.start].encode("utf-8", "surrogateescape"))
        chars = match.start
        value = match.value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        found.append(replace(match, start=offset, value=value))
    return found


def _site(parsed: ParsedFile, root: Node, match: Match) -> Site | None:
    """Where on the parse one match lies, or ``None`` when it is not in a string or comment."""
    node = root.descendant_for_byte_range(match.start, match.start + 1)
    if node is None:
        return None
    if node.type == "comment":
        return Site(match, "comment", None, frozenset())
    parent = node.parent
    if node.type == "preproc_arg":
        name = parent.child_by_field_name("name") if parent is not None else None
        if parent is None or parent.type not in _MACROS or name is None:
            return None
        quotes = parsed.source.count(b'"', node.start_byte, match.start)
        return Site(match, "code", parsed.text(name), frozenset()) if quotes % 2 else None
    literal = node if node.type in _LITERALS else parent
    if literal is None or literal.type not in _LITERALS:
        return None
    if literal.parent is not None and literal.parent.type == "preproc_include":
        return None
    if match.kind == "ipv4" and _compared_with_version(parsed, literal, match.value):
        return None
    holder, usage = _role(parsed, literal)
    return Site(match, "code", holder, usage)


def _compared_with_version(parsed: ParsedFile, literal: Node, value: str) -> bool:
    """True when the literal is ``"value"`` alone and an argument of a call that also names
    something ``*version*`` (``strcmp(zlibVersion(), "1.2.0.4")``)."""
    if parsed.text(literal) != f'"{value}"':
        return False
    node = literal
    while node.parent is not None and node.parent.type in ("parenthesized_expression",
                                                           "cast_expression"):  # fmt: skip
        node = node.parent
    args = node.parent
    if args is None or args.type != "argument_list":
        return False
    others = (child for child in args.named_children if child != node)
    return any("version" in name.lower() for o in others for name in _identifiers(parsed, o))


def _role(parsed: ParsedFile, node: Node) -> tuple[str | None, frozenset[str]]:
    """The name the literal initialises or is assigned to, and the call using it directly."""
    usage_of, options = usage_table()
    current = node.parent
    for _ in range(_DEPTH):
        if current is None:
            break
        kind = current.type
        if kind == "call_expression":
            fn = current.child_by_field_name("function")
            name = parsed.text(fn) if fn is not None else ""
            if name in usage_of and _options_ok(parsed, current, options.get(name)):
                return None, frozenset({usage_of[name]})
            return None, frozenset()
        if kind in ("init_declarator", "assignment_expression"):
            field = "declarator" if kind == "init_declarator" else "left"
            target = current.child_by_field_name(field)
            return (_name_of(parsed, target) if target is not None else None), frozenset()
        if kind not in _THROUGH:
            break
        current = current.parent
    return None, frozenset()


def _name_of(parsed: ParsedFile, node: Node) -> str | None:
    """The identifier a declarator or assignment target names (``*p``, ``a[]``, ``s.f``)."""
    while node.type in ("pointer_declarator", "array_declarator", "subscript_expression"):
        inner = node.child_by_field_name("declarator") or node.child_by_field_name("argument")
        if inner is None:
            return None
        node = inner
    if node.type == "field_expression":
        field = node.child_by_field_name("field")
        return parsed.text(field) if field is not None else None
    return parsed.text(node) if node.type == "identifier" else None


def _options_ok(parsed: ParsedFile, call: Node, needed: frozenset[str] | None) -> bool:
    if needed is None:
        return True
    args = call.child_by_field_name("arguments")
    return args is not None and bool(_identifiers(parsed, args) & needed)


def _identifiers(parsed: ParsedFile, node: Node) -> set[str]:
    found: set[str] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type in ("identifier", "field_identifier"):
            found.add(parsed.text(current))
        stack.extend(current.named_children)
    return found


def _held(parsed: ParsedFile) -> dict[str, set[str]]:
    """Usages of every name passed to a call of the usage table (``getaddrinfo(SERVER, ...)``)."""
    usage_of, options = usage_table()
    held: dict[str, set[str]] = defaultdict(set)
    root = parsed.tree.root_node
    for offset, name in occurrences(parsed.source, _matcher()):
        node = root.descendant_for_byte_range(offset, offset + len(name))
        call = node.parent if node is not None else None
        if call is None or call.type != "call_expression":
            continue
        if call.child_by_field_name("function") != node:
            continue
        args = call.child_by_field_name("arguments")
        names = _identifiers(parsed, args) if args is not None else set()
        needed = options.get(name)
        if needed is None or names & needed:
            for identifier in names:
                held[identifier].add(usage_of[name])
    return held
