"""evaluation.json: validates against its published schema, one section per analyzer."""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import jsonschema

from support import Run

SCHEMA = json.loads(
    (resources.files("assay") / "schemas" / "evaluation.schema.json").read_text(encoding="utf-8")
)


def test_evaluation_json_validates_against_its_schema(
    example_tree: Path, evaluate: Callable[..., Run]
) -> None:
    doc = evaluate(example_tree).json()
    jsonschema.validate(doc, SCHEMA, cls=jsonschema.Draft202012Validator)
    assert {"unsafe-calls", "safe-defeated", "complexity"} <= set(doc)
    assert doc["complexity"]["functions"], "per-function rows are streamed into the section"


def test_findings_are_sorted_and_counted(example_tree: Path, evaluate: Callable[..., Run]) -> None:
    doc = evaluate(example_tree).json()
    keys = [(f["path"], f["start_line"], f["rule_id"]) for f in doc["findings"]]
    assert keys == sorted(keys)
    assert doc["summary"]["total_findings"] == len(doc["findings"])
    per_category = {c: sum(v.values()) for c, v in doc["summary"]["findings"].items()}
    for category, count in per_category.items():
        assert count == sum(1 for f in doc["findings"] if f["category"] == category)


def test_schema_rejects_a_broken_document(example_tree: Path, evaluate: Callable[..., Run]) -> None:
    doc = evaluate(example_tree).json()
    doc["findings"][0]["fingerprint"] = "not-a-fingerprint"
    validator = jsonschema.Draft202012Validator(SCHEMA)
    assert not validator.is_valid(doc)
