"""``safe-defeated``: "safe" functions redefined by macros or wrappers into unsafe ones.

Per file, :func:`scan` records the definitions that defeat a bounded-like name (see
``_defeats``), the file's includes and its call counts of bounded-like names. The aggregator
(:class:`DefeatIndex`) then reports each definition, with the call sites it affects: for a macro,
the calls in the defining file and in every file that includes it (transitively); for a
function definition, or a header no evaluated file includes, every call in the tree (marked
``tree-approximate``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar

from assay.analyze.callsites import SiteKind, sites
from assay.analyze.calltable import CallTable, load_table
from assay.analyze.includes import includes_of
from assay.analyze.interface import Catalogued, FileResult, SourceOnly
from assay.analyze.lexical import Matcher
from assay.analyze.safe_defeated.defeats import Defeat, defeat_of
from assay.analyze.safe_defeated.index import DefeatIndex
from assay.ingest.interface import SourceFile
from assay.model import SOURCE_KINDS, Rule
from assay.parse import ParsedFile
from assay.rules import rule_from_row, rule_table

ID = "safe-defeated"
"""Analyzer and category id."""
VERSION = "1"
"""Bumped whenever results for the same input can change."""
SUFFIX = "_s"
"""Names ending in this are bounded-like even when no row names them (C11 Annex K, secure C)."""

_CALLS = frozenset({SiteKind.CALL, SiteKind.MACRO_CALL})


def scan(parsed: ParsedFile, table: CallTable) -> FileResult:
    """Defeating definitions, includes and bounded-like call counts of one file."""
    calls: dict[str, int] = {}
    defeats: list[Defeat] = []
    for site in sites(parsed, Matcher(table.bounded, SUFFIX)):
        if site.name in table.unbounded:
            continue
        if site.kind in _CALLS:
            calls[site.name] = calls.get(site.name, 0) + 1
        elif (found := defeat_of(site, parsed.source, table)) is not None:
            defeats.append(found)
    data = {
        "calls": {name: calls[name] for name in sorted(calls)},
        "defeats": [d.as_data() for d in defeats],
        "includes": includes_of(parsed.source),
    }
    return FileResult(data=data)


@cache
def rules() -> tuple[Rule, ...]:
    """The documented rules, one per way of defeating a bound."""
    return tuple(_rule(row) for row in rule_table("safe_defeated.toml")["rules"])


def _rule(row: Mapping[str, Any]) -> Rule:
    return rule_from_row(ID, row["reason"], row)


@dataclass(frozen=True, slots=True)
class SafeDefeated(SourceOnly, Catalogued):
    """The ``safe-defeated`` analyzer: a picklable adapter over :func:`scan`."""

    table: CallTable
    """Built-in rows merged with the user's wrappers (bounded rows name the protected functions)."""
    ID: ClassVar[str] = ID
    VERSION: ClassVar[str] = VERSION

    def rules(self) -> tuple[Rule, ...]:
        """The four ways of defeating a bound."""
        return rules()

    def wants(self, file: SourceFile) -> bool:
        """C, C++ and header files."""
        return file.kind in SOURCE_KINDS

    def analyze(self, parsed: ParsedFile) -> FileResult:
        """Definitions, includes and calls of one file."""
        return scan(parsed, self.table)

    def aggregator(self) -> DefeatIndex:
        """A fresh cross-file index that emits the findings."""
        return DefeatIndex(ID)


def configure(settings: Mapping[str, Any]) -> SafeDefeated:
    """The analyzer; ``functions`` rows (the same as ``unsafe-calls``) add wrappers."""
    return SafeDefeated(load_table(settings))
