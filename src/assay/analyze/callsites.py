"""Find where named functions are called, defined or redefined, on the one tree-sitter parse.

The core is targeted, not a walk: a handful of substring searches (``_lexical.occurrences``)
find every whole identifier that is one of the wanted names, and only those few positions are
looked up in the tree (``descendant_for_byte_range``), which says what the name is there: a
call, a function definition, a macro name, or anything else (a comment, a string, a member, a
function pointer, a declaration), which is dropped.

Macro bodies are not parsed by tree-sitter (a ``preproc_arg`` is one token). A name inside the
body of ``#define`` is read lexically: it is a call (``MACRO_CALL``) when it is outside the body's
comments and string literals, not a member (``.``/``->``) and followed by ``(``. Such calls are
counted, as flawfinder counts them, because every use of the macro makes the call.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

import tree_sitter

from assay.analyze.lexical import Matcher, code_only, occurrences
from assay.parse import ParsedFile

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
    """Classify an identifier node by its parents."""
    offset, line = ident.start_byte, ident.start_point.row + 1
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
    if not _is_field(declarator, "declarator", ident):
        return None
    outer = declarator.parent
    while outer is not None and outer.type in _DECLARATOR_WRAPPERS:
        outer = outer.parent
    if outer is None:
        return None
    offset, line = ident.start_byte, ident.start_point.row + 1
    if outer.type == "function_definition":
        return Site(name, offset, line, SiteKind.FUNCTION_DEF, outer)
    if outer.type == "declaration" and _misparsed_call(outer):
        return Site(name, offset, line, SiteKind.CALL, outer)
    return None


def _misparsed_call(declaration: tree_sitter.Node) -> bool:
    """Whether a declaration of a function is really a call the parser could not see.

    ``MACRO memcpy(a, b, n);`` in a function body parses as a local prototype, and macros the
    parser cannot see through turn whole functions into one broken declaration; real C almost
    never declares a library function inside a block or in a broken declaration.
    """
    block = declaration.parent
    return declaration.has_error or (block is not None and block.type == "compound_statement")


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
