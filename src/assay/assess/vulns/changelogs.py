"""CVE fixes listed in expat's ``Changes`` and libpng's ``CHANGES``.

Each release section names the CVEs it fixes; the release becomes a ``fixed`` point.

* expat: ``Release 2.5.0 Tue October 25 2022`` headers; a fix line starts (after issue numbers
  such as ``#616 #649``) with the CVE id followed by ``--``/``-``/``to CVE-...``/``for function``.
  CVEs only mentioned in passing ("related to past CVE-...", "Relax fix to CVE-...") are skipped.
  The topmost section (2.8.4) may be unreleased ("XXX" date); its fixes are kept. A fix's
  ``Upstream CVSS 3.1 vector: ... (CVSS score: 7.5)`` gives its severity by the CVSS 3.1
  qualitative scale (low below 4.0, medium below 7.0, high below 9.0, else critical).
* libpng: ``Version 1.6.37 [April 14, 2019]`` headers, including pre-releases
  (``1.6.0beta05``) and double headers (``1.0.16rc1 and 1.2.6rc1``). A fix in a pre-release is
  attributed to its final release (``1.6.0beta05`` -> ``1.6.0``). Mentions preceded by "related
  to", "similar to", "prevented", "open to the", "reported against X in" are skipped. Since
  1.6.51 a fix reads ``Fixed CVE-2025-64505 (moderate severity):``, which gives its severity.

Several fixed points for one CVE (one per branch, e.g. libpng ``1.0.16`` and ``1.2.6``) give one
advisory with one range per branch: the first from the beginning, each later one starting at the
branch after the previous point (``1.1.0``), so a later release of an older branch is not
reported. Within one branch only the earliest point is kept (a later section re-mentioning the
CVE is a follow-up). The file is one development line: backports to older branches that are only
recorded in those branches' own change logs are not known here, so older branches count as
affected up to the listed fix.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from assay.assess.vulns.model import Advisory, Range

EXPAT_SOURCE = "expat-Changes"
LIBPNG_SOURCE = "libpng-CHANGES"
_DEFAULT_ROOT = Path(__file__).parents[4] / "data" / "vulns"

_EXPAT_HEADER = re.compile(r"^Release (\d+(?:\.\d+)+)\b.*$", re.MULTILINE)
_EXPAT_PREFIX = re.compile(r"^(?:(?:#\w+:?|\[[^\]]*\]|\(SF\.net\))\s+)*-?\s*")
_EXPAT_FIX = re.compile(
    r"(CVE-\d{4}-\d{4,})(?:/CWE-\d+)?(?: to (CVE-\d{4}-\d{4,}))?\s*(?:\([^)]*\)\s*)?"
    r"(?:--|-\s|for function)\s*(.*)"
)
_CVSS = re.compile(r"\(CVSS score: (\d+(?:\.\d)?)\)")
_EXPAT_ITEM = re.compile(r"^\s*(?:#\w+|-\s|\(SF\.net\))")
_PNG_SEVERITY = re.compile(r"\s*\((low|moderate|medium|high|critical) severity\)", re.IGNORECASE)
_PNG_HEADER = re.compile(r"^[Vv]ersion (.+?) \[[^\]]*\]\s*$", re.MULTILINE)
_PNG_CVE = re.compile(r"CVE[- ](\d{4})-(\d{4,})")
_PNG_PASSING = re.compile(
    r"(?:related to|similar to|prevented|open to the|reported against(?: \w+ in)?)\W*$"
)


@dataclass(frozen=True, slots=True)
class _Fix:
    """One CVE listed as fixed in one release section."""

    cve: str
    version: str
    section: str
    summary: str = ""
    severity: str | None = None


def _vtuple(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", version))


def _branch(version: str) -> tuple[int, ...]:
    return _vtuple(version)[:2]


def fixed_ranges(points: list[str]) -> tuple[Range, ...]:
    """One range per branch fixed point (see the module docstring)."""
    earliest: dict[tuple[int, ...], str] = {}
    for point in sorted(set(points), key=_vtuple):
        earliest.setdefault(_branch(point), point)
    ordered = sorted(earliest.values(), key=_vtuple)
    ranges: list[Range] = []
    for index, point in enumerate(ordered):
        introduced = None
        if index:
            prev, cur = _vtuple(ordered[index - 1]), _vtuple(point)
            same_major = prev[0] == cur[0]
            introduced = f"{cur[0]}.{prev[1] + 1}.0" if same_major else f"{cur[0]}.0.0"
        ranges.append(Range(introduced=introduced, fixed=point))
    return tuple(ranges)


def _sections(text: str, header: re.Pattern[str]) -> Iterator[tuple[re.Match[str], str]]:
    matches = list(header.finditer(text))
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        yield match, text[match.end() : end]


def _cve_span(first: str, last: str | None) -> list[str]:
    """``CVE-2022-22822 to CVE-2022-22827`` -> the six ids."""
    if last is None or first[:9] != last[:9]:
        return [first] if last is None else [first, last]
    low, high = int(first[9:]), int(last[9:])
    width = len(first) - 9
    return [f"{first[:9]}{n:0{width}d}" for n in range(low, high + 1)]


def cvss_rating(score: float) -> str:
    """The CVSS 3.1 qualitative rating of a base score."""
    if score >= 9.0:
        return "critical"
    if score >= 7.0:
        return "high"
    return "medium" if score >= 4.0 else "low"


def _expat_fixes(text: str) -> Iterator[_Fix]:
    for match, body in _sections(text, _EXPAT_HEADER):
        version = match.group(1)
        pending: list[_Fix] = []
        for line in body.splitlines():
            rest = _EXPAT_PREFIX.sub("", line.strip(), count=1)
            fix = _EXPAT_FIX.match(rest)
            if fix is not None or _EXPAT_ITEM.match(line):
                yield from pending  # a new item: the CVSS lines below are not the last fix's
                pending = []
            if fix is not None:
                pending = [_Fix(cve, version, f"Release {version}", fix.group(3).strip())
                           for cve in _cve_span(fix.group(1), fix.group(2))]  # fmt: skip
            elif (score := _CVSS.search(line)) is not None:
                pending = [replace(f, severity=cvss_rating(float(score[1]))) for f in pending]
        yield from pending


def _png_fixes(text: str) -> Iterator[_Fix]:
    for match, body in _sections(text, _PNG_HEADER):
        label = match.group(1)
        versions = re.findall(r"\d+\.\d+\.\d+", label)
        flat = re.sub(r"\s+", " ", body)
        for cve in _PNG_CVE.finditer(flat):
            if _PNG_PASSING.search(flat[max(0, cve.start() - 60) : cve.start()]):
                continue
            rated = _PNG_SEVERITY.match(flat, cve.end())
            severity = rated[1].lower() if rated else None
            for version in versions:
                yield _Fix(f"CVE-{cve.group(1)}-{cve.group(2)}", version, f"Version {label}",
                           severity=severity)  # fmt: skip


def _advisories(fixes: Iterator[_Fix], library: str, source: str) -> list[Advisory]:
    grouped: dict[str, list[_Fix]] = {}
    for fix in fixes:
        grouped.setdefault(fix.cve, []).append(fix)
    records: list[Advisory] = []
    for cve, found in sorted(grouped.items()):
        ranges = fixed_ranges([f.version for f in found])
        kept = {r.fixed for r in ranges}
        sections = sorted({f.section for f in found if f.version in kept}, key=_vtuple)
        summary = next((f.summary for f in found if f.summary), "")
        severity = next((f.severity for f in found if f.severity), None)
        records.append(
            Advisory(
                id=cve,
                library=library,
                ranges=ranges,
                source=source,
                reference=f"{source}: " + "; ".join(sections),
                summary=summary,
                severity=severity,
            )
        )
    return records


def load_expat(root: Path | None = None) -> list[Advisory]:
    """expat CVEs with the release that fixed each, sorted by id."""
    path = (root or _DEFAULT_ROOT) / "changelogs" / EXPAT_SOURCE
    return _advisories(_expat_fixes(path.read_text(encoding="utf-8")), "expat", EXPAT_SOURCE)


def load_libpng(root: Path | None = None) -> list[Advisory]:
    """libpng CVEs with the release(s) that fixed each, sorted by id."""
    path = (root or _DEFAULT_ROOT) / "changelogs" / LIBPNG_SOURCE
    text = path.read_text(encoding="utf-8")
    return _advisories(_png_fixes(text), "libpng", LIBPNG_SOURCE)


def load(root: Path | None = None) -> list[Advisory]:
    """expat and libpng advisories together, sorted by (library, id)."""
    return sorted(load_expat(root) + load_libpng(root), key=lambda a: (a.library, a.id))
