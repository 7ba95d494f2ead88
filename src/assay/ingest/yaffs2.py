"""yaffs2 images that unblob's carver passes over.

unblob's yaffs handler reads the page layout of an image from fixed offsets of the file it
was given (``file[page_size:...]``, not relative to where the image starts), so it unpacks a
yaffs2 image only when the image is the whole file or its start. A yaffs2 partition inside a
flash dump is therefore left in an ``unknown`` region. Here such a region is looked into
(``scan.yaffs2_start``: a root-level object header and, one page later, the first block's
packed tags) and cut in two where a yaffs2 image starts: the bytes before stay ``unknown``,
the rest becomes a region of its own (``fw.bin@0x100000:yaffs2``), a file that ingest opens at
the next level, where unblob sees the image at offset 0. The bytes are moved, not copied:
the region files together still hold the dump's bytes once.

unblob's extractor drops an object whose parent is missing, not a directory or in a loop of
parents, and only logs it; ``dropped`` turns those log lines into a skipped record.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Final

from assay.ingest import scan
from assay.ingest.unblob_report import Region
from assay.model import Skipped

HANDLER = "yaffs2"
"""The handler name given to a region cut out here (unblob's own is ``yaffs``)."""


def split(regions: tuple[Region, ...], image: Path, base: Path) -> tuple[Region, ...]:
    """``regions`` of the carved ``image``, each unknown one that holds the start of a yaffs2
    image past the file's start cut there; the region files in ``base`` are cut to match."""
    out: list[Region] = []
    for region in regions:
        chunk = base / f"{region.start}-{region.end}.{region.handler}"
        at = None
        if region.handler == "unknown" and chunk.is_file():
            at = scan.yaffs2_start(image, max(region.start, 1), region.end)
        if at is None:
            out.append(region)
            continue
        keep = at - region.start
        with chunk.open("r+b") as source, (base / f"{at}-{region.end}.{HANDLER}").open("xb") as to:
            source.seek(keep)
            shutil.copyfileobj(source, to, 1 << 20)
            source.truncate(keep)
        if keep:
            chunk.rename(base / f"{region.start}-{at}.unknown")
            out.append(Region(region.start, at, "unknown"))
        else:
            chunk.unlink()
        out.append(Region(at, region.end, HANDLER))
    return tuple(out)


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
