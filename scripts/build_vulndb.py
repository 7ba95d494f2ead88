#!/usr/bin/env python3
"""Build the pinned vulnerability and end-of-life data shipped in the package.

Usage::

    python scripts/build_vulndb.py [--data DIR] [--out PATH]

Parses the public data copied under ``data/vulns/`` (each folder names its source and
licence; DATA-LICENSES.md lists them) with the parsers in ``assay.assess.vulns`` and writes
``src/assay/data/vulndb.json``: sorted and deterministic, so a rebuild from the same data gives
the same bytes. The snapshot date is the newest date among the sources (the commit dates in
each folder's SOURCE file and the CISA catalogue's release date); end-of-life dates are compared
with it. Prints the record count of each source.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from assay.assess.vulns import (
    changelogs,
    curated,
    curl,
    endoflife,
    kev,
    mbedtls,
    mbedtls_branches,
    openssl,
    sqlite,
)
from assay.assess.vulns.db import VulnDB, default_path
from assay.assess.vulns.model import Advisory, Cycle

REPO = Path(__file__).resolve().parents[1]

ADVISORIES: tuple[tuple[str, Callable[[Path], Sequence[Advisory]]], ...] = (
    ("openssl-release-metadata", openssl.load),
    ("curl-vuln", curl.load),
    ("mbedtls-advisories", mbedtls.load),
    ("changelogs (expat, libpng)", changelogs.load),
    ("sqlite cves.html", sqlite.load),
    ("curated (zlib, busybox, lwip)", curated.load),
)
CYCLES: tuple[tuple[str, Callable[[Path], Sequence[Cycle]]], ...] = (
    ("openssl-release-metadata", openssl.load_cycles),
    ("mbedtls BRANCHES.md", mbedtls_branches.load),
    ("endoflife.date", endoflife.load),
)


def source_dates(data: Path) -> dict[str, str]:
    """Each data folder's date: the newest ISO date its SOURCE file states (commit dates)."""
    dates = {}
    for source in sorted(data.glob("*/SOURCE")):
        found = re.findall(r"\b(\d{4}-\d{2}-\d{2})\b", source.read_text(encoding="utf-8"))
        if found:
            dates[source.parent.name] = max(found)
    return dates


def build(data: Path) -> VulnDB:
    """Parse every source under ``data``."""
    advisories: list[Advisory] = []
    cycles: list[Cycle] = []
    for name, load_advisories in ADVISORIES:
        found = load_advisories(data)
        print(f"{name}: {len(found)} advisories")
        advisories.extend(found)
    for name, load_cycles in CYCLES:
        found_cycles = load_cycles(data)
        print(f"{name}: {len(found_cycles)} release cycles")
        cycles.extend(found_cycles)
    catalog = kev.load(data)
    dates = {**source_dates(data), "cisa-kev": catalog.released}
    print(f"CISA KEV {catalog.version}: {len(catalog.cves)} exploited CVEs")
    return VulnDB(
        advisories=tuple(sorted(advisories, key=lambda a: (a.library, a.id, a.source))),
        cycles=tuple(sorted(set(cycles), key=lambda c: (c.library, c.cycle, c.source))),
        exploited=catalog.cves,
        snapshot=max([catalog.released, *dates.values()]),
        sources=tuple(f"{name} @ {date}" for name, date in sorted(dates.items())),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Build and write the database."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO / "data" / "vulns")
    parser.add_argument("--out", type=Path, default=default_path())
    args = parser.parse_args(argv)
    doc: dict[str, Any] = build(args.data).to_json()
    args.out.write_text(json.dumps(doc, sort_keys=True, separators=(",", ":")) + "\n")
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes), snapshot {doc['snapshot']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
