"""cramfs images (either byte order), read in Python like an archive: no extractor runs.

``fsck.cramfs --extract`` stops at the first device node it may not create, and firmware
images always hold ``/dev``; reading the format here instead lets the archive rules apply to
each entry (names, links, special files, caps while the bytes stream). The layout is the
kernel's ``cramfs_fs.h``: a superblock (at byte 0, or 512 after a boot block), 12-byte inodes
whose offsets count 4-byte words from the start of the image, and each file's bytes as a table
of block end pointers followed by zlib blocks of 4 KiB. Images with the extended block
pointers of Linux 4.15 (``CRAMFS_FLAG_EXT_BLOCK_POINTERS``) are refused as unsupported.
"""

from __future__ import annotations

import stat
import zlib
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from typing import BinaryIO, Final, Literal

from assay.errors import FormatError
from assay.ingest.classify import special_name
from assay.ingest.members import Entries, Member, MemberType, Opener

BLOCK: Final = 4096
"""Uncompressed bytes per block (the page size every mkfs.cramfs uses by default)."""

_MAGIC: Final = 0x28CD3D45
_SUPER_SIZE: Final = 76
_INODE_SIZE: Final = 12
_EXT_BLOCK_POINTERS: Final = 0x800
_MAX_TARGET: Final = 4096

_Order = Literal["little", "big"]
_ORDERS: Final[tuple[_Order, ...]] = ("little", "big")


class CramfsError(FormatError, ValueError):
    """The bytes are not a cramfs image this reader can read."""


@dataclass(frozen=True, slots=True)
class _Inode:
    mode: int
    size: int
    offset: int
    """Byte offset of a directory's first entry or of a file's block pointer table."""
    name_size: int
    """Bytes of the name that follows the inode (a multiple of 4)."""


class _Image:
    """Random access to the image file, with its byte order."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.size = raw.seek(0, 2)
        self.order: _Order = "little"

    def bytes(self, offset: int, size: int) -> bytes:
        if offset < 0 or size < 0 or offset + size > self.size:
            raise CramfsError(f"{size} bytes at {offset} lie outside the {self.size}-byte image")
        self.raw.seek(offset)
        return self.raw.read(size)

    def word(self, offset: int) -> int:
        return int.from_bytes(self.bytes(offset, 4), self.order)

    def inode(self, offset: int) -> _Inode:
        a, b, c = (self.word(offset + at) for at in (0, 4, 8))
        if self.order == "little":
            mode, size, name_words, start = a & 0xFFFF, b & 0xFFFFFF, c & 0x3F, c >> 6
        else:
            mode, size, name_words, start = a >> 16, b >> 8, c >> 26, c & 0x3FFFFFF
        return _Inode(mode, size, start * 4, name_words * 4)


def _superblock(image: _Image) -> int:
    """Set the byte order; the offset of the root inode."""
    for base in (0, 512):
        head = image.bytes(base, 4) if image.size >= base + _SUPER_SIZE else b""
        for order in _ORDERS:
            if head and int.from_bytes(head, order) == _MAGIC:
                image.order = order
                if image.word(base + 8) & _EXT_BLOCK_POINTERS:
                    raise CramfsError("extended block pointers (Linux 4.15+) are not supported")
                return base + 64
    raise CramfsError("no cramfs superblock at byte 0 or 512")


def entries(raw: BinaryIO) -> Entries:
    """The entries of the cramfs image in ``raw``, directories first, depth first.

    Raises ``CramfsError`` (a ``ValueError``) or ``zlib.error`` on a malformed image.
    """
    image = _Image(raw)
    root = image.inode(_superblock(image))
    if not stat.S_ISDIR(root.mode):
        raise CramfsError("the root inode is not a directory")
    pending = [("", root)]
    seen: set[int] = set()
    while pending:
        prefix, folder = pending.pop()
        if folder.offset in seen and folder.size:
            raise CramfsError(f"directory at byte {folder.offset} is listed twice (a loop)")
        seen.add(folder.offset)
        for name, inode in _children(image, folder):
            path = f"{prefix}{name}"
            if stat.S_ISDIR(inode.mode):
                pending.append((f"{path}/", inode))
            yield _member(image, path, inode)


def _children(image: _Image, folder: _Inode) -> Iterator[tuple[str, _Inode]]:
    at, end = folder.offset, folder.offset + folder.size
    while at < end:
        inode = image.inode(at)
        name = image.bytes(at + _INODE_SIZE, inode.name_size).rstrip(b"\0")
        if not name:
            raise CramfsError(f"entry without a name at byte {at}")
        yield name.decode("utf-8", "surrogateescape"), inode
        at += _INODE_SIZE + inode.name_size


def _member(image: _Image, path: str, inode: _Inode) -> tuple[Member, Opener | None]:
    kind = stat.S_IFMT(inode.mode)
    if kind == stat.S_IFDIR:
        return Member(path, MemberType.DIR), None
    if kind == stat.S_IFREG:
        blocks = _Blocks(image, inode)
        return Member(path, MemberType.FILE), lambda: nullcontext(blocks)
    if kind == stat.S_IFLNK:
        if inode.size > _MAX_TARGET:
            raise CramfsError(f"symbolic link target of {inode.size} bytes at {path!r}")
        target = _Blocks(image, inode).read_all()
        return Member(path, MemberType.SYMLINK, target.decode("utf-8", "surrogateescape")), None
    return Member(path, MemberType.REFUSED, special_name(inode.mode), "special-file"), None


class _Blocks:
    """A file's bytes, decompressed block by block as they are read."""

    def __init__(self, image: _Image, inode: _Inode) -> None:
        self.image = image
        self.left = inode.size
        self.count = -(-inode.size // BLOCK)
        self.table = inode.offset
        self.index = 0
        self.start = inode.offset + 4 * self.count

    def read(self, size: int = -1, /) -> bytes:
        """The next block (at most 4 KiB, whatever ``size``); ``b""`` at the end."""
        if self.index == self.count:
            return b""
        end = self.image.word(self.table + 4 * self.index)
        wanted = min(BLOCK, self.left)
        if end == self.start:  # a hole: the block is all zeros
            data = bytes(wanted)
        else:
            packed = self.image.bytes(self.start, end - self.start)
            data = zlib.decompressobj().decompress(packed, BLOCK)
        if len(data) != wanted:
            raise CramfsError(f"block {self.index} holds {len(data)} bytes, not {wanted}")
        self.index += 1
        self.start = end
        self.left -= wanted
        return data

    def read_all(self) -> bytes:
        parts = []
        while chunk := self.read():
            parts.append(chunk)
        return b"".join(parts)
