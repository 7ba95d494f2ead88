"""Read OSV-format vulnerability records (https://ossf.github.io/osv-schema/).

``read`` takes a directory of ``*.json`` records (walked recursively) or a ``.zip`` of them
(members are read in memory, never extracted, and capped in size and number) and turns each
record into advisories with ``osv_record.parse`` (how a record maps to advisories is described
there). Records naming no known package are skipped and listed in
``ImportReport.unknown_packages``; records with only ``GIT`` commit ranges are kept and listed in
``git_only``; files that cannot be read or are not an OSV JSON object are listed in ``errors``.
``import_into`` is ``assay kb import``.

The output is sorted, so the same input always gives the same report.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from assay.assess.vulns.model import Advisory
from assay.assess.vulns.osv_record import parse
from assay.errors import IngestError

MAX_MEMBER_BYTES = 16 * 1024 * 1024
"""Largest zip member (uncompressed) or JSON file read; bigger ones are skipped and recorded."""
MAX_MEMBERS = 200_000
"""Most zip members looked at; the rest are recorded as one error."""


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What one ``read`` produced and what it could not use."""

    advisories: tuple[Advisory, ...]
    """Advisories of known libraries, sorted by library, id and reference."""
    matched: int
    """Records that named at least one known library."""
    git_only: tuple[str, ...]
    """OSV ids of records kept with ``ranges=()`` because they only give GIT commit ranges."""
    unknown_packages: tuple[str, ...]
    """OSV ids of records skipped because no affected package maps to a library."""
    files: int
    """JSON files (or zip members) looked at."""
    errors: tuple[str, ...]
    """``file: reason`` for files that were unreadable, too large or not an OSV record."""


class _Invalid(ValueError):
    """A file is not a usable OSV record."""


def read(path: Path) -> ImportReport:
    """Read every OSV JSON record under directory ``path`` or in zip file ``path``."""
    if path.is_dir():
        documents = _directory(path)
    elif path.is_file() and path.suffix.lower() == ".zip":
        documents = _zip(path)
    elif path.is_file() and path.suffix.lower() == ".json":
        documents = _one(path)
    else:
        raise IngestError(f"{path} is neither a directory, a .zip nor a .json of OSV records")
    return _report(documents)


def _report(documents: Iterator[tuple[str, bytes | str]]) -> ImportReport:
    advisories: set[Advisory] = set()
    git_only: set[str] = set()
    unknown: set[str] = set()
    errors: list[str] = []
    files = matched = 0
    for name, content in documents:
        if isinstance(content, str):
            errors.append(f"{name}: {content}")
            continue
        files += 1
        try:
            parsed = parse(_load(content), name)
        except _Invalid as exc:
            errors.append(f"{name}: {exc}")
            continue
        if not parsed.advisories:
            unknown.add(parsed.osv_id)
            continue
        matched += 1
        advisories.update(parsed.advisories)
        if parsed.git_only:
            git_only.add(parsed.osv_id)
    return ImportReport(
        advisories=tuple(sorted(advisories, key=_sort_key)),
        matched=matched,
        git_only=tuple(sorted(git_only)),
        unknown_packages=tuple(sorted(unknown)),
        files=files,
        errors=tuple(sorted(errors)),
    )


def _sort_key(advisory: Advisory) -> tuple[str, str, str]:
    return (advisory.library, advisory.id, advisory.reference)


def _load(content: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(content)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _Invalid(f"invalid JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise _Invalid("not a JSON object")
    if not isinstance(doc.get("id"), str) or not doc["id"]:
        raise _Invalid("no OSV id")
    return doc


# --- inputs: each yields (name, bytes) or (name, error text) -------------------------------------


def _directory(root: Path) -> Iterator[tuple[str, bytes | str]]:
    for file in sorted(p for p in root.rglob("*.json") if p.is_file()):
        name = file.relative_to(root).as_posix()
        try:
            if file.stat().st_size > MAX_MEMBER_BYTES:
                yield name, f"larger than {MAX_MEMBER_BYTES} bytes"
                continue
            yield name, file.read_bytes()
        except OSError as exc:
            yield name, f"unreadable: {exc}"


def _one(file: Path) -> Iterator[tuple[str, bytes | str]]:
    try:
        if file.stat().st_size > MAX_MEMBER_BYTES:
            yield file.name, f"larger than {MAX_MEMBER_BYTES} bytes"
            return
        yield file.name, file.read_bytes()
    except OSError as exc:
        yield file.name, f"unreadable: {exc}"


def _zip(archive: Path) -> Iterator[tuple[str, bytes | str]]:
    try:
        with zipfile.ZipFile(archive) as zf:
            yield from _members(zf)
    except (OSError, zipfile.BadZipFile) as exc:
        yield archive.name, f"unreadable zip: {exc}"


def _members(zf: zipfile.ZipFile) -> Iterator[tuple[str, bytes | str]]:
    infos = [i for i in zf.infolist() if not i.is_dir() and i.filename.lower().endswith(".json")]
    if len(infos) > MAX_MEMBERS:
        yield "(zip)", f"{len(infos) - MAX_MEMBERS} members beyond the first {MAX_MEMBERS} skipped"
    for info in sorted(infos[:MAX_MEMBERS], key=lambda i: i.filename):
        yield info.filename, _member(zf, info)


def _member(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes | str:
    if info.file_size > MAX_MEMBER_BYTES:
        return f"larger than {MAX_MEMBER_BYTES} bytes"
    try:
        with zf.open(info) as stream:
            data = stream.read(MAX_MEMBER_BYTES + 1)
    except (OSError, zipfile.BadZipFile, RuntimeError, NotImplementedError) as exc:
        return f"unreadable member: {exc}"
    if len(data) > MAX_MEMBER_BYTES:
        return f"larger than {MAX_MEMBER_BYTES} bytes"
    return data


def import_into(path: Path, overlay: Path) -> ImportReport:
    """``assay kb import``: read OSV records at ``path`` into the overlay database ``overlay``.

    Records already in the overlay with the same (id, library, reference) are replaced; the
    overlay keeps every record, GIT-only ones included (they carry no version range).
    """
    from assay.assess.vulns import db

    report = read(path)
    current = db.read(overlay) if overlay.is_file() else db.VulnDB((), (), frozenset(), "")
    fresh = {(a.id, a.library, a.reference) for a in report.advisories}
    kept = [a for a in current.advisories if (a.id, a.library, a.reference) not in fresh]
    merged = tuple(sorted([*kept, *report.advisories], key=_sort_key))
    label = f"osv-import {path.name} ({report.matched} records, {len(report.git_only)} git-only)"
    sources = (*current.sources, label)
    db.write(replace(current, advisories=merged, sources=tuple(sorted(set(sources)))), overlay)
    return report
