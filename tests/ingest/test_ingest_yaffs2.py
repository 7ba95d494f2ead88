"""yaffs2 images: bare, inside a flash dump at an offset, and hostile.

No packaged tool builds yaffs2 images, so ``yaffs2_build`` writes them; each layout that
Debian's ``unyaffs`` reads (little endian, 2 KiB pages, 64-byte spare, with or without the
2-byte bad-block marker) is first read back by ``unyaffs``, an independent reader, and must
give what was put in. unblob, which assay runs, also reads the big-endian layout, which
``unyaffs`` reads only on a big-endian machine: here it is checked against what was put in, and
``tests/realworld/test_yaffs2_big_endian_realworld.py`` reads it with Debian's s390x
``unyaffs`` under qemu first.
"""

from __future__ import annotations

import gzip
import hashlib
import itertools
import random
from pathlib import Path

import pytest
import yaffs2_build as yaffs
from firmware_build import flash, squashfs, tree
from ingest_support import sandbox, unpacked

from assay.ingest import ArchiveLimits, magic, scan

LIMITS = ArchiveLimits(max_total_bytes=64 << 20, max_ratio=50.0, max_files=2000, max_depth=4)
PAGE = 2048 + 64


pytestmark = pytest.mark.usefixtures("need_sandbox")


@pytest.mark.parametrize("marker", [False, True], ids=["plain", "bad-block-marker"])
def test_unyaffs_reads_what_the_test_writer_put_in(tmp_path: Path, marker: bool) -> None:
    entries, files, links = yaffs.tree()
    image = tmp_path / "rootfs.yaffs2"
    image.write_bytes(yaffs.image(entries, bad_block_marker=marker))
    assert len(files["etc/big"]) > 3 * 2048  # the file spans several chunks
    assert yaffs.unyaffs(image, tmp_path / "out") == (files, links)


@pytest.mark.parametrize(
    "layout",
    [
        {"order": "<"},
        {"order": "<", "bad_block_marker": True},
        {"order": ">"},
        {"order": "<", "page": 4096, "spare": 128},
    ],
    ids=["le", "le-bad-block-marker", "be", "le-4k-page"],
)
def test_a_bare_yaffs2_image_in_a_release_is_opened(tmp_path: Path, layout: dict) -> None:
    entries, files, links = yaffs.tree()
    data = yaffs.image(entries, **layout)
    if layout["order"] == "<":  # the layouts unyaffs reads: the writer is checked first
        (tmp_path / "oracle.yaffs2").write_bytes(data)
        assert yaffs.unyaffs(tmp_path / "oracle.yaffs2", tmp_path / "oracle") == (files, links)
    box = sandbox(tmp_path)
    (box.inputs / "boot").mkdir()
    (box.inputs / "rootfs.yaffs2").write_bytes(data)

    result = box.ingest(box.inputs, LIMITS)

    assert unpacked(result, "rootfs.yaffs2!/") == (files, links)
    (container,) = [c for c in result.containers if c.path == "rootfs.yaffs2"]
    assert container.format == "yaffs2"
    assert not [s for s in result.skipped if s.reason != "link"]


def test_a_yaffs2_image_at_an_offset_of_a_flash_dump_is_carved(tmp_path: Path) -> None:
    entries, files, links = yaffs.tree()
    # a gzip file that fits one page: unblob claims it as a region of the dump, inside the
    # yaffs2 image; the files after it must still be found
    small = gzip.compress(b"small config\n" * 20)
    entries[2:2] = [yaffs.Entry("etc/small.gz", yaffs.FILE, small)]
    entries.append(yaffs.Entry("etc/after", yaffs.FILE, b"after the gzip\n"))
    files |= {"etc/small.gz": small, "etc/after": b"after the gzip\n"}
    made = tree(tmp_path / "sq", "sq")
    rootfs = squashfs(tmp_path / "sq", tmp_path / "sq.img").read_bytes()
    data = yaffs.image(entries)
    boot = b"U-Boot 2020.01 (Jan 01 2020)\0" + bytes(range(256)) * 64
    dump = flash([(0, boot), (0x40000, rootfs), (0x100000, data)], 2 << 20)
    box = sandbox(tmp_path)
    (box.inputs / "fw.bin").write_bytes(dump)

    result = box.ingest(box.inputs / "fw.bin", LIMITS)

    found, found_links = unpacked(result, "fw.bin@0x100000:yaffs2!/")
    assert found.pop("etc/small.gz!/small") == b"small config\n" * 20
    assert (found, found_links) == (files, links)
    squash = {
        f.path.rpartition("!/")[2]: f.sha256
        for f in result.files
        if f.path.startswith("fw.bin@0x40000:squashfs!/")
    }
    assert squash == made
    # the regions still cover every byte of the dump once, in order
    regions = sorted(
        (c for c in result.containers if c.parent == "" and c.offset is not None),
        key=lambda c: c.offset or 0,
    )
    spans = [(c.offset, (c.offset or 0) + c.size) for c in regions]
    assert spans[0][0] == 0 and spans[-1][1] == len(dump)
    assert all(end == start for (_, end), (start, _) in itertools.pairwise(spans))
    region_bytes = b"".join(
        Path(f.disk_path).read_bytes() for c in regions for f in result.files if f.path == c.path
    )
    assert hashlib.sha256(region_bytes).digest() == hashlib.sha256(dump).digest()
    assert not [s for s in result.skipped if s.reason != "link"]


def test_a_dump_in_a_release_holding_only_a_yaffs2_image_is_carved(tmp_path: Path) -> None:
    # unblob claims nothing in this dump (it reports no region at all): ingest finds the image
    entries, files, links = yaffs.tree()
    box = sandbox(tmp_path)
    (box.inputs / "nand.bin").write_bytes(flash([(0x60000, yaffs.image(entries))], 1 << 20))

    result = box.ingest(box.inputs, LIMITS)

    assert unpacked(result, "nand.bin@0x60000:yaffs2!/") == (files, links)
    (head,) = [c for c in result.containers if c.path == "nand.bin@0x0:unknown"]
    assert (head.offset, head.size) == (0, 0x60000)
    assert not [s for s in result.skipped if s.reason != "link"]


def test_data_chunks_whose_byte_count_lies_are_a_bomb_record(tmp_path: Path) -> None:
    # each of 3,000 data chunks claims 2 GiB: a reader that trusts it copies from the chunk to
    # the image's end, 3,000 times (about 9 GB from a 6 MB image)
    entries = [
        yaffs.Entry("etc", yaffs.DIRECTORY),
        yaffs.Entry("etc/f", yaffs.FILE, bytes(2048 * 3000)),
    ]
    box = sandbox(tmp_path)
    (box.inputs / "fw.bin").write_bytes(yaffs.image(entries, lie=yaffs.Lie(byte_count=0x7FFFFFFF)))

    result = box.ingest(box.inputs / "fw.bin", LIMITS)

    (record,) = result.skipped
    assert (record.path, record.reason) == ("", "bomb-total-size")
    assert "nothing kept" in record.detail
    assert not [f for f in result.files if "!/" in f.path]
    assert sum(p.stat().st_size for p in box.work_files()) < LIMITS.max_total_bytes


def test_a_header_whose_file_size_lies_is_a_record_and_the_stored_bytes(tmp_path: Path) -> None:
    entries, files, links = yaffs.tree()
    box = sandbox(tmp_path)
    data = yaffs.image(entries, lie=yaffs.Lie(file_size=1 << 31))  # every file "2 GiB"
    (box.inputs / "fw.bin").write_bytes(data)

    result = box.ingest(box.inputs / "fw.bin", LIMITS)

    assert unpacked(result, "") == (files, links)  # what the chunks hold, nothing more
    assert sum(p.stat().st_size for p in box.work_files()) < 4 * len(data)
    (record,) = [s for s in result.skipped if s.reason != "link"]
    assert (record.path, record.reason) == ("", "image-errors")
    missing = 3 * (1 << 31) - sum(len(v) for v in files.values())
    assert record.detail.startswith("yaffs image: 3 file(s) whose data chunks do not hold")
    assert f"({missing} bytes missing in all" in record.detail


def test_an_image_cut_short_at_the_end_of_a_dump_is_a_record(tmp_path: Path) -> None:
    entries, files, _ = yaffs.tree()
    cut = yaffs.image(entries)[: PAGE * 4]  # etc, etc/big's header and 2 of its 4 data chunks
    box = sandbox(tmp_path)
    (box.inputs / "fw.bin").write_bytes(flash([], 1 << 20)[: -len(cut)] + cut)

    result = box.ingest(box.inputs, LIMITS)

    at = (1 << 20) - len(cut)
    found, _ = unpacked(result, f"fw.bin@{at:#x}:yaffs2!/")
    assert found == {"etc/big": files["etc/big"][: 2 * 2048]}
    (record,) = result.skipped
    assert (record.path, record.reason) == (f"fw.bin@{at:#x}:yaffs2", "image-errors")
    missing = len(files["etc/big"]) - 2 * 2048
    assert f"1 file(s) whose data chunks do not hold the size their header says ({missing} " in (
        record.detail
    )


def _parent(data: bytes, chunk: int, parent: int) -> bytes:
    """``data`` with the object header in chunk number ``chunk`` naming ``parent``."""
    patched = bytearray(data)
    patched[chunk * PAGE + 4 : chunk * PAGE + 8] = parent.to_bytes(4, "little")
    return bytes(patched)


# chunk numbers in yaffs.tree()'s image: etc 0, etc/big 1 (data 2-5), etc/issue 6 (7),
# etc/link 8, bin 9 (object 0x104), bin/tool 10 (object 0x105, data 11)
@pytest.mark.parametrize(
    ("case", "patches"),
    [("self", [(9, 0x104)]), ("loop", [(9, 0x105), (10, 0x104)]), ("missing", [(9, 0x999)])],
)
def test_objects_whose_parents_loop_or_are_missing_are_a_record(
    tmp_path: Path, case: str, patches: list[tuple[int, int]]
) -> None:
    entries, files, _ = yaffs.tree()
    data = yaffs.image(entries)
    for chunk, parent in patches:
        data = _parent(data, chunk, parent)
    box = sandbox(tmp_path)
    (box.inputs / "fw.bin").write_bytes(data)

    result = box.ingest(box.inputs / "fw.bin", LIMITS)

    found, _ = unpacked(result, "")
    (record,) = [s for s in result.skipped if s.reason != "link"]
    assert (record.path, record.reason) == ("", "image-errors")
    if case == "self":  # unblob's extractor fails on a second root: nothing is unpacked
        assert found == {}
        assert record.detail.startswith("yaffs at 0x0..")
    else:  # the objects in the loop, or under a missing parent, are dropped and counted
        del files["bin/tool"]
        assert found == files
        assert record.detail.startswith("yaffs image: 2 object(s) not unpacked")


def test_a_header_without_the_tags_a_page_later_is_no_yaffs2_image(tmp_path: Path) -> None:
    entries, _, _ = yaffs.tree()
    data = yaffs.image(entries)
    lone = data[:2048]  # the header alone, as code or data may hold its bytes by chance
    blob = bytearray(random.Random(223).randbytes(1 << 17))
    blob[5000 : 5000 + len(lone)] = lone
    (tmp_path / "blob").write_bytes(bytes(blob))
    assert not magic.is_yaffs2(lone + bytes(100))
    assert not scan.holds_images(tmp_path / "blob")
    blob[5000 : 5000 + len(data)] = data
    (tmp_path / "dump").write_bytes(bytes(blob))
    assert magic.is_yaffs2(data)
    assert scan.holds_images(tmp_path / "dump")
    assert scan.yaffs2_start(tmp_path / "dump", 1, len(blob)) == 5000


def test_a_yaffs2_image_cut_short_in_its_first_chunk_stays_unknown(tmp_path: Path) -> None:
    entries, _, _ = yaffs.tree()
    start = yaffs.image(entries)[: PAGE - 40]  # the header and the tags, not the whole spare
    dump = flash([], 1 << 20)[: -len(start)] + start
    box = sandbox(tmp_path)
    (box.inputs / "fw.bin").write_bytes(dump)

    result = box.ingest(box.inputs, LIMITS)  # (a region not one chunk long is not cut out)

    assert not [c for c in result.containers if c.format == "yaffs2"]
    assert [f.path for f in result.files] == ["fw.bin"]
