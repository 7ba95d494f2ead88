"""``binaries``: facts of shipped ELF files, static archives and OS release files.

A thin adapter over the package's modules (``elf``, ``findings``, ``signatures``, ``system``):
ELF facts (architecture, NX, PIE, RELRO, canary, FORTIFY, RPATH, stripped, imports, toolchain,
build paths, dates), per-binary findings, the library versions inside binaries, and the
release files that name the distribution; ELF files and archives are read through
:mod:`assay.formats`. The aggregator folds them into the hardening matrix; the engine then
completes the section with the OS, the knowledge base's verdicts and the comparison with the
source copies (:func:`assay.assess.binaries.complete`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar

from assay.analyze.binaries import elf, findings, kernel, signatures, system
from assay.analyze.binaries.summary import BinariesAggregator
from assay.analyze.calltable import CallTable, load_table
from assay.analyze.interface import AnalyzerFailure, Catalogued, Content, FileResult
from assay.formats import ar as archive
from assay.formats import elf as elf_format
from assay.ingest.interface import SourceFile
from assay.model import FileKind, JSONValue, Rule
from assay.parse import ParsedFile
from assay.rules import rule_from_row, rule_table

ID = findings.CATEGORY
"""Analyzer and category id."""
VERSION = "4"
"""Bumped whenever results for the same input can change."""


@cache
def rules() -> tuple[Rule, ...]:
    """The category's rules, from ``rules/binaries.toml``."""
    rows = sorted(rule_table("binaries.toml").items())
    return tuple(rule_from_row(ID, key, row) for key, row in rows)


def elf_data(facts: elf.ElfFacts, table: CallTable) -> dict[str, JSONValue]:
    """The per-file facts the aggregator reads."""
    return {
        "machine": facts.machine, "bits": facts.bits, "endian": facts.endian,
        "type": facts.type, "nx": facts.nx, "pie": facts.pie, "relro": facts.relro,
        "canary": facts.canary, "fortify": bool(facts.fortified) if facts.imports else None,
        "stripped": facts.stripped, "static": facts.static, "soname": facts.soname,
        "rpath": list(facts.rpath), "toolchain": list(facts.toolchain),
        "unbounded": sorted(set(facts.imports) & table.unbounded),
    }  # fmt: skip


@dataclass(frozen=True, slots=True)
class BinariesAnalyzer(Catalogued):
    """The ``binaries`` analyzer."""

    table: CallTable
    ID: ClassVar[str] = ID
    VERSION: ClassVar[str] = VERSION

    @property
    def version(self) -> str:
        """Result version, with a digest of the signature table (it changes results too)."""
        return f"{VERSION}+{signatures.digest()}"

    def rules(self) -> tuple[Rule, ...]:
        """Every rule of the category."""
        return rules()

    def wants(self, file: SourceFile) -> bool:
        """ELF files, ``.a`` archives, release files under ``etc/``, kernel module trees and
        kernel images (by name: a bzImage is an archive to ingest, a raw ``Image`` other)."""
        if file.kind is FileKind.ELF or system.is_module_path(file.path):
            return True
        if file.kind is FileKind.TEXT:
            return system.is_release_file(file.path)
        if file.kind in (FileKind.OTHER, FileKind.ARCHIVE) and kernel.is_image_name(
            file.path.rpartition("/")[2]
        ):
            return True
        return file.path.endswith(".a") and file.kind in (FileKind.OTHER, FileKind.ARCHIVE)

    def analyze(self, parsed: ParsedFile) -> FileResult:
        """C/C++ is not this analyzer's input."""
        raise AnalyzerFailure("unsupported-kind", "C/C++ source")

    def analyze_content(self, content: Content) -> FileResult:
        """One ELF file, static archive or release file."""
        data = content.source
        if elf_format.is_elf(data):
            return self._elf(data, content.name)
        if archive.is_ar(data):
            return self._archive(data, content.name)
        if content.kind is FileKind.TEXT and content.name in system.RELEASE_FILES:
            fields = system.release_fields(content.name, data.decode("utf-8", "replace"))
            return FileResult(data={"release": dict(fields)})
        if kernel.is_image_name(content.name):
            texts = kernel.version_texts(data)
            hits = signatures.detect(texts, content.name) if texts else ()
            return FileResult(data={"components": _components(hits)})
        return FileResult()

    def _elf(self, data: bytes, name: str) -> FileResult:
        try:
            facts, strings = elf.read_elf_and_strings(data)
        except elf.BadElf as exc:
            raise AnalyzerFailure("bad-elf", str(exc)) from exc
        hits = signatures.detect(data, name, strings, frozenset(facts.imports))
        return FileResult(
            findings=findings.of_elf(facts, self.table),
            data={"elf": elf_data(facts, self.table), "components": _components(hits)},
        )

    def _archive(self, data: bytes, name: str) -> FileResult:
        """Each ELF member's imports, toolchain and leaks; the archive's components."""
        imports: set[str] = set()
        paths: set[str] = set()
        stamps: set[str] = set()
        machines: set[str] = set()
        count = 0
        texts: list[bytes] = []
        try:
            for member in _elf_members(data):
                facts, strings = elf.read_elf_and_strings(member.data)
                texts.append(strings)
                count += 1
                imports.update(facts.imports)
                paths.update(facts.build_paths)
                stamps.update(facts.timestamps)
                machines.add(f"{facts.machine} {facts.bits}-bit {facts.endian}-endian")
        except (archive.BadArchive, elf.BadElf) as exc:
            raise AnalyzerFailure("bad-archive", str(exc)) from exc
        found = (
            *findings.unbounded(imports, self.table),
            *findings.leaks(sorted(paths)[:20], sorted(stamps)[:20]),
        )
        summary: dict[str, JSONValue] = {"elf_members": count, "machines": sorted(machines)}
        # patterns read the members' string sections, each starting after a NUL
        hits = signatures.detect(data, name, b"\0" + b"\0".join(texts) if texts else None)
        return FileResult(
            findings=found, data={"archive": summary, "components": _components(hits)}
        )

    def aggregator(self) -> BinariesAggregator:
        """A fresh aggregator."""
        return BinariesAggregator()


def _elf_members(data: bytes) -> Iterator[archive.Member]:
    """The ELF members of an archive; past ``MAX_MEMBERS`` the rest is left unread."""
    try:
        for member in archive.iter_members(data):
            if not member.is_index and elf_format.is_elf(member.data):
                yield member
    except archive.TooManyMembers:
        return


def _components(hits: tuple[signatures.Hit, ...]) -> list[JSONValue]:
    return [[h.library, h.version, h.evidence] for h in hits]


def configure(settings: Mapping[str, Any]) -> BinariesAnalyzer:
    """The analyzer; the call table is the unsafe-calls table with the user's rows."""
    return BinariesAnalyzer(load_table(settings))
