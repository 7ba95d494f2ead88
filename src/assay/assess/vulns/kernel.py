"""Linux kernel CVEs with introducing and fixing versions, per stable series
(``data/vulns/linux-kernel-cves``, the linux_kernel_cves project; its data ends in 2024-04).

``data/CVEs.txt`` gives, per CVE, the mainline versions that introduced and fixed it
(``CVE-2022-0847: <breaks> - <fixes> (v5.8-rc1 to v5.17-rc6)``; ``unk`` when not known);
``data/stream_fixes.json`` the fix in each stable series (``{"5.10": {"fixed_version":
"5.10.102"}}``). Both are turned into OSV-style ranges: in a series with a stable fix, the
versions from the series' start (or the introduction) up to that fix; between such series,
and after the last one, the versions from the introduction up to the mainline fix. A series
between the introduction and the mainline fix without a stable fix stays affected. CVEs the
data marks as caused by a distribution's back-port are left out.

:func:`bounded` decides whether a kernel CVE whose ranges hold a copy's version is a finding
or only "not bounded" (docs/vulnerabilities.md, "Linux kernel"): the data must show where the
copy's series got the bug, not only where a later series got the fix.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from assay.assess.vulns.model import Advisory, Range
from assay.versions import affected, key

FOLDER = "linux-kernel-cves"
SOURCE = "linux-kernel-cves"
_SERIES = re.compile(r"^v?(\d+)\.(\d+)")
_LINE = re.compile(r"^(CVE-\d{4}-\d+): .*\((?:v?(\S+)) to (?:v?(\S+))\)\s*$")


def _version(text: str) -> str | None:
    return None if text in ("unk", "n/a") else text


def _next_series(series: str) -> str:
    major, minor = (int(p) for p in series.split(".")[:2])
    return f"{major}.{minor + 1}"


def ranges(introduced: str | None, fixed: str | None, streams: dict[str, str]) -> tuple[Range, ...]:
    """The affected ranges of one CVE (see the module docstring)."""
    out: list[Range] = []
    cursor = introduced
    for series in sorted(streams, key=lambda s: key("linux", s)):
        if fixed is not None and key("linux", series) >= key("linux", fixed):
            continue
        if cursor is None or key("linux", cursor) < key("linux", series):
            out.append(Range(introduced=cursor, fixed=series))
        start = series if cursor is None or key("linux", cursor) < key("linux", series) else cursor
        out.append(Range(introduced=start, fixed=streams[series]))
        following = _next_series(series)
        if cursor is None or key("linux", following) > key("linux", cursor):
            cursor = following
    out.append(Range(introduced=cursor, fixed=fixed))
    return tuple(r for r in out if r.introduced is None or r.fixed is None
                 or key("linux", r.introduced) < key("linux", r.fixed))  # fmt: skip


def series(version: str) -> str | None:
    """The stable series (``major.minor``) of a kernel version, ``None`` when it has none."""
    match = _SERIES.match(version)
    return f"{match.group(1)}.{match.group(2)}" if match else None


def bounded(version: str, ranges: tuple[Range, ...]) -> bool:
    """True when a range holding ``version`` is bounded on both sides for its series: it has a
    lower end (the mainline release that introduced the bug or, when that is unknown, the
    series after an older stable series with a recorded fix: that series carried the bug, and
    so did mainline up to its fix), or its end (fix or last affected release) lies in the
    copy's own series, which shows that series carried the bug. A range open below whose end
    lies in a later series (every Debian-changelog row, the linux_kernel_cves rows whose
    introduction is ``unk``) says nothing about an older series: such a CVE is "not
    bounded" for the copy."""
    own = series(version)
    for bounds in ranges:
        if not affected("linux", version, (bounds,)):
            continue
        end = bounds.fixed or bounds.last_affected
        if bounds.introduced is not None or (end is not None and series(end) == own):
            return True
    return False


def load(data: Path) -> list[Advisory]:
    """Every kernel CVE with a known introduction or fix."""
    folder = data / FOLDER / "data"
    streams_of: dict[str, dict[str, dict[str, str]]] = json.loads(
        (folder / "stream_fixes.json").read_text(encoding="utf-8")
    )
    found = []
    for line in (folder / "CVEs.txt").read_text(encoding="utf-8").splitlines():
        match = _LINE.match(line)
        if match is None:
            continue
        cve, intro, fix = match.group(1), _version(match.group(2)), _version(match.group(3))
        streams = {s: v["fixed_version"] for s, v in streams_of.get(cve, {}).items()
                   if isinstance(v, dict) and v.get("fixed_version")}  # fmt: skip
        if intro is None and fix is None and not streams:
            continue
        found.append(Advisory(
            id=cve, library="linux", ranges=ranges(intro, fix, streams), source=SOURCE,
            reference=f"{FOLDER}/data/CVEs.txt and stream_fixes.json: {cve}",
        ))  # fmt: skip
    return sorted(found, key=lambda a: a.id)
