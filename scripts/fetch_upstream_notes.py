#!/usr/bin/env python3
"""Copy upstream release notes that Debian binary packages ship, for release dates.

Usage::

    python scripts/fetch_upstream_notes.py [--dest DIR]

Some products with a ``latest`` policy have no release dates in the publishers' files under
``data/vulns``, while Debian's binary packages carry the upstream project's own notes under
``/usr/share/doc``: ntp's ChangeLog (``(4.2.8p15) 2020/06/23 Released by ...``) and toybox's
news page (a dated heading per release). Each file in ``NOTES`` is taken from the named
binary package (downloaded with ``tools/debian_binaries.py``, nothing installed), stored
gzip-compressed under ``DEST`` and recorded in ``DEST/SOURCE`` with the package version.

A maintainer's step, run by hand when the data is refreshed (never in CI, never at evaluation
time); ``scripts/build_vulndb.py`` reads the stored files offline
(``assay.assess.vulns.release_dates``).
"""

from __future__ import annotations

import argparse
import datetime
import gzip
import sys
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))

from debian_binaries import fetch  # noqa: E402

NOTES: tuple[tuple[str, str, str, str], ...] = (
    # stored name, binary package, suite, path inside the package
    ("ntp-ChangeLog.gz", "ntp", "bullseye", "usr/share/doc/ntp/changelog.gz"),
    ("toybox-news.html.gz", "toybox", "bookworm", "usr/share/doc/toybox/www/news.html"),
)
ARCH = "amd64"


def read(tree: Path, inside: str) -> bytes:
    """The file's text, decompressed when Debian stored it gzip-compressed."""
    body = (tree / inside).read_bytes()
    return gzip.decompress(body) if inside.endswith(".gz") else body


def main(argv: Sequence[str] | None = None) -> int:
    """Copy every file of ``NOTES`` into ``--dest``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, default=REPO / "data" / "vulns" / "upstream")
    args = parser.parse_args(argv)
    args.dest.mkdir(parents=True, exist_ok=True)
    today = datetime.datetime.now(datetime.UTC).date().isoformat()
    lines = [f"Fetched on {today} by scripts/fetch_upstream_notes.py from Debian binary "
             "packages (the upstream project's own notes, as Debian ships them under "
             "/usr/share/doc). Each file is under its project's licence (the package's "
             "copyright file: ntp's NTP licence, toybox's 0BSD)."]  # fmt: skip
    for name, package, suite, inside in NOTES:
        binary = fetch(package, suite, ARCH)
        text = read(binary.path, inside)
        (args.dest / name).write_bytes(gzip.compress(text, mtime=0))
        lines.append(f"{name}: {package} {binary.version} {ARCH} ({suite}), /{inside}")
        print(lines[-1])
    (args.dest / "SOURCE").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
