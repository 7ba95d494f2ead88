"""The evaluation centre's inventory table: per library, copies by kind and their versions."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from assay.correlate.components import compile_db
from assay.correlate.components.copies import Ownership
from assay.ingest.interface import SourceFile
from assay.model import SOURCE_KINDS, Component, CopyKind
from assay.versions import key as versions_key


def _ordered(library: str, versions: set[str]) -> list[str]:
    """``versions`` in the library's release order (``assay.versions``); a version
    without a number (BoringSSL's ``''``) sorts first, as text."""

    def order(version: str) -> tuple[int, Any, str]:
        try:
            return (1, versions_key(library, version), version)
        except ValueError:
            return (0, (), version)

    return sorted(versions, key=order)


def with_file_counts(
    components: Sequence[Component], files: Sequence[SourceFile]
) -> tuple[Component, ...]:
    """``components`` with the number of C/C++ files below each root (``files['total']``)."""
    owners = Ownership.of(components)
    totals: Counter[str] = Counter()
    for file in files:
        if file.kind in SOURCE_KINDS:
            owner = owners.owner(file.path)
            if owner is not None:
                totals[owner.key] += 1
    return tuple(replace(c, files={"total": totals[c.key], **c.files}) for c in components)


def _library_row(copies: list[Component]) -> dict[str, Any]:
    kinds = Counter(c.kind.value for c in copies)
    versions = _ordered(copies[0].name, {c.version for c in copies if c.version})
    return {
        "copies": len(copies),
        **{kind.value: kinds[kind.value] for kind in CopyKind},
        "distinct_versions": len(versions),
        "versions": versions,
        "oldest": versions[0] if versions else None,
        "newest": versions[-1] if versions else None,
        "unversioned": sum(1 for c in copies if not c.version),
        "not_built": sum(1 for c in copies if c.built is False),
    }


def component_json(component: Component) -> dict[str, Any]:
    """One copy as JSON."""
    return {
        "key": component.key, "name": component.name, "version": component.version,
        "candidates": list(component.candidates), "qualifiers": list(component.qualifiers),
        "root": component.root, "kind": component.kind.value, "cpe": component.cpe,
        "purl": component.purl, "evidence": list(component.evidence),
        "files": dict(component.files), "built": component.built,
        "files_version": component.files_version,
    }  # fmt: skip


def section(
    components: Sequence[Component],
    build: dict[str, Any] | None = None,
    knowledge_base: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``components`` section: the library table, every copy, the build labels."""
    by_library: dict[str, list[Component]] = defaultdict(list)
    for component in components:
        by_library[component.name].append(component)
    return {
        "libraries": {name: _library_row(by_library[name]) for name in sorted(by_library)},
        "copies": [component_json(c) for c in components],
        "build": build,
        "knowledge_base": knowledge_base,
    }


def with_build(
    components: Sequence[Component], files: Sequence[SourceFile], db_files: Sequence[str]
) -> tuple[tuple[Component, ...], dict[str, Any]]:
    """Label copies built or not built from a compile database; the ``build`` summary."""
    units = [f.path for f in files if compile_db.is_unit(f.path)]
    compiled = compile_db.built(db_files, units)
    owners = Ownership.of(components)
    built_keys = {owner.key for p in compiled if (owner := owners.owner(p)) is not None}
    labelled = tuple(replace(c, built=c.key in built_keys) for c in components)
    vendor = [p for p in units if owners.owner(p) is None]
    summary = {
        "database_entries": len(db_files),
        "translation_units": len(units),
        "built": len(compiled),
        "not_built": len(units) - len(compiled),
        "vendor_not_built": sorted(p for p in vendor if p not in compiled),
        "copies_not_built": sorted(c.key for c in labelled if not c.built),
    }
    return labelled, summary
