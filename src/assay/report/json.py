"""``evaluation.json``: the whole evaluation in assay's own versioned, deterministic schema.

The document is written as a stream: summaries first, then each section's rows and finally
the findings, one array element at a time, so its size is bounded by disk, not memory. The
schema is ``assay/schemas/evaluation.schema.json``; see docs/evaluation-json.md.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, TextIO

from assay.assess.rating import rating_json
from assay.model import Evaluation, Finding, Rule, Skipped
from assay.report.interface import Streams

_ENCODER = json.JSONEncoder(sort_keys=True, ensure_ascii=False)
"""What ``json.dumps(value, sort_keys=True, ensure_ascii=False)`` builds on every call, once."""


_STRING = json.encoder.encode_basestring
"""How ``_ENCODER`` writes a string (non-ASCII kept)."""


def _dump(value: Any) -> str:
    return _ENCODER.encode(value)


def rule_json(rule: Rule) -> dict[str, Any]:
    """A rule as JSON."""
    return {
        "id": rule.id, "name": rule.name, "category": rule.category,
        "severity": rule.severity.label, "cwe": rule.cwe, "summary": rule.summary,
        "rationale": rule.rationale, "example": rule.example, "alternative": rule.alternative,
    }  # fmt: skip


def finding_json(finding: Finding) -> dict[str, Any]:
    """A finding as JSON."""
    loc = finding.location
    return {
        "rule_id": finding.rule_id, "category": finding.category,
        "severity": finding.severity.label, "path": loc.path, "start_line": loc.start_line,
        "end_line": loc.end_line, "component": loc.component, "message": finding.message,
        "evidence": finding.evidence, "fingerprint": finding.fingerprint,
        "properties": dict(finding.properties),
    }  # fmt: skip


def finding_text(finding: Finding, mark: Mapping[str, str] | None = None) -> str:
    """``finding_json`` (with its baseline ``suppression`` mark, if any) as ``_ENCODER`` writes
    it, the fixed keys formatted directly (one per finding: most of the document's time)."""
    loc = finding.location
    component = "null" if loc.component is None else _STRING(loc.component)
    text = (
        f'{{"category": {_STRING(finding.category)}, "component": {component}, '
        f'"end_line": {int(loc.end_line)}, "evidence": {_STRING(finding.evidence)}, '
        f'"fingerprint": {_STRING(finding.fingerprint)}, "message": {_STRING(finding.message)}, '
        f'"path": {_STRING(loc.path)}, "properties": {_dump(dict(finding.properties))}, '
        f'"rule_id": {_STRING(finding.rule_id)}, "severity": "{finding.severity.label}", '
        f'"start_line": {int(loc.start_line)}'
    )
    if mark is not None:
        return f'{text}, "suppression": {_dump(dict(mark))}}}'
    return f"{text}}}"


def skipped_json(skipped: Skipped) -> dict[str, str]:
    """A skipped record as JSON."""
    return {"path": skipped.path, "stage": skipped.stage, "reason": skipped.reason,
            "detail": skipped.detail}  # fmt: skip


def head(evaluation: Evaluation) -> dict[str, Any]:
    """Everything but sections, rules, skipped and findings."""
    top = evaluation.max_severity()
    return {
        "schema_version": evaluation.schema_version,
        "tool": {"name": "assay", "version": evaluation.tool_version},
        "input": {"name": evaluation.input.name, "kind": evaluation.input.kind,
                  "sha256": evaluation.input.sha256},
        "options": evaluation.options,
        "inventory": evaluation.inventory,
        "summary": {"findings": evaluation.finding_counts,
                    "total_findings": evaluation.total_findings,
                    "max_severity": top.label if top is not None else None},
    }  # fmt: skip


def _array(out: TextIO, key: str, items: Iterable[Any], indent: str = "  ") -> None:
    _array_text(out, key, map(_dump, items), indent)


def _array_text(out: TextIO, key: str, items: Iterable[str], indent: str = "  ") -> None:
    """An array of items given as JSON text."""
    out.write(f"{indent}{_dump(key)}: [")
    sep = "\n"
    for item in items:
        out.write(f"{sep}{indent}  {item}")
        sep = ",\n"
    out.write(f"\n{indent}]" if sep == ",\n" else "]")


def _section(
    out: TextIO, name: str, summary: Mapping[str, Any], rows_key: str | None, streams: Streams
) -> None:
    body = _dump(dict(summary))
    if rows_key is None:
        out.write(f"  {_dump(name)}: {body}")
        return
    out.write(f"  {_dump(name)}: {body[:-1]}{', ' if len(body) > 2 else ''}\n")
    _array_text(out, rows_key, streams.rows_json(name), indent="    ")
    out.write("\n  }")


def write(evaluation: Evaluation, streams: Streams, out: TextIO) -> None:
    """Write evaluation.json, streaming rows and findings."""
    out.write("{\n")
    for key, value in head(evaluation).items():
        out.write(f"  {_dump(key)}: {_dump(value)},\n")
    out.write(f'  "rating": {_dump(rating_json(evaluation, streams.findings))},\n')
    out.write(f'  "baseline": {_dump(dict(evaluation.baseline))},\n')
    for name in sorted(evaluation.sections):
        _section(out, name, evaluation.sections[name], evaluation.rows_keys.get(name), streams)
        out.write(",\n")
    _array(out, "rules", (rule_json(r) for r in evaluation.rules))
    out.write(",\n")
    _array(out, "skipped", (skipped_json(s) for s in evaluation.skipped))
    out.write(",\n")
    marks = evaluation.suppressions
    texts = (finding_text(f, marks.get(f.fingerprint)) for f in streams.findings())
    _array_text(out, "findings", texts)
    out.write("\n}\n")
