"""Per-function metrics of one parsed C/C++ file: CCN, NLOC, parameters and nesting.

Pure core of the ``complexity`` analyzer. One tree-sitter query (compiled once per process)
captures function definitions, decision tokens, control statements and comments in a single
pass in C; Python never walks the tree. Captures are assigned to functions by byte ranges with
``bisect`` over sorted start offsets, so the Python cost grows with the number of functions, not
of nodes. Comments and preprocessor directive lines are blanked in a copy of the source, and a
prefix sum over its non-blank lines gives every function's NLOC by one subtraction.

The counting rules follow lizard 1.24 (its C/C++ reader) so that figures compare with reports
vendors already produce; ``rules/complexity.toml`` documents each rule and the few deliberate
differences.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import chain

from tree_sitter import Node, Query, QueryCursor

from assay.parse import Lang, ParsedFile, query

_C_QUERY = """
["case" "?" "&&" "||"] @decision
(ERROR ["if" "for" "while"] @decision)
[(if_statement) (for_statement) (while_statement) (do_statement)] @branch
[(switch_statement) (seh_try_statement)] @control
(else_clause (if_statement) @elseif)
(comment) @comment
(ERROR) @error
"""
"""Decision points, control statements and comments inside one function definition."""
_CPP_QUERY = """
["case" "?" "&&" "||" "and" "or" "catch"] @decision
(ERROR ["if" "for" "while"] @decision)
[(if_statement) (for_statement) (for_range_loop) (while_statement) (do_statement)] @branch
[(switch_statement) (try_statement) (seh_try_statement)] @control
(else_clause (if_statement) @elseif)
[(reference_declarator "&&" @ref) (abstract_reference_declarator "&&" @ref)]
(comment) @comment
(ERROR) @error
"""
_C_CONTAINERS = frozenset({
    "translation_unit", "preproc_if", "preproc_ifdef", "preproc_else", "preproc_elif",
    "preproc_elifdef", "linkage_specification", "declaration_list", "ERROR",
})
"""Nodes whose children may be function definitions (and ``has_error`` nodes, always)."""
_CPP_SCOPES = frozenset({"namespace_definition", "class_specifier", "struct_specifier",
                         "union_specifier"})
_CPP_CONTAINERS = _C_CONTAINERS | _CPP_SCOPES | frozenset({
    "template_declaration", "field_declaration_list", "declaration", "field_declaration",
    "type_definition", "friend_declaration", "export_declaration",
})
_DIRECTIVE = re.compile(rb"\n[ \t]*#[ \t]*(\w*)(?:\\\r?\n|[^\n])*")
"""A preprocessor directive line with its continuations (never the region's first line)."""
_CONDITIONAL = frozenset({b"if", b"ifdef", b"elif"})
"""Directives lizard counts as decisions (``#ifndef`` and ``#elifdef`` are not)."""
_SPACES = b" \t\r\f\v"
_BLANK = bytes(b if b == 0x0A else 0x20 for b in range(256))
"""``bytes.translate`` table: every byte but the newline becomes a space."""
_DECLARATOR_WRAPPERS = frozenset({"function_declarator", "pointer_declarator",
                                  "reference_declarator", "parenthesized_declarator",
                                  "attributed_declarator"})
_PARAMETERS = frozenset({"parameter_declaration", "optional_parameter_declaration",
                         "variadic_parameter_declaration", "identifier"})
_SPACE_RUN = re.compile(r"\s+")
_SPACE_BY_PUNCTUATION = re.compile(r"(?<=\W) | (?=\W)")


@dataclass(frozen=True, slots=True)
class FunctionMetrics:
    """The measured facts of one function definition."""

    name: str
    """Qualified name as written, whitespace normalised: ``f``, ``ns::A::f``, ``operator==``."""
    start_line: int
    """Line of the function's name (1-based), as lizard reports it."""
    end_line: int
    """Line of the closing brace of the body."""
    ccn: int
    """Cyclomatic complexity: 1 + decision points in the body."""
    nloc: int
    """Lines from ``start_line`` to ``end_line`` holding code (no blank, comment, directive)."""
    params: int
    """Declared parameters; ``(void)`` and ``...`` count none."""
    max_nesting: int
    """Deepest nesting of control statements in the body (0 when there are none)."""


@dataclass(frozen=True, slots=True)
class FileMeasure:
    """Everything measured in one file."""

    functions: tuple[FunctionMetrics, ...]
    """One entry per recognised function definition, in file order."""
    error_lines: int
    """Physical lines touched by ERROR nodes: where a function may be missed or mis-measured."""


def measure(parsed: ParsedFile) -> FileMeasure:
    """Measure every function definition tree-sitter recognises in ``parsed``.

    Functions nested in another function's body (methods of local classes, GNU nested
    functions) belong to the outer function, as in lizard. Definitions inside ERROR regions
    count when tree-sitter still recognises them as definitions.
    """
    functions, errors = _discover(parsed.tree.root_node, parsed.lang is Lang.CPP)
    cursor = QueryCursor(_query(parsed.lang))
    metrics = []
    for fn, prefix in functions:
        captures = cursor.captures(fn)
        errors.extend(captures.get("error", ()))
        metrics.append(_measure(fn, prefix, captures, parsed.source))
    return FileMeasure(tuple(metrics), _merged_rows(errors))


def function_metrics(parsed: ParsedFile) -> list[FunctionMetrics]:
    """The metrics of every function definition in ``parsed``, in file order."""
    return list(measure(parsed).functions)


def _query(lang: Lang) -> Query:
    return query(lang, _CPP_QUERY if lang is Lang.CPP else _C_QUERY)


def _discover(root: Node, cpp: bool) -> tuple[list[tuple[Node, str]], list[Node]]:
    """Outermost function definitions with their ``ns::Class::`` prefix, and ERROR nodes.

    A targeted descent: only containers (files, conditional groups, ``extern "C"``, C++
    namespaces and classes) and subtrees holding a syntax error are opened, and never a
    function body, so the cost follows the number of top-level items, not of nodes.
    """
    containers = _CPP_CONTAINERS if cpp else _C_CONTAINERS
    functions: list[tuple[Node, str]] = []
    errors: list[Node] = []
    pending = [(root, "")]
    while pending:
        node, prefix = pending.pop()
        for child in node.children:
            kind = child.type
            if kind == "function_definition":
                functions.append((child, prefix))
            elif kind in containers or child.has_error:
                if kind == "ERROR":
                    errors.append(child)
                scoped = cpp and kind in _CPP_SCOPES
                pending.append((child, prefix + _scope_name(child) if scoped else prefix))
    functions.sort(key=lambda item: item[0].start_byte)
    return functions, errors


def _scope_name(scope: Node) -> str:
    """``Name::`` of a namespace or class (template arguments dropped), or ``""``."""
    name = scope.child_by_field_name("name")
    if name is not None and name.type == "template_type":
        name = name.child_by_field_name("name")
    if name is None or name.text is None:
        return ""
    return "".join(name.text.decode("utf-8", "replace").split()) + "::"


def _measure(fn: Node, prefix: str, captures: dict[str, list[Node]], source: bytes) -> FunctionMetrics:
    body = fn.child_by_field_name("body")
    body_start = body.start_byte if body is not None else fn.start_byte
    name_node, declarator = _declarator(fn)
    first_node = name_node or fn
    line_start = first_node.start_byte - first_node.start_point.column
    region = _Region.build(source, line_start, fn.end_byte, captures.get("comment", ()))
    return FunctionMetrics(
        name=prefix + _name(name_node, source),
        start_line=first_node.start_point.row + 1,
        end_line=fn.end_point.row + 1,
        ccn=1 + _decisions(captures, body_start, region),
        nloc=region.code_lines,
        params=_parameter_count(declarator, source),
        max_nesting=_max_nesting(captures, body_start),
    )


@dataclass(frozen=True, slots=True)
class _Region:
    """The text of a function from its name's line to its closing brace."""

    directives: tuple[tuple[int, int, bool], ...]
    """(start, end, is a counted conditional) of its preprocessor directives, as file offsets."""
    code_lines: int
    """Lines holding something other than blanks, comments and directives."""

    @classmethod
    def build(cls, source: bytes, start: int, end: int, comments: Iterable[Node]) -> _Region:
        """Blank the comments and directives of ``source[start:end]`` and count what is left."""
        spans = [(max(c.start_byte, start) - start, c.end_byte - start)
                 for c in comments if c.end_byte > start]
        text = _blank(source[start:end], spans)
        directives: tuple[tuple[int, int, bool], ...] = ()
        if b"#" in text:
            directives = tuple(
                (start + match.start() + 1, start + match.end(), match[1] in _CONDITIONAL)
                for match in _DIRECTIVE.finditer(text)
            )
            text = _blank(text, [(d_start - start, d_end - start) for d_start, d_end, _ in directives])
        lines = text.translate(None, _SPACES).split(b"\n")
        return cls(directives, len(lines) - lines.count(b""))


def _blank(text: bytes, spans: list[tuple[int, int]]) -> bytes:
    """``text`` with every byte of the sorted ``spans`` but newlines turned into spaces."""
    if not spans:
        return text
    parts: list[bytes] = []
    pos = 0
    for start, end in spans:
        start = max(start, pos)
        parts.append(text[pos:start])
        parts.append(text[start:end].translate(_BLANK))
        pos = max(pos, end)
    parts.append(text[pos:])
    return b"".join(parts)


def _decisions(captures: dict[str, list[Node]], body_start: int, region: _Region) -> int:
    """Decision points in the body: tokens outside directives, plus ``#if`` lines."""
    nodes = chain(captures.get("decision", ()), captures.get("branch", ()))
    points = [start for node in nodes if (start := node.start_byte) >= body_start]
    refs = captures.get("ref")
    if refs:
        ref_starts = {node.start_byte for node in refs}
        points = [point for point in points if point not in ref_starts]
    count = len(points)
    if region.directives:
        points.sort()
        for start, end, conditional in region.directives:
            if start >= body_start:
                count += conditional - (bisect_left(points, end) - bisect_left(points, start))
    return count


def _max_nesting(captures: dict[str, list[Node]], body_start: int) -> int:
    """Deepest stack of control statements in the body; ``else if`` adds no level."""
    nodes = list(chain(captures.get("branch", ()), captures.get("control", ())))
    if not nodes:
        return 0
    else_ifs = {node.start_byte for node in captures.get("elseif", ())}
    open_ends: list[tuple[int, int]] = []
    deepest = 0
    for start, end in sorted((node.start_byte, node.end_byte) for node in nodes):
        if start < body_start:
            continue
        while open_ends and open_ends[-1][0] <= start:
            open_ends.pop()
        depth = (open_ends[-1][1] if open_ends else 0) + (start not in else_ifs)
        open_ends.append((end, depth))
        deepest = max(deepest, depth)
    return deepest


def _declarator(fn: Node) -> tuple[Node | None, Node | None]:
    """(name node, innermost function declarator) of a definition, either possibly missing."""
    node = fn.child_by_field_name("declarator")
    function = None
    while node is not None and node.type in _DECLARATOR_WRAPPERS:
        if node.type == "function_declarator":
            function = node
        node = node.child_by_field_name("declarator") or node.named_child(0)
    return node, function


def _name(node: Node | None, source: bytes) -> str:
    """The name as written, with whitespace kept only between two word characters."""
    if node is None:
        return "(anonymous)"
    text = source[node.start_byte : node.end_byte].decode("utf-8", "replace")
    if node.type == "identifier":
        return text
    return _SPACE_BY_PUNCTUATION.sub("", _SPACE_RUN.sub(" ", text))


def _parameter_count(declarator: Node | None, source: bytes) -> int:
    """Declared parameters; a lone ``void`` and the ``...`` of variadic functions count none."""
    params = declarator.child_by_field_name("parameters") if declarator else None
    if params is None:
        return 0
    items = [child for child in params.named_children if child.type in _PARAMETERS]
    if len(items) == 1 and source[items[0].start_byte : items[0].end_byte].strip() == b"void":
        return 0
    return len(items)


def _merged_rows(nodes: list[Node]) -> int:
    """Number of distinct rows covered by ``nodes``."""
    spans = sorted((node.start_point.row, node.end_point.row) for node in nodes)
    total = 0
    last = -1
    for first, final in spans:
        first = max(first, last + 1)
        if final >= first:
            total += final - first + 1
            last = final
    return total
