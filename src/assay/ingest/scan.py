"""Which files of no known format deserve carving: a flash dump or an update file inside a
release (``firmware.bin`` in a zip) holds its images at offsets, not at its start.

Running unblob costs a sandbox and a Python start-up (seconds), so it is not run on every
binary file. One pass over the file looks for the magics of the images a flash holds, at
the offsets they can sit at; only a file where one is found is carved. The magics are long
(four bytes or more, most with a fixed byte after them), so that compressed data rarely holds
one by chance; a chance hit only costs one unblob run that finds nothing (and is not
recorded). Memory stays bounded: the file is read in 1 MiB chunks with a small overlap.

A yaffs2 partition has no superblock: its first object header (type, parent 1, 0xffff, a
name) is short and common enough in code that a hit is kept only when, one NAND page later,
the spare area holds the packed tags of the first block (``magic.is_yaffs2``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import BinaryIO, Final

from assay.ingest.magic import YAFFS2_PAGES, is_yaffs2, yaffs2_headers
from assay.model import FileKind

MIN_SIZE: Final = 64 << 10
"""Smaller files are not looked into: a flash image region is at least an erase block."""

_CHUNK: Final = 1 << 20
_OVERLAP: Final = 64
_MAGICS: Final = re.compile(
    rb"hsqs.{24}[\x02-\x04]\x00"  # squashfs 2 to 4, little endian
    rb"|sqsh.{24}\x00[\x02-\x04]"  # squashfs 2 to 4, big endian
    rb"|shsq.{24}[\x02\x03]\x00|qshs.{24}\x00[\x02\x03]"  # LZMA squashfs 2 and 3
    rb"|UBI#\x01"  # UBI erase-counter header, version 1
    rb"|\x85\x19\x01\xe0|\x19\x85\xe0\x01"  # JFFS2 directory entry node, either order
    rb"|HDR0.{10}[\x01\x02]\x00"  # TRX, version 1 or 2
    rb"|-rom1fs-"
    rb"|\x27\x05\x19\x56.{24}[\x00-\x10][\x01-\x20][\x01-\x10][\x00-\x06]"  # U-Boot image
    rb"|\x45\x3d\xcd\x28|\x28\xcd\x3d\x45"  # cramfs, either order
    rb"|(?P<stream>\xfd7zXZ\x00"  # xz
    rb"|7z\xbc\xaf\x27\x1c\x00)",  # 7z
    re.DOTALL,
)


def binary(kind: FileKind, head: bytes) -> bool:
    """Whether a file of no known format may be firmware: binary data, or a head without NUL
    bytes that is not UTF-8 either (erased flash, all 0xff, passes the NUL test for text)."""
    if kind is FileKind.OTHER:
        return True
    if kind is not FileKind.TEXT:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start < len(head) - 3  # not a multi-byte character cut at the end
    return False


def holds_images(path: Path, streams: bool = True) -> bool:
    """Whether the file at ``path`` holds the magic of a firmware image past its start;
    ``streams=False``: of a file system or firmware image only, not of an xz or 7z stream (a
    decompressed kernel holds the xz magic in its own decompressor, and assay reads its
    built-in initramfs itself)."""
    with path.open("rb") as stream, path.open("rb") as probe:
        tail = b""
        offset = 0
        while chunk := stream.read(_CHUNK):
            window = tail + chunk
            for found in _MAGICS.finditer(window):
                if offset - len(tail) + found.start() > 0 and (streams or not found["stream"]):
                    return True
            for start in yaffs2_headers(window):
                at = offset - len(tail) + start
                if at > 0 and start + 11 > len(tail) and _yaffs2_at(probe, at):
                    return True
            offset += len(chunk)
            tail = window[-_OVERLAP:]
    return False


def _yaffs2_at(probe: BinaryIO, at: int) -> bool:
    """Whether a yaffs2 image starts at ``at``: its first chunk's tags where a page ends."""
    probe.seek(at)
    return is_yaffs2(probe.read(YAFFS2_PAGES[-1] + 6))


def yaffs2_start(path: Path, start: int, end: int) -> int | None:
    """The offset of the first yaffs2 image that starts in ``[start, end)`` of the file at
    ``path``, or ``None``."""
    with path.open("rb") as stream, path.open("rb") as probe:
        stream.seek(start)
        tail = b""
        offset = start
        while offset < end and (chunk := stream.read(min(_CHUNK, end - offset))):
            window = tail + chunk
            for start in yaffs2_headers(window):
                at = offset - len(tail) + start
                if start + 11 > len(tail) and _yaffs2_at(probe, at):
                    return at
            offset += len(chunk)
            tail = window[-_OVERLAP:]
    return None
