"""Readers that yield one member: a single compressed file, and a U-Boot legacy image.

A compressed stream that holds neither tar nor cpio is one file: its member is named after the
stream without its compression suffix (``rootfs.ext2.gz!/rootfs.ext2``), and its bytes come out
of ``inflate.decompressed`` as the extraction loop reads them, so every cap is charged while
they stream. The member is then classified like any other, so an ext image in a gzip stream is
unpacked at the next level. A U-Boot legacy image (``image.h``: a 64-byte header, then the
payload) yields its payload, decompressed when the header says gzip, bzip2, LZMA, LZ4 or zstd,
named after the image type (``uImage!/kernel``); the payload's CRC is checked once it has been
read.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Final, cast

from assay.errors import Unreadable
from assay.ingest.inflate import decompressed
from assay.ingest.magic import UIMAGE_HEADER, ArchiveFormat
from assay.ingest.members import Entries, Member, MemberType, Readable

_SUFFIXES: Final[dict[ArchiveFormat, dict[str, str]]] = {
    ArchiveFormat.GZIP: {".gz": "", ".gzip": "", ".z": "", ".tgz": ".tar", ".cpgz": ".cpio"},
    ArchiveFormat.XZ: {".xz": "", ".txz": ".tar"},
    ArchiveFormat.BZIP2: {".bz2": "", ".bz": "", ".tbz2": ".tar", ".tbz": ".tar"},
    ArchiveFormat.LZMA: {".lzma": "", ".tlz": ".tar"},
    ArchiveFormat.ZSTD: {".zst": "", ".zstd": "", ".tzst": ".tar"},
    ArchiveFormat.LZ4: {".lz4": ""},
}
_UIMAGE_TYPES: Final = {2: "kernel", 3: "ramdisk", 5: "firmware", 6: "script", 7: "filesystem"}
_UIMAGE_MULTI: Final = 4
_UIMAGE_COMPRESSION: Final = {
    0: None,
    1: ArchiveFormat.GZIP,
    2: ArchiveFormat.BZIP2,
    3: ArchiveFormat.LZMA,
    5: ArchiveFormat.LZ4,  # U-Boot's lz4 is the LZ4 frame format (lib/lz4_wrapper.c)
    6: ArchiveFormat.ZSTD,
}
_UIMAGE_COMPRESSION_NAMES: Final = {4: "lzo"}


class Unopened(Unreadable):
    """The container is recognised but not opened; ``reason`` and ``detail`` say why."""


def member_name(archive_name: str, fmt: ArchiveFormat) -> str:
    """The name of the file a compressed stream called ``archive_name`` holds.

    The compression suffix is dropped (``.tgz`` becomes ``.tar``); a name without one is kept
    as it is, and a name that would be empty becomes ``data``.
    """
    stem, dot, suffix = archive_name.rpartition(".")
    replacement = _SUFFIXES.get(fmt, {}).get(f".{suffix.lower()}") if dot else None
    name = archive_name if replacement is None else stem + replacement
    return name if name.strip(".") else "data"


def single_entries(source: Path, fmt: ArchiveFormat, name: str) -> Entries:
    """The one member of the compressed stream ``source``: its decompressed bytes, as ``name``."""
    yield Member(name, MemberType.FILE), lambda: decompressed(source, fmt)


def uimage_entries(raw: IO[bytes], size: int) -> Entries:
    """The payload of the U-Boot legacy image ``raw`` (``size`` bytes), as one member.

    The header is read and checked now, not when the entries are iterated. Raises
    ``Unopened`` for a multi-file image or a compression read nowhere here, and ``ValueError``
    when the header's data size runs past the end of the file.
    """
    fields = UIMAGE_HEADER.unpack(raw.read(UIMAGE_HEADER.size))
    data_size, data_crc, image_type, compression = fields[3], fields[6], fields[9], fields[10]
    if image_type == _UIMAGE_MULTI:
        detail = "U-Boot multi-file image: its parts are not split; dumpimage would be needed"
        raise Unopened("unsupported-container", detail)
    if compression not in _UIMAGE_COMPRESSION:
        what = _UIMAGE_COMPRESSION_NAMES.get(compression, f"compression {compression}")
        detail = f"U-Boot image with a {what} payload: not decompressed; {what} would be needed"
        raise Unopened("missing-tool", detail)
    if data_size > size - UIMAGE_HEADER.size:
        raise ValueError(f"U-Boot image data size {data_size} runs past the end of the file")
    name = _UIMAGE_TYPES.get(image_type, "payload")
    window = _Window(raw, data_size, data_crc)
    fmt = _UIMAGE_COMPRESSION[compression]
    return iter([(Member(name, MemberType.FILE), lambda: _payload(window, fmt))])


@contextmanager
def _payload(window: _Window, fmt: ArchiveFormat | None) -> Iterator[Readable]:
    """The payload's bytes (decompressed if ``fmt``); its CRC is checked when read whole."""
    if fmt is None:
        yield window
    else:
        with decompressed(cast(IO[bytes], window), fmt) as stream:  # it only reads
            yield stream
    window.finish()


class _Window:
    """The ``size`` bytes of ``raw`` from where it stands, with their CRC-32 checked."""

    def __init__(self, raw: IO[bytes], size: int, crc: int) -> None:
        self.raw = raw
        self.left = size
        self.expected = crc
        self.crc = 0

    def read(self, size: int = -1, /) -> bytes:
        """Up to ``size`` bytes of the window (1 MiB when ``size`` is negative)."""
        wanted = min(1 << 20 if size < 0 else size, self.left)
        data = self.raw.read(wanted)
        if len(data) < wanted:
            raise ValueError("U-Boot image data ends early")
        self.left -= len(data)
        self.crc = zlib.crc32(data, self.crc)
        return data

    def finish(self) -> None:
        """Read what the decompressor left (padding) and check the data CRC."""
        while self.left:
            self.read()
        if self.crc != self.expected:
            raise ValueError(f"U-Boot image data CRC {self.crc:#010x} != {self.expected:#010x}")
