"""Release dates from the publishers' own files, for the ``latest`` and ``newest`` policies.

They take precedence over the day Debian first packaged a release (``debian_data``), which is
only an upper bound. Read: endoflife.date's release data (``endoflife/release-data/*.json``:
``{"versions": {"3.0.1": {"date": "2021-12-14"}}}``), zlib's ChangeLog (``Changes in 1.2.12
(27 Mar 2022)``), expat's Changes (``Release 2.5.0 Tue October 25 2022``), libpng's CHANGES
(``Version 1.6.37 [April 14, 2019]``), curl's release table (``Fixed in 8.4.0 - October 11
2023``), and the upstream notes Debian's binary packages ship (``upstream/``, copied by
``scripts/fetch_upstream_notes.py``): ntp's ChangeLog (``(4.2.8p15) 2020/06/23 Released by``;
only the stable series, whose middle number is even: 4.2.5 and 4.2.7 are development
snapshots) and toybox's news page (a dated ``<h2>`` heading, then the release's download link);
and the dates read by hand from stored copies of the publishers' pages
(``upstream/release-dates.toml``, :mod:`assay.assess.vulns.upstream_dates`: LibreSSL, ThreadX,
NetX Duo, GoAhead). Pre-releases and undated headings (``xx Jan 2024``) are left out.
"""

from __future__ import annotations

import datetime
import gzip
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from assay.assess.vulns import upstream_dates
from assay.assess.vulns.policy import Release

RENAMED = {"linux-kernel": "linux", "alpine-linux": "alpine"}
_PRE = re.compile(r"(alpha|beta|rc|pre)", re.IGNORECASE)


def _iso(text: str, *formats: str) -> str | None:
    for fmt in formats:
        try:
            return datetime.datetime.strptime(text.strip(), fmt).date().isoformat()
        except ValueError:
            continue
    return None


def endoflife(data: Path) -> Iterator[Release]:
    """endoflife.date release data, one file per product."""
    for path in sorted((data / "endoflife" / "release-data").glob("*.json")):
        product = RENAMED.get(path.stem, path.stem)
        versions = json.loads(path.read_text(encoding="utf-8")).get("versions", {})
        for version, item in sorted(versions.items()):
            date = item.get("date") if isinstance(item, dict) else None
            if isinstance(date, str) and not _PRE.search(version):
                yield Release(f"{product} {version}", date, "endoflife.date release-data")


def _headings(
    path: Path, product: str, pattern: str, parse: Callable[[str], str | None], source: str
) -> Iterator[Release]:
    if not path.is_file():
        return
    for match in re.finditer(pattern, path.read_text(encoding="utf-8", errors="replace"), re.M):
        version, when = match.group(1), parse(match.group(2))
        if when and not _PRE.search(version):
            yield Release(f"{product} {version}", when, source)


def changelogs(data: Path) -> Iterator[Release]:
    """zlib, expat, libpng and curl release headings."""
    logs = data / "changelogs"
    yield from _headings(logs / "zlib-ChangeLog", "zlib", r"^Changes in ([\d.]+) \((.+?)\)",
                         lambda t: _iso(t, "%d %b %Y", "%d %B %Y"), "zlib ChangeLog")  # fmt: skip
    yield from _headings(logs / "expat-Changes", "expat", r"^Release ([\d.]+) \w+ (.+?)\s*$",
                         lambda t: _iso(t, "%B %d %Y"), "expat Changes")  # fmt: skip
    yield from _headings(logs / "libpng-CHANGES", "libpng", r"^Version ([\d.]+\w*) \[(.+?)\]",
                         lambda t: _iso(t, "%B %d, %Y"), "libpng CHANGES")  # fmt: skip
    yield from _headings(data / "curl-vuln" / "_changes.html", "curl",
                         r"Fixed in ([\d.]+) - (\w+ \d+ \d{4})",
                         lambda t: _iso(t, "%B %d %Y"), "curl _changes.html")  # fmt: skip


def load(data: Path) -> list[Release]:
    """Every publisher-dated release, each version once (the first source that dates it)."""
    seen: dict[str, Release] = {}
    for release in (*endoflife(data), *changelogs(data), *ntp(data), *toybox(data),
                    *upstream_dates.releases(data)):  # fmt: skip
        seen.setdefault(release.version, release)
    return sorted(seen.values(), key=lambda r: r.version)


def _gz_text(path: Path) -> str:
    return gzip.decompress(path.read_bytes()).decode("utf-8", "replace") if path.is_file() else ""


def ntp(data: Path) -> Iterator[Release]:
    """ntp's ChangeLog: the release lines of the stable series (4.2.4, 4.2.6, 4.2.8)."""
    text = _gz_text(data / "upstream" / "ntp-ChangeLog.gz")
    for match in re.finditer(r"^\((\d+\.(\d+)\.(\d+)(?:p\d+)?)\) (\d{4}/\d\d/\d\d) Released by",
                             text, re.M):  # fmt: skip
        when = _iso(match.group(4), "%Y/%m/%d")
        if when and int(match.group(3)) % 2 == 0:
            yield Release(f"ntp {match.group(1)}", when, "ntp ChangeLog (Debian ntp package)")


def toybox(data: Path) -> Iterator[Release]:
    """toybox's news page: each dated heading, then the release it announces."""
    text = _gz_text(data / "upstream" / "toybox-news.html.gz")
    parts = re.split(r"<h2><b>([A-Z][a-z]+ \d{1,2}, \d{4})</b></h2>", text)
    for heading, body in zip(parts[1::2], parts[2::2], strict=True):
        release = re.search(r"downloads/toybox-([\d.]+)\.tar\.gz>Toybox \1<", body)
        when = _iso(heading, "%B %d, %Y")
        if release and when:
            yield Release(
                f"toybox {release.group(1)}", when, "toybox news.html (Debian toybox package)"
            )
