"""A compressed built-in initramfs inside a decompressed Linux kernel.

The kernel's ``usr/initramfs_data.S`` puts the initramfs in ``.init.ramfs`` as the build made
it: an uncompressed ``newc`` cpio (found by ``kernel``), or that cpio compressed with gzip,
bzip2, lzma, xz, lzo, lz4 (the legacy frame) or zstd (``CONFIG_INITRAMFS_COMPRESSION_*``). The
section has no header that says where it is, so the kernel is searched, in one pass with
bounded memory, for the start of a compressed stream: each compressor's magic, kept only when
the first bytes it decompresses to are a cpio header (``07070``), which rules out the other
compressed data a kernel holds (its gzip-compressed ``.config``, firmware blobs).

Where the stream ends is learnt by decompressing it with the standard library's and the
``zstandard`` package's decompressors, whose ``unused_data`` tells where the compressed bytes
stop; the output is counted and dropped, and decompression stops at ``most`` bytes (the caps
still allowed), so a bomb is found before anything is written. Those compressed bytes are then
cut out as one more file, which ingest opens like any compressed cpio, charging the caps while
the members stream. lz4 legacy and lzo streams are read block by block (``lz4``; ``lzop``
with ``lzallright``), the same way; unblob opens them (``lz4``, ``lzop`` in the sandbox).
Hand-written because the search is the kernel's own layout, which no library reads.

Longer than 300 lines: the search, the stream-end reader for the standard decompressors and
the block reader for lz4 and lzo share one probe budget and one record of what was found.
"""

from __future__ import annotations

import bz2
import lzma
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Protocol, cast

import lz4.block
import zstandard

from assay.ingest import lzop
from assay.ingest.magic import ArchiveFormat

_CHUNK: Final = 1 << 20
_OVERLAP: Final = 64
_STEP: Final = 1 << 12
"""Compressed bytes fed at a time while looking for the end (zstd: see ``_ZSTD_STEP``)."""
_ZSTD_STEP: Final = 256
"""zstd's decompressor has no output bound per call: small inputs keep each call's output small."""
_TRIES: Final = 20_000
"""Magics tried at most: chance hits in code are rare (about 400 in a 30 MB arm64 kernel)."""
_PROBE: Final = 1 << 20
"""Compressed bytes one try may feed before the first output: a bzip2 block (900 kB at most)
and a zstd block (128 KiB) give nothing until they are whole."""
_PROBE_BUDGET: Final = 64 << 20
"""Compressed bytes all tries of one kernel may feed together: planted magics cost bounded time."""
_MAGICS: Final = {
    kind: re.compile(pattern, re.DOTALL)
    for kind, pattern in {
        "gzip": rb"\x1f\x8b\x08",
        "xz": rb"\xfd7zXZ\x00",
        "zstd": rb"\x28\xb5\x2f\xfd",
        "bzip2": rb"BZh[1-9]1AY&SY",
        "lzma": rb"\x5d\x00\x00.[\x00-\x08]",  # properties 0x5d, a dictionary up to 128 MiB
        "lz4": rb"\x02\x21\x4c\x18",  # the legacy frame, as the kernel writes it
        "lzo": re.escape(lzop.MAGIC),  # an lzop stream, as the kernel writes it
    }.items()
}
"""One pattern per compressor: each starts with a literal, which ``re`` searches fast (one
alternation of them all is several times slower)."""
_FORMATS: Final = {
    "gzip": ArchiveFormat.GZIP,
    "xz": ArchiveFormat.XZ,
    "zstd": ArchiveFormat.ZSTD,
    "bzip2": ArchiveFormat.BZIP2,
    "lzma": ArchiveFormat.LZMA,
    "lz4": ArchiveFormat.LZ4_LEGACY,
    "lzo": ArchiveFormat.LZO,
}
_CPIO: Final = b"07070"
_LZ4_MAGIC: Final = b"\x02\x21\x4c\x18"
_LZ4_BLOCK: Final = 8 << 20
"""What one block of the lz4 legacy format decompresses to at most."""
_LZ4_BOUND: Final = _LZ4_BLOCK + _LZ4_BLOCK // 255 + 16
"""``LZ4_compressBound`` of a block: the largest compressed block."""


class _Decompressor(Protocol):
    @property
    def eof(self) -> bool: ...

    @property
    def unused_data(self) -> bytes: ...

    def decompress(self, data: bytes, max_length: int = -1, /) -> bytes: ...


@dataclass(frozen=True, slots=True)
class Found:
    """A compressed initramfs in a kernel."""

    start: int
    """Offset of the compressed stream."""
    format: str
    """Its compressor (``gzip``, ``xz``, ``zstd``, ``bzip2``, ``lzma``, ``lz4``, ``lzo``)."""
    end: int | None
    """Where the stream ends; ``None`` when it was not read (see ``problem``)."""
    problem: str = ""
    """Why it is not opened: a cap, damaged data."""
    reason: str = ""
    """The skipped record's reason when not opened: ``bomb-total-size``, ``corrupt-archive``."""

    def holds(self, offset: int) -> bool:
        """Whether the stream, read to its end, holds the byte at ``offset``."""
        return self.end is not None and self.start <= offset < self.end


def find(path: Path, most: int) -> Found | None:
    """The compressed initramfs in the decompressed kernel at ``path``, or ``None``; its end is
    found by decompressing no more than ``most`` bytes."""
    tries = 0
    spent = [0]
    with path.open("rb") as stream:
        offset = 0
        tail = b""
        while chunk := stream.read(_CHUNK):
            window = tail + chunk
            base = offset - len(tail)
            hits = sorted(
                (hit.start(), kind)
                for kind, pattern in _MAGICS.items()
                for hit in pattern.finditer(window)
                if hit.end() > len(tail)  # else found in the previous window
            )
            for at, kind in hits:
                tries += 1
                if tries > _TRIES:
                    return None
                start = base + at
                if spent[0] > _PROBE_BUDGET:
                    return None
                if kind in ("lz4", "lzo"):
                    if _framed_cpio(path, start, kind, spent):
                        return _framed_measure(path, start, kind, most)
                elif _starts_cpio(path, start, kind, spent):
                    return _measure(path, start, kind, most)
            offset += len(chunk)
            tail = window[-_OVERLAP:]
    return None


def archive_format(found: Found) -> ArchiveFormat:
    """The format ingest opens the cut-out stream as."""
    return _FORMATS[found.format]


def _decompressor(kind: str) -> _Decompressor:
    if kind == "gzip":
        return zlib.decompressobj(31)
    if kind == "xz":
        return lzma.LZMADecompressor(lzma.FORMAT_XZ)
    if kind == "lzma":
        return lzma.LZMADecompressor(lzma.FORMAT_ALONE)
    if kind == "bzip2":
        return bz2.BZ2Decompressor()
    return cast(_Decompressor, zstandard.ZstdDecompressor().decompressobj())


_ERRORS: Final = (zlib.error, lzma.LZMAError, OSError, EOFError, ValueError, zstandard.ZstdError)
_OUT: Final = 1 << 18
"""Bytes one decompression call may make (zstd: what ``_ZSTD_STEP`` input bytes make)."""


def _drain(decompressor: _Decompressor, kind: str, data: bytes, most: int) -> int:
    """Decompress ``data`` and count (and drop) the output, stopping past ``most`` bytes."""
    made = 0
    if isinstance(decompressor, (lzma.LZMADecompressor, bz2.BZ2Decompressor)):
        made += len(decompressor.decompress(data, _OUT))
        while not decompressor.eof and not decompressor.needs_input and made <= most:
            made += len(decompressor.decompress(b"", _OUT))
    elif kind == "zstd":
        made += len(decompressor.decompress(data))
    else:  # zlib: input held back by the output bound waits in ``unconsumed_tail``
        inflater = cast("zlib._Decompress", decompressor)
        made += len(inflater.decompress(data, _OUT))
        while inflater.unconsumed_tail and not inflater.eof and made <= most:
            made += len(inflater.decompress(inflater.unconsumed_tail, _OUT))
    return made


def _starts_cpio(path: Path, start: int, kind: str, spent: list[int]) -> bool:
    """Whether the stream at ``start`` decompresses to a cpio header; the compressed bytes fed
    are added to ``spent[0]``."""
    decompressor = _decompressor(kind)
    step = _ZSTD_STEP if kind == "zstd" else _STEP
    out = b""
    with path.open("rb") as stream:
        stream.seek(start)
        try:
            for _ in range(_PROBE // step):
                data = stream.read(step)
                spent[0] += len(data)
                if not data or spent[0] > _PROBE_BUDGET:
                    break
                if kind == "zstd":  # its output per call is bounded by the small input
                    out += decompressor.decompress(data)
                else:
                    out += decompressor.decompress(data, len(_CPIO))
                if len(out) >= len(_CPIO) or decompressor.eof:
                    break
        except _ERRORS:
            return False
    return out.startswith(_CPIO)


_FRAME_ERRORS: Final = (ValueError, lz4.block.LZ4BlockError)  # lzop.LzopError: a ValueError


def _lz4_blocks(
    path: Path, start: int, spent: list[int] | None = None
) -> Iterator[tuple[int, bytes]]:
    """The blocks of the lz4 legacy stream at ``start``: (offset past the block, its
    decompressed bytes). The stream ends at the end of the file, or where a block size is not
    one (zero, past ``LZ4_compressBound`` of 8 MiB, or the next stream's magic).

    The format has no end marker, and the kernel knows its initramfs's length from the linker,
    so whatever follows the stream may read as one more block size. Its writer (``lz4 -l``)
    fills every block with 8 MiB but the last: after a shorter block, a "block" that is cut
    short or does not decompress is what follows the stream, not damage to it."""
    with path.open("rb") as stream:
        stream.seek(start + 4)
        position = start + 4
        last = False
        while len(size_field := stream.read(4)) == 4:
            size = int.from_bytes(size_field, "little")
            if size == 0 or size > _LZ4_BOUND or size_field == _LZ4_MAGIC:
                return
            if spent is not None and spent[0] + size > _PROBE_BUDGET:
                return
            try:
                data = _lz4_block(stream.read(size), size)
            except _FRAME_ERRORS:
                if last:
                    return
                raise
            position += 4 + size
            yield position, data
            last = len(data) < _LZ4_BLOCK


def _lz4_block(block: bytes, size: int) -> bytes:
    """The decompressed bytes of an lz4 legacy block read as ``size`` bytes long."""
    if len(block) != size:
        raise ValueError("lz4 block cut short by the kernel's end")
    data: bytes = lz4.block.decompress(block, uncompressed_size=_LZ4_BLOCK)
    return data


def _lzo_blocks(path: Path, start: int) -> Iterator[tuple[int, bytes]]:
    """The blocks of the lzop stream at ``start`` as ``_lz4_blocks`` gives them, then the
    offset past its end marker with no bytes."""
    with path.open("rb") as stream:
        stream.seek(start)
        for _, data in lzop.blocks(stream):
            yield stream.tell(), data
        yield stream.tell(), b""


def _framed(path: Path, start: int, kind: str, spent: list[int] | None = None) -> _Blocks:
    """The blocks of the lz4 legacy or lzop stream at ``start``."""
    return _lz4_blocks(path, start, spent) if kind == "lz4" else _lzo_blocks(path, start)


_Blocks = Iterator[tuple[int, bytes]]


def _framed_cpio(path: Path, start: int, kind: str, spent: list[int]) -> bool:
    """Whether the lz4 legacy or lzop stream at ``start`` decompresses to a cpio header (its
    first block, whose size is added to ``spent[0]``)."""
    try:
        for end, data in _framed(path, start, kind, spent):
            spent[0] += end - start
            return data.startswith(_CPIO)
    except _FRAME_ERRORS:
        return False
    return False


def _framed_measure(path: Path, start: int, kind: str, most: int) -> Found:
    """The end of the lz4 legacy or lzop stream at ``start``, read block by block (an lz4
    block holds 8 MiB at most, an lzo block 256 KiB)."""
    made = 0
    end = start
    try:
        for end, data in _framed(path, start, kind):  # noqa: B007  (the last end is the stream's)
            made += len(data)
            if made > most:
                detail = f"{kind} initramfs decompresses past the {most} bytes the caps allow"
                return Found(start, kind, None, detail, "bomb-total-size")
    except _FRAME_ERRORS as exc:
        return Found(start, kind, None, f"{kind} initramfs damaged: {exc}", "corrupt-archive")
    return Found(start, kind, end)


def _measure(path: Path, start: int, kind: str, most: int) -> Found:
    """The end of the stream at ``start``, from its decompressor's ``unused_data``."""
    decompressor = _decompressor(kind)
    step = _ZSTD_STEP if kind == "zstd" else _STEP
    made = 0
    position = start
    with path.open("rb") as stream:
        stream.seek(start)
        try:
            while not decompressor.eof:
                data = stream.read(step)
                if not data:
                    detail = f"{kind} initramfs cut short by the kernel's end"
                    return Found(start, kind, None, detail, "corrupt-archive")
                position += len(data)
                made += _drain(decompressor, kind, data, most - made)
                if made > most:
                    detail = f"{kind} initramfs decompresses past the {most} bytes the caps allow"
                    return Found(start, kind, None, detail, "bomb-total-size")
        except _ERRORS as exc:
            return Found(start, kind, None, f"{kind} initramfs damaged: {exc}", "corrupt-archive")
    return Found(start, kind, position - len(decompressor.unused_data))
