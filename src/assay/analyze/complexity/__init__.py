"""``complexity``: per-function cyclomatic complexity, length, parameters and nesting.

A thin, picklable adapter over :func:`assay.analyze.complexity.functions.measure`: every
function of a file becomes a row (``functions`` in the section), and every metric above its
threshold a finding (``complexity/ccn``, ``complexity/nloc``, ``complexity/params``,
``complexity/nesting``). Rules and default thresholds are rows of ``rules/complexity.toml``;
``[complexity]`` settings override the thresholds. The aggregator sums the per-file figures
over every path, per top-level directory and over unique contents.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, ClassVar

from assay.analyze.complexity.functions import FunctionMetrics, measure
from assay.analyze.complexity.summary import Summary, file_figures
from assay.analyze.interface import Catalogued, FileResult, SourceOnly
from assay.errors import AnalyzerError, ConfigError
from assay.ingest.interface import SourceFile
from assay.model import SOURCE_KINDS, JSONValue, RawFinding, Rule
from assay.parse import ParsedFile
from assay.rules import rule_from_row, rule_table

ID = "complexity"
"""Analyzer and category id."""
VERSION = "2"
"""Bumped whenever results for the same input can change (2: bodies deeper than 60,000 levels
are measured whole)."""

METRICS = ("ccn", "nloc", "params", "nesting")
"""The measured metrics, each with one rule and one threshold."""
_LABELS = {
    "ccn": "cyclomatic complexity",
    "nloc": "lines of code",
    "params": "parameters",
    "nesting": "nesting depth",
}


@dataclass(frozen=True, slots=True)
class Limit:
    """One rule with the metric it watches and its threshold."""

    metric: str
    """``ccn``, ``nloc``, ``params`` or ``nesting``."""
    threshold: int
    """A function whose value is above this gets a finding."""
    rule: Rule
    """The documented rule."""


def value_of(function: FunctionMetrics, metric: str) -> int:
    """The value of ``metric`` for ``function``."""
    return function.max_nesting if metric == "nesting" else int(getattr(function, metric))


@cache
def default_limits() -> tuple[Limit, ...]:
    """The rules of ``rules/complexity.toml`` with their default thresholds, in METRICS order."""
    try:
        limits = {row["metric"]: _limit(row) for row in rule_table("complexity.toml")["rules"]}
        return tuple(limits[metric] for metric in METRICS)
    except (KeyError, TypeError, ValueError, tomllib.TOMLDecodeError) as exc:
        raise AnalyzerError(f"rules/complexity.toml: invalid rule rows: {exc}") from exc


def _limit(row: Mapping[str, Any]) -> Limit:
    rule = rule_from_row(ID, row["metric"], row)
    return Limit(metric=row["metric"], threshold=int(row["threshold"]), rule=rule)


@dataclass(frozen=True, slots=True)
class ComplexityAnalyzer(SourceOnly, Catalogued):
    """The ``complexity`` analyzer: metrics rows and threshold findings for every function."""

    limits: tuple[Limit, ...] = field(default_factory=default_limits)
    """One per metric, with the effective threshold."""
    ID: ClassVar[str] = ID
    VERSION: ClassVar[str] = VERSION
    ROWS_KEY: ClassVar[str | None] = "functions"
    """Per-function rows appear under ``functions`` in the section."""

    def rules(self) -> tuple[Rule, ...]:
        """One rule per metric."""
        return tuple(limit.rule for limit in self.limits)

    def wants(self, file: SourceFile) -> bool:
        """C, C++ and header files."""
        return file.kind in SOURCE_KINDS

    def analyze(self, parsed: ParsedFile) -> FileResult:
        """Rows, findings and summary figures of one file's functions."""
        measured = measure(parsed)
        findings = _findings(measured.functions, self.limits, parsed.source)
        over = dict.fromkeys(METRICS, 0)
        for finding in findings:
            over[finding.properties["metric"]] += 1
        return FileResult(
            findings=findings,
            data=file_figures(measured.functions, over, measured.error_lines),
            rows=tuple(map(_row, measured.functions)),
        )

    def aggregator(self) -> Summary:
        """A fresh summary over paths, directories and unique contents."""
        return Summary({limit.metric: limit.threshold for limit in self.limits})


def configure(settings: Mapping[str, Any]) -> ComplexityAnalyzer:
    """The analyzer with ``settings`` (metric -> non-negative integer) overriding thresholds."""
    unknown = sorted(set(settings) - set(METRICS))
    if unknown:
        raise ConfigError(f"[{ID}]: unknown keys {', '.join(unknown)}; known: {', '.join(METRICS)}")
    for metric, value in settings.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ConfigError(f"[{ID}] {metric}: expected a non-negative integer, got {value!r}")
    limits = tuple(
        Limit(limit.metric, settings.get(limit.metric, limit.threshold), limit.rule)
        for limit in default_limits()
    )
    return ComplexityAnalyzer(limits=limits)


def _row(function: FunctionMetrics) -> Mapping[str, JSONValue]:
    return {
        "line": function.start_line,
        "end_line": function.end_line,
        "name": function.name,
        "ccn": function.ccn,
        "nloc": function.nloc,
        "params": function.params,
        "max_nesting": function.max_nesting,
    }


def _findings(
    functions: tuple[FunctionMetrics, ...], limits: tuple[Limit, ...], source: bytes
) -> tuple[RawFinding, ...]:
    """One finding per function and metric above its threshold, evidence its name's line."""
    top = {limit.metric: limit.threshold for limit in limits}
    flagged = [
        f
        for f in functions
        if f.ccn > top["ccn"]
        or f.nloc > top["nloc"]
        or f.params > top["params"]
        or f.max_nesting > top["nesting"]
    ]
    if not flagged:
        return ()
    lines = source.split(b"\n")
    return tuple(
        _finding(function, limit, value, lines)
        for function in flagged
        for limit in limits
        if (value := value_of(function, limit.metric)) > limit.threshold
    )


def _finding(function: FunctionMetrics, limit: Limit, value: int, lines: list[bytes]) -> RawFinding:
    evidence = lines[function.start_line - 1].decode("utf-8", "replace").strip()
    label = _LABELS[limit.metric]
    return RawFinding(
        rule_id=limit.rule.id,
        start_line=function.start_line,
        end_line=function.end_line,
        message=f"{function.name}: {label} {value} is above {limit.threshold}",
        evidence=evidence,
        properties={
            "function": function.name,
            "metric": limit.metric,
            "value": value,
            "threshold": limit.threshold,
        },
    )
