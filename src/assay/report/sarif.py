"""``results.sarif``: SARIF 2.1.0, one rule per rule row, stable ``partialFingerprints``.

Results are streamed. Paths are relative URIs against ``%SRCROOT%`` (the evaluated root);
archive members keep assay's ``archive!/member`` form, percent-encoded where needed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TextIO
from urllib.parse import quote

from assay.model import Evaluation, Finding, Rule, Severity
from assay.report.interface import Streams

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "assay/v1"
_ENCODER = json.JSONEncoder(sort_keys=True)
"""What ``json.dumps(value, sort_keys=True)`` builds on every call, once."""
_STRING = json.encoder.encode_basestring_ascii
"""How ``_ENCODER`` writes a string."""
_LEVEL = {
    Severity.INFO: "note", Severity.LOW: "note", Severity.MEDIUM: "warning",
    Severity.HIGH: "error", Severity.CRITICAL: "error",
}  # fmt: skip


def uri(path: str) -> str:
    """A relative URI for an evaluated path."""
    return quote(path, safe="/!-._~")


def rule_descriptor(rule: Rule) -> dict[str, Any]:
    """A SARIF reportingDescriptor built from a rule row."""
    help_text = "\n\n".join(
        part for part in (
            rule.summary,
            f"Why: {rule.rationale}" if rule.rationale else "",
            f"Example: {rule.example}" if rule.example else "",
            f"Use instead: {rule.alternative}" if rule.alternative else "",
        ) if part
    )  # fmt: skip
    props: dict[str, Any] = {"category": rule.category, "severity": rule.severity.label}
    if rule.cwe is not None:
        props["tags"] = [f"CWE-{rule.cwe}"]
        props["cwe"] = f"CWE-{rule.cwe}"
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.rationale or rule.summary},
        "help": {"text": help_text},
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        "properties": props,
    }


def result(finding: Finding, rule_index: dict[str, int]) -> dict[str, Any]:
    """A SARIF result for one finding."""
    loc = finding.location
    region: dict[str, Any] = {"startLine": loc.start_line, "endLine": loc.end_line}
    if finding.evidence:
        region["snippet"] = {"text": finding.evidence}
    props: dict[str, Any] = {"category": finding.category, "severity": finding.severity.label}
    props.update(finding.properties)
    if loc.component:
        props["component"] = loc.component
    out: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "level": _LEVEL[finding.severity],
        "message": {"text": finding.message},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": uri(loc.path), "uriBaseId": "SRCROOT"},
            "region": region,
        }}],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        "properties": props,
    }  # fmt: skip
    if finding.rule_id in rule_index:
        out["ruleIndex"] = rule_index[finding.rule_id]
    related = finding.properties.get("related")
    if isinstance(related, list) and related:
        out["relatedLocations"] = related_locations(related)
    return out


def result_json(
    finding: Finding, rule_index: Mapping[str, int], mark: Mapping[str, str] | None = None
) -> str:
    """``result`` (with ``suppressions`` from a baseline ``mark``) as ``_ENCODER`` writes it,
    keys sorted, but with the fixed parts formatted directly (one result per finding: the
    generic encoder walking six nested objects is most of the report's time)."""
    loc = finding.location
    snippet = f'"snippet": {{"text": {_STRING(finding.evidence)}}}, ' if finding.evidence else ""
    props: dict[str, Any] = {"category": finding.category, "severity": finding.severity.label}
    props.update(finding.properties)
    if loc.component:
        props["component"] = loc.component
    parts = [
        f'{{"level": "{_LEVEL[finding.severity]}", "locations": [{{"physicalLocation": '
        f'{{"artifactLocation": {{"uri": {_STRING(uri(loc.path))}, "uriBaseId": "SRCROOT"}}, '
        f'"region": {{"endLine": {int(loc.end_line)}, {snippet}"startLine": '
        f'{int(loc.start_line)}}}}}}}], "message": {{"text": {_STRING(finding.message)}}}, '
        f'"partialFingerprints": {{{_STRING(FINGERPRINT_KEY)}: {_STRING(finding.fingerprint)}}}'
        f', "properties": {_ENCODER.encode(props)}'
    ]
    related = finding.properties.get("related")
    if isinstance(related, list) and related:
        parts.append(f', "relatedLocations": {_ENCODER.encode(related_locations(related))}')
    parts.append(f', "ruleId": {_STRING(finding.rule_id)}')
    if finding.rule_id in rule_index:
        parts.append(f', "ruleIndex": {int(rule_index[finding.rule_id])}')
    if mark is not None:
        parts.append(f', "suppressions": {_ENCODER.encode(suppressions(mark))}')
    parts.append("}")
    return "".join(parts)


def related_locations(related: list[Any]) -> list[dict[str, Any]]:
    """SARIF relatedLocations from a finding's ``related`` property ({path, start_line,
    end_line} items, e.g. the other places of a clone class)."""
    return [
        {"id": index, "physicalLocation": {
            "artifactLocation": {"uri": uri(item["path"]), "uriBaseId": "SRCROOT"},
            "region": {"startLine": item["start_line"], "endLine": item["end_line"]},
        }}
        for index, item in enumerate(related, start=1)
    ]  # fmt: skip


def suppressions(mark: Mapping[str, str]) -> list[dict[str, Any]]:
    """SARIF ``suppressions`` of a finding the baseline accepted or judged false."""
    status = mark.get("status", "accepted")
    return [{
        "kind": "external", "status": "accepted",
        "justification": f"{status}: {mark.get('reason', '')}",
        "properties": {"baselineStatus": status},
    }]  # fmt: skip


def _notifications(evaluation: Evaluation) -> list[dict[str, Any]]:
    return [
        {
            "level": "note",
            "message": {"text": f"skipped ({s.stage}): {s.reason}"
                        + (f": {s.detail}" if s.detail else "")},
            "locations": [{"physicalLocation": {"artifactLocation": {
                "uri": uri(s.path) if s.path else ".", "uriBaseId": "SRCROOT"}}}],
            "descriptor": {"id": f"skipped/{s.reason}"},
        }
        for s in evaluation.skipped
    ]  # fmt: skip


def _run_head(evaluation: Evaluation) -> dict[str, Any]:
    """The run without its results: the tool and its rules, the base URI, the notifications."""
    return {
        "tool": {"driver": {
            "name": "assay", "version": evaluation.tool_version,
            "semanticVersion": evaluation.tool_version,
            "rules": [rule_descriptor(r) for r in evaluation.rules],
        }},
        "originalUriBaseIds": {"SRCROOT": {"description": {
            "text": f"root of the evaluated input {evaluation.input.name}"}}},
        "invocations": [{"executionSuccessful": True,
                         "toolExecutionNotifications": _notifications(evaluation)}],
        "properties": {"input": {"name": evaluation.input.name,
                                 "sha256": evaluation.input.sha256},
                       "vulnerabilityDataSnapshot":
                           evaluation.sections.get("vulnerabilities", {}).get("snapshot")},
    }  # fmt: skip


class Results:
    """results.sarif written one finding at a time: the head when made, a result per ``add``,
    the end of the document on ``finish`` (so one pass over the findings can feed several
    reports)."""

    def __init__(self, evaluation: Evaluation, out: TextIO) -> None:
        self.out = out
        self.rule_index: dict[str, int] = {r.id: i for i, r in enumerate(evaluation.rules)}
        self.marks = evaluation.suppressions
        self.sep = "\n"
        head = json.dumps({"$schema": SARIF_SCHEMA, "version": "2.1.0"}, sort_keys=True)[:-1]
        out.write(head + ', "runs": [\n')
        out.write(json.dumps(_run_head(evaluation), sort_keys=True)[:-1] + ', "results": [')

    def __enter__(self) -> Results:
        """The writer itself."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Nothing to release."""

    def add(self, finding: Finding) -> None:
        """Write the result of one finding."""
        mark = self.marks.get(finding.fingerprint)
        self.out.write(self.sep + result_json(finding, self.rule_index, mark))
        self.sep = ",\n"

    def finish(self) -> None:
        """Close the results, the run and the document."""
        self.out.write("\n]}\n]}\n")


def write(evaluation: Evaluation, streams: Streams, out: TextIO) -> None:
    """Write results.sarif, streaming the results."""
    with Results(evaluation, out) as results:
        for finding in streams.findings():
            results.add(finding)
        results.finish()
