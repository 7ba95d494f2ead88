"""yaffs2 images that unblob's carver passes over.

unblob's yaffs handler reads the page layout of an image from fixed offsets of the file it
was given (``file[page_size:...]``, not relative to where the image starts), so it unpacks a
yaffs2 image only when the image is the whole file or its start. A yaffs2 partition inside a
flash dump is therefore left in ``unknown`` regions, and small files stored in it (a gzip that
fits one NAND page) may be claimed as regions of their own. Here each unknown region is looked
into (``scan.yaffs2_start``: a root-level object header and, one page later, the first block's
packed tags); where a yaffs2 image starts, its extent is found by walking its chunks (page and
spare area; hand-written: no library gives it) while their packed tags are yaffs2 tags or the
chunk is erased. That extent becomes one region (``fw.bin@0x100000:yaffs2``), a file that
ingest opens at the next level, where unblob sees the image at offset 0: the regions unblob
claimed inside it are dropped (their contents are the yaffs2 image's files), the unknown bytes
before and after it stay unknown, and a region that crosses its end ends it there. The
region files together still hold the dump's bytes once. A file in which unblob claimed
nothing (it then reports no region) is looked into the same way.

unblob's extractor drops an object whose parent is missing, not a directory or in a loop of
parents, and only logs it; ``dropped`` turns those log lines into a skipped record. It writes a
file with the bytes its data chunks hold, whatever its header says; ``short_files`` compares the
two (reading only the packed tags and the headers' file sizes) and records the files that differ:
an image cut short, or a header that lies.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, Final, Literal

from assay.ingest import magic, scan
from assay.ingest.unblob_report import Region
from assay.model import Skipped

HANDLER = "yaffs2"
"""The handler name given to a region cut out here (unblob's own is ``yaffs``)."""
UNCLAIMED: Final = ("unknown", "padding")
"""Regions whose bytes no unblob handler claimed."""
_SPARES: Final = (16, 32, 64, 128, 256, 512)
"""Spare area sizes tried (unblob's handler accepts these)."""
_ERASED: Final = 0xFFFFFFFF
_OBJECTS: Final = 0x40000
"""yaffs' object id space (``YAFFS_OBJECT_SPACE``); the top bits may carry the object type."""


def split(
    regions: tuple[Region, ...], image: Path, base: Path
) -> tuple[tuple[Region, ...], tuple[Region, ...]]:
    """``regions`` of the carved ``image`` with each yaffs2 image that starts in an unclaimed
    region past the file's start made a region of its own; and the claimed regions dropped
    because they lie inside one (their files are the caller's to remove). The unclaimed
    regions' files in ``base`` are made to match."""
    return split_out(regions, image, base, _locate, HANDLER, first=1)


def _locate(image: Path, start: int, end: int) -> tuple[int, int] | None:
    at = scan.yaffs2_start(image, start, end)
    extent = None if at is None else _extent(image, at)
    return None if at is None or extent is None else (at, extent)


def split_out(
    regions: tuple[Region, ...],
    image: Path,
    base: Path,
    locate: Callable[[Path, int, int], tuple[int, int] | None],
    handler: str,
    first: int = 0,
) -> tuple[tuple[Region, ...], tuple[Region, ...]]:
    """``regions`` of the carved ``image`` with each image that ``locate`` finds starting in an
    unclaimed region (at ``first`` or later) made a region named ``handler``; and the claimed
    regions dropped because they lie inside one (their files are the caller's to remove). The
    unclaimed regions' files in ``base`` are made to match (``uimage`` uses it too)."""
    size = image.stat().st_size
    if os.path.realpath(base) != os.path.join(
        os.path.realpath(base.parent.parent), *base.parts[-2:]
    ):
        return regions, ()  # a link where unblob's output should be: nothing is written there
    todo = list(regions or (Region(0, size, "unknown"),))  # none reported: all unknown
    out: list[Region] = []
    dropped: list[Region] = []
    while todo:
        region = todo.pop(0)
        found = None
        if region.handler in UNCLAIMED:
            found = locate(image, max(region.start, first), region.end)
        if found is None or found[1] <= found[0]:  # (not one whole chunk: left as it is)
            out.append(region)
            continue
        at, end = found
        for other in todo:  # a claimed region crossing the image's end ends it there
            if other.start < end < other.end and other.handler not in UNCLAIMED:
                end = other.start
                break
        inside = [r for r in [region, *todo] if r.start < end]
        todo = [r for r in todo if r.start >= end]
        for gone in inside:
            if gone.handler in UNCLAIMED:
                (base / f"{gone.start}-{gone.end}.{gone.handler}").unlink(missing_ok=True)
            else:
                dropped.append(gone)
        pieces = [Region(region.start, at, "unknown"), Region(at, end, handler)]
        last = max(r.end for r in inside)
        if last > end:  # the unclaimed bytes after the image: looked into again
            todo.insert(0, Region(end, last, "unknown"))
            pieces.append(todo[0])
        base.mkdir(parents=True, exist_ok=True)
        for piece in pieces:
            if piece.start < piece.end:
                name = f"{piece.start}-{piece.end}.{piece.handler}"
                _copy(image, piece.start, piece.end, base / name)
        out += [piece for piece in pieces[:2] if piece.start < piece.end]
    return tuple(out), tuple(dropped)


def _extent(image: Path, at: int) -> int | None:
    """Where the yaffs2 image that starts at ``at`` ends: after its last chunk whose packed
    tags are yaffs2 tags (a sequence number of a written block, an object id) or which is
    erased; ``None`` when its layout is not found."""
    with image.open("rb") as stream:
        stream.seek(at)
        layout = magic.yaffs2_layout(stream.read(magic.YAFFS2_PAGES[-1] + 6))
        if layout is None:
            return None
        page, marker, order = layout
        spare = _spare(stream, at, page, marker)
        if spare is None:
            return None
        end = at
        size = os.fstat(stream.fileno()).st_size
        while end + page + spare <= size:
            stream.seek(end + page + marker)
            tags = stream.read(16)
            sequence, object_id, _, _ = struct.unpack(f"{_ORDER[order]}4I", tags)
            written = 0x1000 <= sequence < _ERASED and 0 < object_id & 0x0FFFFFFF < _OBJECTS
            if not (written or tags == b"\xff" * 16):
                break
            end += page + spare
        return end


def _spare(stream: BinaryIO, at: int, page: int, marker: int) -> int | None:
    """The spare area size: the one after which the second chunk's tags carry the first
    block's sequence number too."""
    stream.seek(at + page + marker)
    first = stream.read(4)
    for spare in _SPARES:
        if spare < marker + 16:
            continue
        stream.seek(at + 2 * page + spare + marker)
        if stream.read(4) == first:
            return spare
    return None


_ORDER: Final = {"little": "<", "big": ">"}


def _copy(image: Path, start: int, end: int, to: Path) -> None:
    """Bytes ``start`` to ``end`` of ``image`` into the new file ``to``."""
    with image.open("rb") as source, to.open("xb") as out:
        source.seek(start)
        left = end - start
        while left and (data := source.read(min(left, 1 << 20))):
            out.write(data)
            left -= len(data)


def short_files(image: Path, region: Region, archive_path: str) -> Skipped | None:
    """The record of the regular files in the yaffs2 image ``region`` of ``image`` whose data
    chunks hold fewer or more bytes than their object header says: unblob writes what the
    chunks hold, so a file of a cut-short image, or whose header lies, would be written short
    (or long) without a word. Only the packed tags and the headers' sizes are read."""
    with image.open("rb") as stream:
        stream.seek(region.start)
        layout = magic.yaffs2_layout(stream.read(magic.YAFFS2_PAGES[-1] + 6))
        spare = None if layout is None else _spare(stream, region.start, *layout[:2])
        if layout is None or spare is None:
            return None
        page, marker, order = layout
        declared: dict[int, int] = {}
        stored: dict[int, int] = {}
        at = region.start
        while at + page + spare <= region.end:
            stream.seek(at)
            chunk = stream.read(page + spare)
            tags = chunk[page + marker : page + marker + 16]
            sequence, object_id, chunk_id, count = struct.unpack(f"{_ORDER[order]}4I", tags)
            if 0x1000 <= sequence < _ERASED and chunk_id == 0:
                if int.from_bytes(chunk[:4], order) == 1:  # a regular file's header
                    declared[object_id] = _file_size(chunk, order)
            elif 0x1000 <= sequence < _ERASED:
                stored[object_id] = stored.get(object_id, 0) + min(count, page)
            at += page + spare
    wrong = {o: size for o, size in declared.items() if stored.get(o, 0) != size}
    if not wrong:
        return None
    missing = sum(max(0, size - stored.get(o, 0)) for o, size in wrong.items())
    detail = (
        f"yaffs image: {len(wrong)} file(s) whose data chunks do not hold the size their header "
        f"says ({missing} bytes missing in all; cut short, or a header that lies): written "
        "with the bytes stored"
    )
    return Skipped(archive_path, "ingest", "image-errors", detail)


def _file_size(header: bytes, order: Literal["little", "big"]) -> int:
    """The file size in an object header: its low word, and its high word when that is set
    (0xffffffff: unused, as mkyaffs2image leaves it)."""
    low = int.from_bytes(header[292:296], order)
    high = int.from_bytes(header[496:500], order)
    return low if high == _ERASED else high << 32 | low


_ORPHANS: Final = (
    b"Trying to insert an orphaned entry.",
    b"insert an entry with non-directory parent",
)
"""What unblob's yaffs extractor logs (and nothing else) when it drops an object: its parent is
missing, a loop of objects that name each other as parent, or not a directory."""
_LOG_CAP: Final = 16 << 20


def dropped(log: Path, archive_path: str) -> Skipped | None:
    """The record of the yaffs objects unblob dropped, counted from its log (``log``): never a
    silent loss. Only the fixed messages are counted; the rest of each line is not read."""
    try:
        with log.open("rb") as stream:
            text = stream.read(_LOG_CAP)
    except OSError:
        return None
    count = sum(text.count(message) for message in _ORPHANS)
    if not count:
        return None
    detail = (
        f"yaffs image: {count} object(s) not unpacked, with what they hold: the parent each "
        "names is missing, not a directory, or part of a loop of parents"
    )
    return Skipped(archive_path, "ingest", "image-errors", detail)
