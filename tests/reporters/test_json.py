"""evaluation.json: validates against its published schema, one section per analyzer."""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import jsonschema

from assay.model import Finding, Location, RuleId, Severity
from assay.report import json as rj
from assay.storage.findings import FindingStore, store_path
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


def test_a_finding_formatted_directly_is_what_the_encoder_writes(
    example_tree: Path, evaluate: Callable[..., Run]
) -> None:
    """``finding_text`` against ``json.dumps`` of ``finding_json`` (sorted keys, non-ASCII
    kept), with and without a baseline mark, on the example's findings and odd ones."""
    run = evaluate(example_tree)
    store = FindingStore(store_path(run.out))
    try:
        findings = list(store.findings())
    finally:
        store.close()
    findings += [
        Finding(RuleId("x/y"), "x", Severity.INFO, Location("dir/ünï \"q\".c", 1, 2, None),
                "m\u2028\x00", "", "a" * 64 + ":1", {"k": [1.5, None], "a": {"z": "ü"}}),
        Finding(RuleId("x/z"), "x", Severity.CRITICAL, Location("b.c", 9, 9, "zlib@1.2.13"),
                "<m>", "e\te", "b" * 64 + ":3", {}),
    ]  # fmt: skip
    assert len(findings) > 2
    for n, finding in enumerate(findings):
        mark = {"status": "accepted", "reason": f"ü {n}"} if n % 2 else None
        expected = {**rj.finding_json(finding), **({"suppression": mark} if mark else {})}
        assert rj.finding_text(finding, mark) == json.dumps(
            expected, sort_keys=True, ensure_ascii=False
        )
