"""The analyzer contract: a cheap ``wants``, a per-file ``analyze`` on the one parse, and an
aggregator that folds per-path results into a section summary (the corpus hook).

``analyze`` runs in worker processes on unique file contents and must not depend on the path;
the engine attributes its result to every path that holds the same content. Aggregators run in
the main process, receive one call per path (each copy ships) and keep only summaries.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from assay.errors import Unreadable
from assay.ingest.interface import SourceFile
from assay.model import FileKind, JSONValue, RawFinding, Rule
from assay.parse import ParsedFile

VENDOR = "(vendor)"
"""Per-component figures name the vendor's own code (no copy) with this key."""


class AnalyzerFailure(Unreadable):
    """Raised by ``analyze`` when one file cannot be evaluated; becomes a ``Skipped`` record."""


@dataclass(frozen=True, slots=True)
class FileResult:
    """What one analyzer found in one file content."""

    findings: tuple[RawFinding, ...] = ()
    """Path-free findings."""
    data: Mapping[str, JSONValue] = field(default_factory=dict)
    """Per-file facts for the aggregator (counts, definitions, includes)."""
    rows: tuple[Mapping[str, JSONValue], ...] = ()
    """Per-item records streamed to the store (e.g. one per function); each has a ``line``."""

    def __reduce__(self) -> tuple[type[FileResult], tuple[Any, ...]]:
        """Pickled as a constructor call, which loads faster than dataclasses' generic
        ``__setstate__`` (a warm run loads tens of thousands from the result cache)."""
        return (FileResult, (self.findings, self.data, self.rows))


@dataclass(frozen=True, slots=True)
class Content:
    """A file that is not C/C++ source (text, build files, key files, ELF binaries).

    Analyzers get its bytes, kind and base name (``Makefile``, ``shadow``, ``id_rsa``): the
    name decides what some text files are, and the engine keeps files of the same content but
    different names apart so that this stays pure.
    """

    source: bytes
    """The file's bytes (at most ``ParseLimits.max_bytes``)."""
    kind: FileKind
    """Its kind (``text``, ``elf``, ``other``)."""
    name: str
    """Base name of the file (no directory)."""


@dataclass(frozen=True, slots=True)
class PathContext:
    """Where one copy of a file content sits in the evaluated tree."""

    path: str
    """POSIX path relative to the evaluated root."""
    directory: str
    """Top-level directory below the release root (``.`` for files at the root)."""
    component: str | None = None
    """Key of the third-party copy the path belongs to, ``None`` for vendor code."""

    @property
    def scope(self) -> str:
        """The component key, or ``VENDOR`` for code that belongs to no copy."""
        return self.component if self.component is not None else VENDOR


class SourceOnly:
    """Mixin for analyzers that only read C/C++: ``analyze_content`` is never wanted."""

    __slots__ = ()

    def analyze_content(self, content: Content) -> FileResult:
        """Refuse: this analyzer reads C/C++ only."""
        raise AnalyzerFailure("unsupported-kind", content.kind.value)


class Catalogued:
    """Mixin for an analyzer whose category id and result version are class constants (``ID``,
    ``VERSION``) and whose per-item rows, if it has any, appear under ``ROWS_KEY``."""

    __slots__ = ()
    ID: ClassVar[str]
    VERSION: ClassVar[str]
    ROWS_KEY: ClassVar[str | None] = None

    @property
    def id(self) -> str:
        """Category id."""
        return self.ID

    @property
    def version(self) -> str:
        """Result version (part of the result cache's keys)."""
        return self.VERSION

    @property
    def rows_key(self) -> str | None:
        """Name of the per-item rows in the section, or ``None``."""
        return self.ROWS_KEY


class Aggregator(Protocol):
    """Folds per-path results into one section; lives in the main process.

    An aggregator whose ``finish`` is long and mostly numpy (which releases the GIL) may set
    the class attribute ``finish_beside = True``: its finish then runs on a thread while the
    other aggregators finish. It must then share no mutable state with them.
    """

    def add(self, ctx: PathContext, result: FileResult) -> None:
        """Count one path's result (called once per path, copies included)."""

    def add_unique(self, result: FileResult) -> None:
        """Count one unique content's result (called once per distinct content)."""

    def finish(self) -> tuple[Mapping[str, JSONValue], Iterable[tuple[str, RawFinding]]]:
        """The section summary and corpus-level findings as (path, finding) pairs."""
        ...


class FileAnalyzer(Protocol):
    """A per-file analyzer. Instances are picklable and configured before the pool starts."""

    @property
    def id(self) -> str:
        """DESIGN.md category id; also the analyzer's section name in evaluation.json."""
        ...

    @property
    def version(self) -> str:
        """Bumped whenever results for the same input can change (part of cache keys)."""
        ...

    @property
    def rows_key(self) -> str | None:
        """Name under which ``FileResult.rows`` appear in the section, or ``None``."""
        ...

    def rules(self) -> tuple[Rule, ...]:
        """Every rule this analyzer can report."""
        ...

    def wants(self, file: SourceFile) -> bool:
        """Cheap test on kind, name and size: does ``analyze`` apply to this file?"""
        ...

    def analyze(self, parsed: ParsedFile) -> FileResult:
        """Analyze one parsed C/C++ file. Pure: no paths, no I/O, no global state."""
        ...

    def analyze_content(self, content: Content) -> FileResult:
        """Analyze one file of another kind (only called for kinds ``wants`` accepted)."""
        ...

    def aggregator(self) -> Aggregator:
        """A fresh aggregator for one evaluation."""
        ...
