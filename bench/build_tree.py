#!/usr/bin/env python3
"""Assemble the benchmark tree from real upstream releases.

Usage::

    python bench/build_tree.py DEST [--copy] [SPEC ...]

Releases are fetched (or reused from the cache) with ``tools/upstream.py`` and placed,
whole, under ``DEST/<name>-<version>/`` (hard links by default, copies with ``--copy``
or when hard links are impossible). Running it again adds nothing that is already there.
It then counts the tree's C/C++ files and prints physical lines, lines of distinct content
(files deduplicated by content hash) and the releases used. It exits with status 1 when
the tree is smaller than the benchmark requires.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))

import upstream  # tools/ is a plain script folder, not a package

BENCH_SPECS: tuple[str, ...] = (
    "openssl/bullseye",
    "openssl/bookworm",
    "sqlite3/bookworm",
    "curl/bookworm",
    "busybox/bookworm",
    "libxml2/bookworm",
    "mbedtls/bookworm",
    "wolfssl/bookworm",
    "libzstd/bookworm",
    "xz-utils/bookworm",
    "expat/bookworm",
    "libpng1.6/bookworm",
    "lwip/bookworm",
    "dropbear/bookworm",
    # older or newer copies of small libraries, as vendor trees carry them: duplicate files
    "zlib/bookworm",
    "zlib/trixie",
    "libpng1.6/bullseye",
    "expat/bullseye",
)
"""Releases that make up the benchmark tree (a subset of ``upstream.DEFAULT_SPECS``)."""

C_CPP_SUFFIXES = frozenset({".c", ".h", ".cc", ".cpp", ".cxx", ".hh", ".hpp"})
"""File name suffixes counted as C/C++ source."""

MIN_PHYSICAL_LINES = 3_000_000
MIN_DISTINCT_LINES = 2_500_000


@dataclass
class TreeFigures:
    """Size figures of the C/C++ files in a tree."""

    files: int = 0
    lines: int = 0
    bytes: int = 0
    unique_files: int = 0
    unique_lines: int = 0
    longest_line: tuple[int, str] = (0, "")
    largest_files: list[tuple[int, str]] = field(default_factory=list)


def is_c_cpp(path: Path) -> bool:
    """True for a C/C++ source or header file name."""
    return path.suffix.lower() in C_CPP_SUFFIXES


def iter_c_cpp(root: Path) -> Iterator[Path]:
    """Yield every regular C/C++ file under ``root`` (symbolic links not followed), sorted."""
    for directory, subdirs, files in os.walk(root):
        subdirs.sort()
        for name in sorted(files):
            path = Path(directory, name)
            if is_c_cpp(path) and path.is_file() and not path.is_symlink():
                yield path


def physical_lines(data: bytes) -> int:
    """Count physical lines: newlines, plus one for a final unterminated line."""
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def longest_line(data: bytes) -> int:
    """Length in bytes of the longest line."""
    return max((len(line) for line in data.split(b"\n")), default=0)


def measure(roots: Iterable[Path], top: int = 5) -> TreeFigures:
    """Count files, physical lines and distinct-content lines of C/C++ under ``roots``."""
    figures = TreeFigures()
    seen: set[bytes] = set()
    sizes: list[tuple[int, str]] = []
    for root in roots:
        for path in iter_c_cpp(root):
            data = path.read_bytes()
            lines = physical_lines(data)
            figures.files += 1
            figures.lines += lines
            figures.bytes += len(data)
            sizes.append((lines, str(path)))
            digest = hashlib.sha256(data).digest()
            if digest not in seen:
                seen.add(digest)
                figures.unique_files += 1
                figures.unique_lines += lines
            width = longest_line(data)
            if width > figures.longest_line[0]:
                figures.longest_line = (width, str(path))
    figures.largest_files = sorted(sizes, reverse=True)[:top]
    return figures


def _link_or_copy(src: str, dst: str) -> object:
    """Hard-link ``src`` to ``dst``, copying when linking is not possible."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
    return dst


def place(release: upstream.Release, dest: Path, copy: bool) -> Path:
    """Put one release under ``DEST/<name>-<version>/`` unless it is already there."""
    target = dest / f"{release.name}-{release.version}"
    if target.is_dir():
        return target
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=dest))
    try:
        shutil.copytree(
            release.path,
            staging / "tree",
            symlinks=True,
            copy_function=shutil.copy2 if copy else _link_or_copy,
        )
        (staging / "tree").rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _print_figures(figures: TreeFigures, dest: Path) -> None:
    """Print the tree's figures, largest files and longest line."""
    print(f"tree: {dest}")
    print(f"C/C++ files:          {figures.files:>10,}  ({figures.unique_files:,} unique)")
    print(f"physical lines:       {figures.lines:>10,}")
    print(f"distinct-content:     {figures.unique_lines:>10,}")
    print(f"bytes:                {figures.bytes:>10,}")
    width, where = figures.longest_line
    print(f"longest line:         {width:>10,} bytes  {os.path.relpath(where, dest)}")
    for lines, path in figures.largest_files:
        print(f"large file:           {lines:>10,} lines  {os.path.relpath(path, dest)}")


def main(argv: Sequence[str] | None = None) -> int:
    """Build the tree, print its figures; exit 1 when too small or a release is missing."""
    parser = argparse.ArgumentParser(description="Assemble the assay benchmark tree.")
    parser.add_argument("dest", type=Path, help="directory to assemble the tree in")
    parser.add_argument("--copy", action="store_true", help="copy files instead of hard links")
    parser.add_argument("specs", nargs="*", metavar="SPEC", help="NAME/SUITE releases to use")
    args = parser.parse_args(argv)
    specs: list[str] = args.specs or list(BENCH_SPECS)
    dest: Path = args.dest.expanduser().resolve()
    dest.mkdir(parents=True, exist_ok=True)

    releases = upstream.fetch(specs)
    placed = [place(release, dest, args.copy) for release in releases]
    print("releases:")
    for release, target in zip(releases, placed, strict=True):
        print(f"  {release.name} {release.version} ({release.suite}) -> {target.name}")
    extra = sorted({entry.name for entry in dest.iterdir()} - {p.name for p in placed})
    if extra:
        print(f"warning: {dest} also holds {', '.join(extra)} (not counted)", file=sys.stderr)

    figures = measure(placed)
    _print_figures(figures, dest)
    ok = len(releases) == len(specs)
    ok = ok and figures.lines >= MIN_PHYSICAL_LINES and figures.unique_lines >= MIN_DISTINCT_LINES
    if not ok:
        print("tree is incomplete or below the required size", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
