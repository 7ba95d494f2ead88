"""curl's own vulnerability table (``curl/curl-www``: ``docs/vuln.pm`` and ``docs/novuln.pm``).

Each quoted line of the Perl lists holds ``|``-separated fields in the order the file's header
comment gives: page, first vulnerable version, last vulnerable version, name, CVE, announce date,
report date, CWE, award, area, C-issue, tool/lib, severity, issue URL (older lines stop earlier).
First and last vulnerable versions are both inclusive, so each record gets
``Range(introduced=first, last_affected=last)``. ``novuln.pm`` holds retracted CVEs: they become
``withdrawn`` records, with the range they claimed when one is given (``-`` means none).
"""

from __future__ import annotations

import re
from pathlib import Path

from assay.assess.vulns.model import Advisory, Range

DATA = Path(__file__).parents[4] / "data" / "vulns"
FOLDER = "curl-vuln"
SOURCE = "curl-vuln.pm"
WITHDRAWN_SOURCE = "curl-novuln.pm"
PAGE_URL = "https://curl.se/docs/"

_LINE = re.compile(r'^\s*"([^"]*)"\s*,?\s*$')
_PAGE, _FIRST, _LAST, _NAME, _CVE = range(5)
_CWE, _SEVERITY = 7, 12


def _field(fields: list[str], index: int) -> str | None:
    """Field ``index`` with ``-`` and empty meaning absent."""
    if index >= len(fields):
        return None
    value = fields[index].strip()
    return None if value in ("", "-") else value


def _cwe(text: str | None) -> str | None:
    match = re.match(r"CWE-\d+", text or "")
    return match.group(0) if match else None


def parse_line(fields: list[str], withdrawn: bool) -> Advisory:
    """One ``|``-split entry of ``vuln.pm`` or ``novuln.pm``."""
    first, last = _field(fields, _FIRST), _field(fields, _LAST)
    ranges = (Range(introduced=first, last_affected=last),) if first or last else ()
    severity = _field(fields, _SEVERITY)
    return Advisory(
        id=_field(fields, _CVE) or fields[_PAGE].removesuffix(".html"),
        library="curl",
        ranges=ranges,
        source=WITHDRAWN_SOURCE if withdrawn else SOURCE,
        reference=PAGE_URL + fields[_PAGE].strip(),
        severity=severity.lower() if severity else None,
        cwe=_cwe(_field(fields, _CWE)),
        summary=_field(fields, _NAME) or "",
        withdrawn=withdrawn,
    )


def parse(text: str, withdrawn: bool = False) -> list[Advisory]:
    """Every entry of one ``.pm`` file (comment lines and the Perl wrapper are skipped)."""
    entries = (_LINE.match(line) for line in text.splitlines())
    return [parse_line(m.group(1).split("|"), withdrawn) for m in entries if m is not None]


def load(root: Path | None = None) -> list[Advisory]:
    """curl advisories, then retracted ones, sorted by id (withdrawn after a same-id record)."""
    docs = (root if root is not None else DATA) / FOLDER / "docs"
    advisories = parse((docs / "vuln.pm").read_text(encoding="utf-8"))
    advisories += parse((docs / "novuln.pm").read_text(encoding="utf-8"), withdrawn=True)
    return sorted(advisories, key=lambda a: (a.id, a.withdrawn))
