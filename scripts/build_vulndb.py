#!/usr/bin/env python3
"""Build the pinned vulnerability and end-of-life data shipped in the package.

Usage::

    python scripts/build_vulndb.py [--data DIR] [--out PATH]

Parses the public data copied under ``data/vulns/`` (each folder names its source and
licence; DATA-LICENSES.md lists them) with the parsers in ``assay.assess.vulns`` and writes
``src/assay/data/vulndb.json.gz``: sorted and deterministic, so a rebuild from the same data gives
the same bytes. Runs offline: the Debian changelogs under ``data/vulns/debian/`` are fetched
beforehand by ``scripts/fetch_debian_changelogs.py``. The snapshot date is the newest date
among the sources (the commit dates in each folder's SOURCE file, the CISA catalogue's release
date, the newest Debian changelog entry); end-of-life dates are compared with it. Every source
is recorded with its date and record counts (``assay kb info`` prints them), and
``--coverage`` writes the per-product coverage table of docs/vulnerabilities.md.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from assay.assess.vulns import (
    changelogs,
    coverage,
    curated,
    curl,
    debian_data,
    endoflife,
    kernel,
    kev,
    mbedtls,
    mbedtls_branches,
    openssl,
    release_dates,
    sqlite,
    upstream_dates,
)
from assay.assess.vulns.db import VulnDB, default_path, write
from assay.assess.vulns.model import Advisory, Cycle
from assay.assess.vulns.policy import Policy, Release

REPO = Path(__file__).resolve().parents[1]

ADVISORIES: tuple[tuple[str, Callable[[Path], Sequence[Advisory]]], ...] = (
    ("openssl-release-metadata", openssl.load),
    ("curl-vuln", curl.load),
    ("mbedtls-advisories", mbedtls.load),
    ("changelogs (expat, libpng)", changelogs.load),
    ("sqlite cves.html", sqlite.load),
    ("curated (tables per product)", curated.load),
    ("linux-kernel-cves", kernel.load),
)
FOLDERS = {
    "openssl-release-metadata": "openssl-release-metadata", "curl-vuln": "curl-vuln",
    "mbedtls-advisories": "mbedtls-advisories", "changelogs (expat, libpng)": "changelogs",
    "sqlite cves.html": "sqlite", "curated (tables per product)": "curated",
    "mbedtls BRANCHES.md": "changelogs", "endoflife.date": "endoflife",
    "linux-kernel-cves": "linux-kernel-cves", "upstream release-dates.toml": "upstream",
}  # fmt: skip
"""The data folder each parser reads."""
RENAMED = {"linux-kernel": "linux", "alpine-linux": "alpine"}
"""endoflife.date page names that differ from assay's product names."""
CYCLES: tuple[tuple[str, Callable[[Path], Sequence[Cycle]]], ...] = (
    ("openssl-release-metadata", openssl.load_cycles),
    ("mbedtls BRANCHES.md", mbedtls_branches.load),
    ("endoflife.date", endoflife.load),
    ("upstream release-dates.toml", upstream_dates.cycles),
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
    counts: dict[str, list[str]] = {}
    for name, load_advisories in ADVISORIES:
        found = load_advisories(data)
        print(f"{name}: {len(found)} advisories")
        counts.setdefault(FOLDERS[name], []).append(f"{len(found)} advisories")
        advisories.extend(found)
    for name, load_cycles in CYCLES:
        found_cycles = [replace(c, library=RENAMED.get(c.library, c.library))
                        for c in load_cycles(data)]  # fmt: skip
        print(f"{name}: {len(found_cycles)} release cycles")
        counts.setdefault(FOLDERS[name], []).append(f"{len(found_cycles)} release cycles")
        cycles.extend(found_cycles)
    covered = frozenset((a.library, a.id) for a in advisories)
    debian = debian_data.load(data, covered)
    print(f"debian changelogs: {len(debian.advisories)} advisories, {len(debian.backports)} "
          f"(product, CVE) back-port rows, {len(debian.releases)} release dates")  # fmt: skip
    advisories.extend(debian.advisories)
    catalog = kev.load(data)
    dates = {**source_dates(data), "cisa-kev": catalog.released}
    counts["cisa-kev"] = [f"{len(catalog.cves)} exploited CVEs"]
    counts["debian"] = [f"{len(debian.advisories)} advisories", f"{len(debian.backports)} "
                        "back-port rows", f"{len(debian.releases)} release dates"]  # fmt: skip
    counts["debian-changelogs"] = ["changelogs cited by the curated tables"]
    notes = {r.version for r in (*release_dates.ntp(data), *release_dates.toybox(data))}
    pages = {r.version for r in upstream_dates.releases(data)}
    paged = sorted({version.partition(" ")[0] for version in pages})
    counts.setdefault("upstream", []).extend(
        [
            f"{len(notes)} release dates (ntp ChangeLog, toybox news)",
            f"{len(pages)} release dates read from publishers' pages ({', '.join(paged)})",
        ]
    )
    counts["products.toml"] = [f"{len(debian.policies)} support policies"]
    dates["products.toml"] = dates.get("debian", catalog.released)
    print(f"CISA KEV {catalog.version}: {len(catalog.cves)} exploited CVEs")
    return VulnDB(
        advisories=tuple(sorted(advisories, key=lambda a: (a.library, a.id, a.source))),
        cycles=tuple(sorted(set(cycles), key=lambda c: (c.library, c.cycle, c.source))),
        exploited=catalog.cves,
        snapshot=max([catalog.released, *dates.values()]),
        sources=tuple(
            f"{name} @ {dates.get(name, 'undated')}: {', '.join(counts.get(name, ['no records']))}"
            for name in sorted(set(dates) | set(counts))
        ),
        policies=tuple(sorted(debian.policies, key=lambda p: p.product)),
        releases=_releases(debian.policies, release_dates.load(data), debian.releases),
        backports=debian.backports,
    )


def _releases(
    policies: Sequence[Policy], upstream: Sequence[Release], debian: Sequence[Release]
) -> tuple[Release, ...]:
    """Release dates of the products whose policy needs them (``latest``, ``newest``): the
    publisher's date where a publisher file gives one, else the day Debian first packaged it."""
    wanted = {p.product for p in policies if p.kind in ("latest", "newest")}
    chosen: dict[str, Release] = {}
    for release in (*upstream, *debian):
        if release.version.partition(" ")[0] in wanted:
            chosen.setdefault(release.version, release)
    return tuple(sorted(chosen.values(), key=lambda r: r.version))


def main(argv: Sequence[str] | None = None) -> int:
    """Build and write the database."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO / "data" / "vulns")
    parser.add_argument("--out", type=Path, default=default_path())
    parser.add_argument("--coverage", type=Path, default=REPO / "docs" / "vuln-coverage.md")
    args = parser.parse_args(argv)
    built = build(args.data)
    args.coverage.write_text(coverage.table(built), encoding="utf-8")
    write(built, args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes), snapshot {built.snapshot}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
