"""Release dates and branch end dates read by hand from the projects' own published pages.

``data/vulns/upstream/release-dates.toml`` holds, for the products that Debian does not
package and whose publishers ship no machine-readable release list (LibreSSL's releases page,
ThreadX's and NetX Duo's change logs, GoAhead's release notes, thttpd's README, Zephyr's
"Supported Releases" tables, NSS's ESR lines with the end of the Firefox ESR shipping each), the
facts read from stored public copies of those pages:
``releases`` (version = date) or ``branch`` rows (series, first release, end of life, LTS). Each
product names the copy it was read from; every ``Release`` and ``Cycle`` built here carries
that source, so a report can say where a date comes from.

The file is small and hand-written TOML, so it is read with ``tomllib`` (no other format or
library is involved); a row that is not a date is an error at build time, never skipped.
"""

from __future__ import annotations

import datetime
import tomllib
from collections.abc import Iterator
from pathlib import Path

from assay.assess.vulns.model import Cycle
from assay.assess.vulns.policy import Release

FILE = Path("upstream") / "release-dates.toml"
SOURCE = "upstream release-dates.toml"
"""The source label of every record built here (the product's own ``source`` follows it)."""


class DataError(ValueError):
    """A row of the release-dates file that is not a date."""


def _table(data: Path) -> dict[str, dict[str, object]]:
    path = data / FILE
    if not path.is_file():
        return {}
    return tomllib.loads(path.read_text(encoding="utf-8"))


def _iso(product: str, what: str, value: object) -> str:
    if not isinstance(value, datetime.date):
        raise DataError(f"{FILE}: {product} {what}: {value!r} is not a date")
    return value.isoformat()


def releases(data: Path) -> Iterator[Release]:
    """Every dated release of the file, named ``"PRODUCT VERSION"`` like the other sources."""
    for product, row in sorted(_table(data).items()):
        dated = row.get("releases", {})
        if not isinstance(dated, dict):
            raise DataError(f"{FILE}: {product}.releases is not a table")
        for version, when in sorted(dated.items()):
            yield Release(f"{product} {version}", _iso(product, version, when),
                          f"{SOURCE}: {row.get('source', '')}")  # fmt: skip


def cycles(data: Path) -> Iterator[Cycle]:
    """The ``branch`` rows: release series with the publisher's end-of-life dates."""
    for product, row in sorted(_table(data).items()):
        branches = row.get("branch", [])
        if not isinstance(branches, list):
            raise DataError(f"{FILE}: {product}.branch is not an array of tables")
        for branch in branches:
            series = str(branch["series"])
            released = branch.get("released")
            yield Cycle(
                library=product,
                cycle=series,
                released=_iso(product, f"{series} released", released) if released else None,
                eol=_iso(product, f"{series} eol", branch["eol"]),
                lts=branch.get("lts") is True,
                eol_estimated=branch.get("eol_estimated") is True,
                source=f"{SOURCE}: {branch.get('source', row.get('source', ''))}",
            )
