"""Rules read from TOML rows: one constructor for every analyzer's rule table."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from assay.model import Rule, RuleId, Severity


def rule_from_row(category: str, key: str, row: Mapping[str, Any]) -> Rule:
    """The rule ``category/key`` described by a TOML row (name, severity, summary, ...)."""
    return Rule(
        id=RuleId(f"{category}/{key}"),
        name=row["name"],
        category=category,
        severity=Severity.parse(row["severity"]),
        summary=row["summary"],
        rationale=row.get("rationale", ""),
        cwe=row.get("cwe"),
        example=row.get("example", ""),
        alternative=row.get("alternative", ""),
    )
