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
Pathological depth: a body deeper than one query run reaches (``_MAX_DEPTH``) is measured in
slices, so its figures stay exact (``_captures``).
"""

from __future__ import annotations

from dataclasses import dataclass

from tree_sitter import Node, Query, QueryCursor

from assay.analyze.complexity import parts
from assay.analyze.complexity.discovery import Candidate, discover, swallowed
from assay.parse import Lang, ParsedFile, query

_RECOVERIES = """
(function_definition) @function
(ERROR ["if" "for" "while"] @decision)
(pointer_expression operator: "&" argument: (pointer_expression operator: "&") @decision)
((function_declarator declarator: (identifier) @decision) (#any-of? @decision "if" "for" "while"))
(else_clause (if_statement) @elseif)
(comment) @comment
(ERROR) @error
"""
"""Patterns of both grammars: nested definitions, recoveries, ``else if``, comments, errors.

Around a directive inside an expression tree-sitter misreads ``else if (c)`` as a declarator
and ``&& x`` as ``& &x`` (GNU's ``&&label`` reads the same): both still count as decisions."""
_C_QUERY = (
    _RECOVERIES
    + """
["case" "?" "&&" "||"] @decision
[(if_statement) (for_statement) (while_statement) (do_statement)] @branch
[(switch_statement) (seh_try_statement)] @control
"""
)
"""What one C function body holds. Run on the body only: patterns rooted at the definition
itself would stay in progress over its whole subtree and cost a fifth more."""
_CPP_QUERY = (
    _RECOVERIES
    + """
["case" "?" "&&" "||" "and" "or" "catch"] @decision
[(if_statement) (for_statement) (for_range_loop) (while_statement) (do_statement)] @branch
[(switch_statement) (try_statement) (seh_try_statement)] @control
[(reference_declarator "&&" @ref) (abstract_reference_declarator "&&" @ref)]
(ERROR (reference_declarator "&&" @misread))
"""
)
"""The C++ body query: the ``&&`` of an rvalue reference (``T&& x``) is no decision, unless the
reference is a recovery (``&& c(n)`` after a directive, read as a declarator)."""
_HEADER_QUERY = (
    "(function_declarator declarator: (identifier) @name parameters: (parameter_list) @params)"
)
_MAX_DEPTH = 60_000
"""Deepest node one query run starts a match at, below the node it runs on. Real code stays
below 200; past 65,535 levels tree-sitter's query cursor loses count (it stops at 32,768 nested
blocks) and slows down quadratically, so a deeper body is measured in slices (``_captures``)."""
_STATEMENT_KEYWORDS = {"if", "else", "for", "while", "do", "switch", "case", "return", "goto"}
_KEYWORDS = frozenset(_STATEMENT_KEYWORDS | {"sizeof", "typedef", "struct", "union", "enum"})
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
    pending, errors = discover(parsed.tree.root_node, parsed.lang, parsed.source)
    cursor = _cursor(parsed.lang)
    found: list[FunctionMetrics] = []
    while pending:
        candidate = pending.pop()
        head, body = candidate.head, candidate.body
        captures = _captures(cursor, body)
        if head.has_error:
            errors += captures.get("error", ())
            errors += (child for child in head.children if child.type == "ERROR")
        nested = captures.get("function")
        inner = swallowed(nested, cpp, candidate.prefix) if nested else None
        if inner:
            pending += inner
            metrics = _measure_until(candidate, inner[0].head.start_byte, parsed)
        else:
            metrics = _measure(candidate, captures, parsed, body.end_byte, body.end_point.row)
        if metrics is not None:
            found.append(metrics)
    found.sort(key=lambda item: (item.start_line, item.end_line))
    return FileMeasure(tuple(found), _merged_rows(errors))


def _cursor(lang: Lang) -> QueryCursor:
    cursor = QueryCursor(_query(lang))
    cursor.set_max_start_depth(_MAX_DEPTH)
    return cursor


def _captures(cursor: QueryCursor, root: Node) -> parts.Captures:
    """Every capture of ``cursor``'s query in ``root``'s subtree, however deep it is.

    One run starts matches down to ``_MAX_DEPTH`` levels below the node it runs on; a subtree
    with more nodes than that may be deeper, so its nodes at exactly that depth are found by a
    walk and the query runs again on each of their children. Every node starts matches in
    exactly one run: the figures of a body nested 100,000 levels deep are exact.
    """
    found: parts.Captures = {}
    pending = [root]
    while pending:
        node = pending.pop()
        for name, nodes in cursor.captures(node).items():
            found.setdefault(name, []).extend(nodes)
        if node.descendant_count > _MAX_DEPTH:
            pending += (child for cut in _at_depth(node, _MAX_DEPTH) for child in cut.children)
    return found


def _at_depth(root: Node, depth: int) -> list[Node]:
    """The nodes ``depth`` levels below ``root`` that have children (an iterative walk)."""
    found: list[Node] = []
    walk = root.walk()
    level = 0
    while True:
        if level < depth and walk.goto_first_child():
            level += 1
            continue
        if level == depth and walk.node is not None and walk.node.child_count:
            found.append(walk.node)
        while level > 0 and not walk.goto_next_sibling():
            walk.goto_parent()
            level -= 1
        if level == 0:
            return found


def _query(lang: Lang) -> Query:
    return query(lang, _CPP_QUERY if lang is Lang.CPP else _C_QUERY)


def _measure_until(candidate: Candidate, limit: int, parsed: ParsedFile) -> FunctionMetrics | None:
    """Measure up to the last ``}`` before ``limit``; ``None`` when the body has none."""
    body = candidate.body
    end = parsed.source.rfind(b"}", body.start_byte, limit) + 1
    if end <= body.start_byte:
        return None
    cursor = _cursor(parsed.lang)
    cursor.set_byte_range(body.start_byte, end)
    end_row = body.start_point.row + parsed.source.count(b"\n", body.start_byte, end)
    return _measure(candidate, _captures(cursor, body), parsed, end, end_row)


def _signature(head: Node, body: Node, lang: Lang) -> tuple[Node | None, Node | None] | None:
    """(name node, parameter list) of a candidate; ``None`` when it is no function at all."""
    if head.type == "call_expression":  # MACRO(args) { ... }: named after the macro
        return head.child_by_field_name("function"), None
    if head.has_error and (header := _buried_header(head, body, lang)) is not None:
        return header
    return parts.declarator(head)


def _buried_header(fn: Node, body: Node, lang: Lang) -> tuple[Node, Node] | None:
    """The real header when macro lines made tree-sitter read code as K&R declarations.

    ``IMPLEMENT_X(A)`` without a semicolon becomes a declarator, and everything up to the next
    body its K&R parameter declarations, errors included; the last function declarator there
    heads the body. A genuine K&R section never holds an error.
    """
    declarator = fn.child_by_field_name("declarator")
    if declarator is None:
        return None
    section = [
        child
        for child in fn.named_children
        if declarator.end_byte <= child.start_byte < body.start_byte
    ]
    if not any(child.has_error for child in section):
        return None
    captures = QueryCursor(query(lang, _HEADER_QUERY)).captures(section[-1])
    names, params = captures.get("name"), captures.get("params")
    if not names or not params:
        return None
    return max(names, key=_start), max(params, key=_start)


def _start(node: Node) -> int:
    return node.start_byte


def _measure(
    candidate: Candidate, captures: parts.Captures, parsed: ParsedFile, end: int, end_row: int
) -> FunctionMetrics | None:
    """Metrics up to byte ``end`` (on row ``end_row``); ``None`` for a misparse."""
    signature = _signature(candidate.head, candidate.body, parsed.lang)
    if signature is None:
        return None
    name_node, params = signature
    name = parts.name_text(name_node, parsed.source)
    if name in _KEYWORDS:
        return None
    first = name_node or candidate.head
    nloc, directives = _code_lines(candidate.body, first, captures, parsed, end)
    return FunctionMetrics(
        candidate.prefix + name,
        first.start_point.row + 1,
        end_row + 1,
        1 + parts.decisions(captures, candidate.body.start_byte, directives),
        nloc,
        parts.parameter_count(params, parsed.source),
        parts.max_nesting(captures),
    )


def _code_lines(
    body: Node, first: Node, captures: parts.Captures, parsed: ParsedFile, end: int
) -> tuple[int, list[parts.Directive]]:
    """NLOC from the line of ``first`` to byte ``end``, and the directives there."""
    source = parsed.source
    line_start = source.rfind(b"\n", 0, first.start_byte) + 1
    comments = captures.get("comment")
    head = source[line_start : body.start_byte]
    if b"/*" in head or b"//" in head:
        comments = (comments or []) + _comments_before(body, first, parsed.lang)
    return parts.code_lines(source, line_start, end, comments)


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
