"""Frozen result values shared by every pipeline stage, and the tree hash ``InputInfo`` holds.

Nothing here imports from the rest of the package: ingest, analyzers, storage and
reporters all speak in these types. Values are immutable so that they can cross
process boundaries (pickled) and be shared without defensive copies.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any, NewType

SCHEMA_VERSION = "1.0"
"""Version of the evaluation.json schema (``schemas/evaluation.schema.json``)."""

RuleId = NewType("RuleId", str)
"""A stable rule identifier such as ``unsafe-calls/strcpy``."""

JSONValue = Any
"""A value that ``json.dumps`` accepts (kept loose on purpose: sections are free-form)."""


class Severity(IntEnum):
    """Finding severity, ordered so that ``>=`` compares with ``--fail-on``."""

    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        """Lower-case name used in files and on the command line."""
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        """Read a severity from its lower-case label."""
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown severity {text!r}") from None


class FileKind(StrEnum):
    """What a file is, decided from its name and its first bytes."""

    C = "c"
    CPP = "cpp"
    HEADER = "header"
    ELF = "elf"
    ARCHIVE = "archive"
    TEXT = "text"
    OTHER = "other"
    SYMLINK = "symlink"


SOURCE_KINDS = frozenset({FileKind.C, FileKind.CPP, FileKind.HEADER})
"""The kinds every C/C++ analysis reads (and the knowledge base records)."""


@dataclass(frozen=True, slots=True)
class Rule:
    """One documented rule; SARIF ``rules[]`` and the HTML help come from these rows."""

    id: RuleId
    """Stable identifier, e.g. ``unsafe-calls/strcpy``."""
    name: str
    """Kebab-case name, e.g. ``unbounded-strcpy``."""
    category: str
    """DESIGN.md category id, e.g. ``unsafe-calls``."""
    severity: Severity
    """Default severity of its findings."""
    summary: str
    """One sentence: what the rule finds."""
    rationale: str = ""
    """Why it matters."""
    cwe: int | None = None
    """CWE number, where one fits."""
    example: str = ""
    """A short code example that triggers the rule."""
    alternative: str = ""
    """What to use instead."""


@dataclass(frozen=True, slots=True)
class Location:
    """Where a finding is: a path relative to the evaluated root and a line span."""

    path: str
    """POSIX path relative to the evaluated root; archive members as ``a.tar.gz!/x/y.c``."""
    start_line: int
    """First line, 1-based."""
    end_line: int
    """Last line, 1-based, inclusive."""
    component: str | None = None
    """Component the file belongs to, or ``None`` for vendor code."""


@dataclass(frozen=True, slots=True)
class RawFinding:
    """A finding as an analyzer core produces it: no path, so identical files share it."""

    rule_id: RuleId
    """The rule that fired."""
    start_line: int
    """First line, 1-based."""
    end_line: int
    """Last line, 1-based, inclusive."""
    message: str
    """Short human-readable message."""
    evidence: str
    """The snippet that proves it (secrets already redacted)."""
    severity: Severity | None = None
    """Overrides the rule's default severity when set."""
    properties: Mapping[str, JSONValue] = field(default_factory=dict)
    """Extra facts (e.g. the metric value), copied into JSON and SARIF properties."""

    def __reduce__(self) -> tuple[type[RawFinding], tuple[Any, ...]]:
        """Pickled as a constructor call, which loads faster than dataclasses' generic
        ``__setstate__`` (cached results hold tens of thousands of findings)."""
        return (RawFinding, (self.rule_id, self.start_line, self.end_line, self.message,
                             self.evidence, self.severity, self.properties))  # fmt: skip


@dataclass(frozen=True, slots=True)
class Finding:
    """A finding attributed to one path, with its stable fingerprint."""

    rule_id: RuleId
    """The rule that fired."""
    category: str
    """DESIGN.md category id."""
    severity: Severity
    """Effective severity."""
    location: Location
    """Where it is."""
    message: str
    """Short human-readable message."""
    evidence: str
    """Snippet that proves it."""
    fingerprint: str
    """``sha256(rule:relpath:normalised evidence)`` plus ``:N`` for the N-th equal one in a file."""
    properties: Mapping[str, JSONValue] = field(default_factory=dict)
    """Extra facts."""


@dataclass(frozen=True, slots=True)
class Skipped:
    """An input (or part of one) that could not be evaluated, and why."""

    path: str
    """Path relative to the evaluated root ('' for the input itself)."""
    stage: str
    """``ingest``, ``parse`` or an analyzer id."""
    reason: str
    """Short machine-friendly reason, e.g. ``archive-escape``, ``too-large``."""
    detail: str = ""
    """Human-readable detail (limit and measured value)."""


class CopyKind(StrEnum):
    """How much of an upstream release a copy holds (thresholds in docs/components.md)."""

    FULL = "full"
    PARTIAL = "partial"
    FRAGMENT = "fragment"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Component:
    """One copy of a third-party library found in the evaluated tree."""

    name: str
    """The library's usual lower-case package name (``openssl``, ``zlib``, ``sqlite``)."""
    version: str | None
    """Exact version, or ``None`` when the evidence allows several (see ``candidates``)."""
    root: str
    """The copy's root directory relative to the evaluated root (``''`` for the root itself)."""
    kind: CopyKind = CopyKind.UNKNOWN
    """Full, partial or fragment copy; unknown without a release fingerprint to compare with."""
    candidates: tuple[str, ...] = ()
    """Versions the evidence allows, when it does not name one."""
    qualifiers: tuple[str, ...] = ()
    """Suffixes kept apart from the version (``fips``, ``dev``, distribution tags)."""
    cpe: str | None = None
    """CPE 2.3 name, where the library has one."""
    evidence: tuple[str, ...] = ()
    """``path:line`` of each piece of version evidence, or the paths of the release files
    that name a copy found by its files."""
    files: Mapping[str, int] = field(default_factory=dict)
    """File counts: ``total`` below the root, and with a fingerprint: ``unchanged``,
    ``modified``, ``missing``, ``added``."""
    built: bool | None = None
    """With a compile database: whether any translation unit of the copy was compiled."""
    files_version: str | None = None
    """The release of the knowledge base whose files the copy holds most of, when it is not
    ``version`` (the copy's own evidence, which wins): a disagreement reported with both."""

    @property
    def key(self) -> str:
        """Stable identifier of the copy: ``name@version:root``."""
        return f"{self.name}@{self.version or '?'}:{self.root or '.'}"

    @property
    def purl(self) -> str:
        """Package URL (``pkg:generic/openssl@1.1.1w``)."""
        version = f"@{self.version}" if self.version else ""
        return f"pkg:generic/{self.name}{version}"


@dataclass(frozen=True, slots=True)
class InputInfo:
    """What was evaluated."""

    name: str
    """Base name of the input as given."""
    kind: str
    """``directory``, ``archive`` or ``file`` (a lone binary)."""
    sha256: str
    """sha256 of the archive, or the :func:`tree_hash` of a directory."""


def tree_hash(files: Iterable[tuple[str, str]]) -> str:
    """The hash of a tree from (relative POSIX path, content sha256 hex) of its regular files:
    sha256 over the sorted lines ``path\\0sha256\\n``, so equal trees have equal hashes."""
    digest = hashlib.sha256()
    for line in sorted(f"{path}\0{sha256}\n" for path, sha256 in files):
        digest.update(line.encode("utf-8"))
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The summaries of one evaluation; findings live in the on-disk store and stream out."""

    schema_version: str
    """Version of the evaluation.json schema."""
    tool_version: str
    """assay version."""
    input: InputInfo
    """What was evaluated."""
    options: Mapping[str, JSONValue]
    """Effective options that change results (thresholds, jobs excluded)."""
    inventory: Mapping[str, JSONValue]
    """Files by kind, counts, bytes, unique contents, labels."""
    sections: Mapping[str, Mapping[str, JSONValue]]
    """One summary per analyzer, keyed by category id."""
    finding_counts: Mapping[str, Mapping[str, int]]
    """Findings per category and severity label."""
    skipped: tuple[Skipped, ...]
    """Everything that was not evaluated, with the reason."""
    rules: tuple[Rule, ...]
    """Every rule that can produce a finding, sorted by id."""
    rows_keys: Mapping[str, str] = field(default_factory=dict)
    """Sections that have per-item rows in the store, and the key they appear under."""
    components: tuple[Component, ...] = ()
    """Third-party copies found, sorted by (name, root)."""
    suppressions: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Findings a baseline suppresses: fingerprint -> ``status`` and ``reason``."""
    baseline: Mapping[str, JSONValue] = field(default_factory=dict)
    """The baseline applied (file, entries, matched, stale), empty without one."""
    rating: Mapping[str, JSONValue] = field(default_factory=dict)
    """The rating as JSON (``assay.assess.rating``), once ``assay.pipeline`` computed it;
    readers compute it otherwise (``assay.assess.rating.recorded_or_rated``)."""
    trend: tuple[Mapping[str, JSONValue], ...] = ()
    """Earlier evaluations of the same product from the history (release, verdict, headline),
    oldest first; empty without history."""

    @property
    def total_findings(self) -> int:
        """Number of findings over all categories."""
        return sum(sum(by_sev.values()) for by_sev in self.finding_counts.values())

    def max_severity(self) -> Severity | None:
        """Highest severity among the findings, or ``None`` when there are none."""
        present = [
            Severity.parse(label)
            for by_sev in self.finding_counts.values()
            for label, count in by_sev.items()
            if count
        ]
        return max(present) if present else None
