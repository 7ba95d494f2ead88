"""What a file is: its kind from its name and first bytes, its digest, a printable name.

Magic numbers win over names for the kinds that decide what the tool does with a file (ELF
binaries, and archives: tar, zip, cpio and file-system images); names decide the source kinds,
so that a binary file named ``x.c`` stays a C file and the parse stage reports it as wanted but
skipped. Everything else is text or other, by the absence of NUL bytes in the head (static
libraries, ``!<arch>``, are always other: their head may be all text). The digest (size,
sha256 and head) is taken in one bounded-memory pass, so that classifying costs no second read."""

from __future__ import annotations

import errno
import hashlib
import os
import posixpath
import re
import stat
import tarfile
import zlib
from dataclasses import dataclass
from typing import Final, Literal

from assay.ingest.magic import ArchiveFormat, container_format, stream_format
from assay.model import FileKind

HEAD_SIZE: Final = 8192
"""Bytes of a file's start that classification looks at."""

CHUNK: Final = 1 << 20
"""Bytes read (and hashed) at a time: memory stays bounded whatever the file size."""

_FIRST_READ: Final = 64 * 1024
"""Size of the first read: most source files fit, and it stays below malloc's mmap threshold."""


IMAGE_FORMATS: Final = frozenset(
    {
        ArchiveFormat.SQUASHFS,
        ArchiveFormat.EXT,
        ArchiveFormat.JFFS2,
        ArchiveFormat.UBI,
    }
)
"""File-system images: unpacked by an external extractor in the sandbox (see ``images``)."""


_SOURCE_SUFFIXES: Final = {
    ".c": FileKind.C,
    ".cc": FileKind.CPP,
    ".cpp": FileKind.CPP,
    ".cxx": FileKind.CPP,
    ".c++": FileKind.CPP,
    ".h": FileKind.HEADER,
    ".hh": FileKind.HEADER,
    ".hpp": FileKind.HEADER,
    ".hxx": FileKind.HEADER,
    ".h++": FileKind.HEADER,
    ".inl": FileKind.HEADER,
    ".ipp": FileKind.HEADER,
    ".tcc": FileKind.HEADER,
    ".tpp": FileKind.HEADER,
}
# NOTE: ``.inc`` is left out on purpose: in vendor trees it is as often assembler, Pascal or
# build-system text as a C fragment, and parsing those as C would only produce noise.

# "BZh", a block size digit, then the magic of a first block or of an empty stream's end.
_BZIP2: Final = re.compile(rb"BZh[1-9](?:1AY&SY|\x17rE8P\x90)")
_TAR_MAGIC_AT: Final = slice(257, 262)
_TAR_CHECKSUM_AT: Final = slice(148, 156)
# cpio: "070701" (newc) or "070702" (crc) and 13 hex fields, or "070707" (odc) and 70 octal digits.
_CPIO: Final = re.compile(rb"07070[12][0-9A-Fa-f]{104}|070707[0-7]{70}")
_Order = Literal["little", "big"]
_SQUASHFS: Final[dict[bytes, _Order]] = {b"hsqs": "little", b"sqsh": "big"}
# The squashfs-lzma magics (Broadcom's LZMA squashfs 3): 7-Zip reads them (``squashfs7z``).
_SQUASHFS_LZMA: Final[dict[bytes, _Order]] = {b"shsq": "little", b"qshs": "big"}
_CRAMFS: Final = (b"\x45\x3d\xcd\x28", b"\x28\xcd\x3d\x45")  # 0x28cd3d45, either byte order
_EXT_MAGIC_AT: Final = 1024 + 56  # in the superblock, which starts at byte 1024
_JFFS2: Final[dict[bytes, _Order]] = {b"\x85\x19": "little", b"\x19\x85": "big"}  # 0x1985
_JFFS2_NODES: Final = frozenset({0xE001, 0xE002, 0x2003, 0x2004, 0xE006, 0xE008, 0xE009})
_AR: Final = (b"!<arch>\n", b"!<thin>\n")

_OPEN_FLAGS: Final = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_BINARY", 0)
)

_SPECIAL_NAMES: Final = (
    (stat.S_ISFIFO, "fifo"),
    (stat.S_ISCHR, "character device"),
    (stat.S_ISBLK, "block device"),
    (stat.S_ISSOCK, "socket"),
)


@dataclass(frozen=True, slots=True)
class Digest:
    """Size, hash and first bytes of a content, taken in one pass."""

    size: int
    """Bytes read."""
    sha256: str
    """Hex sha256 of the content."""
    head: bytes
    """The first ``HEAD_SIZE`` bytes, for classification."""


def source_kind(path: str) -> FileKind | None:
    """C, C++ or header by file name suffix, or ``None``; ``.C`` (capital) is C++."""
    suffix = posixpath.splitext(path)[1]
    if suffix == ".C":
        return FileKind.CPP
    return _SOURCE_SUFFIXES.get(suffix.lower())


def archive_format(head: bytes) -> ArchiveFormat | None:
    """The archive format whose magic ``head`` starts with, or ``None``."""
    if head.startswith(b"\x1f\x8b\x08"):
        return ArchiveFormat.GZIP
    if head.startswith(b"\xfd7zXZ\x00"):
        return ArchiveFormat.XZ
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return ArchiveFormat.ZIP
    if _BZIP2.match(head):
        return ArchiveFormat.BZIP2
    if _is_tar_header(head):
        return ArchiveFormat.TAR
    if is_cpio(head):
        return ArchiveFormat.CPIO
    return _image_format(head)


def is_tar(head: bytes) -> bool:
    """Whether ``head`` starts with a tar header block (ustar or v7).

    Leading NULs are not taken for an empty archive: a compressed disk image starts so too.
    """
    if _is_tar_header(head):
        return True
    try:
        tarfile.TarInfo.frombuf(head[:512], "utf-8", "surrogateescape")  # checks the checksum
    except tarfile.HeaderError:
        return False
    return True


def is_cpio(head: bytes) -> bool:
    """Whether ``head`` starts with a well-formed cpio header (newc, crc or odc)."""
    return _CPIO.match(head) is not None


def _image_format(head: bytes) -> ArchiveFormat | None:
    """The file-system image whose superblock ``head`` holds, or ``None``."""
    order = _SQUASHFS.get(head[:4])
    if order is not None and 1 <= int.from_bytes(head[28:30], order) <= 4:  # major version
        return ArchiveFormat.SQUASHFS
    order = _SQUASHFS_LZMA.get(head[:4])
    if order is not None and 1 <= int.from_bytes(head[28:30], order) <= 3:
        return ArchiveFormat.SQUASHFS
    for at in (0, 512):  # the superblock may follow a 512-byte boot block
        if head[at : at + 4] in _CRAMFS and head[at + 16 : at + 32] == b"Compressed ROMFS":
            return ArchiveFormat.CRAMFS
    if _is_ext_superblock(head):
        return ArchiveFormat.EXT
    if _is_jffs2_node(head):
        return ArchiveFormat.JFFS2
    if head.startswith(b"UBI#\x01"):
        return ArchiveFormat.UBI
    return stream_format(head) or container_format(head)


def _is_ext_superblock(head: bytes) -> bool:
    """The ext2/3/4 magic 0xEF53 where the superblock has it, and plausible fields around it."""
    if len(head) < 2048 or head[_EXT_MAGIC_AT : _EXT_MAGIC_AT + 2] != b"\x53\xef":
        return False
    inodes = int.from_bytes(head[1024:1028], "little")
    first_data_block = int.from_bytes(head[1044:1048], "little")
    log_block_size = int.from_bytes(head[1048:1052], "little")
    revision = int.from_bytes(head[1100:1104], "little")
    plausible_layout = first_data_block == (1 if log_block_size == 0 else 0)
    return inodes > 0 and log_block_size <= 6 and revision <= 1 and plausible_layout


def _is_jffs2_node(head: bytes) -> bool:
    """A JFFS2 node header: magic, known node type and a correct header CRC."""
    order = _JFFS2.get(head[:2])
    if order is None or len(head) < 12:
        return False
    node_type = int.from_bytes(head[2:4], order)
    stored = int.from_bytes(head[8:12], order)
    # JFFS2 seeds crc32 with 0 and does not invert it: zlib's crc32 undone at both ends.
    crc = zlib.crc32(head[:8], 0xFFFFFFFF) ^ 0xFFFFFFFF
    return node_type in _JFFS2_NODES and stored == crc


def _is_tar_header(head: bytes) -> bool:
    """A POSIX (ustar) header block whose checksum is right: "ustar" alone may occur in text."""
    if len(head) < 512 or head[_TAR_MAGIC_AT] != b"ustar":
        return False
    field = head[_TAR_CHECKSUM_AT].rstrip(b"\0 ").lstrip(b" ")
    try:
        stored = int(field, 8)
    except ValueError:
        return False
    # The checksum counts its own field as eight spaces.
    counted = head[:148] + head[156:512]
    unsigned = sum(counted) + 8 * 0x20
    signed = unsigned - 256 * sum(1 for byte in counted if byte >= 0x80)
    return stored in (unsigned, signed)


def classify(path: str, head: bytes) -> FileKind:
    """The kind of the file at ``path`` (any path syntax) whose content starts with ``head``."""
    if head.startswith(b"\x7fELF"):
        return FileKind.ELF
    if archive_format(head) is not None:
        return FileKind.ARCHIVE
    kind = source_kind(path)
    if kind is not None:
        return kind
    if head.startswith(_AR):
        return FileKind.OTHER
    return FileKind.OTHER if b"\0" in head[:HEAD_SIZE] else FileKind.TEXT


def printable(name: str) -> str:
    """``name`` as valid UTF-8 text: bytes that are not UTF-8 are shown as ``\\xNN``."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        pass
    try:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:
        return name.encode("utf-8", "backslashreplace").decode("utf-8")


def special_name(mode: int) -> str:
    """A readable name for the file type in a ``st_mode``: ``fifo``, ``socket``..."""
    for test, name in _SPECIAL_NAMES:
        if test(mode):
            return name
    return f"file type {stat.S_IFMT(mode):o}"


def digest_file(disk_path: str) -> Digest:
    """Size, sha256 and head of a regular file; ``OSError`` if it is not one or is unreadable."""
    fd = os.open(disk_path, _OPEN_FLAGS)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        first = os.read(fd, _FIRST_READ)
        digest = hashlib.sha256(first)
        size = len(first)
        while chunk := os.read(fd, CHUNK):
            digest.update(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    return Digest(size, digest.hexdigest(), first[:HEAD_SIZE])
