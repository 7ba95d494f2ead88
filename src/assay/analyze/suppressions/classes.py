"""What a switched-off warning protects: the class table of ``rules/suppressions.toml``.

Names from every tool (GCC/Clang warnings, MSVC numbers, clang-tidy checks, cppcheck ids,
Coverity checkers) are compared in one normal form (:func:`normal`); a class holds exact names
and prefixes (a name ending in ``*``). The most severe class that lists a name wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from assay.model import Severity
from assay.rules import rule_table

UNCLASSIFIED = "unclassified"
"""Class of a name no row lists."""


@dataclass(frozen=True, slots=True)
class WarningClass:
    """One class of warnings and the severity of switching one of them off."""

    name: str
    """``security``, ``correctness`` or ``hygiene``."""
    severity: Severity
    """Severity of a suppression of a warning of this class."""
    exact: frozenset[str]
    """Normalised names."""
    prefixes: tuple[str, ...]
    """Normalised name prefixes."""

    def holds(self, name: str) -> bool:
        """True when ``name`` (normalised) belongs to this class."""
        return name in self.exact or name.startswith(self.prefixes)


def normal(name: str) -> str:
    """``-Wno-Format_Security=2`` → ``format-security``; ``4996`` → ``c4996``."""
    text = name.strip().lower().replace("_", "-")
    if text.startswith("-w"):
        text = text[2:]
    if text.startswith("no-"):
        text = text[3:]
    text = text.partition("=")[0]
    return f"c{text}" if text.isdigit() else text


@cache
def document() -> Mapping[str, Any]:
    """The parsed ``suppressions.toml``."""
    return rule_table("suppressions.toml")


@cache
def classes() -> tuple[WarningClass, ...]:
    """The classes, most severe first."""
    found = [_class(name, row) for name, row in document()["classes"].items()]
    return tuple(sorted(found, key=lambda c: -c.severity))


def _class(name: str, row: Mapping[str, Any]) -> WarningClass:
    names = [str(n).lower() for n in row["names"]]
    return WarningClass(
        name=name,
        severity=Severity.parse(row["severity"]),
        exact=frozenset(n for n in names if not n.endswith("*")),
        prefixes=tuple(n[:-1] for n in names if n.endswith("*")),
    )


def classify(name: str) -> WarningClass | None:
    """The class of one warning name (any spelling), or ``None``."""
    key = normal(name)
    return next((c for c in classes() if c.holds(key)), None)


def worst(names: Iterable[str]) -> tuple[str, Severity]:
    """Class name and severity of the most severe warning among ``names`` (low if none known)."""
    found = [c for c in map(classify, names) if c is not None]
    if not found:
        return UNCLASSIFIED, Severity.LOW
    top = max(found, key=lambda c: c.severity)
    return top.name, top.severity
