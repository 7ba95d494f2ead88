"""U-Boot legacy images inside a flash dump, which unblob's carver has no handler for.

A flash dump often starts with the kernel as a U-Boot legacy image (``mkimage``: a 64-byte
header, then the payload) and holds the root file system further on. Read as one uImage, such
a file would give its kernel and nothing else: the bytes after the image's data would be lost
without a word. ``holds_more`` tells such a dump from a uImage padded to its partition (erased
flash, 0xff, or zeros after the data), so that ingest carves it instead. In the carved dump,
unblob names what it finds inside the kernel (the xz stream of a zImage) but not the uImage
itself; ``locate`` finds each uImage header (its magic and a header CRC that matches, data
that fits in the file), and ``yaffs2.split_out`` makes it a region of its own
(``fw.bin@0x40000:uimage``) that ingest opens at the next level like any uImage: the regions
unblob claimed inside it are dropped, the unknown bytes around it stay unknown.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from assay.ingest.magic import UIMAGE_HEADER, is_uimage

HANDLER: Final = "uimage"
"""The handler name given to a region cut out here."""
_MAGIC: Final = b"\x27\x05\x19\x56"
_CHUNK: Final = 1 << 20
MAX_CANDIDATES: Final = 4096
"""Magics whose header is checked per call of ``locate``: a hostile region full of them stays
cheap (its bytes stay ``unknown``, read like any file)."""
_FILLS: Final = (b"\xff", b"\x00")
"""Bytes that fill a partition after its image (erased NOR/NAND flash, zeroed)."""


def extent(head: bytes) -> int | None:
    """Bytes of the uImage whose header starts ``head`` (header and data), or ``None``."""
    if not is_uimage(head):
        return None
    return int(UIMAGE_HEADER.size + UIMAGE_HEADER.unpack_from(head)[3])


def holds_more(path: Path, head: bytes) -> bool:
    """Whether the file at ``path``, which starts with a uImage header (``head``), holds more
    than the image and its padding: a flash dump to carve, not one image to read."""
    end = extent(head)
    if end is None:
        return False
    with path.open("rb") as stream:
        stream.seek(end)
        fill: bytes | None = None
        while chunk := stream.read(_CHUNK):
            fill = fill or chunk[:1]
            if fill not in _FILLS or chunk.count(fill) != len(chunk):
                return True
    return False


def locate(image: Path, start: int, end: int) -> tuple[int, int] | None:
    """(offset, end) of the first uImage whose header starts in ``[start, end)`` of ``image``
    and whose data fits in the file, or ``None``."""
    size = image.stat().st_size
    checked = 0
    with image.open("rb") as stream, image.open("rb") as probe:
        stream.seek(start)
        offset, tail = start, b""
        while offset < end and (chunk := stream.read(min(_CHUNK, end - offset))):
            window = tail + chunk
            found = window.find(_MAGIC)
            while found >= 0:
                at = offset - len(tail) + found
                if at >= end or checked >= MAX_CANDIDATES:
                    return None
                checked += 1
                probe.seek(at)
                length = extent(probe.read(UIMAGE_HEADER.size))
                if length is not None and at + length <= size:
                    return at, at + length
                found = window.find(_MAGIC, found + 1)
            offset += len(chunk)
            tail = window[-(len(_MAGIC) - 1) :]
    return None
