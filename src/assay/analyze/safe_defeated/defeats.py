"""Find "safe" functions redefined into unsafe ones, in one parsed file.

A name is *bounded-like* when it is a bounded row of the call table or ends in ``_s`` (and is
not an unbounded row). Its definition defeats the bound when:

- ``alias-to-unbounded``: an object-like macro names an unbounded function
  (``#define strlcpy strcpy``);
- ``macro-drops-bound``: a function-like macro never uses its bound parameter
  (``#define memcpy_s(d, dm, s, n) memcpy(d, s, n)``);
- ``macro-calls-unbounded``: a function-like macro calls an unbounded function and compares
  nothing (no ``<``, ``>``, ``?`` or ``if``), so it cannot be enforcing the bound;
- ``body-ignores-bound``: a function definition never reads its bound parameter but reads
  another one (a stub that reads no parameter at all copies nothing).

The bound parameter is the row's ``bound_arg``; for other ``_s`` names it is the first
parameter named like a size (``destMax``, ``dmax``, ``size``, ``len``, ``count``, ``n`` ...,
or any name ending in max/size/len/length/count/cnt). Without a bound parameter only the
``alias`` and ``calls-unbounded`` tests apply. Everything is read on code with comments and
string literals blanked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import tree_sitter

from assay.analyze.callsites import Site, SiteKind
from assay.analyze.calltable import CallTable
from assay.analyze.lexical import code_only, line_text

_SIZE_NAME = re.compile(
    r"(?i)(?:n|sz|num|nmax|max|size|count|cnt|len|length|maxlen)\Z|.+(?:max|size|len|length|count|cnt)\Z"
)
_CALLED = re.compile(rb"(?<![\w$.])(?<!->)([A-Za-z_$][\w$]*)\s*\(")
_COMPARES = re.compile(rb"<|(?<!-)>|\?|\bif\b")
_ALIAS = re.compile(rb"\s*\(*\s*([A-Za-z_$][\w$]*)\s*\)*\s*")
_WRAPPERS = frozenset({"pointer_declarator", "parenthesized_declarator", "attributed_declarator"})


@dataclass(frozen=True, slots=True)
class Defeat:
    """One definition that defeats a bounded-like name."""

    name: str
    """The bounded-like name defined."""
    line: int
    """Line of the name in the definition."""
    reason: str
    """How: the rule id's last part (``macro-drops-bound``, ...)."""
    target: str
    """The unbounded function it calls, or ''."""
    bound: str
    """The bound parameter it ignores, or ''."""
    evidence: str
    """The definition's line, stripped."""

    def as_data(self) -> dict[str, str | int]:
        """JSON-able form for ``FileResult.data``."""
        return {
            "bound": self.bound,
            "evidence": self.evidence,
            "line": self.line,
            "name": self.name,
            "reason": self.reason,
            "target": self.target,
        }


def defeat_of(site: Site, source: bytes, table: CallTable) -> Defeat | None:
    """The defeat a MACRO_DEF or FUNCTION_DEF site commits, if any."""
    if site.kind is SiteKind.MACRO_DEF:
        found = _macro(site.node, site.name, table)
    elif site.kind is SiteKind.FUNCTION_DEF:
        found = _function(site.node, site.name, table)
    else:
        return None
    if found is None:
        return None
    reason, target, bound = found
    return Defeat(site.name, site.line, reason, target, bound, line_text(source, site.offset))


def _macro(node: tree_sitter.Node, name: str, table: CallTable) -> tuple[str, str, str] | None:
    value = node.child_by_field_name("value")
    body = code_only(value.text or b"") if value is not None else b""
    unbounded = table.unbounded
    if node.type == "preproc_def":
        alias = _ALIAS.fullmatch(body)
        target = alias.group(1).decode() if alias else ""
        return ("alias-to-unbounded", target, "") if target in unbounded else None
    params = [p.text.decode() if p.text else "" for p in _macro_params(node)]
    called = [n for n in _called(body) if n in unbounded]
    target = called[0] if called else ""
    bound = bound_param(name, params, table)
    if bound and not uses(body, bound):
        return "macro-drops-bound", target, bound
    if target and not _COMPARES.search(body):
        return "macro-calls-unbounded", target, bound
    return None


def _macro_params(node: tree_sitter.Node) -> list[tree_sitter.Node]:
    params = node.child_by_field_name("parameters")
    return [p for p in params.children if p.type in ("identifier", "...")] if params else []


def _function(node: tree_sitter.Node, name: str, table: CallTable) -> tuple[str, str, str] | None:
    declarator = _function_declarator(node)
    body = node.child_by_field_name("body")
    if declarator is None or body is None:
        return None
    params = list(_param_names(declarator))
    bound = bound_param(name, params, table)
    code = code_only(body.text or b"")
    if not bound or uses(code, bound):
        return None
    if not any(uses(code, p) for p in params if p and p not in (bound, "...")):
        return None  # a stub that reads no parameter (e.g. returns an error) copies nothing
    called = [n for n in _called(code) if n in table.unbounded]
    return "body-ignores-bound", called[0] if called else "", bound


def _function_declarator(definition: tree_sitter.Node) -> tree_sitter.Node | None:
    node = definition.child_by_field_name("declarator")
    while node is not None and node.type != "function_declarator":
        node = node.child_by_field_name("declarator") if node.type in _WRAPPERS else None
    return node


def _param_names(declarator: tree_sitter.Node) -> Iterator[str]:
    params = declarator.child_by_field_name("parameters")
    for param in params.named_children if params else ():
        if param.type == "variadic_parameter":
            yield "..."
        elif param.type == "parameter_declaration":
            yield _declared_name(param.child_by_field_name("declarator"))


def _declared_name(node: tree_sitter.Node | None) -> str:
    """The name a (possibly nested) declarator declares, or ''."""
    while node is not None and node.type not in ("identifier", "field_identifier"):
        inner = node.child_by_field_name("declarator")
        node = inner if inner is not None else node.named_child(0)
    return node.text.decode() if node is not None and node.text else ""


def bound_param(name: str, params: list[str], table: CallTable) -> str:
    """The parameter that carries ``name``'s bound, or '' when none can be told."""
    row = table.index.get(name)
    if row is not None:
        index = row.bound_arg
        if index is None or index >= len(params) or params[index] == "...":
            return ""
        return params[index]
    return next((p for p in params if _SIZE_NAME.match(p)), "")


def uses(code: bytes, identifier: str) -> bool:
    """Whether ``identifier`` occurs as a whole word in ``code``."""
    return (
        re.search(rb"(?<![\w$])" + re.escape(identifier.encode()) + rb"(?![\w$])", code) is not None
    )


def _called(code: bytes) -> list[str]:
    return [m.group(1).decode() for m in _CALLED.finditer(code)]
