"""U-Boot legacy images inside a carved file, which unblob has no handler for.

A router's update file often holds a U-Boot image behind a vendor header (TP-Link, D-Link,
Netgear): unblob claims the compressed payload behind the image's 64-byte header as a stream
(``fw.bin@0x240:lzma``) and leaves the header in the unknown bytes before it, so the kernel
would be named by the stream and the image's name and checksums never read. Here each unknown
region is looked into for a U-Boot header (its magic and a header CRC that matches, as
:func:`assay.ingest.magic.is_uimage` checks); the header and the data it declares become one
region (``fw.bin@0x200:uimage``), a file that ingest opens at the next level with its own
reader (payload decompressed, data CRC checked: ``fw.bin@0x200:uimage!/kernel``). The regions
unblob claimed inside that extent are dropped (their files are the caller's to remove); the
unknown bytes before and after it stay unknown. An image whose declared data runs past the
file, or into a region unblob claimed past its end, is left as it is. At most
``MAX_CANDIDATES`` magics are checked per file: a hostile file full of them stays cheap.
"""

from __future__ import annotations

import mmap
import os
from pathlib import Path
from typing import Final

from assay.ingest.magic import UIMAGE_HEADER, is_uimage
from assay.ingest.unblob_report import Region

HANDLER: Final = "uimage"
"""The handler name given to a region cut out here."""
UNCLAIMED: Final = ("unknown", "padding")
MAX_CANDIDATES: Final = 4096
_MAGIC: Final = b"\x27\x05\x19\x56"


def split(
    regions: tuple[Region, ...], image: Path, base: Path
) -> tuple[tuple[Region, ...], tuple[Region, ...]]:
    """``regions`` of the carved ``image`` with each U-Boot image that starts in an unclaimed
    region past the file's start made a region of its own; and the claimed regions dropped
    because they lie inside one. The unclaimed regions' files in ``base`` are made to match."""
    if not regions or os.path.realpath(base) != os.path.join(
        os.path.realpath(base.parent.parent), *base.parts[-2:]
    ):
        return regions, ()  # nothing reported, or a link where unblob's output should be
    size = image.stat().st_size
    if size <= UIMAGE_HEADER.size:
        return regions, ()
    with image.open("rb") as stream, mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ) as data:
        found = _images(data, regions, size)
        if not found:
            return regions, ()
        return _cut(regions, found, data, base)


def _images(data: mmap.mmap, regions: tuple[Region, ...], size: int) -> list[tuple[int, int]]:
    """(start, end) of each U-Boot image starting in an unclaimed region, in order."""
    found: list[tuple[int, int]] = []
    checked = 0
    for region in regions:
        if region.handler not in UNCLAIMED:
            continue
        at = data.find(_MAGIC, max(region.start, 1), region.end)
        while at >= 0 and checked < MAX_CANDIDATES:
            checked += 1
            head = data[at : at + UIMAGE_HEADER.size]
            if is_uimage(head):
                end = at + UIMAGE_HEADER.size + UIMAGE_HEADER.unpack(head)[3]
                crossing = [r for r in regions if r.start < end < r.end and r.start >= at]
                if end <= size and not crossing and not (found and at < found[-1][1]):
                    found.append((at, end))
            at = data.find(_MAGIC, at + 1, region.end)
    return found


def _cut(
    regions: tuple[Region, ...], images: list[tuple[int, int]], data: mmap.mmap, base: Path
) -> tuple[tuple[Region, ...], tuple[Region, ...]]:
    out: list[Region] = []
    dropped: list[Region] = []
    for region in regions:
        inside = [(s, e) for s, e in images if s < region.end and region.start < e]
        if not inside:
            out.append(region)
            continue
        if region.handler not in UNCLAIMED:
            dropped.append(region)  # lies inside an image (a claimed region never crosses one)
            continue
        (base / f"{region.start}-{region.end}.{region.handler}").unlink(missing_ok=True)
        at = region.start
        for start, end in inside:
            if at < start:
                out.append(_write(data, base, Region(at, start, region.handler)))
            at = max(at, end)
        if at < region.end:
            out.append(_write(data, base, Region(at, region.end, region.handler)))
    for start, end in images:
        out.append(_write(data, base, Region(start, end, HANDLER)))
    return tuple(sorted(out, key=lambda r: (r.start, r.end))), tuple(dropped)


def _write(data: mmap.mmap, base: Path, region: Region) -> Region:
    """Write the region's bytes as unblob names a region's file; return the region."""
    base.mkdir(parents=True, exist_ok=True)
    with (base / f"{region.start}-{region.end}.{region.handler}").open("xb") as out:
        for at in range(region.start, region.end, 1 << 20):
            out.write(data[at : min(at + (1 << 20), region.end)])
    return region
