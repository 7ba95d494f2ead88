"""``endpoints``: hard-coded IP addresses, host names and URLs, and how the code uses them.

Read in C/C++ string literals, ``#define`` bodies and comments (through the parse), in
configuration text files and in the printable strings of ELF binaries. Each endpoint is classed
(public, private, documentation, loopback, special, unknown; see ``rules/endpoints.toml``) and,
in C/C++, given the usage of the calls it reaches (resolve, connect, http-client, listen,
command). Public endpoints outside comments are findings (``public-endpoint-used`` when a call
shows the use), private ones are informational, everything else is counted in the section,
whose ``destinations`` list answers "where could this device send data?".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar

from assay.analyze.endpoints.inventory import EndpointInventory
from assay.analyze.endpoints.match import Match, redact, tables
from assay.analyze.endpoints.source import endpoints
from assay.analyze.endpoints.text import in_binary, in_text, is_shell
from assay.analyze.interface import AnalyzerFailure, Catalogued, Content, FileResult
from assay.analyze.lexical import line_text
from assay.errors import ConfigError
from assay.ingest.interface import SourceFile
from assay.model import SOURCE_KINDS, FileKind, JSONValue, RawFinding, Rule, RuleId
from assay.parse import ParsedFile
from assay.rules import rule_from_row

ID = "endpoints"
"""Analyzer and category id."""
VERSION = "4"
"""Bumped whenever results for the same input can change."""


@cache
def rules() -> tuple[Rule, ...]:
    """The three endpoint rules."""
    return tuple(rule_from_row(ID, row["key"], row) for row in tables()["rules"])


@cache
def _text_suffixes() -> tuple[str, ...]:
    return tuple(tables()["text"]["suffixes"])


def is_config(path: str) -> bool:
    """Text files read as configuration: known suffixes, or anything below an ``etc/``."""
    return path.lower().endswith(_text_suffixes()) or "/etc/" in f"/{path}"


_PROPERTIES = ("kind", "value", "class", "context", "usage", "offset")


def _row(
    line: int, match: Match, context: str, usage: tuple[str, ...], offset: int | None
) -> dict[str, JSONValue]:
    """One endpoint occurrence as per-file data (also the finding's properties)."""
    row: dict[str, JSONValue] = {
        "line": line,
        "kind": match.kind,
        "value": match.value,
        "class": match.klass,
        "context": context,
        "usage": list(usage),
    }
    if offset is not None:
        row["offset"] = offset
    return row


def _finding(row: Mapping[str, Any], evidence: str) -> RawFinding | None:
    klass, usage = row["class"], row["usage"]
    if row["context"] == "comment" or klass not in ("public", "private"):
        return None
    key = "public-endpoint-used" if usage else "public-endpoint"
    if klass == "private":
        key = "private-endpoint"
    used = f", used by {'/'.join(usage)}" if usage else ""
    properties = {k: row[k] for k in _PROPERTIES if k in row}
    return RawFinding(
        rule_id=RuleId(f"{ID}/{key}"),
        start_line=max(row["line"], 1),
        end_line=max(row["line"], 1),
        message=f"hard-coded {klass} {row['kind']} {row['value']} in {row['context']}{used}",
        evidence=redact(evidence[:300]),
        properties=properties,
    )


def _result(rows: list[dict[str, JSONValue]], evidence: list[str]) -> FileResult:
    found = (_finding(row, text) for row, text in zip(rows, evidence, strict=True))
    return FileResult(findings=tuple(f for f in found if f), data={"endpoints": list(rows)})


@dataclass(frozen=True, slots=True)
class Endpoints(Catalogued):
    """The ``endpoints`` analyzer: C/C++ through the parse, config text and ELF through bytes."""

    ID: ClassVar[str] = ID
    VERSION: ClassVar[str] = VERSION

    def rules(self) -> tuple[Rule, ...]:
        """The endpoint rules."""
        return rules()

    def wants(self, file: SourceFile) -> bool:
        """C/C++, ELF binaries and configuration text files."""
        if file.kind in SOURCE_KINDS or file.kind is FileKind.ELF:
            return True
        return file.kind is FileKind.TEXT and is_config(file.path)

    def analyze(self, parsed: ParsedFile) -> FileResult:
        """String literals, macro bodies and comments of one C/C++ file."""
        found = endpoints(parsed)
        if not found:
            return FileResult(data={"endpoints": []})
        rows = [_row(line, m, ctx, usage, None) for line, m, ctx, usage in found]
        evidence = [line_text(parsed.source, m.start) for _, m, _, _ in found]
        return _result(rows, evidence)

    def analyze_content(self, content: Content) -> FileResult:
        """A configuration file's lines or a binary's printable strings."""
        if content.kind is FileKind.ELF:
            pairs = in_binary(content.source)
            rows = [_row(1, m, "binary", (), offset) for offset, m in pairs]
            return _result(rows, [m.value for _, m in pairs])
        if content.kind is not FileKind.TEXT:
            raise AnalyzerFailure("unsupported-kind", content.kind.value)
        text = content.source.decode("utf-8", "replace")
        found = in_text(text, shell=is_shell(content.name, text))
        lines = text.splitlines()
        rows = [_row(line, m, ctx, (), None) for line, m, ctx in found]
        return _result(rows, [lines[line - 1].strip() for line, _, _ in found])

    def aggregator(self) -> EndpointInventory:
        """A fresh per-component inventory."""
        return EndpointInventory()


def configure(settings: Mapping[str, Any]) -> Endpoints:
    """The analyzer; it has no settings."""
    if settings:
        raise ConfigError(f"unknown settings: {', '.join(sorted(settings))}")
    return Endpoints()
