"""The blocks of an lzop stream, as the kernel's lzo initramfs holds them, read with bounded
memory; the LZO1X blocks are decompressed by ``lzallright`` (PyPI, a maintained LZO library).

No library reads the lzop *framing* (``lzallright`` and ``python-lzo`` decompress one raw LZO
block; the ``lzop`` program reads whole files and cannot say where a stream embedded in a
kernel ends), so the frame is read here, from lzop's documented layout, which the kernel's
``lib/decompress_unlzo.c`` also reads:

- a header: the 9-byte magic, the format version, the library version, the version needed
  to extract (from version 0x0940 on), the method (1 to 3: LZO1X), the level (from 0x0940 on),
  32-bit flags, a filter word when the flags say so, the mode, the modification time (a second
  word from 0x0940 on), a file name (its length in one byte) and a checksum of the header
  (Adler-32, or CRC-32 when the flags say so), which is checked: a chance magic fails it;
- blocks: the decompressed size (0 ends the stream), the compressed size, a checksum of the
  decompressed bytes and, for a block actually compressed, one of the compressed bytes, when
  the flags ask for them; a block whose two sizes are equal is stored as is.

Every number is big endian. A block may decompress to ``BLOCK`` bytes at most (the kernel's
limit, 256 KiB) and its compressed size may not exceed that. ``lzallright`` has no output
bound (it grows its buffer past the size it is given), so a hostile block of 256 KiB can make
it produce what LZO's run lengths allow, under 64 MiB (about 255 times the input; measured: 64
MiB of zeros take 360 KB), held for one call before the size check rejects the block: memory
is bounded per block, and nothing is written.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import BinaryIO, Final

import lzallright

MAGIC: Final = b"\x89LZO\x00\r\n\x1a\n"
BLOCK: Final = 256 << 10
"""The largest block the kernel's lzo decompressor accepts (``LZO_BLOCK_SIZE``)."""

_ADLER32_D: Final = 0x1
_ADLER32_C: Final = 0x2
_EXTRA_FIELD: Final = 0x40
_CRC32_D: Final = 0x100
_CRC32_C: Final = 0x200
_FILTER: Final = 0x800
_HEADER_CRC32: Final = 0x1000
_LZO1X: Final = frozenset({1, 2, 3})


class LzopError(ValueError):
    """The stream is not a well-formed lzop stream (its header, a size, a checksum)."""


def blocks(stream: BinaryIO) -> Iterator[tuple[int, bytes]]:
    """The decompressed blocks of the lzop stream that starts at ``stream``'s position: (its
    compressed bytes so far, the block). Ends after the end marker; ``LzopError`` otherwise."""
    start = stream.tell()
    flags = _header(stream)
    while True:
        size = _word(stream)
        if size == 0:
            return
        if size > BLOCK:
            raise LzopError(f"a block of {size} bytes, over the kernel's {BLOCK}")
        packed = _word(stream)
        if packed == 0 or packed > size:
            raise LzopError(f"a block of {packed} compressed bytes for {size}")
        sum_d = _word(stream) if flags & (_ADLER32_D | _CRC32_D) else None
        if packed < size and flags & (_ADLER32_C | _CRC32_C):
            _word(stream)
        data = _read(stream, packed)
        if packed < size:
            try:
                data = lzallright.LZOCompressor.decompress(data, output_size_hint=size)
            except lzallright.LZOError as exc:
                raise LzopError(f"damaged LZO block: {exc.args[0]}") from exc
            if len(data) != size:
                raise LzopError(f"a block decompressed to {len(data)} bytes, not {size}")
        if sum_d is not None:
            check = zlib.crc32(data) if flags & _CRC32_D else zlib.adler32(data)
            if check != sum_d:
                raise LzopError("a block's checksum does not match")
        yield stream.tell() - start, data


def _header(stream: BinaryIO) -> int:
    """Read the header (checked against its checksum); its flags."""
    head = _read(stream, len(MAGIC) + 4)
    if not head.startswith(MAGIC):
        raise LzopError("no lzop magic")
    version = int.from_bytes(head[9:11], "big")
    modern = version >= 0x0940
    fields = head[9:] + _read(stream, (2 if modern else 0) + 1 + (1 if modern else 0) + 4)
    method = fields[6 if modern else 4]
    flags = int.from_bytes(fields[-4:], "big")
    if method not in _LZO1X or flags & _EXTRA_FIELD:
        raise LzopError(f"lzop method {method} or flags {flags:#x} the kernel does not read")
    fields += _read(stream, (4 if flags & _FILTER else 0) + 8 + (4 if modern else 0) + 1)
    fields += _read(stream, fields[-1])  # the file name
    stored = _word(stream)
    check = zlib.crc32(fields) if flags & _HEADER_CRC32 else zlib.adler32(fields)
    if check != stored:
        raise LzopError("the lzop header checksum does not match")
    return flags


def _word(stream: BinaryIO) -> int:
    return int.from_bytes(_read(stream, 4), "big")


def _read(stream: BinaryIO, size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise LzopError("cut short")
    return data
