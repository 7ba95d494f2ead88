"""Mbed TLS security advisories (Markdown, free-text "Affects"); branches: ``mbedtls_branches``.

Each advisory table starts with a ``**Title** |`` row; a file may hold several advisories. The
"Affects" text is split into clauses (``;``, ``,``, ``and`` before a product name) and each clause
must match one of a few phrasings ("up to X", "from X to Y", "prior to X, Y or Z", "X and up",
"all versions", a single version). An advisory with any clause that matches none of them keeps
``ranges=()`` and its id is listed by :func:`unparsed`.

When a list of points names several branches ("up to and including 2.28.0 and 3.1.0", "prior to
1.3.19, 2.1.7 or 2.4.2"), the later ranges start at the branch after the previous point (the next
minor, or ``N.0.0`` on a new major), so that intermediate end-of-life branches stay affected and
fixed releases of older branches do not. For "all versions" advisories the fixed points come from
the "Resolution" section ("upgrade to Mbed TLS 2.22.0, 2.16.6 or 2.7.15").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from assay.assess.vulns.model import Advisory, Range

SOURCE = "mbedtls-advisories"
_DEFAULT_ROOT = Path(__file__).parents[4] / "data" / "vulns"

_CVE = re.compile(r"CVE-\d{4}-\d{4,}")
_V = r"\d+(?:\.\d+)*(?:-[a-z]+\d*)?"
_FIELD = re.compile(r"^\*\*([^*]+)\*\*\s*\|\s*(.*)$")
_OTHER_PRODUCT = re.compile(r"tf-psa-crypto|mbed crypto")
_OUR_PRODUCT = re.compile(r"mbed ?tls|polarssl")
_NOISE = re.compile(
    r"\b(?:checked ssl libraries including|ssl libraries including|mbed ?tls|polarssl|library"
    r"|releases?|versions?|of|all|any|the|with driver-only ecc)\b"
)
_RANGE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("all", re.compile(r"")),
    ("none", re.compile(r"not affected")),
    (
        "between",
        re.compile(
            rf"(?:from )?({_V}) (?:to|through|up to(?: and including)?)"
            rf" ({_V})(?: (?:included|inclusive))?"
        ),
    ),
    (
        "upto",
        re.compile(
            rf"(?:up to(?: and including)?) ({_V})((?: and {_V})*)"
            r"(?: (?:included|inclusive|and earlier))?"
        ),
    ),
    ("upto", re.compile(rf"({_V}) and earlier()")),
    ("before", re.compile(rf"(?:prior to|before) ({_V})((?:,? (?:or |and )?{_V})*)")),
    ("since", re.compile(rf"(?:from )?({_V}) (?:and up|and above|upwards|and later)")),
    ("since", re.compile(rf"since ({_V})")),
    ("single", re.compile(rf"({_V})")),
)


@dataclass(frozen=True, slots=True)
class _Block:
    """One advisory table plus the text that follows it."""

    name: str
    fields: dict[str, str]
    resolution: str


class _Unparsed(Exception):
    """An "Affects" clause matched none of the known phrasings."""


def _vtuple(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", version.split("-")[0]))


def _pad(version: str) -> str:
    """Pad a bare ``4`` or ``1.0`` to three components (only used for range starts)."""
    if re.fullmatch(r"\d+(?:\.\d+)?", version):
        parts = [*version.split("."), "0", "0"]
        return ".".join(parts[:3])
    return version


def _next_branch(previous: str, current: str) -> str:
    """First version of the branch after ``previous``'s, on ``current``'s major line."""
    prev, cur = (*_vtuple(previous), 0, 0), (*_vtuple(current), 0, 0)
    if prev[0] != cur[0]:
        return f"{cur[0]}.0.0"
    return f"{cur[0]}.{prev[1] + 1}.0"


def _points(first: str, rest: str) -> list[str]:
    return sorted([first, *re.findall(_V, rest)], key=_vtuple)


def _branch_ranges(points: list[str], *, inclusive: bool, start: str | None = None) -> list[Range]:
    """One range per point; later ones start at the branch after the previous point."""
    ranges: list[Range] = []
    for index, point in enumerate(points):
        introduced = start if index == 0 else _next_branch(points[index - 1], point)
        if inclusive:
            ranges.append(Range(introduced=introduced, last_affected=point))
        elif introduced != point:
            ranges.append(Range(introduced=introduced, fixed=point))
    return ranges


def _clause_ranges(kind: str, groups: tuple[str, ...]) -> list[Range]:
    if kind == "all":
        return [Range()]
    if kind == "none":
        return []
    if kind == "between":
        return [Range(introduced=_pad(groups[0]), last_affected=groups[1])]
    if kind == "upto":
        return _branch_ranges(_points(groups[0], groups[1]), inclusive=True)
    if kind == "before":
        return _branch_ranges(_points(groups[0], groups[1]), inclusive=False)
    if kind == "since":
        return [Range(introduced=_pad(groups[0]))]
    return [Range(introduced=_pad(groups[0]), last_affected=groups[0])]


def _match_clause(clause: str) -> list[Range] | None:
    for kind, pattern in _RANGE_PATTERNS:
        match = pattern.fullmatch(clause)
        if match:
            return _clause_ranges(kind, match.groups())
    return None


def _normalise_clause(clause: str) -> str:
    text = _NOISE.sub(" ", clause)
    text = re.sub(r"\s+", " ", text).strip(" ,.")
    text = re.sub(r"^(?:and|or) |(?: and| or)$", "", text)
    return text.strip(" ,.")


def _parse_clause(clause: str) -> list[Range]:
    text = _normalise_clause(clause)
    ranges = _match_clause(text)
    if ranges is not None:
        return ranges
    parts = re.split(rf" and (?=(?:from )?{_V})", text)
    if len(parts) == 1:
        raise _Unparsed(clause)
    result: list[Range] = []
    for part in parts:
        sub = _match_clause(part)
        if sub is None:
            raise _Unparsed(clause)
        result.extend(sub)
    return result


def _clauses(affects: str) -> list[str]:
    text = re.sub(r"</?li>", ";", affects, flags=re.IGNORECASE)
    text = re.sub(r"<br\s*/?>", " ", text, flags=re.IGNORECASE)
    text = re.sub(r"<[^>]+>|`[^`]*`:?", " ", text).lower()
    text = re.sub(r"\s+", " ", text)
    pieces = re.split(r";|, (?=[^\d])| and (?=all |mbed|polarssl|tf-psa)", text)
    return [p.strip() for p in pieces if p.strip(" .") and not p.strip().startswith("including")]


def _affects_ranges(affects: str) -> list[Range]:
    """Ranges for the Mbed TLS / PolarSSL clauses; raises :class:`_Unparsed`."""
    ranges: list[Range] = []
    for clause in _clauses(affects):
        if _OTHER_PRODUCT.search(clause) and not _OUR_PRODUCT.search(clause):
            continue
        ranges.extend(r for r in _parse_clause(clause) if r not in ranges)
    return ranges


def _resolution_points(resolution: str) -> list[str]:
    """Mbed TLS versions named in the first paragraph of "Resolution" that says "upgrade"."""
    paragraphs = [
        p for p in resolution.strip().split("\n\n") if re.search(r"upgrade|download|use ", p)
    ]
    if not paragraphs:
        return []
    paragraph = paragraphs[0]
    paragraph = re.split(r"Mbed Crypto|TF-PSA|Similarly", paragraph)[0]
    return sorted(set(re.findall(r"\b\d+\.\d+\.\d+\b", paragraph)), key=_vtuple)


def _not_affected_points(not_affected: str) -> list[str]:
    """Versions a "Not affected" field names as "X and up" (the first fixed release per branch)."""
    return re.findall(r"\b(\d+\.\d+\.\d+) and up\b", not_affected)


def _bounded(ranges: list[Range], resolution: str, not_affected: str = "") -> list[Range]:
    """Replace open-ended ranges by per-branch fixed points from the resolution and from the
    "Not affected" field ("mbed TLS 1.3.10 and up, PolarSSL 1.2.13 and up")."""
    if not ranges or any(r.fixed or r.last_affected for r in ranges):
        return ranges
    found = {*_resolution_points(resolution), *_not_affected_points(not_affected)}
    points = sorted(found, key=_vtuple)
    if not points:
        return ranges
    starts = [r.introduced for r in ranges]
    start = None if None in starts else min((s for s in starts if s), key=_vtuple)
    if start is not None:
        points = [p for p in points if _vtuple(p) > _vtuple(start)]
    return _branch_ranges(points, inclusive=False, start=start) if points else ranges


def _blocks(name: str, text: str) -> list[_Block]:
    chunks = re.split(r"(?m)^(?=\*\*Title\*\*\s*\|)", text)[1:]
    blocks: list[_Block] = []
    for chunk in chunks:
        fields: dict[str, str] = {}
        for line in chunk.splitlines():
            match = _FIELD.match(line.strip())
            if match and match.group(1).strip() not in fields:
                fields[match.group(1).strip()] = match.group(2).strip()
        found = re.search(r"(?ms)^##+ Resolution\s*$(.*?)(?=^##|\Z)", chunk)
        blocks.append(_Block(name, fields, found.group(1) if found else ""))
    return blocks


def _advisories(block: _Block, index: int, count: int) -> tuple[list[Advisory], bool]:
    """Advisories of one block (one per CVE) and whether its "Affects" was understood."""
    fields = block.fields
    affects = fields.get("Affects", "")
    parsed = True
    try:
        ranges = _bounded(
            _affects_ranges(affects), block.resolution, fields.get("Not affected", "")
        )
    except _Unparsed:
        ranges, parsed = [], False
    withdrawn = parsed and not ranges
    cves = sorted(set(_CVE.findall(fields.get("CVE", ""))))
    ids = cves or [block.name if count == 1 else f"{block.name}#{index + 1}"]
    severity = fields.get("Severity", "").strip().lower() or None
    title = re.sub(r"\s+", " ", re.sub(r"<br\s*/?>", " ", fields.get("Title", ""))).strip()
    records = [
        Advisory(
            id=cve,
            library="mbedtls",
            ranges=tuple(ranges),
            source=SOURCE,
            reference=f"security-advisories/{block.name}.md",
            severity=severity,
            summary=title,
            withdrawn=withdrawn,
        )
        for cve in ids
    ]
    return records, parsed


def _parse_all(root: Path | None) -> tuple[list[Advisory], list[str]]:
    folder = (root or _DEFAULT_ROOT) / SOURCE / "security-advisories"
    records: list[Advisory] = []
    failed: list[str] = []
    for path in sorted(folder.glob("*.md")):
        blocks = _blocks(path.stem, path.read_text(encoding="utf-8"))
        for index, block in enumerate(blocks):
            found, parsed = _advisories(block, index, len(blocks))
            records.extend(found)
            if not parsed:
                failed.extend(a.id for a in found)
    records.sort(key=lambda a: (a.id, a.reference))
    return records, sorted(failed)


def load(root: Path | None = None) -> list[Advisory]:
    """Every Mbed TLS / PolarSSL advisory, one record per CVE, sorted by id."""
    return _parse_all(root)[0]


def unparsed(root: Path | None = None) -> list[str]:
    """Ids of advisories whose "Affects" text was not understood (returned with ``ranges=()``)."""
    return _parse_all(root)[1]
