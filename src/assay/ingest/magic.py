"""Container and compressed-stream formats, and the magic checks of the firmware containers.

``ArchiveFormat`` names every format ingest recognises. ``classify`` checks the archive and
image magics; this module checks the single compressed streams (LZMA, lz4, zstd, lzo) and the
firmware containers (U-Boot images, TRX, Linux kernel images, old binary cpio, 7z, romfs,
squashfs variants, yaffs2) by their headers, never by name. Those that ingest does not open
are listed in ``UNOPENED`` with what would be needed, so that each gets a skipped record
instead of being counted as an ordinary file.
"""

from __future__ import annotations

import re
import struct
import zlib
from enum import StrEnum
from typing import Final, Literal


class ArchiveFormat(StrEnum):
    """Archive formats that ingest extracts or records, recognised by magic bytes."""

    TAR = "tar"
    GZIP = "gzip"
    XZ = "xz"
    BZIP2 = "bzip2"
    LZMA = "lzma"
    ZSTD = "zstd"
    LZ4 = "lz4"
    LZ4_LEGACY = "lz4 legacy"
    LZO = "lzo"
    ZIP = "zip"
    CPIO = "cpio"
    SQUASHFS = "squashfs"
    CRAMFS = "cramfs"
    EXT = "ext2/3/4"
    JFFS2 = "jffs2"
    UBI = "ubi"
    UIMAGE = "uimage"
    FIT = "fit"
    TRX = "trx"
    BZIMAGE = "bzimage"
    ZIMAGE = "zimage"
    CPIO_BINARY = "binary cpio"
    SEVEN_ZIP = "7z"
    ROMFS = "romfs"
    SQUASHFS_VARIANT = "squashfs variant"
    UBIFS = "ubifs"
    ARM64_IMAGE = "arm64 kernel image"
    YAFFS2 = "yaffs2"


COMPRESSED: Final = frozenset(
    {
        ArchiveFormat.GZIP,
        ArchiveFormat.XZ,
        ArchiveFormat.BZIP2,
        ArchiveFormat.LZMA,
        ArchiveFormat.ZSTD,
        ArchiveFormat.LZ4,
    }
)
"""Single compressed streams that ingest decompresses (a tar, a cpio or any one file)."""

UNOPENED: Final[dict[ArchiveFormat, tuple[str, str]]] = {
    ArchiveFormat.LZ4_LEGACY: (
        "missing-tool",
        "lz4 legacy stream (as the kernel writes initramfs): not decompressed; "
        "a legacy-format lz4 reader (lz4 -d) would be needed",
    ),
    ArchiveFormat.LZO: (
        "missing-tool",
        "lzop stream: not decompressed; an lzop reader (lzop, or python-lzo) would be needed",
    ),
    ArchiveFormat.TRX: (
        "unsupported-container",
        "TRX firmware (HDR0): not unpacked; a TRX partition reader would be needed",
    ),
    ArchiveFormat.BZIMAGE: (
        "unsupported-container",
        "Linux bzImage (HdrS): its compressed kernel is not unpacked; "
        "extract-vmlinux (linux/scripts) would be needed",
    ),
    ArchiveFormat.ZIMAGE: (
        "unsupported-container",
        "Linux ARM zImage: its compressed kernel is not unpacked; "
        "extract-vmlinux (linux/scripts) would be needed",
    ),
    ArchiveFormat.CPIO_BINARY: (
        "unsupported-container",
        "old binary cpio (magic 070707 as a 16-bit word): not read; "
        "a binary-cpio reader (cpio -i) would be needed",
    ),
    ArchiveFormat.SEVEN_ZIP: (
        "unsupported-container",
        "7z archive: not unpacked; a 7z reader (7z, py7zr) would be needed",
    ),
    ArchiveFormat.ROMFS: (
        "unsupported-container",
        "romfs image (-rom1fs-): not unpacked; a romfs reader would be needed",
    ),
    ArchiveFormat.SQUASHFS_VARIANT: (
        "unsupported-container",
        "squashfs with a vendor magic or an unknown version: not unpacked; "
        "a variant-aware unsquashfs (sasquatch) would be needed",
    ),
}
"""Recognised formats that ingest does not open: (skipped reason, what it is and needs)."""

_UIMAGE_MAGIC: Final = b"\x27\x05\x19\x56"
UIMAGE_HEADER: Final = struct.Struct(">7I4B32s")
"""U-Boot's legacy ``image_header_t`` (``image.h``), 64 bytes, big endian."""

_LZMA_DICTS: Final = frozenset(
    size for n in range(12, 31) for size in (1 << n, (1 << n) + (1 << (n - 1)))
)
_SQUASHFS_VARIANTS: Final = (b"shsq", b"qshs", b"tqsh", b"hsqt", b"sqlz")
_ZIMAGE_AT: Final = slice(0x24, 0x28)
_ZIMAGE_MAGIC: Final = (b"\x18\x28\x6f\x01", b"\x01\x6f\x28\x18")  # 0x016f2818, either order
_BINARY_CPIO: Final[dict[bytes, Literal["little", "big"]]] = {
    b"\xc7\x71": "little",
    b"\x71\xc7": "big",
}  # 0o070707, either byte order
_FDT_IMAGES_NODE: Final = b"\x00\x00\x00\x01images\x00"  # FDT_BEGIN_NODE "images"
_YAFFS2_PARENT: Final = {
    "little": re.compile(rb"\x01\x00\x00\x00\xff\xff[^\x00\xff]"),
    "big": re.compile(rb"\x00\x00\x00\x01\xff\xff[^\x00\xff]"),
}
"""The parent (the root, 1), the unused name checksum 0xffff and a name's first byte of a
yaffs2 object header in the root directory; its type (before) is checked apart. One pattern per
byte order, each starting with a literal, which ``re`` searches fast."""
_YAFFS2_TYPES: Final = {
    "little": (b"\x01\x00\x00\x00", b"\x03\x00\x00\x00"),
    "big": (b"\x00\x00\x00\x01", b"\x00\x00\x00\x03"),
}
"""A file or a directory (unblob's yaffs handler looks for these two)."""
YAFFS2_PAGES: Final = (512, 1024, 2048, 4096, 8192, 16384)
"""NAND page sizes whose spare area follows the first chunk (unblob's handler tries these)."""
_YAFFS2_TAGS: Final = {"little": b"\x00\x10\x00\x00", "big": b"\x00\x00\x10\x00"}
"""The first block's sequence number, 0x1000, opening the packed tags in the spare area."""


def stream_format(head: bytes) -> ArchiveFormat | None:
    """The compressed stream (other than gzip, xz, bzip2) that ``head`` starts, or ``None``."""
    if head.startswith(b"\x28\xb5\x2f\xfd"):
        return ArchiveFormat.ZSTD
    if head.startswith(b"\x04\x22\x4d\x18"):
        return ArchiveFormat.LZ4
    if head.startswith(b"\x02\x21\x4c\x18"):
        return ArchiveFormat.LZ4_LEGACY
    if head.startswith(b"\x89LZO\x00\r\n\x1a\n"):
        return ArchiveFormat.LZO
    if _is_lzma_alone(head):
        return ArchiveFormat.LZMA
    return None


def container_format(head: bytes) -> ArchiveFormat | None:
    """The firmware container whose header ``head`` holds, or ``None``."""
    if is_uimage(head):
        return ArchiveFormat.UIMAGE
    if head.startswith(b"\xd0\x0d\xfe\xed") and _fdt_has_images(head):
        return ArchiveFormat.FIT
    if head.startswith(b"HDR0") and len(head) >= 16 and head[14:16] in (b"\1\0", b"\2\0"):
        return ArchiveFormat.TRX
    if head[0x1FE:0x200] == b"\x55\xaa" and head[0x202:0x206] == b"HdrS":
        return ArchiveFormat.BZIMAGE
    if _is_zimage(head):
        return ArchiveFormat.ZIMAGE
    if _is_binary_cpio(head):
        return ArchiveFormat.CPIO_BINARY
    if head.startswith(b"7z\xbc\xaf\x27\x1c\x00"):  # and the major version, 0
        return ArchiveFormat.SEVEN_ZIP
    if _is_romfs(head):
        return ArchiveFormat.ROMFS
    if _is_squashfs_variant(head):
        return ArchiveFormat.SQUASHFS_VARIANT
    if head[0x38:0x3C] == b"ARM\x64" and int.from_bytes(head[0x10:0x18], "little") > 0:
        return ArchiveFormat.ARM64_IMAGE  # arm64 boot.rst: magic, and a non-zero image size
    if head.startswith(b"\x31\x18\x10\x06") and len(head) > 20 and head[20] == 6:
        return ArchiveFormat.UBIFS  # a UBIFS superblock node (node type 6) at the start
    if is_yaffs2(head):
        return ArchiveFormat.YAFFS2
    return None


def yaffs2_headers(window: bytes) -> list[int]:
    """Offsets in ``window`` where a root-level yaffs2 object header may start, in order."""
    found = [
        hit.start() - 4
        for order, pattern in _YAFFS2_PARENT.items()
        for hit in pattern.finditer(window)
        if window[max(0, hit.start() - 4) : hit.start()] in _YAFFS2_TYPES[order]
    ]
    return sorted(found)


def is_yaffs2(data: bytes) -> bool:
    """A yaffs2 image starts ``data`` (see ``yaffs2_layout``)."""
    return yaffs2_layout(data) is not None


def yaffs2_layout(data: bytes) -> tuple[int, int, Literal["little", "big"]] | None:
    """(page size, bytes before the tags in the spare area, byte order) of the yaffs2 image that
    starts ``data``: a root-level object header, and one NAND page later the packed tags of the
    first block (sequence 0x1000), after a 2-byte bad-block marker or not; ``None`` when none
    starts it. Pages past ``data`` are not checked (8 KiB or more are found when carving)."""
    if yaffs2_headers(data[:11])[:1] != [0]:
        return None
    order: Literal["little", "big"] = "little" if data[0] else "big"
    tags = _YAFFS2_TAGS[order]
    for page in YAFFS2_PAGES:
        for marker in (0, 2):
            if (
                data[page : page + marker] == b"\xff" * marker
                and data[page + marker : page + marker + 4] == tags
            ):
                return page, marker, order
    return None


def is_uimage(head: bytes) -> bool:
    """A U-Boot legacy image header: its magic and a header CRC that matches."""
    if len(head) < UIMAGE_HEADER.size or not head.startswith(_UIMAGE_MAGIC):
        return False
    stored = int.from_bytes(head[4:8], "big")
    return zlib.crc32(head[:4] + b"\0\0\0\0" + head[8:64]) == stored


def _is_zimage(head: bytes) -> bool:
    """An ARM zImage: its magic at 0x24, then its start and end addresses in order."""
    magic = head[_ZIMAGE_AT]
    if magic not in _ZIMAGE_MAGIC or len(head) < 0x30:
        return False
    order: Literal["little", "big"] = "little" if magic == _ZIMAGE_MAGIC[0] else "big"
    return int.from_bytes(head[0x28:0x2C], order) < int.from_bytes(head[0x2C:0x30], order)


def _is_romfs(head: bytes) -> bool:
    """A romfs superblock: its magic, and its first 512 bytes summing to 0 as 32-bit words."""
    if not head.startswith(b"-rom1fs-") or len(head) < 512:
        return False
    words = struct.unpack(">128I", head[:512])
    return int.from_bytes(head[8:12], "big") >= 512 and sum(words) & 0xFFFFFFFF == 0


def _is_squashfs_variant(head: bytes) -> bool:
    """A squashfs superblock that ``unsquashfs`` does not read: a vendor magic, or the standard
    magic with a version other than 1 to 4 (those are recognised before this is asked)."""
    if len(head) < 96:
        return False
    if head[:4] in (b"hsqs", b"sqsh"):
        return _v4_blocks(head)
    majors = {int.from_bytes(head[28:30], order) for order in ("little", "big")}
    return head[:4] in _SQUASHFS_VARIANTS and (_v4_blocks(head) or bool(majors & {1, 2, 3, 4}))


def _v4_blocks(head: bytes) -> bool:
    """The squashfs 4 block size (4 KiB to 1 MiB) and its log, which must agree."""
    for order in ("little", "big"):
        size = int.from_bytes(head[12:16], order)
        log = int.from_bytes(head[22:24], order)
        if 12 <= log <= 20 and size == 1 << log:
            return True
    return False


def _is_lzma_alone(head: bytes) -> bool:
    """An ``.lzma`` (LZMA-alone) header with the usual properties and a plausible dictionary."""
    if len(head) < 14 or head[0] != 0x5D or head[13] != 0:  # the range coder starts with 0
        return False
    return int.from_bytes(head[1:5], "little") in _LZMA_DICTS


def _fdt_has_images(head: bytes) -> bool:
    """Whether the device-tree blob in ``head`` has an ``images`` node (a FIT image)."""
    if len(head) < 40:
        return False
    structure = int.from_bytes(head[8:12], "big")
    return _FDT_IMAGES_NODE in head[structure:]


def _is_binary_cpio(head: bytes) -> bool:
    """An old binary cpio header: magic, a name size that fits, a NUL-terminated name."""
    order = _BINARY_CPIO.get(head[:2])
    if order is None or len(head) < 26:
        return False
    namesize = int.from_bytes(head[20:22], order)
    name = head[26 : 26 + namesize]
    return 2 <= namesize == len(name) and name.find(b"\0") == namesize - 1
