"""The test-only squashfs 3.1 and 2.1 writer checked by readers that are not assay: 7-Zip lists and
extracts what was put in, libmagic names the version and byte order, and squashfs-tools'
unsquashfs (which reads squashfs 3 with zlib blocks) extracts the same. Without this, the
variant tests would only prove that assay agrees with an image writer written for them."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Literal

import pytest
from squashfs23_writer import Compression, Device, Order, Symlink, Tree, build

PACKAGES = {"7zz": "7zip", "file": "file", "unsquashfs": "squashfs-tools"}
BLOCK = 4096
TOOL = bytes(range(256)) * 40 + b"tail"  # 10244 bytes: two whole blocks and a short one
TREE: Tree = {
    "etc": {"issue": b"router release 3.1\n", "empty": {}},
    "bin": {"busybox": TOOL, "sh": Symlink("busybox")},
    "README": b"top-level file\n",
}
ORDERS: tuple[Order, ...] = ("little", "big")
COMPRESSIONS: tuple[Compression, ...] = ("gzip", "lzma", "sqlzma", "none")
METHODS = {"gzip": "ZLIB", "lzma": "LZMA Spec", "sqlzma": "LZMA ZLIB", "none": "ZLIB"}
"""What 7-Zip calls each: "LZMA Spec" is its name for raw LZMA blocks without a header."""


def tool(name: str) -> str:
    """The path of ``name``; fails (never skips) when it is not installed."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if found is None:
        pytest.fail(f"{name} is not installed (Debian: apt-get install {PACKAGES[name]})")
    return found


def run(*argv: str | Path) -> str:
    done = subprocess.run([str(a) for a in argv], capture_output=True, text=True, check=True)
    return done.stdout


def listing(image: Path) -> dict[str, dict[str, str]]:
    """``7zz l -slt``: path -> its properties; the archive's own block under ``""``."""
    found: dict[str, dict[str, str]] = {}
    current: dict[str, str] = {}
    for line in run(tool("7zz"), "l", "-slt", image).splitlines():
        key, sep, value = line.partition(" = ")
        if not sep:
            continue
        if key == "Path":
            current = {}
            found["" if value == str(image) else value] = current
        current[key] = value
    return found


@pytest.mark.parametrize("version", [2, 3])
@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("compression", COMPRESSIONS)
def test_7zip_lists_and_extracts_what_was_put_in(
    tmp_path: Path, order: Order, compression: Compression, version: Literal[2, 3]
) -> None:
    image = tmp_path / "fs.sqfs"
    fs = build(TREE, order=order, compression=compression, block_size=BLOCK, version=version)
    image.write_bytes(fs)
    found = listing(image)
    archive = found.pop("")
    magic = "SquashFS-LZMA" if compression == "sqlzma" else "SquashFS"
    assert archive["File System"] == f"{magic} {version}.1"
    assert archive["Big-endian"] == ("+" if order == "big" else "-")
    assert archive["Method"] == METHODS[compression]
    assert archive["Cluster Size"] == str(BLOCK)
    modes = {path: props["Mode"][0] for path, props in found.items()}
    assert modes == {
        "etc": "d",
        "etc/empty": "d",
        "etc/issue": "-",
        "bin": "d",
        "bin/busybox": "-",
        "bin/sh": "l",
        "README": "-",
    }
    assert found["bin/busybox"]["Size"] == str(len(TOOL))
    if compression == "none":
        assert found["bin/busybox"]["Packed Size"] == str(len(TOOL))
    else:
        assert int(found["bin/busybox"]["Packed Size"]) < len(TOOL)
    out = tmp_path / "out"
    run(tool("7zz"), "x", "-y", f"-o{out}", image)
    assert (out / "bin/busybox").read_bytes() == TOOL
    assert (out / "etc/issue").read_bytes() == b"router release 3.1\n"
    assert (out / "README").read_bytes() == b"top-level file\n"
    assert os.readlink(out / "bin/sh") == "busybox"
    assert (out / "etc/empty").is_dir()


@pytest.mark.parametrize("version", [2, 3])
@pytest.mark.parametrize("order", ORDERS)
def test_libmagic_names_version_and_byte_order(
    tmp_path: Path, order: Order, version: Literal[2, 3]
) -> None:
    image = tmp_path / "fs.sqfs"
    image.write_bytes(build(TREE, order=order, compression="gzip", version=version))
    said = run(tool("file"), "-b", image)
    assert said.startswith(f"Squashfs filesystem, {order} endian, version {version}.1,"), said
    assert "8 inodes" in said  # 3 directories and the root, 3 files, 1 link


@pytest.mark.parametrize("version", [2, 3])
@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("compression", ["gzip", "none"])
def test_unsquashfs_reads_the_zlib_and_stored_images(
    tmp_path: Path, order: Order, compression: Compression, version: Literal[2, 3]
) -> None:
    image = tmp_path / "fs.sqfs"
    image.write_bytes(build(TREE, order=order, compression=compression, version=version))
    out = tmp_path / "out"
    run(tool("unsquashfs"), "-n", "-d", out, image)
    assert (out / "bin/busybox").read_bytes() == TOOL
    assert os.readlink(out / "bin/sh") == "busybox"
    assert (out / "etc/issue").read_bytes() == b"router release 3.1\n"


@pytest.mark.parametrize("version", [2, 3])
def test_device_nodes_are_listed_as_devices(tmp_path: Path, version: Literal[2, 3]) -> None:
    image = tmp_path / "fs.sqfs"
    tree: Tree = {"dev": {"console": Device("c", 5, 1), "mtdblock0": Device("b", 31, 0)}}
    image.write_bytes(build(tree, order="big", compression="lzma", version=version))
    found = listing(image)
    assert found["dev/console"]["Mode"] == "crw-------"
    assert found["dev/mtdblock0"]["Mode"] == "brw-------"
