"""The parts of one function's measures, computed from its query captures and its source.

Helpers of :mod:`assay.analyzers._functions`. Capture lists come from one tree-sitter query run
on a single ``function_definition`` node; they are grouped by capture name but *not* in document
order, so every helper sorts what it needs. Nothing here walks the tree.
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
    """Decision points in the body: tokens and branches outside directives, plus ``#if`` lines.

    The tokens of a directive's own condition (``#if A && B``) are not decisions, as in lizard.
    """
    nodes = chain(captures.get("decision", ()), captures.get("branch", ()))
    points = [start for node in nodes if (start := node.start_byte) >= body_start]
    refs = captures.get("ref")
    if refs:
        ref_starts = {node.start_byte for node in refs}
        points = [point for point in points if point not in ref_starts]
    if not directives:
        return len(points)
    points.sort()
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


def signature(fn: Node, captures: Captures, body_start: int) -> tuple[Node | None, Node | None]:
    """(name node, parameter list) of a definition, from the captures when they matched it.

    The definition's own name and parameter list are the only captures before its body
    (those of nested definitions are inside it); otherwise the declarators are descended.
    """
    names = captures.get("name", [])
    if len(names) > 1:
        names = [node for node in names if node.start_byte < body_start]
    if len(names) == 1 and names[0].start_byte < body_start and names[0].type not in _WRAPPERS:
        params = captures["params"]
        if len(params) > 1:
            params = [node for node in params if node.start_byte < body_start]
        if len(params) == 1:
            return names[0], params[0]
    return _declarator(fn)


def _declarator(fn: Node) -> tuple[Node | None, Node | None]:
    """(name node, parameter list of the innermost function declarator), either may be absent."""
    node = fn.child_by_field_name("declarator")
    function = None
    while node is not None and node.type in _WRAPPERS:
        if node.type == "function_declarator":
            function = node
        node = node.child_by_field_name("declarator") or node.named_child(0)
    return node, function.child_by_field_name("parameters") if function else None


def name_text(node: Node | None, source: bytes) -> str:
    """The name as written, whitespace kept only between two word characters (``A<T,U>::f``)."""
    if node is None:
        return "(anonymous)"
    text = source[node.start_byte : node.end_byte].decode("utf-8", "replace")
    if node.type == "identifier":
        return text
    return _SPACE_BY_PUNCTUATION.sub("", _SPACE_RUN.sub(" ", text))


def parameter_count(params: Node | None, source: bytes) -> int:
    """Declared parameters; a lone ``void`` and the ``...`` of a variadic function count none."""
    if params is None or params.named_child_count == 0:
        return 0
    items = [child for child in params.named_children if child.type in _PARAMETERS]
    if len(items) == 1 and source[items[0].start_byte : items[0].end_byte] == b"void":
        return 0
    return len(items)
