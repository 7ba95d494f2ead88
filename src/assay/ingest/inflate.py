"""Decompression in bounded steps: no read makes more bytes than it was asked for.

A few hundred bytes of bzip2 or LZMA expand to gigabytes, so a cap checked after a whole
compressed chunk is decompressed comes too late: the chunk alone exhausts memory. ``tarfile``'s
stream mode and ``zipfile``'s bzip2 and LZMA members decompress each chunk whole. Here tar
archives are read through the standard library's file objects (``GzipFile``, ``LZMAFile``,
``BZ2File``, which pass the size asked for down to the decompressor as ``max_length``), and
bzip2 and LZMA zip members through ``Inflating``, so the caps that ``archive`` charges per read
see the bytes as they come out. lz4 frames (``lz4.frame``, built like ``BZ2File``) and zstd
(``zstandard``'s stream reader) give the same guarantee to single compressed files.
"""

from __future__ import annotations

import bz2
import copy
import gzip
import io
import lzma
import struct
import tarfile
import zipfile
import zlib
from contextlib import AbstractContextManager, ExitStack
from pathlib import Path
from typing import IO, Final, Protocol, cast

import lz4.frame
import zstandard

from assay.ingest.magic import ArchiveFormat
from assay.ingest.members import Readable

STEP: Final = 1 << 16
"""Compressed bytes read at a time."""

_LZMA_PROPS: Final = 5


class Decompressor(Protocol):
    """What ``bz2.BZ2Decompressor`` and ``lzma.LZMADecompressor`` share."""

    @property
    def eof(self) -> bool:
        """The end-of-stream marker was reached."""
        ...

    @property
    def needs_input(self) -> bool:
        """No output is pending: the next call needs more compressed bytes."""
        ...

    def decompress(self, data: bytes, max_length: int = -1) -> bytes:
        """At most ``max_length`` bytes out of ``data`` and what earlier calls left pending."""
        ...


def decompressed(source: Path | IO[bytes], fmt: ArchiveFormat) -> io.BufferedIOBase:
    """The single compressed stream ``source`` (gzip, xz, LZMA, bzip2, lz4 or zstd), decompressed.

    ``source`` is a path (the file is closed with the result) or an open binary file (left
    open). Each read decompresses no more than it returns.
    """
    if fmt is ArchiveFormat.GZIP:
        if isinstance(source, Path):
            return gzip.GzipFile(source, "rb")
        return gzip.GzipFile(fileobj=source, mode="rb")
    if fmt is ArchiveFormat.XZ:
        return lzma.LZMAFile(source, "rb", format=lzma.FORMAT_XZ)
    if fmt is ArchiveFormat.LZMA:
        return lzma.LZMAFile(source, "rb", format=lzma.FORMAT_ALONE)
    if fmt is ArchiveFormat.BZIP2:
        return bz2.BZ2File(source, "rb")
    if fmt is ArchiveFormat.LZ4:
        return cast(io.BufferedIOBase, lz4.frame.LZ4FrameFile(source, "rb"))
    if fmt is ArchiveFormat.ZSTD:
        return _zstd(source)
    raise ValueError(f"{fmt} is not a compressed stream read here")


def _zstd(source: Path | IO[bytes]) -> io.BufferedIOBase:
    """A zstd stream (every frame, one after another), decompressed as read."""
    raw = source.open("rb") if isinstance(source, Path) else source
    reader = zstandard.ZstdDecompressor().stream_reader(
        raw, read_across_frames=True, closefd=isinstance(source, Path)
    )
    return io.BufferedReader(cast(io.RawIOBase, reader))


def open_tar(source: Path, fmt: ArchiveFormat, stack: ExitStack) -> tarfile.TarFile:
    """The tar archive ``source`` (plain or in one compressed stream), read front to back.

    The files opened are closed with ``stack``. Raises what ``tarfile`` and the decompressors
    raise on a damaged archive.
    """
    raw = source.open("rb") if fmt is ArchiveFormat.TAR else decompressed(source, fmt)
    stack.enter_context(raw)
    # NOTE: stream mode reads once, front to back: no seeking a hostile file around. The
    # decompression is ours (``r|``, not ``r|*``): tarfile's own decompresses chunks whole.
    return stack.enter_context(tarfile.open(fileobj=raw, mode="r|"))


def open_zip_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo
) -> AbstractContextManager[Readable]:
    """The bytes of a zip member; bzip2 and LZMA members are decompressed in bounded steps."""
    if info.compress_type not in (zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA):
        return archive.open(info)  # stored, or deflate: zipfile bounds each step itself
    raw = copy.copy(info)
    raw.compress_type = zipfile.ZIP_STORED
    raw.file_size = info.compress_size
    del raw.CRC  # the compressed bytes are read as they are; the CRC is checked on the output
    stream = archive.open(raw)
    if info.compress_type == zipfile.ZIP_BZIP2:
        return Inflating(stream, bz2.BZ2Decompressor(), info)
    return Inflating(stream, _zip_lzma(stream), info)


def _zip_lzma(stream: Readable) -> lzma.LZMADecompressor:
    """A raw LZMA1 decompressor from the header of a zip LZMA member (APPNOTE 5.8.8)."""
    header = stream.read(4)
    if len(header) != 4:
        raise lzma.LZMAError("LZMA member ends inside its header")
    (size,) = struct.unpack("<H", header[2:])
    props = stream.read(size)
    if size != _LZMA_PROPS or len(props) != size or props[0] >= 9 * 5 * 5:
        raise lzma.LZMAError(f"LZMA member with bad properties {props!r}")
    lc, rest = props[0] % 9, props[0] // 9
    filters = {
        "id": lzma.FILTER_LZMA1,
        "dict_size": int.from_bytes(props[1:], "little"),
        "lc": lc,
        "lp": rest % 5,
        "pb": rest // 5,
    }
    return lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=[filters])


class Inflating:
    """The bytes ``decompressor`` makes of a zip member's ``raw`` bytes, at most as asked.

    Like ``zipfile``: the output stops at the member's listed size, and ends when the
    compressed bytes do; a CRC that does not match raises ``BadZipFile`` at the end.
    """

    def __init__(self, raw: IO[bytes], decompressor: Decompressor, info: zipfile.ZipInfo) -> None:
        self.raw = raw
        self.decompressor = decompressor
        self.name = info.filename
        self.expected_crc = info.CRC
        self.crc = 0
        self.left = info.file_size
        self.done = False

    def __enter__(self) -> Inflating:
        return self

    def __exit__(self, *exc: object) -> None:
        self.raw.close()

    def read(self, size: int = -1, /) -> bytes:
        """Up to ``size`` bytes (``STEP`` when ``size`` is negative); ``b""`` at the end."""
        wanted = min(STEP if size < 0 else size, self.left)
        out = bytearray()
        while len(out) < wanted and not self.done:
            out += self._step(wanted - len(out))
        self.left -= len(out)
        self.crc = zlib.crc32(out, self.crc)
        if (self.done or not self.left) and self.crc != self.expected_crc:
            raise zipfile.BadZipFile(f"Bad CRC-32 for file {self.name!r}")
        return bytes(out)

    def _step(self, most: int) -> bytes:
        data = b""
        if self.decompressor.needs_input:
            data = self.raw.read(STEP)
            if not data:
                self.done = True
                return b""
        out = self.decompressor.decompress(data, most)
        self.done = self.decompressor.eof
        return out
