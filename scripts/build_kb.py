#!/usr/bin/env python3
"""Build the knowledge base shipped in the package from real upstream releases.

Usage::

    python scripts/build_kb.py [--out PATH] [SPEC ...]

Every spec (default: ``upstream.DEFAULT_SPECS``) is fetched with ``tools/upstream.py``, or
reused from its cache without network access, and recorded with ``assay.correlate.components.kb``
under the name and version of the download's manifest. The KB is built in a temporary file,
vacuumed, then moved over ``--out`` (default ``src/assay/data/kb.sqlite``), so a failed
build leaves the previous KB in place. It prints the files recorded per release and the
final size, raw and gzip-compressed, and exits with status 1 when a spec could not be
fetched or the compressed KB exceeds ``MAX_COMPRESSED_BYTES``.
"""

from __future__ import annotations

import argparse
import gzip
import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

_REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(_REPO / "tools"))

import upstream  # noqa: E402  (tools/ is a plain script folder, not a package)

from assay.correlate.components import kb  # noqa: E402

DEFAULT_OUT = _REPO / "src" / "assay" / "data" / "kb.sqlite"
"""Where the shipped KB lives (package data)."""

MAX_COMPRESSED_BYTES = 50 * 1024**2
"""The shipped KB must stay under this size once gzip-compressed."""


def build(specs: Sequence[str], out: Path) -> bool:
    """Record every release of ``specs`` in a fresh KB at ``out``; False if one is missing."""
    releases = upstream.fetch(specs)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=".kb-", suffix=".sqlite", dir=out.parent)
    os.close(fd)
    temporary = Path(name)
    temporary.unlink()
    try:
        for release in releases:
            start = time.perf_counter()
            source = f"debian {release.suite}: {release.path.name}"
            info = kb.add_release(temporary, release.path, release.name, release.version, source)
            elapsed = time.perf_counter() - start
            print(f"{info.name:14} {info.version:10} {info.files:6} files  {elapsed:5.1f} s")
        with sqlite3.connect(temporary) as db:
            db.execute("VACUUM")
        db.close()
        os.replace(temporary, out)
    finally:
        temporary.unlink(missing_ok=True)
    return len(releases) == len(specs)


def compressed_size(path: Path) -> int:
    """Bytes of ``path`` after gzip at the default level."""
    return len(gzip.compress(path.read_bytes()))


def main(argv: Sequence[str] | None = None) -> int:
    """Build the KB and report its size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="KB file to write")
    parser.add_argument("specs", nargs="*", help="NAME/SUITE (default: every DEFAULT_SPECS)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    complete = build(args.specs or list(upstream.DEFAULT_SPECS), args.out)
    raw, packed = args.out.stat().st_size, compressed_size(args.out)
    print(f"{args.out}: {raw / 1e6:.1f} MB raw, {packed / 1e6:.1f} MB gzip,"
          f" built in {time.perf_counter() - start:.0f} s")  # fmt: skip
    return 0 if complete and packed <= MAX_COMPRESSED_BYTES else 1


if __name__ == "__main__":
    sys.exit(main())
