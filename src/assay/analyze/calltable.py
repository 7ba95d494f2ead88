"""The call table shared by ``unsafe-calls`` and ``safe-defeated``: one row per function name.

Rows are data (``rules/unsafe_calls.toml``): each names a function, its family and whether it
is the bounded (checked) or the unbounded variant. Users add their own wrappers through the
``functions`` setting, validated here and merged over the built-in rows by name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from assay.errors import ConfigError
from assay.model import Severity
from assay.rules import rule_table

_IDENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*\Z")
_TEXT_KEYS = ("family", "rationale", "alternative", "example")
_INDEX_KEYS = ("bound_arg", "null_arg")
_ROW_KEYS = frozenset({"name", "bounded", "severity", "cwe", *_TEXT_KEYS, *_INDEX_KEYS})


@dataclass(frozen=True, slots=True)
class CallRow:
    """One function of the table."""

    name: str
    """The identifier called, e.g. ``strcpy``."""
    family: str
    """Family id, e.g. ``strcpy-like``."""
    bounded: bool
    """True for the checked variant of the family."""
    severity: Severity = Severity.MEDIUM
    """Severity of a call (unbounded rows)."""
    cwe: int | None = None
    """CWE number."""
    rationale: str = ""
    """Why the function is (un)safe."""
    alternative: str = ""
    """What to call instead."""
    example: str = ""
    """A call that triggers the rule."""
    bound_arg: int | None = None
    """Bounded rows: 0-based index of the argument carrying the destination bound."""
    null_arg: int | None = None
    """0-based index of an argument that, written NULL, makes the call allocate (bounded)."""


@dataclass(frozen=True, slots=True)
class CallTable:
    """Every row, sorted by name, with the lookups derived from them."""

    rows: tuple[CallRow, ...]
    """The rows, sorted by name."""
    index: Mapping[str, CallRow]
    """Rows keyed by name."""
    names: frozenset[str]
    """Every name (a frozenset caches its hash: a cheap key for per-process caches)."""
    bounded: frozenset[str]
    """Names of the bounded rows."""
    unbounded: frozenset[str]
    """Names of the unbounded rows."""

    @classmethod
    def of(cls, rows: Iterable[CallRow]) -> CallTable:
        """A table of ``rows`` (a later row replaces an earlier one of the same name)."""
        index = {row.name: row for row in rows}
        ordered = tuple(index[name] for name in sorted(index))
        bounded = frozenset(r.name for r in ordered if r.bounded)
        return cls(ordered, index, frozenset(index), bounded, frozenset(index) - bounded)

    def __hash__(self) -> int:
        return hash(self.names)


def load_table(settings: Mapping[str, Any]) -> CallTable:
    """The built-in rows with the user's ``functions`` rows merged over them by name."""
    unknown = sorted(set(settings) - {"functions"})
    if unknown:
        raise ConfigError(f"unknown settings: {', '.join(unknown)}")
    document = rule_table("unsafe_calls.toml")
    families: Mapping[str, Mapping[str, Any]] = document["families"]
    extra = settings.get("functions", [])
    if not isinstance(extra, Sequence) or isinstance(extra, str):
        raise ConfigError("functions: expected a list of tables")
    builtin = [_row(raw, families) for raw in document["functions"]]
    return CallTable.of([*builtin, *(_row(_checked(raw), families) for raw in extra)])


def _checked(raw: object) -> Mapping[str, Any]:
    """Validate one user row; raise ``ConfigError`` naming the row and the bad key."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"functions: expected a table, got {raw!r}")
    where = f"functions[{raw.get('name', '?')!s}]"
    unknown = sorted(set(raw) - _ROW_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown keys {', '.join(unknown)}")
    problem = _problem(raw)
    if problem:
        raise ConfigError(f"{where}: {problem}")
    _severity(raw.get("severity", "medium"), where)
    return raw


def _problem(raw: Mapping[str, Any]) -> str:
    """What is wrong with the values of a row with known keys, or ''."""
    if not isinstance(raw.get("name"), str) or not _IDENT.match(raw["name"]):
        return "name must be a C identifier"
    if not isinstance(raw.get("bounded"), bool):
        return "bounded must be true or false"
    if not raw.get("family"):
        return "family is required"
    for key in _TEXT_KEYS:
        if key in raw and not isinstance(raw[key], str):
            return f"{key} must be a string"
    for key in (*_INDEX_KEYS, "cwe"):
        value = raw.get(key, 0)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            return f"{key} must be a non-negative integer"
    return ""


def _severity(text: object, where: str) -> Severity:
    try:
        return Severity.parse(str(text))
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _row(raw: Mapping[str, Any], families: Mapping[str, Mapping[str, Any]]) -> CallRow:
    """A row with its family's values filled in where the row leaves them out."""
    merged = {**families.get(raw["family"], {}), **raw}
    return CallRow(
        name=merged["name"],
        family=merged["family"],
        bounded=merged["bounded"],
        severity=_severity(merged.get("severity", "medium"), merged["name"]),
        cwe=merged.get("cwe"),
        rationale=merged.get("rationale", ""),
        alternative=merged.get("alternative", ""),
        example=merged.get("example", "").replace("{name}", merged["name"]),
        bound_arg=merged.get("bound_arg"),
        null_arg=merged.get("null_arg"),
    )
