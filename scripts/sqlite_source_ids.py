#!/usr/bin/env python3
"""Build ``src/assay/rules/binary_version_ids.toml``: SQLite source ids mapped to versions.

Usage::

    python scripts/sqlite_source_ids.py [SUITE ...]   # default: bullseye bookworm trixie

A build of SQLite carries its source id (``sqlite3_sourceid()``: the check-in date, time and
hash, "2022-12-28 14:03:47 df5c253c...") even when the bare version string "3.40.1" cannot be
tied to SQLite (a static, stripped copy has no ``sqlite3_libversion`` symbol name). This script
reads both from the real ``libsqlite3-0`` binary package of each Debian suite (downloaded with
``tools/debian_binaries.py``; the version is the package's upstream version, checked against
the library's own version string) and writes one line per release. The key is the date, time
and the first 40 hex digits of the hash: a build whose sources were patched (as Debian's are)
ends the hash with "alt1" instead of the last digits, so only the leading digits identify the
check-in. ``assay`` looks the key up through the ``sqlite/source-id`` row of
``binary_signatures.toml``; an id missing from the table names SQLite without a version.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import debian_binaries  # noqa: E402  (tools/ is a plain script folder)

OUTPUT = ROOT / "src" / "assay" / "rules" / "binary_version_ids.toml"
SUITES = ("bullseye", "bookworm", "trixie")
SOURCE_ID = re.compile(rb"(20\d\d-\d\d-\d\d \d\d:\d\d:\d\d [0-9a-f]{40})[0-9a-z]{24}\x00")
"""The same shape as the ``sqlite/source-id`` row of binary_signatures.toml."""
HEADER = """\
# Identifiers a build carries, mapped to the release they belong to (generated: do not edit).
#
# [sqlite-source-id]: SQLite's source id (date, time, first 40 hex digits of the check-in hash)
# to the SQLite version, read from the libsqlite3-0 binary packages of Debian by
# scripts/sqlite_source_ids.py (each version is the package's upstream version and equals the
# library's own sqlite3_libversion() string). SQLite is in the public domain.
# Suites: {suites}.

[sqlite-source-id]
"""


def release(suite: str) -> tuple[str, str]:
    """(source id key, version) of the suite's libsqlite3-0 on amd64."""
    binary = debian_binaries.fetch("libsqlite3-0", suite, "amd64")
    version = debian_binaries.upstream_version(binary.version)
    libraries = sorted(binary.path.rglob("libsqlite3.so.0.*"))
    data = libraries[0].read_bytes()
    if not re.search(rb"(?<![\w.])" + re.escape(version.encode()) + rb"\x00", data):
        raise SystemExit(f"{suite}: {version} is not the library's own version string")
    found = {match.group(1).decode() for match in SOURCE_ID.finditer(data)}
    if len(found) != 1:
        raise SystemExit(f"{suite}: expected one source id, found {sorted(found)}")
    return found.pop(), version


def main(argv: list[str]) -> int:
    """Write the table for the suites given (default ``SUITES``)."""
    suites = tuple(argv) or SUITES
    rows = dict(release(suite) for suite in suites)
    lines = [f'"{key}" = "{version}"' for key, version in sorted(rows.items())]
    OUTPUT.write_text(HEADER.format(suites=", ".join(suites)) + "\n".join(lines) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
