"""Firmware carving and the formats unblob opens, on images built with the real tools."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import itertools
import lzma
import subprocess
import tarfile
import zipfile
from pathlib import Path

import lz4.frame
import pytest
import zstandard
from firmware_build import (
    fake_kernel,
    flash,
    jffs2,
    mkimage,
    romfs,
    run,
    sevenzip,
    squashfs,
    tool,
    tree,
    ubi,
)
from ingest_support import sandbox, written

from assay.ingest import ArchiveLimits, IngestResult

LIMITS = ArchiveLimits(max_total_bytes=256 << 20, max_files=10_000, max_depth=4)


pytestmark = pytest.mark.usefixtures("need_sandbox")


def contents(result: IngestResult, prefix: str) -> dict[str, str]:
    """path -> sha256 of the files below ``prefix``, read back from what ingest wrote."""
    return {
        path: hashlib.sha256(data).hexdigest() for path, data in written(result, prefix).items()
    }


def test_flash_dump_is_carved_each_image_named_by_offset_and_type(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    made = {}
    for tag in ("sq", "jf", "ro", "sz"):
        made[tag] = tree(tmp_path / tag, tag)
    images = {
        0x40000: squashfs(tmp_path / "sq", tmp_path / "sq.img").read_bytes(),
        0x100000: jffs2(tmp_path / "jf", tmp_path / "jf.img").read_bytes(),
        0x200000: romfs(tmp_path / "ro", tmp_path / "ro.img").read_bytes(),
        0x300000: sevenzip(tmp_path / "sz", tmp_path / "sz.7z").read_bytes(),
    }
    boot = b"U-Boot 2020.01 (Jan 01 2020)\0" + bytes(range(256)) * 64
    dump = flash([(0, boot), *images.items()], 4 << 20)
    (box.inputs / "fw.bin").write_bytes(dump)

    result = box.ingest(box.inputs / "fw.bin", LIMITS)

    assert contents(result, "fw.bin@0x40000:squashfs!/") == made["sq"]
    assert contents(result, "fw.bin@0x100000:jffs2!/") == made["jf"]
    assert contents(result, "fw.bin@0x200000:romfs!/") == made["ro"]
    assert contents(result, "fw.bin@0x300000:7z!/") == made["sz"]
    # every byte of the dump is in one region, images or unknown, in order and without a gap
    regions = sorted(
        (c for c in result.containers if c.parent == "" and c.offset is not None),
        key=lambda c: c.offset or 0,
    )
    assert regions[0].offset == 0
    ends = [(c.offset or 0) + c.size for c in regions]
    assert [c.offset for c in regions[1:]] == ends[:-1]
    assert ends[-1] == len(dump)
    assert {c.offset: c.format for c in regions if c.format not in ("unknown", "padding")} == {
        0x40000: "squashfs",
        0x100000: "jffs2",
        0x200000: "romfs",
        0x300000: "7z",
    }
    # the boot loader's bytes stay in the inventory as an unknown region
    (boot_file,) = [f for f in result.files if f.path == "fw.bin@0x0:unknown"]
    assert Path(boot_file.disk_path).read_bytes().startswith(boot)
    chain = [c.path for c in result.chain("fw.bin@0x100000:jffs2!/etc/issue")]
    assert chain == ["", "fw.bin@0x100000:jffs2"]


@pytest.mark.parametrize("comp", ["gzip", "lzo", "lz4", "xz", "zstd", "lzma"])
def test_squashfs_with_each_compressor_inside_a_dump(tmp_path: Path, comp: str) -> None:
    box = sandbox(tmp_path)
    made = tree(tmp_path / "root", comp)
    image = squashfs(tmp_path / "root", tmp_path / "sq.img", comp).read_bytes()
    (box.inputs / "mtd.bin").write_bytes(flash([(0x10000, image)], 0x10000 + len(image) + 4096))
    result = box.ingest(box.inputs / "mtd.bin", LIMITS)
    assert contents(result, "mtd.bin@0x10000:squashfs!/") == made


@pytest.mark.parametrize(
    ("name", "build"),
    [
        ("rootfs.jffs2", lambda root, out: jffs2(root, out)),
        ("rootfs-be.jffs2", lambda root, out: jffs2(root, out, big_endian=True)),
        ("rootfs.romfs", romfs),
        ("update.7z", sevenzip),
    ],
)
def test_whole_image_inside_a_release_is_opened_as_an_archive(
    tmp_path: Path, name: str, build: object
) -> None:
    box = sandbox(tmp_path)
    made = tree(tmp_path / "root", "v1")
    release = box.inputs / "release"
    release.mkdir()
    build(tmp_path / "root", release / name)  # type: ignore[operator]
    result = box.ingest(release, LIMITS)
    assert contents(result, f"{name}!/") == made
    assert [c.format for c in result.chain(f"{name}!/etc/issue")] != []
    assert not [s for s in result.skipped if s.path == name]


def test_ubi_volume_and_its_ubifs_are_opened(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    made = tree(tmp_path / "root", "ubi")
    ubi(tmp_path / "root", box.inputs / "rootfs.ubi")
    result = box.ingest(box.inputs / "rootfs.ubi", LIMITS)
    (volume,) = [f.path for f in result.files if f.path.endswith("rootfs.ubifs")]
    assert contents(result, f"{volume}!/") == made
    assert [c.format for c in result.chain(f"{volume}!/etc/issue")] == ["ubi", "ubifs"]


@pytest.mark.parametrize("comp", ["none", "gzip", "bzip2", "lzma", "lz4", "zstd"])
def test_uimage_kernel_of_every_compression_mkimage_writes(tmp_path: Path, comp: str) -> None:
    box = sandbox(tmp_path)
    payload = fake_kernel("5.10.201-uimage-" + comp)
    raw = tmp_path / "kernel"
    compress = {
        "none": lambda data: data,
        "gzip": gzip.compress,
        "bzip2": bz2.compress,
        "lzma": lambda data: lzma.compress(data, format=lzma.FORMAT_ALONE),
        "lz4": lz4.frame.compress,
        "zstd": lambda data: zstandard.ZstdCompressor().compress(data),
    }[comp]
    raw.write_bytes(compress(payload))
    release = box.inputs / "release"
    release.mkdir()
    argv = ["-A", "arm", "-O", "linux", "-T", "kernel", "-C", comp, "-a", "0", "-e", "0"]
    mkimage(*argv, "-d", raw, release / "uImage")
    result = box.ingest(release, LIMITS)
    (kernel,) = [c for c in result.containers if c.format == "linux-kernel"]
    assert (kernel.path, kernel.version) == ("uImage!/kernel", "5.10.201-uimage-" + comp)
    (member,) = [f for f in result.files if f.path == "uImage!/kernel"]
    assert Path(member.disk_path).read_bytes() == payload


def test_fit_image_made_by_mkimage_auto_is_opened_node_by_node(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    payload = fake_kernel("6.6.0-fit")
    (tmp_path / "k.gz").write_bytes(gzip.compress(payload))
    dtb = tmp_path / "board.dtb"
    run(tool("dtc"), "-O", "dtb", "-o", dtb, _dts(tmp_path))
    release = box.inputs / "release"
    release.mkdir()
    argv = ["-f", "auto", "-A", "arm", "-O", "linux", "-T", "kernel", "-C", "gzip"]
    mkimage(*argv, "-a", "0", "-e", "0", "-d", tmp_path / "k.gz", "-b", dtb, release / "fit.itb")
    result = box.ingest(release, LIMITS)
    kernels = [c for c in result.containers if c.format == "linux-kernel"]
    assert [(c.path, c.version) for c in kernels] == [("fit.itb!/images/kernel-1", "6.6.0-fit")]
    files = {f.path: Path(f.disk_path).read_bytes() for f in result.files}
    assert files["fit.itb!/images/kernel-1"] == payload
    assert files["fit.itb!/images/fdt-1"] == dtb.read_bytes()
    assert [s for s in result.skipped if s.path.startswith("fit.itb")] == []


def _dts(tmp_path: Path) -> Path:
    source = tmp_path / "board.dts"
    source.write_text('/dts-v1/;\n/ { model = "assay test board"; };\n')
    return source


def test_update_file_inside_a_release_archive_is_carved(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    made = tree(tmp_path / "root", "upd")
    image = squashfs(tmp_path / "root", tmp_path / "sq.img").read_bytes()
    header = b"VENDOR-UPDATE v2\0" + bytes(range(256)) * 300  # no format unblob knows
    update = flash([(0, header), (0x20000, image)], 0x20000 + len(image))
    noise = bytes(range(256)) * 1024  # a binary file of no format, without image magics
    with zipfile.ZipFile(box.inputs / "release.zip", "w") as release:
        release.writestr("firmware/update.bin", update)
        release.writestr("firmware/calibration.dat", noise)
    result = box.ingest(box.inputs / "release.zip", LIMITS)
    (region,) = [c for c in result.containers if c.format == "squashfs" and c.offset is not None]
    assert (region.path, region.parent) == ("firmware/update.bin@0x20000:squashfs",
                                            "firmware/update.bin")  # fmt: skip
    assert contents(result, "firmware/update.bin@0x20000:squashfs!/") == made
    assert not [c for c in result.containers if "calibration" in c.path]
    assert not [s for s in result.skipped if "calibration" in s.path]


def tplink_header(size: int, kernel_len: int, rootfs_offset: int) -> bytes:
    """A TP-Link firmware header (version 1, as tplink-safeloader's predecessor writes it): the
    version word, the vendor and firmware strings, the hardware id, lengths and offsets."""
    header = bytearray(0x200)
    header[0:4] = (1).to_bytes(4, "big")
    header[4:28] = b"TP-LINK Technologies".ljust(24, b"\0")
    header[28:64] = b"ver. 1.0".ljust(36, b"\0")
    header[0x40:0x44] = (0x08410001).to_bytes(4, "big")  # hardware id
    header[0x7C:0x80] = size.to_bytes(4, "big")
    header[0x84:0x88] = (0x200).to_bytes(4, "big")  # kernel offset
    header[0x88:0x8C] = kernel_len.to_bytes(4, "big")
    header[0x8C:0x90] = rootfs_offset.to_bytes(4, "big")
    return bytes(header)


def test_tplink_update_file_is_carved_behind_its_vendor_header(tmp_path: Path) -> None:
    # unblob has no TP-Link handler: the header stays an unknown region, and the LZMA kernel
    # and the squashfs behind it are found by carving
    box = sandbox(tmp_path)
    made = tree(tmp_path / "root", "tplink")
    rootfs = squashfs(tmp_path / "root", tmp_path / "sq.img").read_bytes()
    kernel = lzma.compress(fake_kernel("4.14.241-tplink"), format=lzma.FORMAT_ALONE)
    offset = 0x100000
    size = offset + len(rootfs)
    update = flash(
        [(0, tplink_header(size, len(kernel), offset)), (0x200, kernel), (offset, rootfs)], size
    )
    (box.inputs / "wr841nv14_en_up.bin").write_bytes(update)
    result = box.ingest(box.inputs / "wr841nv14_en_up.bin", LIMITS)
    assert contents(result, f"wr841nv14_en_up.bin@{offset:#x}:squashfs!/") == made
    assert [c.path for c in result.containers if c.format == "lzma"] == [
        "wr841nv14_en_up.bin@0x200:lzma"
    ]
    assert [c.version for c in result.containers if c.format == "linux-kernel"] == [
        "4.14.241-tplink"
    ]
    (header,) = [f for f in result.files if f.path == "wr841nv14_en_up.bin@0x0:unknown"]
    assert Path(header.disk_path).read_bytes()[4:24] == b"TP-LINK Technologies"


@pytest.mark.parametrize("damaged", [False, True])
def test_uimage_behind_a_vendor_header_is_one_region_read_by_assay(
    tmp_path: Path, damaged: bool
) -> None:
    # unblob has no U-Boot handler: it claimed the LZMA payload behind the 64-byte header as a
    # stream (upd.bin@0x240:lzma) and left the header in the unknown bytes before it; the image
    # is one region, opened by ingest's own reader (name, data CRC); a header whose CRC does
    # not match is no image
    box = sandbox(tmp_path)
    made = tree(tmp_path / "root", "uimg")
    rootfs = squashfs(tmp_path / "root", tmp_path / "sq.img").read_bytes()
    payload = fake_kernel("6.1.0-50-mips32r2el")
    (tmp_path / "k.lzma").write_bytes(lzma.compress(payload, format=lzma.FORMAT_ALONE))
    argv = ["-A", "mips", "-O", "linux", "-T", "kernel", "-C", "lzma", "-a", "0x80000000"]
    mkimage(*argv, "-e", "0x80000000", "-n", "Linux-6.1", "-d", tmp_path / "k.lzma",
            tmp_path / "uImage")  # fmt: skip
    image = bytearray((tmp_path / "uImage").read_bytes())
    if damaged:
        image[0x20] ^= 1  # a byte of the load address: the header CRC no longer matches
    offset = 0x10000 * (1 + len(image) // 0x10000)
    size = offset + len(rootfs)
    update = flash(
        [(0, tplink_header(size, len(image), offset)), (0x200, bytes(image)), (offset, rootfs)],
        size,
    )
    (box.inputs / "upd.bin").write_bytes(update)
    result = box.ingest(box.inputs / "upd.bin", LIMITS)
    assert contents(result, f"upd.bin@{offset:#x}:squashfs!/") == made
    regions = sorted((c.offset, c.path, c.size) for c in result.containers
                     if c.offset is not None and "!/" not in c.path)  # fmt: skip
    files = {f.path: Path(f.disk_path).read_bytes() for f in result.files}
    (kernel,) = [c for c in result.containers if c.format == "linux-kernel"]
    assert kernel.version == "6.1.0-50-mips32r2el"
    if damaged:
        assert (0x240, "upd.bin@0x240:lzma", len(image) - 64) in regions
        assert kernel.path == "upd.bin@0x240:lzma!/lzma.uncompressed"
        return
    assert regions[:2] == [(0, "upd.bin@0x0:unknown", 0x200),
                           (0x200, "upd.bin@0x200:uimage", len(image))]  # fmt: skip
    assert not [c for c in result.containers if c.format == "lzma"]
    assert kernel.path == "upd.bin@0x200:uimage!/kernel"
    assert files["upd.bin@0x200:uimage!/kernel"] == payload
    assert files["upd.bin@0x200:uimage"] == bytes(image)
    assert files["upd.bin@0x0:unknown"] == update[:0x200]
    assert [s for s in result.skipped if "uimage" in s.path] == []


def test_a_kernel_read_by_ingest_is_not_carved_again_for_its_own_streams(tmp_path: Path) -> None:
    # a decompressed kernel holds the xz magic (its own decompressor, a compressed blob):
    # ingest reads its version and built-in initramfs itself, and does not run unblob on it
    # for that (on a real 20 MB armhf kernel: 11 s, the vDSO carved as a program, the
    # initramfs twice); an image inside it is still carved
    box = sandbox(tmp_path)
    blob = lzma.compress(bytes(range(256)) * 300, format=lzma.FORMAT_XZ)
    tree(tmp_path / "root", "inner")
    rootfs = squashfs(tmp_path / "root", tmp_path / "sq.img")
    kernels = {
        "plain": fake_kernel("5.15.0-plain") + blob + b"\0" * (64 << 10),
        "holding": fake_kernel("5.15.0-holding") + b"\0" * (64 << 10) + rootfs.read_bytes(),
    }
    release = box.inputs / "release"
    release.mkdir()
    for name, kernel in kernels.items():
        (release / f"{name}.bin").write_bytes(
            b"VENDORHDR" + bytes(range(256)) * 255 + b"\xff" * 1271 + lzma.compress(kernel)
        )
    result = box.ingest(release, LIMITS)
    found = {c.version: c.path for c in result.containers if c.format == "linux-kernel"}
    assert set(found) == {"5.15.0-plain", "5.15.0-holding"}
    inside = {v: [c.format for c in result.containers if c.parent == p] for v, p in found.items()}
    assert inside["5.15.0-plain"] == []
    assert "squashfs" in inside["5.15.0-holding"]


@pytest.mark.parametrize("at", [0, 0x20000], ids=["first", "inside"])
def test_uimage_kernel_in_a_flash_dump_is_a_region_and_the_rest_is_read(
    tmp_path: Path, at: int
) -> None:
    """A dump with the kernel as a uImage (at its start, as most layouts have it, or further
    in) and a squashfs after it: the uImage is a region of its own, opened like any uImage,
    and the root file system after it is read too (read as one uImage, it was lost without a
    record). A uImage padded with erased flash to its partition stays one image."""
    box = sandbox(tmp_path)
    payload = gzip.compress(fake_kernel("6.1.0-dump"), 1)
    (tmp_path / "k.gz").write_bytes(payload)
    argv = ["-A", "arm", "-O", "linux", "-T", "kernel", "-C", "gzip", "-a", "0", "-e", "0"]
    mkimage(*argv, "-d", tmp_path / "k.gz", tmp_path / "uImage")
    kernel = (tmp_path / "uImage").read_bytes()
    made = tree(tmp_path / "root", "dump")
    rootfs = squashfs(tmp_path / "root", tmp_path / "sq.img").read_bytes()
    release = box.inputs / "release"
    release.mkdir()
    (release / "fw.bin").write_bytes(flash([(at, kernel), (0x40000, rootfs)], 0x60000))
    (release / "padded.uimg").write_bytes(kernel + b"\xff" * 4096)
    result = box.ingest(release, LIMITS)
    containers = {c.path: c for c in result.containers}
    region = containers[f"fw.bin@{at:#x}:uimage"]
    assert (region.parent, region.offset, region.size) == ("fw.bin", at, len(kernel))
    assert set(contents(result, "fw.bin@0x40000:squashfs!/")) == set(made)
    kernels = {c.path: c.version for c in containers.values() if c.format == "linux-kernel"}
    assert kernels == {f"fw.bin@{at:#x}:uimage!/kernel": "6.1.0-dump",
                       "padded.uimg!/kernel": "6.1.0-dump"}  # fmt: skip
    # every byte of the dump is in one region, nothing unblob found inside the kernel is kept
    regions = sorted((c for c in containers.values() if c.parent == "fw.bin"),
                     key=lambda c: c.offset or 0)  # fmt: skip
    assert regions[0].offset == 0
    assert all(a.offset + a.size == b.offset for a, b in itertools.pairwise(regions))
    assert regions[-1].offset + regions[-1].size == 0x60000
    assert {c.format for c in regions} <= {"uimage", "unknown", "padding", "squashfs"}
    assert [s for s in result.skipped if s.path.startswith("fw.bin")] == []


def test_built_in_initramfs_is_read_at_its_kernels_depth(tmp_path: Path) -> None:
    """A kernel's built-in initramfs is part of the kernel image, not an archive inside it: at
    the default depth (3) it is read even when the kernel is itself three levels down (a tar
    holding a flash dump whose uImage holds the kernel), as on Debian's armhf kernel in a
    router's dump (dump, uImage, zImage)."""
    box = sandbox(tmp_path)
    root = tmp_path / "ramfs"
    (root / "sbin").mkdir(parents=True)
    (root / "sbin" / "init").write_text("#!/bin/sh\n")
    listing = subprocess.run(["find", "."], cwd=root, capture_output=True, check=True).stdout
    ramfs = subprocess.run([tool("cpio"), "-o", "-H", "newc", "--quiet"], cwd=root,
                           input=listing, capture_output=True, check=True).stdout  # fmt: skip
    (tmp_path / "k.gz").write_bytes(gzip.compress(fake_kernel("6.1.0-deep") + ramfs, 1))
    argv = ["-A", "arm", "-O", "linux", "-T", "kernel", "-C", "gzip", "-a", "0", "-e", "0"]
    mkimage(*argv, "-d", tmp_path / "k.gz", tmp_path / "uImage")
    tree(tmp_path / "root", "deep")
    rootfs = squashfs(tmp_path / "root", tmp_path / "sq.img").read_bytes()
    dump = tmp_path / "fw.bin"
    dump.write_bytes(flash([(0, (tmp_path / "uImage").read_bytes()), (0x40000, rootfs)], 0x60000))
    release = box.inputs / "release"
    release.mkdir()
    with tarfile.open(release / "update.tar", "w") as tar:
        tar.add(dump, "fw.bin")
    result = box.ingest(release, ArchiveLimits(max_total_bytes=256 << 20, max_files=10_000))
    assert [s for s in result.skipped if s.reason == "nesting-depth"] == []
    inits = [f.path for f in result.files if f.path.endswith(":initramfs!/sbin/init")]
    assert len(inits) == 1 and inits[0].startswith("update.tar!/fw.bin@0x0:uimage!/kernel@")
