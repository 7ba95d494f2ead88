"""Findings, rules and the evaluation section for the ``vulnerabilities`` category."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from typing import Any

from assay.assess.vulns.match import UNRATED, Assessment, Hit, Support
from assay.model import Component, RawFinding, Rule, RuleId, Severity
from assay.rules import rule_from_row, rule_table
from assay.versions import key

CATEGORY = "vulnerabilities"
_SEVERITY = {
    "critical": Severity.CRITICAL, "high": Severity.HIGH, "important": Severity.HIGH,
    "moderate": Severity.MEDIUM, "medium": Severity.MEDIUM, "low": Severity.LOW,
}  # fmt: skip


@cache
def rules() -> tuple[Rule, ...]:
    """The category's rules, from ``rules/vulnerabilities.toml``."""
    rows = rule_table("vulnerabilities.toml")
    return tuple(rule_from_row(CATEGORY, key, row) for key, row in sorted(rows.items()))


def _where(component: Component) -> tuple[str, int]:
    """The file and line a copy's findings point at: its first evidence, else its root."""
    for item in component.evidence:
        path, _, line = item.rpartition(":")
        if path and line.isdigit():
            return path, int(line)
        return item, 1
    return component.root or ".", 1


def _severity(hit: Hit) -> Severity:
    found = _SEVERITY.get((hit.severity or "").lower(), Severity.MEDIUM)
    return max(found, Severity.HIGH) if hit.exploited else found


def _cve(component: Component, hit: Hit, line: int) -> RawFinding:
    fixed = f"; fixed in {hit.fixed_in}" if hit.fixed_in else ""
    kev = "; exploited in the wild (CISA KEV)" if hit.exploited else ""
    unrated = "" if hit.severity else f"; {UNRATED}"
    return RawFinding(
        rule_id=RuleId(f"{CATEGORY}/known-cve"), start_line=line, end_line=line,
        message=f"{component.name} {component.version}: {hit.id}{fixed}{kev}{unrated}",
        evidence=f"{component.name} {component.version} {hit.id}", severity=_severity(hit),
        properties={"cve": hit.id, "fixed_in": hit.fixed_in, "exploited": hit.exploited,
                    "source": hit.source, "reference": hit.reference,
                    "component": component.key},
    )  # fmt: skip


def _support(component: Component, result: Assessment, line: int) -> RawFinding | None:
    if result.support not in (Support.END_OF_LIFE, Support.PAID_ONLY):
        return None
    rule = "end-of-life" if result.support is Support.END_OF_LIFE else "paid-support-only"
    branch = f"branch {result.cycle} " if result.cycle else ""
    return RawFinding(
        rule_id=RuleId(f"{CATEGORY}/{rule}"), start_line=line, end_line=line,
        message=f"{component.name} {component.version}: {branch}{result.support.value} since "
                f"{result.since or 'a date the data does not give'} ({result.reason}; "
                f"policy: {result.policy_source})",
        evidence=f"{component.name} {component.version} {branch}".strip(),
        properties={"cycle": result.cycle, "since": result.since, "component": component.key,
                    "superseded_by": result.superseded_by, "reason": result.reason,
                    "policy_source": result.policy_source},
    )  # fmt: skip


def findings(
    components: Sequence[Component], results: Mapping[str, Assessment]
) -> Iterator[tuple[str, RawFinding]]:
    """Every finding of the category as (path, finding)."""
    for component in components:
        result = results[component.key]
        path, line = _where(component)
        for hit in result.hits:
            yield path, _cve(component, hit, line)
        eol = _support(component, result, line)
        if eol is not None:
            yield path, eol


def _upgrade_to(library: str, hits: Sequence[Hit]) -> str | None:
    """The lowest version that fixes every CVE found that has a known fix."""
    fixes = [h.fixed_in for h in hits if h.fixed_in]
    return max(fixes, key=lambda v: key(library, v)) if fixes else None


def section(
    components: Sequence[Component], results: Mapping[str, Assessment], snapshot: str,
    sources: Sequence[str],
) -> dict[str, Any]:  # fmt: skip
    """The ``vulnerabilities`` section of evaluation.json."""
    per_copy = {
        c.key: {
            "name": c.name, "version": c.version, "support": results[c.key].support.value,
            "cycle": results[c.key].cycle, "since": results[c.key].since,
            "superseded_by": results[c.key].superseded_by, "reason": results[c.key].reason,
            "policy_source": results[c.key].policy_source,
            "backported": list(results[c.key].backported),
            "unbounded": list(results[c.key].unbounded),
            "unbounded_exploited": list(results[c.key].unbounded_exploited),
            "upgrade_to": _upgrade_to(c.name, results[c.key].hits),
            "cves": [{"id": h.id, "severity": h.severity, "fixed_in": h.fixed_in,
                      "exploited": h.exploited, "source": h.source, "reference": h.reference}
                     for h in results[c.key].hits],
        }
        for c in components
    }  # fmt: skip
    ids = {h.id for r in results.values() for h in r.hits}
    return {
        "snapshot": snapshot,
        "sources": list(sources),
        "copies": per_copy,
        "summary": {
            "copies_with_cves": sum(1 for r in results.values() if r.hits),
            "distinct_cves": len(ids),
            "exploited": len({h.id for r in results.values() for h in r.hits if h.exploited}),
            "unbounded_cves": len({i for r in results.values() for i in r.unbounded}),
            "end_of_life": sum(1 for r in results.values() if r.support is Support.END_OF_LIFE),
            "paid_support_only": sum(1 for r in results.values() if r.support is Support.PAID_ONLY),
        },
    }
