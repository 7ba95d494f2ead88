"""Hostile firmware for the carver: each case ends in a skipped record, nothing written outside
the output directory (``Sandbox.ingest`` checks that on every call)."""

from __future__ import annotations

import itertools
import json
import random
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
import zstandard
from firmware_build import flash, jffs2, mkimage, romfs, run, sevenzip, squashfs, tool, tree, ubi
from ingest_support import sandbox

from assay.ingest import ArchiveLimits, carve
from support import run_evaluation

LIMITS = ArchiveLimits(max_total_bytes=64 << 20, max_ratio=50.0, max_files=2000, max_depth=4)
SCHEMA = Path(__file__).parents[2] / "src/assay/schemas/evaluation.schema.json"


pytestmark = pytest.mark.usefixtures("need_sandbox")


def bomb_tree(root: Path, size: int = 8 << 20) -> Path:
    """A tree holding one file of zeros that compresses to almost nothing."""
    root.mkdir(parents=True)
    with (root / "zeros").open("wb") as out:
        out.truncate(0)
        chunk = bytes(1 << 20)
        for _ in range(size >> 20):
            out.write(chunk)
    return root


def test_an_extractor_that_hangs_is_killed_at_the_time_cap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the stub blocks forever reading a FIFO nobody writes: only the time cap can end it
    stub = ["sh", "-c", 'mkfifo /tmp/never && exec cat /tmp/never; echo "$@"', "stub"]
    monkeypatch.setattr(carve, "unblob_command", lambda: stub)
    box = sandbox(tmp_path)
    (box.inputs / "fw.bin").write_bytes(random.Random(47).randbytes(4096))
    result = box.ingest(box.inputs / "fw.bin", ArchiveLimits(extract_timeout=0.5))
    (record,) = result.skipped
    assert (record.path, record.reason) == ("", "image-timeout")
    assert record.detail.startswith("unblob stopped after") and "nothing kept" in record.detail
    assert result.files == ()
    assert box.work_files() == []


def test_an_image_that_contains_itself_stops_at_max_depth(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    tree(tmp_path / "root", "inner")
    inner = sevenzip(tmp_path / "root", tmp_path / "inner.7z")
    (tmp_path / "outer").mkdir()
    shutil.copy(inner, tmp_path / "outer/copy.7z")
    outer = sevenzip(tmp_path / "outer", tmp_path / "outer.7z")
    (tmp_path / "again").mkdir()
    shutil.copy(outer, tmp_path / "again/again.7z")
    nested = sevenzip(tmp_path / "again", box.inputs / "loop.7z")
    limits = ArchiveLimits(max_depth=2)
    result = box.ingest(nested, limits)
    depth = [s for s in result.skipped if s.reason == "nesting-depth"]
    assert [s.path for s in depth] == ["again.7z!/copy.7z"]
    # a dump holding the same image twice, and a copy of itself as a region, ends too
    image = squashfs(tmp_path / "root", tmp_path / "sq.img").read_bytes()
    dump = flash([(0x10000, image), (0x40000, image)], 0x80000)
    selfish = flash([(0, dump), (0x80000, dump)], 0x100000)
    (box.inputs / "self.bin").write_bytes(selfish)
    result = box.ingest(box.inputs / "self.bin", LIMITS)
    offsets = sorted(
        c.offset or 0 for c in result.containers if c.format == "squashfs" and c.offset is not None
    )
    assert offsets == [0x10000, 0x40000, 0x90000, 0xC0000]


def test_overlapping_images_are_each_carved_once(tmp_path: Path) -> None:
    # a squashfs whose bytes are overwritten in the middle by a JFFS2 image: the regions that
    # unblob keeps never overlap, and every byte is in exactly one region
    box = sandbox(tmp_path)
    tree(tmp_path / "a", "a")
    tree(tmp_path / "b", "b")
    first = squashfs(tmp_path / "a", tmp_path / "a.img", "gzip").read_bytes()
    second = jffs2(tmp_path / "b", tmp_path / "b.img").read_bytes()
    dump = flash([(0x1000, first), (0x1000 + len(first) // 2, second)], 0x100000)
    (box.inputs / "overlap.bin").write_bytes(dump)
    result = box.ingest(box.inputs / "overlap.bin", LIMITS)
    regions = sorted(
        (c for c in result.containers if c.parent == "" and c.offset is not None),
        key=lambda c: c.offset or 0,
    )
    for before, after in itertools.pairwise(regions):
        assert (before.offset or 0) + before.size == after.offset
    assert (regions[-1].offset or 0) + regions[-1].size == len(dump)
    damaged = [s for s in result.skipped if s.path.startswith("overlap.bin@0x1000:squashfs")]
    assert damaged, "the squashfs cut by the JFFS2 image must be named as not fully unpacked"


def romfs_with_size(image: bytes, size: int) -> bytes:
    """The romfs ``image`` with its size field set to ``size`` and its checksum made good."""
    data = bytearray(image)
    data[8:12] = size.to_bytes(4, "big")
    data[12:16] = bytes(4)
    total = sum(int.from_bytes(data[i : i + 4], "big") for i in range(0, 512, 4))
    data[12:16] = (-total & 0xFFFFFFFF).to_bytes(4, "big")
    return bytes(data)


def trx_with_length(partition: bytes, length: int) -> bytes:
    """A TRX v1 header (28 bytes) whose length field says ``length``, then ``partition``."""
    header = b"HDR0" + length.to_bytes(4, "little") + bytes(4)  # CRC left wrong on purpose
    header += (0).to_bytes(2, "little") + (1).to_bytes(2, "little")  # flags, version 1
    header += (28).to_bytes(4, "little") + bytes(8)  # partition offsets
    return header + partition


@pytest.mark.parametrize("lie", ["bigger", "zero"])
def test_a_header_whose_size_lies_is_a_skipped_record(tmp_path: Path, lie: str) -> None:
    box = sandbox(tmp_path)
    tree(tmp_path / "root", "ro")
    release = box.inputs / "release"
    release.mkdir()
    if lie == "bigger":  # a romfs that says it is 16 times longer than the file
        image = romfs(tmp_path / "root", tmp_path / "ro.img").read_bytes()
        name, data = "rootfs.romfs", romfs_with_size(image, len(image) * 16)
    else:  # a TRX whose length is zero, holding a real squashfs
        image = squashfs(tmp_path / "root", tmp_path / "sq.img").read_bytes()
        name, data = "firmware.trx", trx_with_length(image, 0)
    (release / name).write_bytes(data)
    result = box.ingest(release, LIMITS)
    (record,) = [s for s in result.skipped if s.path == name]
    assert record.reason == "unsupported-container"
    assert "not unpacked" in record.detail


def test_a_squashfs_bomb_in_a_dump_stops_at_the_ratio_cap(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    image = squashfs(bomb_tree(tmp_path / "bomb", 64 << 20), tmp_path / "b.img").read_bytes()
    (box.inputs / "fw.bin").write_bytes(flash([(0x10000, image)], 0x10000 + len(image) + 4096))
    result = box.ingest(box.inputs / "fw.bin", LIMITS)
    assert not [f for f in result.files if f.path.endswith("zeros")]
    reasons = {s.reason for s in result.skipped if s.path.startswith("fw.bin@0x10000:squashfs")}
    assert reasons & {"bomb-ratio", "bomb-total-size"}


@pytest.mark.parametrize("fmt", ["jffs2", "ubi", "7z", "romfs"])
def test_a_bomb_in_each_format_unblob_opens_is_stopped(tmp_path: Path, fmt: str) -> None:
    box = sandbox(tmp_path)
    root = bomb_tree(tmp_path / "bomb", 16 << 20)
    build = {"jffs2": jffs2, "ubi": ubi, "7z": sevenzip, "romfs": romfs}[fmt]
    image = build(root, tmp_path / f"bomb.{fmt}")
    limits = ArchiveLimits(max_total_bytes=4 << 20, max_ratio=50.0, max_files=100)
    release = box.inputs / "release"
    release.mkdir()
    shutil.copy(image, release / image.name)
    result = box.ingest(release, limits)
    assert not [f for f in result.files if f.path.endswith("zeros") and f.size > 4 << 20]
    caps = {"bomb-total-size", "bomb-ratio", "bomb-file-count"}
    assert {s.reason for s in result.skipped} & caps, result.skipped
    written = sum(p.stat().st_size for p in box.work_files())
    assert written <= 4 << 20


def test_a_kernel_with_a_garbage_payload_is_a_skipped_record(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    noise = random.Random(171).randbytes(60_000)
    payload = b"\x1f\x8b\x08\x00" + bytes(6) + noise  # a gzip header, then noise
    setup = bytearray(0x4000)
    setup[0x1FE:0x200] = b"\x55\xaa"
    setup[0x202:0x206] = b"HdrS"
    setup[0x206:0x208] = (0x20F).to_bytes(2, "little")
    setup[0x248:0x24C] = (0x100).to_bytes(4, "little")  # payload offset after the setup
    setup[0x24C:0x250] = len(payload).to_bytes(4, "little")
    release = box.inputs / "boot"
    release.mkdir()
    (release / "vmlinuz").write_bytes(bytes(setup) + payload)
    result = box.ingest(release, LIMITS)
    assert not [f for f in result.files if "!/" in f.path or "@" in f.path]
    (record,) = [s for s in result.skipped if s.path == "vmlinuz"]
    assert record.reason == "unsupported-container"
    assert record.detail.startswith("bzimage")


def test_the_verdict_and_the_report_say_what_was_not_evaluated(tmp_path: Path) -> None:
    release = tmp_path / "release"
    (release / "src").mkdir(parents=True)
    (release / "src/main.c").write_text("int main(void) { return 0; }\n")
    (release / "firmware.trx").write_bytes(b"HDR0" + (64).to_bytes(4, "little") + bytes(6)
                                           + b"\1\0" + bytes(48))  # fmt: skip
    run = run_evaluation(release, tmp_path / "out")
    report = run.json()
    jsonschema.validate(report, json.loads(SCHEMA.read_text()))
    assert report["rating"]["verdict"] != "assurance"
    assert "part of the release was not evaluated: 1 container" in report["rating"]["why"]
    html = next((tmp_path / "out").glob("*.html")).read_text()
    assert "Part of the release was not evaluated" in html
    assert "<code>firmware.trx</code>" in html


@pytest.mark.parametrize("fmt", ["lz4-legacy", "lzop", "uimage-zstd", "binary-cpio"])
def test_a_bomb_in_each_stream_format_is_stopped(tmp_path: Path, fmt: str) -> None:
    box = sandbox(tmp_path)
    zeros = bomb_tree(tmp_path / "bomb", 16 << 20) / "zeros"
    release = box.inputs / "release"
    release.mkdir()
    if fmt == "lz4-legacy":  # the kernel's initramfs format
        run(tool("lz4"), "-l", "-q", zeros, release / "initrd.lz4")
    elif fmt == "lzop":
        run(tool("lzop"), "-q", "-o", release / "rootfs.lzo", zeros)
    elif fmt == "uimage-zstd":
        packed = tmp_path / "zeros.zst"
        packed.write_bytes(zstandard.ZstdCompressor().compress(zeros.read_bytes()))
        argv = ["-A", "arm", "-O", "linux", "-T", "ramdisk", "-C", "zstd", "-a", "0", "-e", "0"]
        mkimage(*argv, "-d", packed, release / "uInitrd")
    else:  # an old binary cpio is not compressed: only the total cap can stop it
        (release / "initrd.cpio").write_bytes(
            subprocess.run(
                [tool("cpio"), "-o", "-H", "bin", "--quiet"],
                cwd=zeros.parent,
                input=b"zeros\n",
                capture_output=True,
                check=True,
            ).stdout
        )
    limits = ArchiveLimits(max_total_bytes=4 << 20, max_ratio=50.0, max_files=100)
    result = box.ingest(release, limits)
    assert not [f for f in result.files if f.size > 4 << 20 and "!/" in f.path]
    caps = {"bomb-total-size", "bomb-ratio", "bomb-file-count"}
    assert {s.reason for s in result.skipped} & caps, result.skipped
    assert sum(p.stat().st_size for p in box.work_files()) <= 4 << 20
