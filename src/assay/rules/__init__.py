"""Rules read from TOML rows: one constructor for every analyzer's rule table."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from functools import cache
from importlib import resources
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


@cache
def rule_table(name: str) -> dict[str, Any]:
    """The parsed rule file ``src/assay/rules/NAME`` shipped with the package, read once per
    process. Shared: callers must not change it."""
    text = (resources.files("assay") / "rules" / name).read_text("utf-8")
    return tomllib.loads(text)
