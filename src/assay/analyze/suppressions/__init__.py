"""``suppressions``: warnings switched off in the source (pragmas, NOLINT, cppcheck-suppress,
Coverity annotations) and in build files (``-w``, ``-Wno-*``, ``/wdN``).

Each suppression is one finding whose severity follows what the switched-off warning protects
(the class table of ``rules/suppressions.toml``). The section counts suppressions per
top-level directory and per component, as a density per 1,000 lines of C/C++ beside the count
of build-file flags. Makefile.in files written by automake are recognised and not counted
(their Makefile.am is).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar

from assay.analyze.interface import AnalyzerFailure, Catalogued, Content, FileResult
from assay.analyze.suppressions.classes import document, worst
from assay.analyze.suppressions.scan import (
    Suppression,
    generated_by_automake,
    in_build_file,
    in_source,
)
from assay.analyze.suppressions.tally import SuppressionTally
from assay.errors import ConfigError
from assay.ingest.interface import SourceFile
from assay.model import SOURCE_KINDS, FileKind, RawFinding, Rule, RuleId
from assay.parse import ParsedFile
from assay.rules import rule_from_row

ID = "suppressions"
"""Analyzer and category id."""
VERSION = "1"
"""Bumped whenever results for the same input can change."""

_BUILD_NAMES = frozenset(
    {"makefile", "gnumakefile", "cmakelists.txt", "configure.ac", "meson.build", "kbuild"}
)
_BUILD_SUFFIXES = (".mk", ".mak", ".am", ".cmake")


def is_build_file(name: str) -> bool:
    """Makefiles (also ``Makefile.*``, ``*.mk``, ``*.am``), CMake, autoconf and meson files."""
    lower = name.lower()
    if lower == "configure.in":
        return True
    base = lower.removesuffix(".in")
    return base in _BUILD_NAMES or base.startswith("makefile") or base.endswith(_BUILD_SUFFIXES)


@cache
def rules() -> tuple[Rule, ...]:
    """One rule per way of switching a warning off."""
    return tuple(rule_from_row(ID, row["kind"], row) for row in document()["rules"])


def findings_of(found: list[Suppression]) -> tuple[RawFinding, ...]:
    """One finding per suppression, severity by the worst class it switches off."""
    return tuple(_finding(s) for s in found)


def _finding(item: Suppression) -> RawFinding:
    klass, severity = worst(item.warnings)
    what = ", ".join(item.warnings) if item.warnings else "every warning"
    return RawFinding(
        rule_id=RuleId(f"{ID}/{item.kind}"),
        start_line=item.line,
        end_line=item.line,
        message=f"{item.tool} told to ignore {what}" + (f" ({klass})" if item.warnings else ""),
        evidence=item.evidence,
        severity=severity if item.warnings else None,
        properties={"tool": item.tool, "warnings": list(item.warnings), "class": klass},
    )


def _data(found: list[Suppression]) -> dict[str, Any]:
    warnings = Counter(w for s in found for w in s.warnings)
    warnings.update("(all)" for s in found if not s.warnings)
    return {
        "kinds": dict(Counter(s.kind for s in found)),
        "classes": dict(Counter(worst(s.warnings)[0] if s.warnings else "all" for s in found)),
        "warnings": dict(warnings),
    }


@dataclass(frozen=True, slots=True)
class Suppressions(Catalogued):
    """The ``suppressions`` analyzer: C/C++ through the parse, build files through their text."""

    ID: ClassVar[str] = ID
    VERSION: ClassVar[str] = VERSION

    def rules(self) -> tuple[Rule, ...]:
        """The eight suppression rules."""
        return rules()

    def wants(self, file: SourceFile) -> bool:
        """C/C++ files and text build files."""
        if file.kind in SOURCE_KINDS:
            return True
        return file.kind is FileKind.TEXT and is_build_file(file.path.rpartition("/")[2])

    def analyze(self, parsed: ParsedFile) -> FileResult:
        """Pragmas and annotation comments of one C/C++ file."""
        found = in_source(parsed)
        data = {"lines": parsed.line_count, **_data(found)}
        return FileResult(findings=findings_of(found), data=data)

    def analyze_content(self, content: Content) -> FileResult:
        """Warning flags of one build file."""
        if content.kind is not FileKind.TEXT:
            raise AnalyzerFailure("unsupported-kind", content.kind.value)
        if generated_by_automake(content.source):
            return FileResult(data={"build": True, "generated": True})
        found = in_build_file(content.source.decode("utf-8", "replace"))
        return FileResult(findings=findings_of(found), data={"build": True, **_data(found)})

    def aggregator(self) -> SuppressionTally:
        """A fresh per-directory, per-component tally."""
        return SuppressionTally()


def configure(settings: Mapping[str, Any]) -> Suppressions:
    """The analyzer; it has no settings."""
    if settings:
        raise ConfigError(f"unknown settings: {', '.join(sorted(settings))}")
    return Suppressions()
