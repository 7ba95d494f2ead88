"""squashfs 3 in both byte orders and with each compressor of its time, squashfs 4 from the
real mksquashfs, and hostile squashfs 3 images: each opened by the reader ``squashfs7z.reader``
picks (unsquashfs or 7zz, both in the sandbox) and its files evaluated, or a record says why not.

squashfs 2 and 3 images come from the test-only writer ``squashfs23_writer`` (no packaged tool
builds them; ``test_squashfs23_writer.py`` checks it against 7-Zip, libmagic and unsquashfs). The
expected contents are what was put in.
"""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path
from typing import Literal

import pytest
from firmware_build import flash, squashfs, tool, tree
from ingest_support import SMALL, Sandbox, sandbox, written
from squashfs23_writer import Compression, Device, Order, Symlink, Tree, build

from assay.ingest import ArchiveLimits, IngestResult, squashfs7z
from assay.model import Skipped

LIMITS = ArchiveLimits(max_total_bytes=64 << 20, max_files=1000, max_depth=4)
BUSYBOX = bytes(range(256)) * 40 + b"BusyBox v1.1.0"  # three 4 KiB blocks, the last one short
TREE: Tree = {
    "bin": {"busybox": BUSYBOX, "sh": Symlink("busybox")},
    "etc": {"version": b"firmware 3.1.7\n"},
}
PUT_IN = {"bin/busybox": BUSYBOX, "etc/version": b"firmware 3.1.7\n"}
READER = {"gzip": "unsquashfs", "none": "unsquashfs", "lzma": "7zz", "sqlzma": "7zz"}
"""unsquashfs reads squashfs 3 with zlib (or stored) blocks; only 7-Zip reads the LZMA ones."""


pytestmark = pytest.mark.usefixtures("need_sandbox")


def records(result: IngestResult) -> dict[str, list[Skipped]]:
    found: dict[str, list[Skipped]] = {}
    for record in result.skipped:
        found.setdefault(record.path, []).append(record)
    return found


def only_in_outputs(box: Sandbox) -> None:
    """Every file ingest wrote lies in an extractor's output (``root``) or a carve directory
    (``out``): 7zz wrote nothing beside its output directory."""
    for path in box.work.rglob("*"):
        parts = path.relative_to(box.work).parts  # extract-*/N/<output>/...
        if len(parts) > 2:
            assert parts[2] in ("root", "out", "report.json", "unblob.log"), path


@pytest.mark.parametrize("version", [2, 3])
@pytest.mark.parametrize("order", ["little", "big"])
@pytest.mark.parametrize("compression", ["gzip", "lzma", "sqlzma"])
def test_bare_squashfs2_and_3_images_are_evaluated(
    tmp_path: Path, order: Order, compression: Compression, version: Literal[2, 3]
) -> None:
    box = sandbox(tmp_path)
    image = box.inputs / "rootfs.sqfs"
    image.write_bytes(build(TREE, order=order, compression=compression, version=version))
    assert squashfs7z.reader(image) == READER[compression]
    result = box.ingest(image, LIMITS)
    assert written(result, "") == PUT_IN
    assert [(r.path, r.reason, r.detail) for r in result.skipped] == [
        ("bin/sh", "link", "symlink -> busybox")
    ]
    only_in_outputs(box)


@pytest.mark.parametrize(
    ("order", "compression", "version"),
    [("big", "lzma", 3), ("little", "sqlzma", 3), ("big", "gzip", 3), ("big", "lzma", 2)],
)
def test_squashfs2_and_3_inside_a_flash_dump_are_carved_and_evaluated(
    tmp_path: Path, order: Order, compression: Compression, version: Literal[2, 3]
) -> None:
    box = sandbox(tmp_path)
    boot = bytes(range(256)) * 256  # 64 KiB of boot loader before the image
    image = build(TREE, order=order, compression=compression, version=version)
    dump = box.inputs / "fw.bin"
    dump.write_bytes(flash([(0, boot), (0x20000, image)], 0x80000))
    result = box.ingest(dump, LIMITS)
    region = "fw.bin@0x20000:squashfs"
    assert written(result, f"{region}!/") == PUT_IN
    found = records(result)
    assert [r.reason for r in found.pop(f"{region}!/bin/sh")] == ["link"]
    assert not found, found  # unblob's "sasquatch missing" record is gone: the region was read
    formats = {c.path: c.format for c in result.containers}
    assert formats[region] == "squashfs"
    only_in_outputs(box)


@pytest.mark.parametrize("comp", ["lz4", "gzip"])
def test_squashfs4_stays_with_unsquashfs(tmp_path: Path, comp: str) -> None:
    """7-Zip does not read lz4 blocks (``7zz x`` ends with exit 2): squashfs 4 is unsquashfs's."""
    box = sandbox(tmp_path)
    put = tree(tmp_path / "root", comp)
    image = squashfs(tmp_path / "root", box.inputs / "rootfs.sqfs", comp)
    assert squashfs7z.reader(image) == "unsquashfs"
    result = box.ingest(image, LIMITS)
    got = {path: hashlib.sha256(data).hexdigest() for path, data in written(result, "").items()}
    assert got == put
    assert result.skipped == ()


def test_big_endian_squashfs4_is_a_missing_tool_record(tmp_path: Path) -> None:
    """No packaged reader opens big-endian squashfs 4 and no packaged tool builds one: the
    superblock of a real mksquashfs image is rewritten big endian, which is what decides."""
    box = sandbox(tmp_path)
    tree(tmp_path / "root", "be")
    real = squashfs(tmp_path / "root", tmp_path / "le.sqfs", "gzip").read_bytes()
    fields = struct.unpack_from("<5I6H8Q", real)
    swapped = b"sqsh" + struct.pack(">4I6H8Q", *fields[1:])
    image = box.inputs / "rootfs.sqfs"
    image.write_bytes(swapped + real[len(swapped) :])
    result = box.ingest(image, LIMITS)
    assert result.files == ()
    [record] = result.skipped
    assert (record.path, record.reason) == ("", "missing-tool")
    assert "big-endian squashfs 4" in record.detail and "sasquatch-v4be" in record.detail


def test_lzma_squashfs3_without_7zip_is_a_missing_tool_record_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    box = sandbox(tmp_path)
    image = box.inputs / "rootfs.sqfs"
    image.write_bytes(build(TREE, order="big", compression="lzma"))
    tool("7zz")  # present on the host; hidden from assay below
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    result = box.ingest(image, LIMITS)
    [record] = result.skipped
    assert (record.path, record.reason) == ("", "missing-tool")
    assert "7zz not found (install 7zip)" in record.detail


@pytest.mark.parametrize("compression", ["gzip", "sqlzma"])
def test_inode_table_offset_beyond_the_file_is_skipped(
    tmp_path: Path, compression: Compression
) -> None:
    """A superblock whose inode table lies past the end: each reader refuses, nothing is
    written, one record (the gzip image goes to unsquashfs, the sqlzma one to 7zz)."""
    box = sandbox(tmp_path)
    good = bytearray(build(TREE, order="big", compression=compression))
    beyond = len(good) + (1 << 20)
    good[0x14:0x18] = beyond.to_bytes(4, "big")  # the 32-bit copy squashfs 2 reads
    good[0x57:0x5F] = beyond.to_bytes(8, "big")
    image = box.inputs / "lying.sqfs"
    image.write_bytes(bytes(good))
    assert squashfs7z.reader(image) == READER[compression]
    result = box.ingest(image, LIMITS)
    assert result.files == ()
    [record] = result.skipped
    assert (record.path, record.reason) == ("", "image-rejected"), record
    assert not [p for p in box.work.rglob("*") if p.is_file()]


def test_hostile_names_and_links_stay_inside_and_are_recorded(tmp_path: Path) -> None:
    """7zz is given an image whose link ``d`` leaves the output and whose directory, also
    named ``d``, holds a file (written through the link if it were followed); ``..`` names;
    an absolute link; device nodes. Nothing is written outside, links are recorded with the
    targets the image holds, devices are recorded, the rest is counted as not recovered."""
    box = sandbox(tmp_path)
    hostile: Tree = [
        ("d", Symlink("../../../../outside")),
        ("d", {"f": b"through the link\n"}),
        ("..", {"g": b"up one\n"}),
        ("abs", Symlink("/etc/passwd")),
        ("console", Device("c", 5, 1)),
        ("z", b"kept\n"),
    ]
    image = box.inputs / "hostile.sqfs"
    image.write_bytes(build(hostile, order="big", compression="lzma"))
    result = box.ingest(image, LIMITS)
    assert written(result, "") == {"z": b"kept\n"}
    found = {(r.path, r.reason, r.detail) for r in result.skipped if r.path}
    assert found == {
        ("d", "link-outside", "symlink -> ../../../../outside"),
        ("abs", "link-outside", "symlink -> /etc/passwd"),
        ("console", "special-file", "character device"),
    }
    [partial] = [r for r in result.skipped if not r.path]
    assert partial.reason == "image-errors"
    assert "partial: 1 of 3 files recovered" in partial.detail
    assert "not recovered: ../g, d/f" in partial.detail
    assert not (tmp_path / "outside").exists()
    only_in_outputs(box)


def test_damaged_block_is_a_partial_extraction_the_rest_kept(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    data = bytearray(build(TREE, order="little", compression="lzma"))
    first = 0x77  # busybox's first data block follows the superblock
    assert data[first] == 0  # a raw LZMA stream starts so
    data[first + 40 : first + 100] = b"\x55" * 60
    image = box.inputs / "damaged.sqfs"
    image.write_bytes(bytes(data))
    result = box.ingest(image, LIMITS)
    assert written(result, "") == {"etc/version": PUT_IN["etc/version"]}
    partial = [r for r in result.skipped if r.path == ""]
    assert [r.reason for r in partial] == ["image-errors"]
    assert "Data Error" in partial[0].detail
    assert "partial: 1 of 2 files recovered" in partial[0].detail
    assert f"{len(PUT_IN['etc/version'])} of {len(BUSYBOX) + 15} bytes" in partial[0].detail


def test_lzma_bomb_is_refused_from_its_listing(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    image = box.inputs / "bomb.sqfs"
    zeros: Tree = {"zeros": bytes(8 << 20)}
    image.write_bytes(build(zeros, order="big", compression="lzma", block_size=1 << 16))
    result = box.ingest(image, SMALL)
    assert result.files == ()
    [record] = result.skipped
    assert record.reason in ("bomb-total-size", "bomb-ratio")
    assert "not unpacked" in record.detail
    assert not [p for p in box.work.rglob("*") if p.is_file()]


def test_a_link_that_only_leaves_is_recorded_with_no_partial_record(tmp_path: Path) -> None:
    """7-Zip refuses the link (exit 2) but everything else is written: no loss to report."""
    box = sandbox(tmp_path)
    image = box.inputs / "link.sqfs"
    tree_: Tree = {"etc": {"passwd": Symlink("../../../../etc/passwd")}, "ok": b"fine\n"}
    image.write_bytes(build(tree_, order="big", compression="lzma"))
    result = box.ingest(image, LIMITS)
    assert written(result, "") == {"ok": b"fine\n"}
    assert [(r.path, r.reason, r.detail) for r in result.skipped] == [
        ("etc/passwd", "link-outside", "symlink -> ../../../../etc/passwd")
    ]


def test_nothing_is_removed_through_a_restored_link(tmp_path: Path) -> None:
    """A link to a real directory of the host, then a directory of the same name holding a
    device node and a file: the placeholders 7-Zip writes for devices are removed by assay,
    which must never reach through the link it put back (nor through a ``..`` name)."""
    box = sandbox(tmp_path)
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "console").write_bytes(b"keep me\n")
    hostile: Tree = [
        ("a", Symlink(str(victim))),
        ("a", {"console": Device("c", 5, 1), "new": b"planted\n"}),
        ("..", {"victim": {"console": Device("c", 5, 1)}}),
        ("z", b"kept\n"),
    ]
    image = box.inputs / "hostile.sqfs"
    image.write_bytes(build(hostile, order="little", compression="sqlzma"))
    result = box.ingest(image, LIMITS)  # fails if anything outside the work area changed
    assert (victim / "console").read_bytes() == b"keep me\n"
    assert sorted(p.name for p in victim.iterdir()) == ["console"]
    assert written(result, "") == {"z": b"kept\n"}
    found = {(r.path, r.reason) for r in result.skipped if r.path}
    assert ("a", "link-outside") in found
    assert ("a/console", "special-file") in found
    assert ("../victim/console", "special-file") in found
    only_in_outputs(box)


@pytest.mark.parametrize("compression", ["gzip", "sqlzma"])
def test_little_endian_squashfs3_in_a_dump_inside_a_release_is_found(
    tmp_path: Path, compression: Compression
) -> None:
    """The scan that picks files to carve knows the squashfs 3 magics (``hsqs`` with major 3,
    ``shsq``), not only squashfs 4's."""
    box = sandbox(tmp_path)
    release = box.inputs / "release"
    release.mkdir()
    image = build(TREE, order="little", compression=compression)
    (release / "fw.bin").write_bytes(
        flash([(0, bytes(range(256)) * 64), (0x10000, image)], 1 << 17)
    )
    result = box.ingest(release, LIMITS)
    assert written(result, "fw.bin@0x10000:squashfs!/") == PUT_IN
