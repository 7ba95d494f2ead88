"""``unsafe-calls``: the census of unbounded vs bounded memory, string and format functions.

Every call of a function of the call table (``rules/unsafe_calls.toml`` plus the user's
wrappers) is counted per function; each call of an unbounded one is also a finding. Calls are
found on the parse (not in comments, strings, declarations, members or function pointers) and,
lexically, in ``#define`` bodies (property ``in_macro``). The aggregator reports, per family,
the distinct functions used and the bounded/unbounded call counts, over every path, per
top-level directory, per component and over unique contents.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from assay.analyze.callsites import Site, SiteKind, sites
from assay.analyze.calltable import CallRow, CallTable, load_table
from assay.analyze.interface import Catalogued, FileResult, SourceOnly
from assay.analyze.lexical import Matcher, line_text
from assay.analyze.unsafe_calls.census import Census, FileCalls
from assay.ingest.interface import SourceFile
from assay.model import SOURCE_KINDS, RawFinding, Rule, RuleId
from assay.parse import ParsedFile

ID = "unsafe-calls"
"""Analyzer and category id."""
VERSION = "1"
"""Bumped whenever results for the same input can change."""

_CALLS = frozenset({SiteKind.CALL, SiteKind.MACRO_CALL})
_CAMEL_HUMP = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NULLS = frozenset({b"NULL", b"nullptr", b"0", b"(void*)0", b"((void*)0)"})


def census(parsed: ParsedFile, table: CallTable) -> FileResult:
    """Count the calls of every function of ``table``; one finding per unbounded call."""
    rows = table.index
    calls = FileCalls()
    findings: list[RawFinding] = []
    for site in sites(parsed, Matcher(table.names)):
        if site.kind not in _CALLS:
            continue
        row = rows[site.name]
        bounded = row.bounded or _allocates(site, row)
        calls.add(site.name, bounded=bounded, in_macro=site.kind is SiteKind.MACRO_CALL)
        if not bounded:
            findings.append(_finding(row, site, parsed.source))
    return FileResult(findings=tuple(findings), data={"calls": calls.as_data()})


def _allocates(site: Site, row: CallRow) -> bool:
    """True when the row's ``null_arg`` is written as a null pointer (e.g. realpath(p, NULL))."""
    if row.null_arg is None or site.node.type != "call_expression":
        return False
    args = site.node.child_by_field_name("arguments")
    named = [a for a in args.named_children if a.type != "comment"] if args else []
    if len(named) <= row.null_arg:
        return False
    return (named[row.null_arg].text or b"").replace(b" ", b"") in _NULLS


def _finding(row: CallRow, site: Site, source: bytes) -> RawFinding:
    return RawFinding(
        rule_id=RuleId(f"{ID}/{row.name}"),
        start_line=site.line,
        end_line=site.line,
        message=f"{row.name} is an unbounded {row.family} function"
        + (f"; use {row.alternative}" if row.alternative else ""),
        evidence=line_text(source, site.offset),
        properties={
            "function": row.name,
            "family": row.family,
            "in_macro": site.kind is SiteKind.MACRO_CALL,
        },
    )


def rule_for(row: CallRow) -> Rule:
    """The documented rule of one unbounded row."""
    # NOTE: a leading underscore marks a name reserved to the implementation (C11 7.1.3), e.g.
    # Microsoft's _mktemp beside POSIX mktemp; kept as "reserved-" so that names stay unique.
    bare = row.name.lstrip("_")
    prefix = "reserved-" if bare != row.name else ""
    kebab = prefix + _CAMEL_HUMP.sub("-", bare).replace("_", "-").lower()
    return Rule(
        id=RuleId(f"{ID}/{row.name}"),
        name=f"unbounded-{kebab}",
        category=ID,
        severity=row.severity,
        summary=f"Call of {row.name}, an unbounded {row.family} function.",
        rationale=row.rationale,
        cwe=row.cwe,
        example=row.example,
        alternative=row.alternative,
    )


@dataclass(frozen=True, slots=True)
class UnsafeCalls(SourceOnly, Catalogued):
    """The ``unsafe-calls`` analyzer: a picklable adapter over :func:`census`."""

    table: CallTable
    """Built-in rows merged with the user's wrappers."""
    ID: ClassVar[str] = ID
    VERSION: ClassVar[str] = VERSION

    def rules(self) -> tuple[Rule, ...]:
        """One rule per unbounded function."""
        return tuple(rule_for(row) for row in self.table.rows if not row.bounded)

    def wants(self, file: SourceFile) -> bool:
        """C, C++ and header files."""
        return file.kind in SOURCE_KINDS

    def analyze(self, parsed: ParsedFile) -> FileResult:
        """The census of one file."""
        return census(parsed, self.table)

    def aggregator(self) -> Census:
        """A fresh per-family, per-directory census."""
        return Census(self.table)


def configure(settings: Mapping[str, Any]) -> UnsafeCalls:
    """The analyzer with the user's ``functions`` rows merged over the built-in ones."""
    return UnsafeCalls(load_table(settings))
