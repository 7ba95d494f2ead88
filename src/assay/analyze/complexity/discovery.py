"""Finding the function definitions of a parse without walking every node.

A targeted descent opens only containers (the file, conditional groups, ``extern "C"``, C++
namespaces and classes) and subtrees that hold a syntax error; it never opens a function body,
so its cost follows the number of top-level items. Besides ``function_definition`` nodes it
recognises two headers tree-sitter reads apart from their block: a function defined through a
macro (``DEFINE_RUN_ONCE_STATIC_ALT(a, b)`` then ``{ ... }``) and headers chosen by a
conditional group (``#ifdef U`` ``int wmain(...)`` ``#else`` ``int main(...)`` ``#endif``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple

from tree_sitter import Node

from assay.parse import Lang, language

_C_CONTAINERS = frozenset(
    {
        "translation_unit",
        "preproc_if",
        "preproc_ifdef",
        "preproc_else",
        "preproc_elif",
        "preproc_elifdef",
        "linkage_specification",
        "declaration_list",
        "ERROR",
    }
)
"""Nodes whose children may be definitions; subtrees with a syntax error are opened too."""
_CPP_SCOPES = frozenset(
    {"namespace_definition", "class_specifier", "struct_specifier", "union_specifier"}
)
"""C++ containers that qualify the names of the functions inside (``ns::A::f``)."""
_CPP_CONTAINERS = (
    _C_CONTAINERS
    | _CPP_SCOPES
    | frozenset(
        {
            "template_declaration",
            "field_declaration_list",
            "declaration",
            "field_declaration",
            "type_definition",
            "friend_declaration",
            "export_declaration",
        }
    )
)
_ERROR_ID = 0xFFFF
"""Kind id of ERROR nodes in every grammar (tree-sitter's built-in error symbol)."""
_CONDITIONALS = frozenset({"preproc_if", "preproc_ifdef"})
_MEMBER_PARENTS = frozenset(
    {"field_declaration_list", "template_declaration", "friend_declaration"}
)
"""Parents that make a C++ definition nested in a function a method of a local class."""


class Candidate(NamedTuple):
    """Something to measure as a function."""

    head: Node
    """The ``function_definition``; for a header read apart from its block, the
    ``call_expression`` of ``MACRO(args)`` or the ``declaration`` chosen in a conditional group."""
    body: Node
    """The block of code."""
    prefix: str
    """``ns::Class::`` of the enclosing C++ scopes, or ``""``."""


@dataclass(frozen=True, slots=True)
class _Kinds:
    """Node kind ids of one grammar (integer tests are cheaper than type names)."""

    function: frozenset[int]
    block: frozenset[int]
    comment: frozenset[int]
    containers: frozenset[int]
    scopes: frozenset[int]


@cache
def _kinds(lang: Lang) -> _Kinds:
    grammar = language(lang)
    by_name: dict[str, set[int]] = {}
    for kind in range(grammar.node_kind_count):
        if grammar.node_kind_is_named(kind):
            by_name.setdefault(grammar.node_kind_for_id(kind) or "", set()).add(kind)

    def ids(names: Iterable[str]) -> frozenset[int]:
        return frozenset(i for name in names for i in by_name.get(name, ()))

    cpp = lang is Lang.CPP
    return _Kinds(
        function=ids(["function_definition"]),
        block=ids(["compound_statement"]),
        comment=ids(["comment"]),
        containers=ids(_CPP_CONTAINERS if cpp else _C_CONTAINERS) | {_ERROR_ID},
        scopes=ids(_CPP_SCOPES) if cpp else frozenset(),
    )


def discover(root: Node, lang: Lang, source: bytes) -> tuple[list[Candidate], list[Node]]:
    """Outermost definitions with their scope prefix, and the ERROR nodes met on the way."""
    kinds = _kinds(lang)
    found: list[Candidate] = []
    errors: list[Node] = []
    pending = [(root, "")]
    while pending:
        node, prefix = pending.pop()
        broken = node.has_error
        previous: Node | None = None
        for child in node.children:
            kind = child.kind_id
            if kind in kinds.function:
                body = child.child_by_field_name("body")
                if body is not None:  # C++ "= default" and "= delete" have no code
                    found.append(Candidate(child, body, prefix))
            elif kind in kinds.block and (head := _header(previous)) is not None:
                found.append(Candidate(head, child, prefix))
            elif kind in kinds.containers or (broken and child.has_error):
                if kind == _ERROR_ID:
                    errors.append(child)
                scoped = kind in kinds.scopes
                pending.append((child, prefix + _scope_name(child, source) if scoped else prefix))
            if kind not in kinds.comment:
                previous = child
    return found, errors


def _header(node: Node | None) -> Node | None:
    """The header a stray top-level block belongs to, when the node before it is one.

    Two shapes tree-sitter cannot join to their body: ``MACRO(args)`` without a semicolon (a
    function defined through a macro), and a conditional group choosing between headers
    (``#ifdef U`` ``int wmain(...)`` ``#else`` ``int main(...)`` ``#endif``: the last is taken,
    as lizard does).
    """
    if node is None or not node.has_error:
        return None
    if node.type == "expression_statement":
        call = node.named_child(0)
        function = call.child_by_field_name("function") if call else None
        if call is not None and call.type == "call_expression" and function is not None:
            return call if function.type == "identifier" else None
    if node.type in _CONDITIONALS:
        return _last_header(node)
    return None


def _last_header(group: Node) -> Node | None:
    """The last ``declaration`` of a function lacking its semicolon in a conditional group."""
    found = None
    branch: Node | None = group
    while branch is not None:
        for child in branch.named_children:
            declarator = child.child_by_field_name("declarator")
            if child.type == "declaration" and child.has_error and declarator is not None:
                found = child if declarator.type == "function_declarator" else found
        branch = branch.child_by_field_name("alternative")
    return found


def _scope_name(scope: Node, source: bytes) -> str:
    """``Name::`` of a namespace or class (template arguments dropped), or ``""``."""
    name = scope.child_by_field_name("name")
    if name is not None and name.type == "template_type":
        name = name.child_by_field_name("name")
    if name is None:
        return ""
    text = source[name.start_byte : name.end_byte].decode("utf-8", "replace")
    return "".join(text.split()) + "::"


def swallowed(nested: list[Node], cpp: bool, prefix: str) -> list[Candidate]:
    """Outermost definitions nested in a body that start a line, outside any local class.

    C and C++ allow no definition there: tree-sitter's recovery of an unbalanced conditional
    group swallowed them. Indented ones are macro blocks (``FOREACH(x) { ... }`` reads as a
    definition) and stay part of the body, as do methods of a class local to it.
    """
    outermost: list[Candidate] = []
    end = -1
    for node in sorted(nested, key=lambda node: node.start_byte):
        if node.start_byte < end:
            continue
        parent = node.parent
        member = cpp and parent is not None and parent.type in _MEMBER_PARENTS
        body = node.child_by_field_name("body")
        if node.start_point.column == 0 and not member and body is not None:
            outermost.append(Candidate(node, body, prefix))
            end = node.end_byte
    return outermost
