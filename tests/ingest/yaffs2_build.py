"""A yaffs2 image writer, for the tests only.

Neither Debian nor PyPI packages a tool that builds yaffs2 images (``mkyaffs2image`` ships only
in Android's and yaffs' own source trees), so the tests write them here, from the on-disk
format as yaffs documents it, and check each image with an independent reader: Debian's
``unyaffs`` (see ``unyaffs``). The layout is what a NAND dump of a yaffs2 partition holds:

- the flash is a run of chunks, each one NAND page (``page`` bytes of data) followed by its
  spare (out-of-band) area of ``spare`` bytes;
- the spare starts (after a 2-byte bad-block marker on some layouts) with the packed tags, four
  32-bit words: sequence number (0x1000 for the first block, ``YAFFS_LOWEST_SEQUENCE_NUMBER``),
  object id, chunk id, byte count; the rest of the spare is left erased (0xff: no tag ECC);
- every object has a header chunk (chunk id 0, byte count 0xffff): object type, parent id, the
  unused name checksum (0xffff), a 256-byte name, then mode, owner, times, the file size, the
  hard link's target id, a 160-byte symlink alias, and the rest erased;
- a regular file's data follows in chunks 1, 2, ... each holding ``byte count`` bytes;
- object ids start at 0x100 (below are reserved: 1 is the root directory, never written).

``lie`` makes hostile images: the tags' byte count of data chunks, or the header's file size,
replaced by a value that does not match what is stored.
"""

from __future__ import annotations

import shutil
import stat
import struct
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest

ROOT = 1
FIRST_ID = 0x100
SEQUENCE = 0x1000
FILE, SYMLINK, DIRECTORY = 1, 2, 3
_NAME = 256
_ALIAS = 160
_MTIME = 1_700_000_000


@dataclass(frozen=True)
class Entry:
    """One object: a directory (``data`` and ``target`` unused), a file, or a symlink."""

    path: str
    kind: int
    data: bytes = b""
    target: str = ""


@dataclass(frozen=True)
class Lie:
    """A hostile change: data chunks tagged with ``byte_count`` bytes, or a header whose file
    size says ``file_size`` (``None``: the truth)."""

    byte_count: int | None = None
    file_size: int | None = None


def image(
    entries: Sequence[Entry],
    *,
    order: Literal["<", ">"] = "<",
    page: int = 2048,
    spare: int = 64,
    bad_block_marker: bool = False,
    lie: Lie = Lie(),
) -> bytes:
    """The yaffs2 image of ``entries`` (parents before children), chunk after chunk."""
    ids: dict[str, int] = {"": ROOT}
    out = bytearray()

    def chunk(data: bytes, object_id: int, chunk_id: int, byte_count: int) -> None:
        tags = struct.pack(f"{order}4I", SEQUENCE, object_id, chunk_id, byte_count)
        marker = b"\xff\xff" if bad_block_marker else b""
        out.extend(data.ljust(page, b"\xff"))
        out.extend((marker + tags).ljust(spare, b"\xff"))

    for number, entry in enumerate(entries):
        object_id = FIRST_ID + number
        parent, _, name = entry.path.rpartition("/")
        ids[entry.path] = object_id
        size = len(entry.data) if lie.file_size is None else lie.file_size
        chunk(_header(entry, ids[parent], name, size, order), object_id, 0, 0xFFFF)
        for at in range(0, len(entry.data), page):
            part = entry.data[at : at + page]
            count = len(part) if lie.byte_count is None else lie.byte_count
            chunk(part, object_id, at // page + 1, count)
    return bytes(out)


def _header(entry: Entry, parent: int, name: str, size: int, order: str) -> bytes:
    """An object header: the fields yaffs reads, everything else erased (0xff)."""
    mode = {FILE: stat.S_IFREG | 0o644, SYMLINK: stat.S_IFLNK | 0o777}.get(
        entry.kind, stat.S_IFDIR | 0o755
    )
    alias = entry.target.encode().ljust(_ALIAS, b"\0") if entry.kind == SYMLINK else b""
    return b"".join(
        (
            struct.pack(f"{order}IIH", entry.kind, parent, 0xFFFF),
            name.encode().ljust(_NAME, b"\0"),
            b"\xff\xff",  # alignment of the next 32-bit field
            struct.pack(f"{order}6I", mode, 0, 0, _MTIME, _MTIME, _MTIME),
            struct.pack(f"{order}I", size if entry.kind == FILE else 0),
            b"\xff" * 4,  # hard link target: none
            alias.ljust(_ALIAS, b"\xff"),
        )
    )


def tree() -> tuple[list[Entry], dict[str, bytes], dict[str, str]]:
    """A small tree: a directory first (its child right after it, as unblob's layout
    detection needs), a file of several chunks, a one-chunk file, a symlink; with what a reader
    must give back: file path -> bytes, link path -> target."""
    big = bytes(range(256)) * 30 + b"end of the big file\n"  # 7,700 bytes: four 2 KiB chunks
    entries = [
        Entry("etc", DIRECTORY),
        Entry("etc/big", FILE, big),
        Entry("etc/issue", FILE, b"yaffs2 release 1.0\n"),
        Entry("etc/link", SYMLINK, target="big"),
        Entry("bin", DIRECTORY),
        Entry("bin/tool", FILE, b"\x7fELF not really\n" * 3),
    ]
    files = {e.path: e.data for e in entries if e.kind == FILE}
    links = {e.path: e.target for e in entries if e.kind == SYMLINK}
    return entries, files, links


def unyaffs(
    image_path: Path, out: Path, command: Sequence[str] = ()
) -> tuple[dict[str, bytes], dict[str, str]]:
    """What Debian's ``unyaffs`` (an independent reader) extracts from ``image_path``: file
    path -> bytes, link path -> target. Fails when it is not installed or rejects the image.
    ``command`` runs another build of it (a big-endian one under qemu: it reads the host's
    byte order only)."""
    tool = shutil.which("unyaffs")
    if tool is None and not command:
        pytest.fail("unyaffs is not installed (Debian: apt-get install unyaffs)")
    argv = [*command] if command else [str(tool)]
    done = subprocess.run([*argv, str(image_path), str(out)], capture_output=True)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    files: dict[str, bytes] = {}
    links: dict[str, str] = {}
    for path in out.rglob("*"):
        rel = path.relative_to(out).as_posix()
        if path.is_symlink():
            links[rel] = str(path.readlink())
        elif path.is_file():
            files[rel] = path.read_bytes()
    return files, links
