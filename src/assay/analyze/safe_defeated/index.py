"""The ``safe-defeated`` aggregator: which call sites each defeating definition reaches.

It keeps, per path, only the include specs, the call counts of bounded-like names and the few
defeating definitions (no sources). ``finish`` resolves the include graph once and emits one
finding per definition and path, with the affected call count:

- ``includers``: a macro's calls in its own file plus every file that includes that file,
  transitively (a macro in a ``.c`` file reaches that file and whatever includes it);
- ``tree-approximate``: a function definition (callers link to it from anywhere), or a macro in
  a header that no evaluated file includes (it may come through include paths or ``-include``):
  every call of the name in the tree.
"""

from __future__ import annotations

import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from assay.analyze.includes import IncludeGraph, is_header
from assay.analyze.interface import FileResult, PathContext
from assay.model import JSONValue, RawFinding, RuleId

_FUNCTION = "body-ignores-bound"
_WHAT = {
    "alias-to-unbounded": "{name} is defined as the unbounded {target}",
    "macro-drops-bound": "macro {name} drops its bound argument {bound}",
    "macro-calls-unbounded": "macro {name} calls the unbounded {target} without checking a bound",
    _FUNCTION: "function {name} never reads its bound parameter {bound}",
}
_WHERE = {"includers": "in its file and includers", "tree-approximate": "in the tree (approximate)"}


class DefeatIndex:
    """Collects per-path facts; emits (path, finding) pairs in ``finish``."""

    def __init__(self, category: str) -> None:
        self._category = category
        self._includes: dict[str, tuple[str, ...]] = {}
        self._calls: dict[str, dict[str, int]] = defaultdict(dict)
        self._defeats: list[tuple[str, Mapping[str, Any]]] = []
        self._unique = 0

    def add(self, ctx: PathContext, result: FileResult) -> None:
        """Record one path's includes, bounded-like calls and defeating definitions."""
        data = result.data
        self._includes[ctx.path] = tuple(sys.intern(s) for s in data.get("includes", ()))
        for name, count in data.get("calls", {}).items():
            self._calls[sys.intern(name)][ctx.path] = count
        self._defeats.extend((ctx.path, d) for d in data.get("defeats", ()))

    def add_unique(self, result: FileResult) -> None:
        """Count the definitions of one distinct content."""
        self._unique += len(result.data.get("defeats", ()))

    def finish(self) -> tuple[Mapping[str, JSONValue], Iterable[tuple[str, RawFinding]]]:
        """The summary and one finding per defeating definition and path."""
        graph = IncludeGraph(self._includes)
        ordered = sorted(
            self._defeats, key=lambda item: (item[0], item[1]["line"], item[1]["name"])
        )
        findings = [(path, self._finding(path, d, graph)) for path, d in ordered]
        return self._summary([f for _, f in findings]), findings

    def _affected(
        self, path: str, defeat: Mapping[str, Any], graph: IncludeGraph
    ) -> tuple[int, str]:
        calls = self._calls.get(defeat["name"], {})
        if defeat["reason"] != _FUNCTION:
            includers = graph.includers(path)
            if includers or not is_header(path):
                return sum(calls.get(p, 0) for p in includers | {path}), "includers"
        return sum(calls.values()), "tree-approximate"

    def _finding(self, path: str, defeat: Mapping[str, Any], graph: IncludeGraph) -> RawFinding:
        affected, scope = self._affected(path, defeat, graph)
        what = _WHAT[defeat["reason"]].format(**defeat)
        if defeat["target"] and defeat["reason"] in ("macro-drops-bound", _FUNCTION):
            what += f" and calls the unbounded {defeat['target']}"
        return RawFinding(
            rule_id=RuleId(f"{self._category}/{defeat['reason']}"),
            start_line=defeat["line"],
            end_line=defeat["line"],
            message=f"{what}: {affected} call site(s) {_WHERE[scope]} lose the bound",
            evidence=defeat["evidence"],
            properties={
                "affected_calls": affected,
                "affected_scope": scope,
                "bound_param": defeat["bound"],
                "function": defeat["name"],
                "target": defeat["target"],
            },
        )

    def _summary(self, findings: list[RawFinding]) -> dict[str, JSONValue]:
        reasons = Counter(str(f.rule_id).rsplit("/", 1)[1] for f in findings)
        return {
            "affected_calls": sum(f.properties["affected_calls"] for f in findings),
            "by_reason": dict(sorted(reasons.items())),
            "definitions": len(findings),
            "files": len(self._includes),
            "names": sorted({f.properties["function"] for f in findings}),
            "unique_definitions": self._unique,
        }
