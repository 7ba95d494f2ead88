"""What a file is: its kind from its name and first bytes, its digest, a printable name.

Magic numbers win over names for the kinds that decide what the tool does with a file (ELF
binaries and archives); names decide the source kinds, so that a binary file named ``x.c``
stays a C file and the parse stage reports it as wanted but skipped. Everything else is text
or other, by the absence of NUL bytes in the head. The digest (size, sha256 and head) is
taken in one bounded-memory pass, so that classifying costs no second read.
"""

from __future__ import annotations

import errno
import hashlib
import os
import posixpath
import re
import stat
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from assay.model import FileKind

HEAD_SIZE: Final = 8192
"""Bytes of a file's start that classification looks at."""

CHUNK: Final = 1 << 20
"""Bytes read (and hashed) at a time: memory stays bounded whatever the file size."""

_FIRST_READ: Final = 64 * 1024
"""Size of the first read: most source files fit, and it stays below malloc's mmap threshold."""


class ArchiveFormat(StrEnum):
    """Archive formats that ingest extracts, recognised by magic bytes."""

    TAR = "tar"
    GZIP = "gzip"
    XZ = "xz"
    BZIP2 = "bzip2"
    ZIP = "zip"


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
    return None


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
