"""results.sarif validates against the official SARIF 2.1.0 schema and carries what DESIGN asks."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest

from assay.model import Finding, Location, RuleId, Severity
from assay.report import sarif
from assay.storage.findings import FindingStore, store_path
from support import DATA, Run, write_tree

SCHEMA = json.loads((DATA / "schemas" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))


@pytest.fixture
def example_run(example_tree: Path, evaluate: Callable[..., Run]) -> Run:
    return evaluate(example_tree)


def test_sarif_validates_against_the_schema(example_run: Run) -> None:
    sarif = example_run.sarif()
    jsonschema.validate(sarif, SCHEMA, cls=jsonschema.Draft7Validator)
    assert sarif["runs"][0]["results"], "the example has findings"


def test_one_rule_per_rule_row_with_help_and_cwe(example_run: Run) -> None:
    driver = example_run.sarif()["runs"][0]["tool"]["driver"]
    ids = [r["id"] for r in driver["rules"]]
    assert ids == [r.id for r in example_run.evaluation.rules]
    assert len(ids) == len(set(ids))
    strcpy = next(r for r in driver["rules"] if r["id"] == "unsafe-calls/strcpy")
    assert strcpy["properties"]["cwe"].startswith("CWE-")
    assert strcpy["help"]["text"]


def test_results_carry_category_fingerprint_and_rule_index(example_run: Run) -> None:
    run = example_run.sarif()["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    categories = {r["properties"]["category"] for r in run["results"]}
    assert {"unsafe-calls", "safe-defeated", "complexity"} <= categories
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert not uri.startswith("/") and ".." not in uri
    prints = [r["partialFingerprints"]["assay/v1"] for r in run["results"]]
    json_prints = [f["fingerprint"] for f in example_run.findings()]
    assert prints == json_prints


def test_skipped_files_are_tool_notifications(tmp_path: Path, evaluate: Callable[..., Run]) -> None:
    tree = write_tree(tmp_path / "t", {"bad.c": b"\0" * 100, "ok.c": "int x;\n"})
    sarif = evaluate(tree).sarif()
    jsonschema.validate(sarif, SCHEMA, cls=jsonschema.Draft7Validator)
    notes = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert [n["descriptor"]["id"] for n in notes] == ["skipped/binary"]


_FINDINGS = [
    Finding(RuleId("unsafe-calls/memcpy"), "unsafe-calls", Severity.HIGH,
            Location("src/a b/ünï.c", 3, 4, None), "memcpy <unbounded> \"x\"", "memcpy(a, b, n);",
            "f" * 64 + ":1", {"family": "copy", "function": "memcpy", "in_macro": False}),
    Finding(RuleId("clones/clone"), "clones", Severity.LOW,
            Location("lib/x.c", 10, 40, "zlib@1.2.13"), "clone of 2 places", "",
            "e" * 64 + ":2",
            {"related": [{"path": "y.c", "start_line": 1, "end_line": 30}],
             "severity": "overridden", "ratio": 0.5, "nested": {"b": [1], "a": None}}),
    Finding(RuleId("not/in-index"), "other", Severity.CRITICAL,
            Location("z.c", 1, 1, "openssl@1.1.1"), "\u2028 line sep \x00", "\t tab",
            "d" * 64 + ":1", {}),
]  # fmt: skip


@pytest.mark.parametrize("finding", _FINDINGS, ids=lambda f: f.rule_id)
@pytest.mark.parametrize("mark", [None, {"status": "false-positive", "reason": "ü <b>"}])
def test_a_result_formatted_directly_is_what_the_encoder_writes(
    finding: Finding, mark: dict[str, str] | None
) -> None:
    index = {"unsafe-calls/memcpy": 0, "clones/clone": 7}
    expected = sarif.result(finding, index)
    if mark is not None:
        expected["suppressions"] = sarif.suppressions(mark)
    assert sarif.result_json(finding, index, mark) == json.dumps(expected, sort_keys=True)


def test_every_result_of_the_example_is_what_the_encoder_writes(example_run: Run) -> None:
    results = example_run.sarif()["runs"][0]["results"]
    store = FindingStore(store_path(example_run.out))
    try:
        findings = list(store.findings())
    finally:
        store.close()
    index = {
        r["id"]: i for i, r in enumerate(example_run.sarif()["runs"][0]["tool"]["driver"]["rules"])
    }
    assert len(findings) == len(results)
    for finding, written in zip(findings, results, strict=True):
        text = sarif.result_json(finding, index)
        assert text == json.dumps(sarif.result(finding, index), sort_keys=True)
        assert json.loads(text) == written
