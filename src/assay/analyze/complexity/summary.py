"""The ``complexity`` section: per-file figures and their sums over paths and unique contents.

:func:`file_figures` condenses one file's functions into a few counts (``FileResult.data``);
:class:`Summary` adds them up over every path (each copy ships), per top-level directory, per
component and, beside, over unique contents. Only JSON values leave this module.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from assay.analyze.complexity.functions import FunctionMetrics
from assay.analyze.interface import FileResult, PathContext
from assay.model import JSONValue, RawFinding

BUCKETS = ("1-5", "6-10", "11-20", "21-50", ">50")
"""Labels of the CCN distribution, lowest first."""
_BOUNDS = (5, 10, 20, 50)
"""Highest CCN of every bucket but the last."""


def file_figures(
    functions: tuple[FunctionMetrics, ...], over: Mapping[str, int], error_lines: int
) -> dict[str, JSONValue]:
    """One file's figures: function count, CCN sum, maximum and buckets, counts over thresholds."""
    ccns = sorted([function.ccn for function in functions])
    below = [0, *(bisect_right(ccns, bound) for bound in _BOUNDS), len(ccns)]
    counts = {label: below[i + 1] - below[i] for i, label in enumerate(BUCKETS)}
    return {
        "ccn_buckets": {label: count for label, count in counts.items() if count},
        "ccn_max": ccns[-1] if ccns else 0,
        "ccn_sum": sum(ccns),
        "error_lines": error_lines,
        "functions": len(functions),
        "over": dict(over),
    }


@dataclass(slots=True)
class Figures:
    """Running sums over the files of one scope (a mutable accumulator, main process only)."""

    files: int = 0
    """Files (paths or unique contents) added."""
    functions: int = 0
    """Functions measured."""
    ccn_sum: int = 0
    """Sum of CCN over the functions, for the mean."""
    ccn_max: int = 0
    """Highest CCN."""
    buckets: dict[str, int] = field(default_factory=dict)
    """Functions per CCN bucket."""
    over: dict[str, int] = field(default_factory=dict)
    """Functions above the threshold, per metric."""
    error_lines: int = 0
    """Lines under ERROR nodes, where functions may be missed."""
    files_with_errors: int = 0
    """Files with at least one such line."""

    def add(self, data: Mapping[str, JSONValue]) -> None:
        """Add one file's figures (as :func:`file_figures` made them)."""
        self.files += 1
        self.functions += data.get("functions", 0)
        self.ccn_sum += data.get("ccn_sum", 0)
        self.ccn_max = max(self.ccn_max, data.get("ccn_max", 0))
        for label, count in data.get("ccn_buckets", {}).items():
            self.buckets[label] = self.buckets.get(label, 0) + count
        for metric, count in data.get("over", {}).items():
            self.over[metric] = self.over.get(metric, 0) + count
        errors = data.get("error_lines", 0)
        self.error_lines += errors
        self.files_with_errors += errors > 0

    def as_dict(self, metrics: Iterable[str]) -> dict[str, JSONValue]:
        """The figures as JSON, every bucket and metric present (zeros included)."""
        return {
            "ccn_distribution": {label: self.buckets.get(label, 0) for label in BUCKETS},
            "ccn_max": self.ccn_max,
            "ccn_mean": round(self.ccn_sum / self.functions, 2) if self.functions else 0.0,
            "error_lines": self.error_lines,
            "files": self.files,
            "files_with_errors": self.files_with_errors,
            "functions": self.functions,
            "over_threshold": {metric: self.over.get(metric, 0) for metric in sorted(metrics)},
        }


class Summary:
    """The ``complexity`` aggregator."""

    def __init__(self, thresholds: Mapping[str, int]) -> None:
        self._thresholds = dict(thresholds)
        self._all = Figures()
        self._unique = Figures()
        self._directories: dict[str, Figures] = defaultdict(Figures)
        self._components: dict[str, Figures] = defaultdict(Figures)

    def add(self, ctx: PathContext, result: FileResult) -> None:
        """Count one path (every copy counts)."""
        self._all.add(result.data)
        self._directories[ctx.directory].add(result.data)
        self._components[ctx.scope].add(result.data)

    def add_unique(self, result: FileResult) -> None:
        """Count one distinct content."""
        self._unique.add(result.data)

    def finish(self) -> tuple[Mapping[str, JSONValue], Iterable[tuple[str, RawFinding]]]:
        """The section summary; no corpus-level findings."""
        return {
            "components": self._scopes(self._components),
            "directories": self._scopes(self._directories),
            "thresholds": {metric: self._thresholds[metric] for metric in sorted(self._thresholds)},
            "totals": self._all.as_dict(self._thresholds),
            "unique": self._unique.as_dict(self._thresholds),
        }, ()

    def _scopes(self, scopes: Mapping[str, Figures]) -> dict[str, JSONValue]:
        return {key: scopes[key].as_dict(self._thresholds) for key in sorted(scopes)}
