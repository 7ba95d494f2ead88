"""SQLite's own verdicts on CVEs (``www/cves.html``, table "Status Of Recent SQLite CVEs").

Each row: CVE number, "Fix" cell, comments. The Fix cell is either a release (``3.39.2`` with its
date) or a verdict such as "Not a bug" or "Bug not in the SQLite library"; verdict rows are
returned with ``withdrawn=True`` (they suppress the same CVE from other sources) and no ranges.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from assay.assess.vulns.model import Advisory, Range

SOURCE = "sqlite-cves.html"
_DEFAULT_ROOT = Path(__file__).parents[4] / "data" / "vulns"
_CVE = re.compile(r"CVE-\d{4}-\d{4,}")
_VERSION = re.compile(r"\b3\.\d+\.\d+(?:\.\d+)?\b")


@dataclass(frozen=True, slots=True)
class Row:
    """The three cells of one table row, as text."""

    cve: str
    fix: str
    comment: str


class _TableReader(HTMLParser):
    """Collects the text of every ``<td>`` of every ``<tr>``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag == "td" and self.rows:
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def rows(html: str) -> list[Row]:
    """Rows of the CVE table (rows whose first cell is a CVE id)."""
    reader = _TableReader()
    reader.feed(html)
    reader.close()
    found: list[Row] = []
    for cells in reader.rows:
        if len(cells) >= 3 and _CVE.fullmatch(cells[0]):
            found.append(Row(cells[0], cells[1], cells[2]))
    return found


def _advisory(row: Row) -> Advisory:
    version = _VERSION.search(row.fix)
    ranges = (Range(fixed=version.group(0)),) if version else ()
    return Advisory(
        id=row.cve,
        library="sqlite",
        ranges=ranges,
        source=SOURCE,
        reference=f"https://www.sqlite.org/cves.html ({row.fix})",
        summary=row.comment,
        withdrawn=version is None,
    )


def load(root: Path | None = None) -> list[Advisory]:
    """One advisory per row of SQLite's CVE table, sorted by id."""
    path = (root or _DEFAULT_ROOT) / "sqlite" / "www" / "cves.html"
    return sorted(
        (_advisory(r) for r in rows(path.read_text(encoding="utf-8"))), key=lambda a: a.id
    )
