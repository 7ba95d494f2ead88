"""ext2/3/4 images through ``debugfs``, listed whole before one byte is written.

``debugfs -R "rdump / out"`` trusts the image's names: an entry named ``..`` is passed over
without a word, one named ``../x`` or ``a/b`` is written wherever that path leads, and every hard
link is written again in full (ten names of one 100 MiB sparse file wrote 1 GB). So the tree is
read first with ``ls -l <inode>`` (one ``debugfs`` run per directory level; ``-l`` escapes every
byte that is not printable, so one entry is one line), and only then are the inodes that survive
the rules dumped by number (``rdump <inode> blobs``: regular files and symbolic links, each once)
and moved to their path by this module. The rules:

- an entry named ``.``, ``..`` (besides the directory's own two) or holding a ``/`` is an
  ``archive-escape`` record, and so is a directory reached a second time (a directory hard link);
- the second and later names of one inode are ``link`` records (``hard link -> first name``), as
  an archive's hard links are: their bytes are written and counted once;
- devices, fifos and sockets are ``special-file`` records, as anywhere else;
- the bytes and entries listed are checked against the caps by the caller before any dump.

No ext reader is on PyPI that assay could trust more than e2fsprogs' own; the parsing here is of
``debugfs`` output only, never of the image.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from assay.ingest.classify import printable, special_name
from assay.model import Skipped

ROOT_INODE: Final = 2
MAX_LEVELS: Final = 128
"""Directory levels listed (one ``debugfs`` run each); deeper directories are recorded."""
BLOBS: Final = "blobs"
"""Folder, beside the output tree, that ``rdump <inode>`` writes into."""
# "     12   40755 (2)      0      0    1024  3-Dec-2026 10:25 name" (devices: "5,  1" as size).
_LINE: Final = re.compile(
    rb" *(\d+) +([0-7]+) +\(\d+\) +\d+ +\d+ +(\d+|\d+, *\d+) +\S+ \S+ (.*)", re.DOTALL
)
_ESCAPE: Final = re.compile(rb"\\x([0-9a-fA-F]{2})")
_ECHO: Final = b"debugfs: "


@dataclass(frozen=True, slots=True)
class Entry:
    """One name of the image that assay writes: a regular file or a symbolic link."""

    path: bytes
    """Path under the root, its components as the image stores them."""
    inode: int
    size: int
    """Listed size (bytes written for a regular file)."""
    is_link: bool


@dataclass(frozen=True, slots=True)
class Listing:
    """What the tree holds, read whole before extraction."""

    entries: tuple[Entry, ...]
    """Names to write, one per inode."""
    directories: tuple[bytes, ...]
    """Directory paths, parents first."""
    skipped: tuple[Skipped, ...]
    """Names refused or recorded (escapes, hard links, special files, too deep)."""
    links: int
    """Hard links recorded."""
    names: int
    """Every name listed (the caps' entry count)."""
    size: int
    """Bytes of the regular files to write."""


class ListingTooLong(Exception):
    """A level's listing exceeded what assay reads whole."""


Runner = Callable[[str], bytes]
"""Runs a ``debugfs`` command script (one command a line) and returns its standard output."""


def list_tree(run: Runner, prefix: str) -> Listing:
    """Read the whole tree, level by level; ``prefix`` starts every recorded path."""
    state = _State(prefix)
    level = [(b"", ROOT_INODE)]
    for _ in range(MAX_LEVELS):
        if not level:
            break
        script = "".join(f"ls -l <{inode}>\n" for _, inode in level)
        sections = _sections(run(script))
        for path, _ in level[len(sections) :]:  # debugfs stopped before listing them
            state.skip(path, "image-errors", "directory not listed: debugfs stopped before it")
        level = [
            child
            for (path, inode), lines in zip(level, sections, strict=False)
            for child in state.directory(path, inode, lines)
        ]
    for path, _ in level:
        detail = f"directory deeper than {MAX_LEVELS} levels; not listed"
        state.skip(path, "nesting-depth", detail)
    return state.listing()


def dump_script(listing: Listing) -> str:
    """Commands writing every entry's inode once, as ``blobs/<inode>``."""
    return "".join(f"rdump <{entry.inode}> {BLOBS}\n" for entry in listing.entries)


def place(listing: Listing, dest: Path, root: Path, prefix: str) -> tuple[Skipped, ...]:
    """Move the dumped inodes to their paths under ``root``; a regular file whose bytes are not
    the listed size (a read error cut it short) is dropped and recorded."""
    root.mkdir(exist_ok=True)
    for directory in listing.directories:
        os.mkdir(os.path.join(bytes(root), directory))
    skipped: list[Skipped] = []
    for entry in listing.entries:
        blob = os.path.join(bytes(dest), BLOBS.encode(), f"<{entry.inode}>".encode())
        try:
            info = os.lstat(blob)
        except FileNotFoundError:
            info = None
        if info is None or (not entry.is_link and info.st_size != entry.size):
            written = "nothing" if info is None else f"{info.st_size} bytes"
            detail = f"{entry.size} bytes listed, {written} written: its bytes may be incomplete"
            skipped.append(Skipped(_shown(prefix, entry.path), "ingest", "image-errors", detail))
            continue
        os.rename(blob, os.path.join(bytes(root), entry.path))
    return tuple(skipped)


def _sections(output: bytes) -> list[list[bytes]]:
    """The output lines of each command, in order (``debugfs -f`` echoes every command)."""
    sections: list[list[bytes]] = []
    for line in output.split(b"\n"):
        if line.startswith(_ECHO):
            sections.append([])
        elif sections and line:
            sections[-1].append(line)
    return sections


def _shown(prefix: str, path: bytes) -> str:
    return prefix + printable(os.fsdecode(path))


class _State:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.entries: list[Entry] = []
        self.directories: list[bytes] = []
        self.skipped: list[Skipped] = []
        self.first: dict[int, bytes] = {}
        self.seen_dirs = {ROOT_INODE}
        self.links = self.names = self.size = 0

    def skip(self, path: bytes, reason: str, detail: str) -> None:
        self.skipped.append(Skipped(_shown(self.prefix, path), "ingest", reason, detail))

    def directory(self, path: bytes, inode: int, lines: list[bytes]) -> list[tuple[bytes, int]]:
        """Record one directory's entries; its subdirectories to list next."""
        children: list[tuple[bytes, int]] = []
        own = {b".": False, b"..": False}
        for line in lines:
            match = _LINE.fullmatch(line)
            if match is None:
                continue  # debugfs' own error lines ("not a directory")
            number, mode = int(match[1]), int(match[2], 8)
            name = _ESCAPE.sub(lambda m: bytes([int(m[1], 16)]), match[4])
            if name in own and not own[name] and stat.S_ISDIR(mode):
                own[name] = True  # the directory's own "." and ".."
                continue
            self.names += 1
            child = path + b"/" + name if path else name
            if name in (b"", b".", b"..") or b"/" in name:
                self.skip(child, "archive-escape", "file name refused")
            elif stat.S_ISDIR(mode):
                if number in self.seen_dirs:
                    self.skip(child, "archive-escape", "directory reached twice (hard link)")
                    continue
                self.seen_dirs.add(number)
                self.directories.append(child)
                children.append((child, number))
            elif stat.S_ISREG(mode) or stat.S_ISLNK(mode):
                self._named(child, number, mode, match[3])
            else:
                self.skip(child, "special-file", special_name(mode))
        return children

    def _named(self, path: bytes, inode: int, mode: int, size: bytes) -> None:
        first = self.first.setdefault(inode, path)
        if first != path:
            self.links += 1
            self.skip(path, "link", f"hard link -> {printable(os.fsdecode(first))}")
            return
        is_link = stat.S_ISLNK(mode)
        listed = 0 if is_link else int(size)
        self.size += listed
        self.entries.append(Entry(path, inode, listed, is_link))

    def listing(self) -> Listing:
        return Listing(
            tuple(self.entries),
            tuple(self.directories),
            tuple(self.skipped),
            self.links,
            self.names,
            self.size,
        )
