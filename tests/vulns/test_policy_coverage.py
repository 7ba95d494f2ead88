"""Every product a rule row can name has a support policy row citing its source (issue #18):
the rule files' ``name`` fields, against ``data/vulns/products.toml`` and the shipped data."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from assay.assess.vulns import db

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "src" / "assay" / "rules"
POLICY_KINDS = {"branches", "newest", "latest", "stopped", "unknown"}


def _names(rule_file: str) -> set[str]:
    """The ``name`` of every table of a signature rule file."""
    doc = tomllib.loads((RULES / rule_file).read_text(encoding="utf-8"))
    found = {row["name"] for row in doc.values() if isinstance(row, dict) and "name" in row}
    assert found, rule_file
    return found


def _rows() -> dict[str, dict[str, object]]:
    doc = tomllib.loads((REPO / "data/vulns/products.toml").read_text(encoding="utf-8"))
    rows: dict[str, dict[str, object]] = doc["products"]
    return rows


@pytest.mark.parametrize("rule_file", ["binary_signatures.toml", "signatures.toml"])
def test_every_named_product_has_a_policy_row_with_a_source(rule_file: str) -> None:
    rows = _rows()
    missing = sorted(_names(rule_file) - set(rows))
    assert not missing, f"no row in data/vulns/products.toml for {missing}"
    for name in _names(rule_file):
        row = rows[name]
        assert row["policy"] in POLICY_KINDS, name
        assert str(row["source"]).startswith(("https://", "http://")), name


def test_shipped_data_carries_every_policy_row() -> None:
    """The shipped vulndb.json.gz was rebuilt after the last products.toml change."""
    shipped = db.read(db.default_path())
    rows = _rows()
    assert {p.product for p in shipped.policies} == set(rows)
    for policy in shipped.policies:
        assert policy.source == rows[policy.product]["source"], policy.product
