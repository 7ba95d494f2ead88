"""What docs/evaluation-json.md describes, read from its table, and the check that the schema
types each of those sections (shared by the unit and realworld schema tests)."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

DOC = Path(__file__).resolve().parents[1] / "docs" / "evaluation-json.md"
SCHEMA: dict[str, Any] = json.loads(
    (resources.files("assay") / "schemas" / "evaluation.schema.json").read_text(encoding="utf-8")
)


def documented_sections() -> list[str]:
    """The top-level keys of the doc's table (its rows start with ``| `key` |``)."""
    return re.findall(r"^\| `([\w-]+)` \|", DOC.read_text(encoding="utf-8"), re.MULTILINE)


def untyped_keys(doc: dict[str, Any]) -> list[str]:
    """``section.key`` for every key of a documented object section that the schema does not
    name (so a new key cannot slip past the schema untyped)."""
    missing = []
    for section in documented_sections():
        value, rule = doc.get(section), SCHEMA["properties"][section]
        if isinstance(value, dict) and "properties" in rule:
            missing += [f"{section}.{key}" for key in value if key not in rule["properties"]]
    return missing


def check(doc: dict[str, Any]) -> None:
    """The document validates, and every key of its documented sections is typed."""
    jsonschema.validate(doc, SCHEMA, cls=jsonschema.Draft202012Validator)
    assert untyped_keys(doc) == []
