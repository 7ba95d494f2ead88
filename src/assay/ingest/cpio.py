"""cpio archives as initramfs images and firmware use them: the ``newc``, ``crc`` and ``odc``
formats, read front to back from a (possibly decompressed) stream, in Python.

The reader only describes entries (see ``members``); ``archive`` applies the safety rules. In
``newc`` a group of hard links carries its bytes once, with the last name; the earlier names
are held back until then and yielded as hard links to it. Archives may be concatenated, as the
kernel accepts (an early microcode archive before the root file system): after a trailer, NUL
padding and another cpio header continue the archive; anything else is ``TrailingData``.
"""

from __future__ import annotations

import re
import stat
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Final

from assay.errors import FormatError
from assay.ingest.classify import CHUNK, special_name
from assay.ingest.members import Entries, Member, MemberType, Opener, Readable

TRAILER: Final = b"TRAILER!!!"
MAX_NAME: Final = 4096
"""Longest name accepted (``PATH_MAX``); a longer one means a corrupt header."""
MAX_TARGET: Final = 4096
"""Longest symbolic link target accepted."""

_NEWC: Final = (b"070701", b"070702")
_ODC: Final = b"070707"
_ODC_WIDTHS: Final = (6, 6, 6, 6, 6, 6, 6, 11, 6, 11)
_NEWC_FIELDS: Final = re.compile(rb"[0-9A-Fa-f]{104}")
_ODC_FIELDS: Final = re.compile(rb"[0-7]{70}")


class CpioError(FormatError, ValueError):
    """The bytes are not a well-formed cpio archive."""


class TrailingData(FormatError):
    """Bytes after a trailer that are not another cpio archive (e.g. a compressed part)."""

    def __init__(self, offset: int, head: bytes) -> None:
        super().__init__(f"{len(head)} bytes at {offset}")
        self.offset = offset
        self.head = head

    def __reduce__(self) -> tuple[type[TrailingData], tuple[int, bytes]]:
        """Pickle with both fields (the default would pass only the message back)."""
        return type(self), (self.offset, self.head)


@dataclass(frozen=True, slots=True)
class Header:
    """The fields of one entry header that extraction needs."""

    name: bytes
    mode: int
    size: int
    link_key: tuple[int, int, int]
    """(device major, device minor, inode): equal for the names of one hard-link group."""
    nlink: int
    aligned: bool
    """``newc``/``crc``: name and data are padded to four bytes."""


class _Stream:
    """The archive bytes, with the offset read so far and pushback for one look ahead."""

    def __init__(self, raw: Readable, charge: Callable[[int], None]) -> None:
        self.raw = raw
        self.charge = charge
        self.offset = 0
        self.ahead = b""

    def read(self, size: int) -> bytes:
        parts = [self.ahead[:size]]
        self.ahead = self.ahead[size:]
        wanted = size - len(parts[0])
        while wanted > 0 and (chunk := self.raw.read(min(wanted, CHUNK))):
            parts.append(chunk)
            wanted -= len(chunk)
        data = b"".join(parts)
        self.offset += len(data)
        return data

    def exact(self, size: int, what: str) -> bytes:
        data = self.read(size)
        if len(data) != size:
            raise CpioError(f"archive ends inside {what} at byte {self.offset}")
        return data

    def skip(self, size: int) -> None:
        """Read and drop ``size`` bytes of member data, charging them as expanded."""
        while size > 0:
            chunk = self.exact(min(size, CHUNK), "member data")
            self.charge(len(chunk))
            size -= len(chunk)

    def align(self) -> None:
        self.exact(-self.offset % 4, "padding")

    def unread(self, data: bytes) -> None:
        self.ahead = data + self.ahead
        self.offset -= len(data)


class _Data:
    """A member's bytes: reads stop at its end."""

    def __init__(self, stream: _Stream, size: int) -> None:
        self.stream = stream
        self.left = size

    def read(self, size: int = -1, /) -> bytes:
        wanted = self.left if size < 0 else min(size, self.left)
        data = self.stream.exact(wanted, "member data") if wanted else b""
        self.left -= len(data)
        return data


def entries(raw: Readable, charge: Callable[[int], None]) -> Entries:
    """The entries of the cpio archive(s) in ``raw``; ``charge`` is told of bytes skipped.

    Raises ``CpioError`` (a ``ValueError``) on malformed headers or a truncated archive and
    ``TrailingData`` when bytes that are not cpio follow a trailer.
    """
    stream = _Stream(raw, charge)
    held: dict[tuple[int, int, int], list[bytes]] = {}
    while (header := _next_header(stream)) is not None:
        if header.name == TRAILER:
            yield from _release(held)
            held.clear()
            _after_trailer(stream)
            continue
        kind = stat.S_IFMT(header.mode)
        if kind == stat.S_IFREG and header.aligned and header.nlink > 1:
            if header.size == 0:
                held.setdefault(header.link_key, []).append(header.name)
                continue
            target = _text(header.name)
            for name in held.pop(header.link_key, []):
                yield Member(_text(name), MemberType.HARDLINK, target), None
        data = _Data(stream, header.size)
        yield _member(header, kind, data), _opener(data)
        stream.skip(data.left)
        if header.aligned:
            stream.align()
    yield from _release(held)


def _member(header: Header, kind: int, data: _Data) -> Member:
    name = _text(header.name)
    if kind == stat.S_IFREG:
        return Member(name, MemberType.FILE)
    if kind == stat.S_IFDIR:
        return Member(name, MemberType.DIR)
    if kind == stat.S_IFLNK:
        if header.size > MAX_TARGET:
            raise CpioError(f"symbolic link target of {header.size} bytes > {MAX_TARGET}")
        target = data.read()
        data.stream.charge(len(target))
        return Member(name, MemberType.SYMLINK, _text(target))
    return Member(name, MemberType.REFUSED, special_name(header.mode), "special-file")


def _release(held: dict[tuple[int, int, int], list[bytes]]) -> Entries:
    """Names of hard-link groups whose bytes never came: empty files, as cpio restores them."""
    for names in held.values():
        for name in names:
            yield Member(_text(name), MemberType.FILE), _opener(_Empty())


def _opener(data: Readable) -> Opener:
    return lambda: nullcontext(data)


class _Empty:
    def read(self, size: int = -1, /) -> bytes:
        return b""


def _text(name: bytes) -> str:
    return name.decode("utf-8", "surrogateescape")


def _after_trailer(stream: _Stream) -> None:
    """Step over NUL padding; leave the stream at the next header, at its end, or raise."""
    while chunk := stream.read(CHUNK):
        rest = chunk.lstrip(b"\0")
        if rest:
            stream.unread(rest)
            head = stream.read(6)
            stream.unread(head)
            if head not in (*_NEWC, _ODC):
                raise TrailingData(stream.offset, rest[:16])
            return


def _next_header(stream: _Stream) -> Header | None:
    magic = stream.read(6)
    if not magic:
        if stream.offset == 0:
            raise CpioError("empty archive")
        return None
    if magic in _NEWC:
        return _newc(stream)
    if magic == _ODC:
        return _odc(stream)
    raise CpioError(f"no cpio header at byte {stream.offset - len(magic)}: {magic!r}")


def _newc(stream: _Stream) -> Header:
    raw = _fields(stream, _NEWC_FIELDS, 104)
    ino, mode, _, _, nlink, _, size, major, minor, _, _, namesize, _ = (
        int(raw[i : i + 8], 16) for i in range(0, 104, 8)
    )
    name = _name(stream, namesize)
    stream.align()
    return Header(name, mode, size, (major, minor, ino), nlink, aligned=True)


def _odc(stream: _Stream) -> Header:
    raw = _fields(stream, _ODC_FIELDS, 70)
    values, at = [], 0
    for width in _ODC_WIDTHS:
        values.append(int(raw[at : at + width], 8))
        at += width
    dev, ino, mode, _, _, nlink, _, _, namesize, size = values
    return Header(_name(stream, namesize), mode, size, (dev, 0, ino), nlink, aligned=False)


def _fields(stream: _Stream, pattern: re.Pattern[bytes], size: int) -> bytes:
    raw = stream.exact(size, "a header")
    if pattern.fullmatch(raw) is None:
        raise CpioError(f"malformed header fields before byte {stream.offset}")
    return raw


def _name(stream: _Stream, namesize: int) -> bytes:
    if not 1 <= namesize <= MAX_NAME + 1:
        raise CpioError(f"name size {namesize} at byte {stream.offset} out of range")
    name = stream.exact(namesize, "a name")
    if not name.endswith(b"\0"):
        raise CpioError(f"name not NUL-terminated at byte {stream.offset}")
    return name[:-1]
