"""Mbed TLS maintained (LTS) branches and their end of life, read from BRANCHES.md.

The advisories themselves are read by ``assay.assess.vulns.mbedtls``.
"""

from __future__ import annotations

import calendar
import re
from pathlib import Path

from assay.assess.vulns.model import Cycle

BRANCHES_SOURCE = "mbedtls-BRANCHES.md"
_DEFAULT_ROOT = Path(__file__).parents[4] / "data" / "vulns"

_MONTHS = {
    name: number
    for number, name in enumerate(
        (
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ),
        start=1,
    )
}


def _month_end(month: str, year: int) -> str | None:
    """ISO date of the last day of a named month ("maintained until March 2027")."""
    number = _MONTHS.get(month.lower())
    if number is None:
        return None
    return f"{year}-{number:02d}-{calendar.monthrange(year, number)[1]:02d}"


def load(root: Path | None = None) -> list[Cycle]:
    """Maintained LTS branches named in BRANCHES.md ("maintained until March 2027")."""
    path = (root or _DEFAULT_ROOT) / "changelogs" / BRANCHES_SOURCE
    text = path.read_text(encoding="utf-8")
    cycles: dict[str, Cycle] = {}
    pattern = (
        r"`mbedtls-(\d+\.\d+)`\]\([^)]*\)\s*maintained until (\w+) (\d{4})"
        r"(?:[^<]*<[^>]*/tag/v([\d.]+)>)?"
    )
    for branch, month, year, latest in re.findall(pattern, text):
        cycles[branch] = Cycle(
            "mbedtls",
            branch,
            eol=_month_end(month, int(year)),
            lts=True,
            latest=latest or None,
            source=BRANCHES_SOURCE,
        )
    return sorted(cycles.values(), key=lambda c: tuple(int(p) for p in c.cycle.split(".")))
