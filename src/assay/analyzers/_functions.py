"""Per-function metrics of one parsed C/C++ file: CCN, NLOC, parameters and nesting.

Pure core of the ``complexity`` analyzer. Function definitions are found by a targeted descent
that opens only containers (the file, conditional groups, ``extern "C"``, C++ namespaces and
classes) and subtrees holding a syntax error, never a body. Each definition is then measured by
one tree-sitter query (compiled once per process) run on it in C: decision tokens, control
statements, comments. Python never walks the tree, so its cost follows the number of functions.

The counting rules follow lizard 1.24's C/C++ reader, so that figures compare with the reports
vendors already produce; ``rules/complexity.toml`` states each rule and the deliberate
differences. Partial trees: a definition inside an ERROR region counts when tree-sitter still
recognises it; code it cannot recognise as a definition is not measured, and the lines under
ERROR nodes are counted (``FileMeasure.error_lines``) so that reports can say so.
"""

from __future__ import annotations

from dataclasses import dataclass

from tree_sitter import Node, Query, QueryCursor

from assay.analyzers import _function_parts as parts
from assay.parse import Lang, ParsedFile, query

_C_QUERY = """
(function_definition) @function
["case" "?" "&&" "||"] @decision
(ERROR ["if" "for" "while"] @decision)
((function_declarator declarator: (identifier) @decision) (#any-of? @decision "if" "for" "while"))
[(if_statement) (for_statement) (while_statement) (do_statement)] @branch
[(switch_statement) (seh_try_statement)] @control
(else_clause (if_statement) @elseif)
(comment) @comment
(ERROR) @error
"""
"""What one C function body holds; ``if (c)`` misread as a declarator after a directive counts.

Run on the body only: patterns rooted at the definition itself would stay in progress over
its whole subtree and cost a fifth more."""
_CPP_QUERY = """
(function_definition) @function
["case" "?" "&&" "||" "and" "or" "catch"] @decision
(ERROR ["if" "for" "while"] @decision)
((function_declarator declarator: (identifier) @decision) (#any-of? @decision "if" "for" "while"))
[(if_statement) (for_statement) (for_range_loop) (while_statement) (do_statement)] @branch
[(switch_statement) (try_statement) (seh_try_statement)] @control
(else_clause (if_statement) @elseif)
[(reference_declarator "&&" @ref) (abstract_reference_declarator "&&" @ref)]
(comment) @comment
(ERROR) @error
"""
"""The C patterns plus C++ ones; the ``&&`` of an rvalue reference (``T&& x``) is no decision."""
_MAX_DEPTH = 60_000
"""Deepest node a query examines. Real code stays below 200; past 65,535 levels tree-sitter's
query cursor slows down quadratically, so pathological nesting is measured down to here only."""
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
_MEMBER_PARENTS = frozenset(
    {"field_declaration_list", "template_declaration", "friend_declaration"}
)
"""Parents that make a C++ definition nested in a function a method of a local class."""
_KEYWORDS = frozenset(
    {
        "if",
        "else",
        "for",
        "while",
        "do",
        "switch",
        "case",
        "return",
        "sizeof",
        "typedef",
        "goto",
        "struct",
        "union",
        "enum",
    }
)
"""Names that only a misparse gives a definition (``else if (c) {`` read as one)."""


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
    """One entry per recognised function definition, by position."""
    error_lines: int
    """Physical lines touched by ERROR nodes: where a function may be missed or mis-measured."""


def function_metrics(parsed: ParsedFile) -> list[FunctionMetrics]:
    """The metrics of every function definition in ``parsed``, by position."""
    return list(measure(parsed).functions)


def measure(parsed: ParsedFile) -> FileMeasure:
    """Measure every function definition tree-sitter recognises in ``parsed``.

    Methods of a class local to a function belong to that function, as in lizard. A definition
    that starts a line inside another's body, where C and C++ allow none, is a parser recovery
    that swallowed the functions after an unbalanced conditional group: each swallowed one is
    measured on its own, and the swallowing function ends at its last ``}`` before them.
    """
    cpp = parsed.lang is Lang.CPP
    pending, errors = _discover(parsed.tree.root_node, cpp, parsed.source)
    cursor = _cursor(parsed.lang)
    found: list[FunctionMetrics] = []
    while pending:
        fn, prefix = pending.pop()
        body = fn.child_by_field_name("body")
        if body is None:  # C++ "= default" and "= delete": no code to measure
            continue
        captures = cursor.captures(body)
        if fn.has_error:
            errors += captures.get("error", ())
            errors += (child for child in fn.children if child.type == "ERROR")
        nested = captures.get("function")
        swallowed = _swallowed(nested, cpp) if nested else None
        if swallowed:
            pending += ((node, prefix) for node in swallowed)
            metrics = _measure_until(fn, body, prefix, swallowed[0].start_byte, parsed)
        else:
            metrics = _measure(fn, body, prefix, captures, parsed, body.end_byte, fn.end_point.row)
        if metrics is not None:
            found.append(metrics)
    found.sort(key=lambda item: (item.start_line, item.end_line))
    return FileMeasure(tuple(found), _merged_rows(errors))


def _cursor(lang: Lang) -> QueryCursor:
    cursor = QueryCursor(_query(lang))
    cursor.set_max_start_depth(_MAX_DEPTH)
    return cursor


def _query(lang: Lang) -> Query:
    return query(lang, _CPP_QUERY if lang is Lang.CPP else _C_QUERY)


def _discover(root: Node, cpp: bool, source: bytes) -> tuple[list[tuple[Node, str]], list[Node]]:
    """Outermost definitions with their ``ns::Class::`` prefix, and the ERROR nodes met."""
    containers = _CPP_CONTAINERS if cpp else _C_CONTAINERS
    functions: list[tuple[Node, str]] = []
    errors: list[Node] = []
    pending = [(root, "")]
    while pending:
        node, prefix = pending.pop()
        broken = node.has_error
        for child in node.children:
            kind = child.type
            if kind == "function_definition":
                functions.append((child, prefix))
            elif kind in containers or (broken and child.has_error):
                if kind == "ERROR":
                    errors.append(child)
                scoped = cpp and kind in _CPP_SCOPES
                pending.append((child, prefix + _scope_name(child, source) if scoped else prefix))
    return functions, errors


def _scope_name(scope: Node, source: bytes) -> str:
    """``Name::`` of a namespace or class (template arguments dropped), or ``""``."""
    name = scope.child_by_field_name("name")
    if name is not None and name.type == "template_type":
        name = name.child_by_field_name("name")
    if name is None:
        return ""
    return (
        "".join(source[name.start_byte : name.end_byte].decode("utf-8", "replace").split()) + "::"
    )


def _swallowed(nested: list[Node], cpp: bool) -> list[Node]:
    """Outermost definitions nested in a body that start a line, outside any local class.

    Indented ones are macro blocks (``FOREACH(x) { ... }`` reads as a definition) and stay
    part of the body, as do methods of a class local to it.
    """
    outermost: list[Node] = []
    for node in sorted(nested, key=lambda node: node.start_byte):
        if outermost and node.start_byte < outermost[-1].end_byte:
            continue
        parent = node.parent
        member = cpp and parent is not None and parent.type in _MEMBER_PARENTS
        if node.start_point.column == 0 and not member:
            outermost.append(node)
    return outermost


def _measure_until(
    fn: Node, body: Node, prefix: str, limit: int, parsed: ParsedFile
) -> FunctionMetrics | None:
    """Measure ``fn`` up to its last ``}`` before ``limit``; ``None`` when there is none."""
    end = parsed.source.rfind(b"}", body.start_byte, limit) + 1
    if end <= body.start_byte:
        return None
    cursor = _cursor(parsed.lang)
    cursor.set_byte_range(body.start_byte, end)
    end_row = body.start_point.row + parsed.source.count(b"\n", body.start_byte, end)
    return _measure(fn, body, prefix, cursor.captures(body), parsed, end, end_row)


def _measure(
    fn: Node,
    body: Node,
    prefix: str,
    captures: parts.Captures,
    parsed: ParsedFile,
    end: int,
    end_row: int,
) -> FunctionMetrics | None:
    """Metrics of ``fn`` up to byte ``end`` (on row ``end_row``); ``None`` for a misparse."""
    source = parsed.source
    name_node, params = parts.declarator(fn)
    name = parts.name_text(name_node, source)
    if name in _KEYWORDS:
        return None
    first = name_node or fn
    point = first.start_point
    line_start = first.start_byte - point.column
    body_start = body.start_byte
    comments = captures.get("comment")
    head = source[line_start:body_start]
    if b"/*" in head or b"//" in head:
        comments = (comments or []) + _comments_before(body, first, parsed.lang)
    nloc, directives = parts.code_lines(source, line_start, end, comments)
    return FunctionMetrics(
        prefix + name,
        point.row + 1,
        end_row + 1,
        1 + parts.decisions(captures, body_start, directives),
        nloc,
        parts.parameter_count(params, source),
        parts.max_nesting(captures),
    )


def _comments_before(body: Node, first: Node, lang: Lang) -> list[Node]:
    """Comments between a definition's name and its body (e.g. inside the parameter list)."""
    parent = body.parent
    if parent is None:
        return []
    cursor = QueryCursor(query(lang, "(comment) @comment"))
    cursor.set_byte_range(first.start_byte, body.start_byte)
    return cursor.captures(parent).get("comment", [])


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
