"""OpenSSL's own vulnerability and branch data (``openssl/release-metadata``).

Advisories come from ``secjson/CVE-*.json`` (CVE JSON 5.0). Each affected entry
``{version, lessThan}`` becomes ``Range(introduced=version, fixed=lessThan)``; the one
``lessThanOrEqual`` entry becomes ``last_affected``; ``unaffected`` entries are dropped. Ranges of
the separate FIPS module (``fips-1.1.1``) are kept without the prefix under library
``openssl-fips`` so they never match an OpenSSL library version. Severity is the record's
``metrics[].other.content.text`` in lower case (``unknown`` becomes ``None``). The three CVEs that
``secjson/statements.json`` lists as disputed become ``withdrawn`` records without ranges.

Cycles come from ``data.json`` (3.0 onwards: release, EOL, LTS) and from the per-branch notes in
``statements.json`` for 0.9.8-1.1.0 ("out of support since 1st January 2016"), whose EOL is the day
before that date, matching endoflife.date's convention of the last supported day. Month-only
planned dates (``Oct 2027``) are kept as ``YYYY-MM``. The data says extended (premium) support
exists for 1.0.2 but gives no end date, so ``extended_support`` stays ``None``; 1.1.1 is absent from
both files — its EOL (2023-09-11) is in the endoflife.date data
(:mod:`assay.assess.vulns.endoflife`).
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from assay.assess.vulns.model import Advisory, Cycle, Range
from assay.versions import key

DATA = Path(__file__).parents[4] / "data" / "vulns"
FOLDER = "openssl-release-metadata"
SOURCE = "openssl-secjson"
CYCLE_SOURCE = "openssl-release-metadata"
FIPS_PREFIX = "fips-"


def _folder(root: Path | None) -> Path:
    return (root if root is not None else DATA) / FOLDER


def _range(entry: dict[str, Any]) -> Range | None:
    """Range of one ``versions[]`` entry; ``None`` for ``unaffected`` entries."""
    if entry.get("status") != "affected":
        return None
    return Range(
        introduced=_unprefix(entry.get("version")),
        fixed=_unprefix(entry.get("lessThan")),
        last_affected=_unprefix(entry.get("lessThanOrEqual")),
    )


def _unprefix(version: str | None) -> str | None:
    if version is not None and version.startswith(FIPS_PREFIX):
        return version[len(FIPS_PREFIX) :]
    return version


def _is_fips(cna: dict[str, Any]) -> bool:
    versions = [v for a in cna.get("affected", []) for v in a.get("versions", [])]
    return bool(versions) and all(str(v.get("version", "")).startswith("fips") for v in versions)


def _ranges(cna: dict[str, Any]) -> tuple[Range, ...]:
    found = (_range(v) for a in cna.get("affected", []) for v in a.get("versions", []))
    return tuple(r for r in found if r is not None)


def _severity(cna: dict[str, Any]) -> str | None:
    for metric in cna.get("metrics", []):
        text = metric.get("other", {}).get("content", {}).get("text")
        if isinstance(text, str) and text.lower() != "unknown":
            return text.lower()
    return None


def _cwe(cna: dict[str, Any]) -> str | None:
    for problem in cna.get("problemTypes", []):
        for description in problem.get("descriptions", []):
            if description.get("cweId"):
                return str(description["cweId"])
    return None


def _summary(cna: dict[str, Any]) -> str:
    if cna.get("title"):
        return str(cna["title"]).strip()
    for description in cna.get("descriptions", []):
        if description.get("lang", "en").startswith("en"):
            return " ".join(str(description["value"]).split())
    return ""


def _reference(cna: dict[str, Any], cve: str) -> str:
    for reference in cna.get("references", []):
        if "vendor-advisory" in reference.get("tags", []):
            return str(reference["url"])
    return f"{FOLDER}/secjson/{cve}.json"


def parse_record(record: dict[str, Any]) -> Advisory:
    """One CVE JSON 5.0 record of the OpenSSL CNA."""
    cve = str(record["cveMetadata"]["cveId"])
    cna: dict[str, Any] = record["containers"]["cna"]
    return Advisory(
        id=cve,
        library="openssl-fips" if _is_fips(cna) else "openssl",
        ranges=_ranges(cna),
        source=SOURCE,
        reference=_reference(cna, cve),
        severity=_severity(cna),
        cwe=_cwe(cna),
        summary=_summary(cna),
        withdrawn=record["cveMetadata"].get("state") == "REJECTED",
    )


def _disputed(statements: dict[str, Any]) -> list[Advisory]:
    return [
        Advisory(
            id=str(item["cve"]),
            library="openssl",
            ranges=(),
            source=SOURCE,
            reference=f"{FOLDER}/secjson/statements.json",
            summary=str(item.get("text", "")),
            withdrawn=True,
        )
        for item in statements.get("disputed", [])
    ]


def load(root: Path | None = None) -> list[Advisory]:
    """Every OpenSSL advisory (plus disputed CVEs as withdrawn), sorted by id."""
    folder = _folder(root) / "secjson"
    advisories = [
        parse_record(json.loads(path.read_text(encoding="utf-8")))
        for path in sorted(folder.glob("CVE-*.json"))
    ]
    statements = folder / "statements.json"
    if statements.exists():
        advisories += _disputed(json.loads(statements.read_text(encoding="utf-8")))
    return sorted(advisories, key=lambda a: (a.id, a.library))


def _iso(text: str) -> str:
    """``07 Sep 2021`` -> ``2021-09-07``; ``Oct 2027`` -> ``2027-10``."""
    cleaned = text.strip()
    try:
        return datetime.strptime(cleaned, "%d %b %Y").date().isoformat()
    except ValueError:
        return datetime.strptime(cleaned, "%b %Y").strftime("%Y-%m")


_SINCE = re.compile(r"since (\d{1,2})(?:st|nd|rd|th)? (\w+) (\d{4})")


def _eol_from_statement(text: str) -> str | None:
    """Last supported day from "out of support since 1st January 2016"."""
    match = _SINCE.search(text)
    if match is None:
        return None
    day, month, year = match.groups()
    since = datetime.strptime(f"{day} {month} {year}", "%d %B %Y").date()
    return (since - timedelta(days=1)).isoformat()


def _branch_cycles(data: dict[str, Any]) -> list[Cycle]:
    return [
        Cycle(
            library="openssl",
            cycle=branch,
            released=_iso(info["release"]) if info.get("release") else None,
            eol=_iso(info["eol"]) if info.get("eol") else None,
            lts=bool(info.get("lts", False)),
            source=CYCLE_SOURCE,
        )
        for branch, info in data.items()
    ]


def _statement_cycles(statements: dict[str, Any], known: set[str]) -> list[Cycle]:
    cycles = []
    for item in statements.get("statements", []):
        branch = str(item.get("base", ""))
        eol = _eol_from_statement(str(item.get("text", "")))
        if branch in known or eol is None or not re.fullmatch(r"\d+(\.\d+)+", branch):
            continue  # 0.9.6 and 0.9.7 are "out of support" without a date
        cycles.append(Cycle(library="openssl", cycle=branch, eol=eol, source=CYCLE_SOURCE))
    return cycles


def load_cycles(root: Path | None = None) -> list[Cycle]:
    """OpenSSL branches from ``data.json`` and ``statements.json``, oldest first."""
    folder = _folder(root)
    cycles = _branch_cycles(json.loads((folder / "data.json").read_text(encoding="utf-8")))
    statements = folder / "secjson" / "statements.json"
    if statements.exists():
        known = {c.cycle for c in cycles}
        cycles += _statement_cycles(json.loads(statements.read_text(encoding="utf-8")), known)
    return sorted(cycles, key=lambda c: key("openssl", c.cycle))
