"""Read OSV-format vulnerability records (https://ossf.github.io/osv-schema/).

``read`` takes a directory of ``*.json`` records (walked recursively) or a ``.zip`` of them
(members are read in memory, never extracted, and capped in size and number). Each record gives
one ``Advisory`` per affected package that ``PACKAGE_NAMES`` maps to an assay library:

* the id is the CVE among ``id`` / ``aliases`` when there is one, else the OSV id;
* ``ECOSYSTEM`` and ``SEMVER`` ranges become ``Range`` pairs in event order (``introduced: "0"``
  means from the beginning); each explicit ``versions`` entry becomes a one-version range;
* records whose affected entries carry only ``GIT`` commit ranges are kept with ``ranges=()``
  and listed in ``ImportReport.git_only``: they cannot be matched to versions, but they are
  counted, never dropped;
* records naming no known package are skipped and listed in ``unknown_packages``;
* files that cannot be read or are not an OSV JSON object are listed in ``errors``.

The output is sorted, so the same input always gives the same report.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import unquote

from assay.assess.vulns.model import Advisory, Range
from assay.errors import IngestError

SOURCE = "osv-import"
MAX_MEMBER_BYTES = 16 * 1024 * 1024
"""Largest zip member (uncompressed) or JSON file read; bigger ones are skipped and recorded."""
MAX_MEMBERS = 200_000
"""Most zip members looked at; the rest are recorded as one error."""
SEVERITIES = frozenset({"low", "medium", "moderate", "high", "critical"})
"""Severity words taken from ``database_specific`` / ``ecosystem_specific`` (lower-cased)."""
VERSION_RANGE_TYPES = frozenset({"ECOSYSTEM", "SEMVER"})

PACKAGE_NAMES: Mapping[str, str] = MappingProxyType(
    {
        # OSV package name (lower-cased, any ecosystem) -> assay library name
        "openssl": "openssl",
        "boringssl": "boringssl",
        "libressl": "libressl",
        "wolfssl": "wolfssl",
        "mbedtls": "mbedtls",
        "mbed-tls": "mbedtls",
        "polarssl": "polarssl",
        "zlib": "zlib",
        "zlib-ng": "zlib-ng",
        "bzip2": "bzip2",
        "xz": "xz",
        "xz-utils": "xz",
        "zstd": "zstd",
        "libzstd": "zstd",
        "curl": "curl",
        "libcurl": "curl",
        "expat": "expat",
        "libexpat": "expat",
        "libxml2": "libxml2",
        "libpng": "libpng",
        "libjpeg-turbo": "libjpeg-turbo",
        "libjpeg": "libjpeg",
        "sqlite": "sqlite",
        "sqlite3": "sqlite",
        "lwip": "lwip",
        "busybox": "busybox",
        "uclibc": "uclibc",
        "uclibc-ng": "uclibc-ng",
        "dropbear": "dropbear",
        "openssh": "openssh",
        "u-boot": "u-boot",
        "freertos": "freertos",
        "freertos-kernel": "freertos",
    }
)
"""OSV package names (lower-cased) and purl last path segments mapped to assay library names."""


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


@dataclass(frozen=True, slots=True)
class ParsedRecord:
    """One record's advisories and how it was classified."""

    osv_id: str
    advisories: tuple[Advisory, ...]
    git_only: bool


class _Invalid(ValueError):
    """A file is not a usable OSV record."""


def read(path: Path) -> ImportReport:
    """Read every OSV JSON record under directory ``path`` or in zip file ``path``."""
    if path.is_dir():
        documents = _directory(path)
    elif path.is_file() and path.suffix.lower() == ".zip":
        documents = _zip(path)
    else:
        raise IngestError(f"{path} is neither a directory nor a .zip of OSV records")
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


# --- one record ----------------------------------------------------------------------------------


def parse(doc: Mapping[str, Any], name: str = "") -> ParsedRecord:
    """Advisories of one OSV record (``name``: the file it came from, for the reference)."""
    osv_id = str(doc["id"])
    by_library: dict[str, list[Range]] = {}
    git_seen: dict[str, bool] = {}
    severity = _severity(doc.get("database_specific"))
    for entry in _dicts(doc.get("affected")):
        library = library_of(_dict(entry.get("package")))
        if library is None:
            continue
        by_library.setdefault(library, []).extend(entry_ranges(entry))
        git_seen[library] = git_seen.get(library, False) or _has_git(entry)
        severity = severity or _severity(entry.get("ecosystem_specific"))
    advisories = tuple(
        _advisory(doc, name, library, tuple(ranges), severity)
        for library, ranges in sorted(by_library.items())
    )
    git_only = any(not by_library[lib] and git_seen[lib] for lib in by_library)
    return ParsedRecord(osv_id=osv_id, advisories=advisories, git_only=git_only)


def _advisory(
    doc: Mapping[str, Any], name: str, library: str, ranges: tuple[Range, ...], severity: str | None
) -> Advisory:
    osv_id = str(doc["id"])
    return Advisory(
        id=advisory_id(doc),
        library=library,
        ranges=ranges,
        source=SOURCE,
        reference=f"{osv_id} ({name})" if name else osv_id,
        severity=severity,
        summary=_summary(doc),
        withdrawn=bool(doc.get("withdrawn")),
    )


def advisory_id(doc: Mapping[str, Any]) -> str:
    """The CVE id among ``id`` and ``aliases`` (first in that order), else the OSV id."""
    aliases = doc.get("aliases")
    candidates = [doc["id"], *(aliases if isinstance(aliases, list) else [])]
    for candidate in candidates:
        if isinstance(candidate, str) and candidate.upper().startswith("CVE-"):
            return candidate.upper()
    return str(doc["id"])


def library_of(package: Mapping[str, Any]) -> str | None:
    """Assay library of an OSV ``package`` object, by its name, else by its purl."""
    name = package.get("name")
    if isinstance(name, str) and name.strip().lower() in PACKAGE_NAMES:
        return PACKAGE_NAMES[name.strip().lower()]
    purl = package.get("purl")
    return PACKAGE_NAMES.get(purl_name(purl)) if isinstance(purl, str) else None


def purl_name(purl: str) -> str:
    """Lower-cased last path segment of a package URL (``pkg:deb/debian/curl@7.0`` -> ``curl``)."""
    body = purl.removeprefix("pkg:").split("#", 1)[0].split("?", 1)[0]
    last = body.rstrip("/").rsplit("/", 1)[-1]
    return unquote(last.split("@", 1)[0]).strip().lower()


def entry_ranges(entry: Mapping[str, Any]) -> list[Range]:
    """Version ranges of one ``affected`` entry: ECOSYSTEM/SEMVER ranges, then ``versions``."""
    ranges: list[Range] = []
    for raw in _dicts(entry.get("ranges")):
        if raw.get("type") in VERSION_RANGE_TYPES:
            ranges.extend(events_to_ranges(_dicts(raw.get("events"))))
    versions = entry.get("versions")
    for version in versions if isinstance(versions, list) else []:
        if isinstance(version, str) and version:
            ranges.append(Range(introduced=version, last_affected=version))
    return ranges


def events_to_ranges(events: list[dict[str, Any]]) -> list[Range]:
    """Pair ``introduced`` with the next ``fixed`` / ``last_affected``, in event order.

    ``introduced: "0"`` means from the beginning (``None``); an ``introduced`` left open at the
    end is affected with no fix. ``limit`` bounds commit walks only and is ignored.
    """
    ranges: list[Range] = []
    start: str | None = None
    is_open = False
    for event in events:
        if "introduced" in event:
            if is_open:
                ranges.append(Range(introduced=start))
            start, is_open = _start(event["introduced"]), True
        elif "fixed" in event:
            ranges.append(Range(introduced=start, fixed=str(event["fixed"])))
            start, is_open = None, False
        elif "last_affected" in event:
            ranges.append(Range(introduced=start, last_affected=str(event["last_affected"])))
            start, is_open = None, False
    if is_open:
        ranges.append(Range(introduced=start))
    return ranges


def _start(value: Any) -> str | None:
    text = str(value)
    return None if text in ("", "0") else text


def _has_git(entry: Mapping[str, Any]) -> bool:
    return any(r.get("type") == "GIT" for r in _dicts(entry.get("ranges")))


def _severity(block: Any) -> str | None:
    if not isinstance(block, dict):
        return None
    value = block.get("severity")
    if isinstance(value, str) and value.strip().lower() in SEVERITIES:
        return value.strip().lower()
    return None


def _summary(doc: Mapping[str, Any]) -> str:
    for key in ("summary", "details"):
        text = doc.get(key)
        if isinstance(text, str) and text.strip():
            return text.strip().splitlines()[0].strip()
    return ""


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def import_into(path: Path, overlay: Path) -> ImportReport:
    """``assay kb import``: read OSV records at ``path`` into the overlay database ``overlay``.

    Records already in the overlay with the same (id, library, reference) are replaced; the
    overlay keeps every record, GIT-only ones included (they carry no version range).
    """
    from assay.assess.vulns import db

    report = read(path)
    old = db.read(overlay).advisories if overlay.is_file() else ()
    fresh = {(a.id, a.library, a.reference) for a in report.advisories}
    kept = [a for a in old if (a.id, a.library, a.reference) not in fresh]
    merged = tuple(sorted([*kept, *report.advisories], key=_sort_key))
    label = f"osv-import {path.name} ({report.matched} records, {len(report.git_only)} git-only)"
    sources = (*(db.read(overlay).sources if overlay.is_file() else ()), label)
    db.write(db.VulnDB(merged, (), frozenset(), "", tuple(sorted(set(sources)))), overlay)
    return report
