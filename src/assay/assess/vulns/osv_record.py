"""One OSV record (https://ossf.github.io/osv-schema/) to advisories of assay libraries.

``parse`` gives one ``Advisory`` per affected package that ``PACKAGE_NAMES`` maps to an assay
library (``osv.read`` reads the files and reports what it could not use):

* the id is the CVE among ``id`` / ``aliases`` when there is one, else the OSV id;
* ``ECOSYSTEM`` and ``SEMVER`` ranges become ``Range`` pairs in event order (``introduced: "0"``
  means from the beginning); each explicit ``versions`` entry becomes a one-version range;
* records whose affected entries carry only ``GIT`` commit ranges are kept with ``ranges=()``
  and listed in ``ImportReport.git_only``: they cannot be matched to versions, but they are
  counted, never dropped;
* a record naming no known package gives no advisory.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any
from urllib.parse import unquote

from assay.assess.vulns.model import Advisory, Range

SOURCE = "osv-import"
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
class ParsedRecord:
    """One record's advisories and how it was classified."""

    osv_id: str
    advisories: tuple[Advisory, ...]
    git_only: bool


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
