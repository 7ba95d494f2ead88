"""A test-only writer of squashfs 3.1 and 2.1 images, in either byte order (never shipped).

Why it exists: no tool that Debian or PyPI ships builds squashfs 2 or 3 (mksquashfs 4 writes
only version 4, little endian), and sasquatch, which vendors' build systems patched, is not
packaged. The variants assay must open (big-endian squashfs 3 from MIPS and PowerPC routers,
vendor LZMA blocks) can therefore only be made here. The layout follows the squashfs 3.x
on-disk format as squashfs-tools documents it (``squashfs_compat.h``: ``squashfs_super_block_3``,
the ``*_inode_header_3`` and ``*_inode_header_2`` structures, ``squashfs_dir_header_3``/``_2``
and ``squashfs_dir_entry_3``/``_2``; version 2 has no inode numbers nor times in every inode, a
24-bit directory start, and a superblock that ends after the 32-bit table offsets);
the code is written here. It is checked independently of assay by 7-Zip (``7zz l``/``7zz x``
list and extract what was put in) and by libmagic (``file`` names the version and byte order),
in ``test_squashfs23_writer.py``.

What it writes: the superblock, then each regular file's data blocks (no fragments: the last,
short block is a block of its own), then the inode table, the directory table, an empty
fragment table and the uid and gid tables, padded to 4 KiB as mksquashfs pads. Each table is
one metadata block (at most 8 KiB before compression), so a test tree is small. Bit fields are
packed as the C structures lay them out on a machine of that byte order: from the low bits of
the first byte on a little-endian one, from the high bits on a big-endian one.

Compression: ``gzip`` (zlib streams, the only compressor of squashfs 3 proper), ``lzma`` (the
vendor variant kept under the standard magic: a raw LZMA stream, no header, properties lc=3
lp=0 pb=2, as 7-Zip reads it and names it "LZMA Spec"), ``sqlzma`` (the ``shsq``/``qshs`` magic
of the squashfs-lzma patch: each block an LZMA stream with its 13-byte header) or ``none``
(every block stored, flagged uncompressed).
"""

from __future__ import annotations

import lzma
import zlib
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

Order = Literal["little", "big"]
Compression = Literal["gzip", "lzma", "sqlzma", "none"]

METADATA_SIZE = 8192
_SUPERBLOCK_SIZE = 0x77
_SUPERBLOCK_SIZE_2 = 0x3F
_MAGIC = {"little": b"hsqs", "big": b"sqsh"}
_MAGIC_SQLZMA = {"little": b"shsq", "big": b"qshs"}
_DIR, _FILE, _SYMLINK = 1, 2, 3
_DEVICE = {"b": 4, "c": 5}
_NO_FRAGMENTS = 1 << 4
_UNCOMPRESSED = 0b1011  # inodes, data and fragments stored uncompressed
_INVALID_FRAGMENT = 0xFFFFFFFF
_METADATA_STORED = 1 << 15
_BLOCK_STORED = 1 << 24
_MKFS_TIME = 1_200_000_000  # 2008, when squashfs 3.x was current


@dataclass(frozen=True)
class Symlink:
    """A symbolic link to ``target``."""

    target: str


@dataclass(frozen=True)
class Device:
    """A character (``c``) or block (``b``) device node."""

    kind: Literal["c", "b"]
    major: int
    minor: int


Node: TypeAlias = "bytes | Symlink | Device | Tree"
Tree: TypeAlias = "dict[str, Node] | list[tuple[str, Node]]"
"""A directory: name -> file contents, a link, or a directory. As a dict its entries are
sorted by name, as squashfs requires; as a list they are written as given (a hostile image:
names out of order, or one name twice)."""


def pack_bits(fields: list[tuple[int, int]], order: Order) -> bytes:
    """Bit fields ``(value, width)`` laid out as a C compiler of that byte order packs them."""
    total = sum(width for _, width in fields)
    assert total % 8 == 0, "bit fields must fill whole bytes"
    word = 0
    position = 0
    for value, width in fields:
        assert 0 <= value < 1 << width, (value, width)
        shift = position if order == "little" else total - position - width
        word |= value << shift
        position += width
    return word.to_bytes(total // 8, order)


@dataclass
class _Writer:
    order: Order
    compression: Compression
    block_size: int
    version: int
    image: bytearray = field(default_factory=bytearray)
    inodes: bytearray = field(default_factory=bytearray)
    directories: bytearray = field(default_factory=bytearray)
    count: int = 0

    def compress(self, data: bytes) -> bytes | None:
        """``data`` compressed as a block of this image, or ``None`` to store it as it is."""
        if self.compression == "none":
            return None
        if self.compression == "gzip":
            packed = zlib.compress(data, 9)
        else:
            lzma1 = {"id": lzma.FILTER_LZMA1, "dict_size": self.block_size, "lc": 3, "lp": 0}
            raw = lzma.compress(data, format=lzma.FORMAT_RAW, filters=[{**lzma1, "pb": 2}])
            if self.compression == "sqlzma":  # properties byte, dictionary, unpacked size
                header = bytes([0x5D]) + self.block_size.to_bytes(4, "little")
                raw = header + len(data).to_bytes(8, "little") + raw
            packed = raw
        return packed if len(packed) < len(data) else None

    def number(self, value: int, size: int) -> bytes:
        return value.to_bytes(size, self.order)

    def metadata(self, data: bytes) -> bytes:
        """One metadata block: its 16-bit length word, then the (compressed) bytes."""
        assert len(data) <= METADATA_SIZE, "the test writer keeps each table in one block"
        packed = self.compress(data)
        if packed is None:
            return self.number(len(data) | _METADATA_STORED, 2) + data
        return self.number(len(packed), 2) + packed

    def base(self, kind: int, mode: int) -> bytes:
        """The inode header all types share: type, mode, uid and gid index, time, number."""
        self.count += 1
        bits = pack_bits([(kind, 4), (mode, 12), (0, 8), (0, 8)], self.order)
        if self.version == 2:
            return bits
        return bits + self.number(_MKFS_TIME, 4) + self.number(self.count, 4)

    def links(self) -> bytes:
        """The link count that version 3 gives every inode but a regular file's."""
        return self.number(1, 4) if self.version == 3 else b""

    def add_inode(self, inode: bytes) -> int:
        """Append an inode to the table; its reference (block 0, offset in the block)."""
        offset = len(self.inodes)
        self.inodes += inode
        return offset

    def file(self, data: bytes) -> int:
        start = len(self.image)
        sizes = []
        for at in range(0, len(data), self.block_size):
            block = data[at : at + self.block_size]
            packed = self.compress(block)
            self.image += block if packed is None else packed
            sizes.append(len(block) | _BLOCK_STORED if packed is None else len(packed))
        inode = self.base(_FILE, 0o644)
        if self.version == 2:
            inode += self.number(_MKFS_TIME, 4) + self.number(start, 4)
        else:
            inode += self.number(start, 8)
        inode += self.number(_INVALID_FRAGMENT, 4) + self.number(0, 4)
        inode += self.number(len(data), 4) + b"".join(self.number(s, 4) for s in sizes)
        return self.add_inode(inode)

    def symlink(self, target: str) -> int:
        name = target.encode()
        inode = self.base(_SYMLINK, 0o777) + self.links() + self.number(len(name), 2)
        return self.add_inode(inode + name)

    def device(self, node: Device) -> int:
        inode = self.base(_DEVICE[node.kind], 0o600) + self.links()
        return self.add_inode(inode + self.number(node.major << 8 | node.minor, 2))

    def directory(self, tree: Tree, parent: int) -> int:
        """Write a directory's children, its listing and its inode (numbered after them, as
        mksquashfs numbers them); the inode's offset in the table."""
        own = self.count + _count(tree)
        entries = []
        for name, child in _entries(tree):
            if isinstance(child, (dict, list)):
                offset, kind = self.directory(child, own), _DIR
            elif isinstance(child, Symlink):
                offset, kind = self.symlink(child.target), _SYMLINK
            elif isinstance(child, Device):
                offset, kind = self.device(child), _DEVICE[child.kind]
            else:
                offset, kind = self.file(child), _FILE
            entries.append((name.encode(), offset, self.count, kind))
        listing = b""
        if entries:
            first = min(number for *_, number, _ in entries)
            if self.version == 2:  # count, inode block; no inode numbers
                listing = pack_bits([(len(entries) - 1, 8), (0, 24)], self.order)
            else:
                listing = pack_bits([(len(entries) - 1, 8), (0, 32), (first, 32)], self.order)
            for name, offset, number, kind in entries:
                fields = [(offset, 13), (kind, 3), (len(name) - 1, 8)]
                if self.version == 3:
                    fields.append((number - first, 16))
                listing += pack_bits(fields, self.order) + name
        start = len(self.directories)
        self.directories += listing
        inode = self.base(_DIR, 0o755)
        assert self.count == own
        if self.version == 2:  # size, offset, time, 24-bit start of the listing's block
            inode += pack_bits([(len(listing), 19), (start, 13)], self.order)
            return self.add_inode(inode + self.number(_MKFS_TIME, 4) + bytes(3))
        inode += self.links() + pack_bits([(len(listing) + 3, 19), (start, 13)], self.order)
        inode += self.number(0, 4) + self.number(parent, 4)
        return self.add_inode(inode)


def _count(tree: Tree) -> int:
    """Inodes of a directory: its own and all below it."""
    return 1 + sum(_count(c) if isinstance(c, (dict, list)) else 1 for _, c in _entries(tree))


def _entries(tree: Tree) -> list[tuple[str, Node]]:
    if isinstance(tree, list):
        return tree
    return sorted(tree.items(), key=lambda item: item[0].encode())


def build(
    tree: Tree,
    *,
    order: Order = "little",
    compression: Compression = "gzip",
    block_size: int = 4096,
    version: Literal[2, 3] = 3,
) -> bytes:
    """A squashfs 3.1 (or 2.1) image of ``tree`` (see the module docstring)."""
    size = _SUPERBLOCK_SIZE if version == 3 else _SUPERBLOCK_SIZE_2
    writer = _Writer(order, compression, block_size, version, bytearray(size))
    root = writer.directory(tree, _count(tree) + 1)
    number = writer.number
    inode_table = len(writer.image)
    writer.image += writer.metadata(bytes(writer.inodes))
    directory_table = len(writer.image)
    writer.image += writer.metadata(bytes(writer.directories))
    fragment_table = uid_table = len(writer.image)
    writer.image += number(0, 4)  # uid 0
    gid_table = len(writer.image)
    writer.image += number(0, 4)  # gid 0
    used = len(writer.image)
    magic = _MAGIC_SQLZMA if compression == "sqlzma" else _MAGIC
    flags = _NO_FRAGMENTS | (_UNCOMPRESSED if compression == "none" else 0)
    block_log = block_size.bit_length() - 1
    head = magic[order] + number(writer.count, 4)
    head += b"".join(
        number(min(v, 0xFFFFFFFF), 4)
        for v in (used, uid_table, gid_table, inode_table, directory_table)
    )
    head += number(version, 2) + number(1, 2)  # major, minor
    head += number(block_size & 0xFFFF, 2) + number(block_log, 2)
    head += bytes([flags, 1, 1]) + number(_MKFS_TIME, 4)
    head += number(root, 8)  # (block 0 << 16) | offset
    head += number(block_size, 4) + number(0, 4) + number(fragment_table, 4)
    if version == 3:  # the 64-bit offsets
        for value in (used, uid_table, gid_table, inode_table, directory_table, fragment_table):
            head += number(value, 8)
        head += b"\xff" * 8  # no export (lookup) table
    assert len(head) == size
    writer.image[:size] = head
    writer.image += bytes(-used % 4096)
    return bytes(writer.image)
