"""The evaluation.json schema types every section docs/evaluation-json.md describes, and the
example's evaluation.json (the golden copy and a fresh run) validates against it."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path

import jsonschema

from schema_sections import SCHEMA, check, documented_sections, untyped_keys
from support import Run

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "golden" / "example" / "evaluation.json"


def test_every_documented_section_has_a_typed_schema_entry() -> None:
    sections = documented_sections()
    assert len(sections) == 22 and len(set(sections)) == 22
    properties = SCHEMA["properties"]
    assert [s for s in sections if s not in properties] == []
    bare = [s for s in sections if set(properties[s]) <= {"type", "description"}]
    assert bare == [], "sections typed only as 'object' or 'array'"


def test_the_golden_example_validates_with_every_key_typed() -> None:
    doc = json.loads(GOLDEN.read_text(encoding="utf-8"))
    check(doc)
    assert set(documented_sections()) - set(doc) == {"equivalence"}  # written by assay rebuild


def test_a_fresh_example_run_validates(example_tree: Path, evaluate: Callable[..., Run]) -> None:
    check(evaluate(example_tree).json())


def test_a_key_the_schema_does_not_name_or_a_wrong_type_is_caught() -> None:
    doc = json.loads(GOLDEN.read_text(encoding="utf-8"))
    extra = copy.deepcopy(doc)
    extra["unsafe-calls"]["surprise"] = 1
    assert untyped_keys(extra) == ["unsafe-calls.surprise"]
    for section, key, value in [
        ("unsafe-calls", "files", "7"),
        ("safe-defeated", "names", "strcpy_s"),
        ("vulnerabilities", "sources", None),
        ("components", "copies", {}),
        ("complexity", "totals", []),
        ("options", "archive", {"max_depth": 0}),
    ]:
        broken = copy.deepcopy(doc)
        broken[section][key] = value
        assert not jsonschema.Draft202012Validator(SCHEMA).is_valid(broken), (section, key)
