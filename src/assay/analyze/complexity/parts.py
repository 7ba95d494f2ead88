"""The parts of one function's measures, computed from its query captures and its source.

Helpers of :mod:`assay.analyze.complexity.functions`. Capture lists come from one tree-sitter
query run on a single ``function_definition`` node; they are grouped by capture name but *not*
in document order, so every helper sorts what it needs. Nothing here walks the tree.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from itertools import chain

from tree_sitter import Node

Captures = dict[str, list[Node]]
"""Capture name -> captured nodes, as ``QueryCursor.captures`` returns them."""
Directive = tuple[int, int, bool]
"""(start, end, counts as a decision) of one preprocessor directive, as file offsets."""

_DIRECTIVE = re.compile(rb"\n[ \t]*#[ \t]*(\w*)(?:\\\r?\n|[^\n])*")
"""A directive line with its continuations (a function's first line is never one)."""
_CONDITIONAL = frozenset({b"if", b"ifdef", b"elif"})
"""Directives lizard counts as decisions; ``#ifndef`` and ``#elifdef`` it does not."""
_SPACES = b" \t\r\f\v"
_BLANK = bytes(b if b == 0x0A else 0x20 for b in range(256))
"""``bytes.translate`` table: every byte but the newline becomes a space."""
_WRAPPERS = frozenset(
    {
        "function_declarator",
        "pointer_declarator",
        "reference_declarator",
        "parenthesized_declarator",
        "attributed_declarator",
    }
)
"""Declarators between a definition and the name it defines."""
_PARAMETERS = frozenset(
    {
        "parameter_declaration",
        "optional_parameter_declaration",
        "variadic_parameter_declaration",
        "identifier",
    }
)
"""Entries of a parameter list that declare a parameter (``identifier``: K&R style)."""
_TAGS = frozenset({b"struct", b"union", b"enum"})
_SPACE_RUN = re.compile(r"\s+")
_SPACE_BY_PUNCTUATION = re.compile(r"(?<=\W) | (?=\W)")


def code_lines(
    source: bytes, start: int, end: int, comments: list[Node] | None
) -> tuple[int, list[Directive]]:
    """Lines of ``source[start:end]`` holding code, and the directives found there.

    Comments and directive lines (with their continuations) are blanked first, so a line
    counts when anything else is on it: lizard's NLOC.
    """
    text = source[start:end]
    if comments:
        text = _blank(text, sorted((c.start_byte - start, c.end_byte - start) for c in comments))
    directives: list[Directive] = []
    if b"#" in text:
        directives = [
            (start + match.start() + 1, start + match.end(), match[1] in _CONDITIONAL)
            for match in _DIRECTIVE.finditer(text)
        ]
        text = _blank(text, [(d_start - start, d_end - start) for d_start, d_end, _ in directives])
    # NOTE: with every other whitespace byte deleted, split() yields one piece per code line.
    return len(text.translate(None, _SPACES).split()), directives


def _blank(text: bytes, spans: list[tuple[int, int]]) -> bytes:
    """``text`` with the bytes of the sorted ``spans`` but newlines turned into spaces."""
    parts: list[bytes] = []
    pos = 0
    for start, end in spans:
        if end > pos:
            start = max(start, pos)
            parts += (text[pos:start], text[start:end].translate(_BLANK))
            pos = end
    parts.append(text[pos:])
    return b"".join(parts)


def decisions(captures: Captures, body_start: int, directives: list[Directive]) -> int:
    """Decision points of a body: tokens and branches outside directives, plus ``#if`` lines.

    The tokens of a directive's own condition (``#if A && B``) are not decisions, as in lizard.
    """
    found = captures.get("decision", [])
    branches = captures.get("branch", [])
    refs = captures.get("ref")
    if not (directives or refs):
        return len(found) + len(branches)
    ref_starts = {node.start_byte for node in refs or ()}
    ref_starts -= {node.start_byte for node in captures.get("misread", ())}
    points = sorted(
        start for node in chain(found, branches) if (start := node.start_byte) not in ref_starts
    )
    count = len(points)
    for start, end, conditional in directives:
        if start >= body_start:
            count += conditional - (bisect_left(points, end) - bisect_left(points, start))
    return count


def max_nesting(captures: Captures) -> int:
    """Deepest stack of control statements; an ``else if`` stays at its ``if``'s level."""
    nodes = list(chain(captures.get("branch", ()), captures.get("control", ())))
    if len(nodes) < 2:
        return len(nodes)
    else_ifs = {node.start_byte for node in captures.get("elseif", ())}
    open_ends: list[tuple[int, int]] = []
    deepest = 0
    for start, end in sorted([(node.start_byte, node.end_byte) for node in nodes]):
        while open_ends and open_ends[-1][0] <= start:
            open_ends.pop()
        depth = (open_ends[-1][1] if open_ends else 0) + (start not in else_ifs)
        open_ends.append((end, depth))
        deepest = max(deepest, depth)
    return deepest


def declarator(fn: Node) -> tuple[Node | None, Node | None] | None:
    """(name node, parameter list) of a definition, or ``None`` when it defines no function.

    The innermost function declarator's: ``void (*signal(int, void (*)(int)))(int)`` defines
    ``signal`` with two parameters. Either part may be absent when a macro stands where the
    parser expected a declarator. A C++ conversion operator (``A::operator bool() const``)
    carries its parameters inside its name. Macro lines without a semicolon before a struct
    or a function make tree-sitter read them as a declarator; see :func:`_misread_header`.
    """
    node = fn.child_by_field_name("declarator")
    function = None
    while node is not None and node.type in _WRAPPERS:
        if node.type == "function_declarator":
            function = node
        node = node.child_by_field_name("declarator") or node.named_child(0)
    if function is None and node is not None:
        if node.parent == fn and node.type == "identifier":
            return None  # "MACRO(x) struct s { ... }" read as a definition of s
        cast = _conversion(node)
        function = cast.child_by_field_name("declarator") if cast else None
    elif function is not None and function.named_child_count > 2:
        return _misread_header(function, node)
    return node, function.child_by_field_name("parameters") if function else None


def _misread_header(function: Node, name: Node | None) -> tuple[Node | None, Node | None] | None:
    """(name, parameters) when ``function`` holds more than a name and parameters.

    ``IMPLEMENT_X(A)`` then ``IMPLEMENT_Y(A)`` then ``int f(T *a)`` parses as a declarator
    ``IMPLEMENT_Y(A)`` trailed by a call ``f(T * a)``: that call is the header. Trailed by
    ``struct s`` instead, the "body" is the struct's: no function at all.
    """
    row = function.start_point.row
    trailing = [c for c in function.named_children if c.start_point.row > row]
    if any(c.type == "identifier" and c.text in _TAGS for c in trailing):
        return None
    calls = [c for c in trailing if c.type == "call_expression"]
    callee = calls[-1].child_by_field_name("function") if calls else None
    if callee is not None and callee.type == "identifier":
        return callee, calls[-1].child_by_field_name("arguments")
    return name, function.child_by_field_name("parameters")


def _conversion(node: Node) -> Node | None:
    """The ``operator_cast`` a (qualified) name ends with, if any."""
    while node.type == "qualified_identifier":
        name = node.child_by_field_name("name")
        if name is None:
            return None
        node = name
    return node if node.type == "operator_cast" else None


def name_text(node: Node | None, source: bytes) -> str:
    """The name as written, whitespace kept only between two word characters (``A<T,U>::f``).

    A conversion operator's name stops before its parameter list (``S::operator bool``).
    """
    if node is None:
        return "(anonymous)"
    end = node.end_byte
    if node.type == "identifier":
        return source[node.start_byte : end].decode("utf-8", "replace")
    cast = _conversion(node)
    inner = cast.child_by_field_name("declarator") if cast else None
    if inner is not None:
        end = inner.start_byte
    text = source[node.start_byte : end].decode("utf-8", "replace")
    return _SPACE_BY_PUNCTUATION.sub("", _SPACE_RUN.sub(" ", text).strip())


def parameter_count(params: Node | None, source: bytes) -> int:
    """Declared parameters; a lone ``void`` and the ``...`` of a variadic function count none."""
    if params is None or params.named_child_count == 0:
        return 0
    if params.type == "argument_list":  # a header misread as a call: one argument each
        return sum(child.type != "comment" for child in params.named_children)
    items = [child for child in params.named_children if child.type in _PARAMETERS]
    if len(items) == 1 and source[items[0].start_byte : items[0].end_byte] == b"void":
        return 0
    return len(items)
