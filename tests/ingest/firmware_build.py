"""Builders of real firmware images with the real tools, for the carving tests.

Every image is made by the tool that makes it on a real build system (mksquashfs, mkfs.jffs2,
mkfs.ubifs and ubinize, genromfs, mkimage, 7z); a missing tool fails the test with the Debian
package to install (tools/system-deps.sh installs them all).
"""

from __future__ import annotations

import hashlib
import random
import shutil
import subprocess
from pathlib import Path

import pytest

PACKAGES = {
    "mksquashfs": "squashfs-tools",
    "mkfs.jffs2": "mtd-utils",
    "mkfs.ubifs": "mtd-utils",
    "ubinize": "mtd-utils",
    "genromfs": "genromfs",
    "mkimage": "u-boot-tools",
    "7z": "p7zip-full",
    "7zz": "7zip",
    "lzop": "lzop",
    "lz4": "lz4",
    "cpio": "cpio",
    "dtc": "device-tree-compiler",
}


def tool(name: str) -> str:
    """The path of ``name``; fails (never skips) when it is not installed."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if found is None:
        pytest.fail(f"{name} is not installed (Debian: apt-get install {PACKAGES[name]})")
    return found


def run(*argv: str | Path) -> None:
    """Run a builder; its output is kept out of the test log unless it fails."""
    subprocess.run([str(a) for a in argv], check=True, capture_output=True)


def tree(root: Path, tag: str) -> dict[str, str]:
    """A small root file system under ``root``; returns path -> sha256 of what was put in."""
    contents = {
        "etc/issue": f"{tag} release 1.0\n".encode(),
        "bin/tool": random.Random(tag).randbytes(3000) + tag.encode(),
        "usr/share/doc/readme": (f"{tag} " * 500).encode(),
    }
    for rel, data in contents.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return {rel: hashlib.sha256(data).hexdigest() for rel, data in contents.items()}


def squashfs(root: Path, out: Path, comp: str = "xz") -> Path:
    """A squashfs 4 image of ``root`` with the compressor ``comp``."""
    run(tool("mksquashfs"), root, out, "-comp", comp, "-noappend", "-quiet", "-no-progress")
    return out


def jffs2(root: Path, out: Path, big_endian: bool = False) -> Path:
    """A JFFS2 image of ``root`` (64 KiB erase blocks) in either byte order."""
    run(tool("mkfs.jffs2"), "-r", root, "-o", out, "-e", "0x10000", "-b" if big_endian else "-l")
    return out


def romfs(root: Path, out: Path) -> Path:
    """A romfs image of ``root``."""
    run(tool("genromfs"), "-d", root, "-f", out, "-V", "assay")
    return out


def ubi(root: Path, out: Path) -> Path:
    """A UBI image holding one UBIFS volume of ``root`` (128 KiB erase blocks, 2 KiB pages)."""
    fs = out.with_suffix(".ubifs")
    run(tool("mkfs.ubifs"), "-r", root, "-o", fs, "-m", "2048", "-e", "126976", "-c", "64")
    ini = out.with_suffix(".ini")
    ini.write_text(
        f"[rootfs]\nmode=ubi\nimage={fs}\nvol_id=0\nvol_type=dynamic\nvol_name=rootfs\n"
        "vol_flags=autoresize\n"
    )
    run(tool("ubinize"), "-o", out, "-m", "2048", "-p", "128KiB", "-s", "2048", ini)
    return out


def sevenzip(root: Path, out: Path) -> Path:
    """A 7z archive of ``root``'s contents."""
    subprocess.run(
        [tool("7z"), "a", "-bd", "-y", str(out), "."], cwd=root, check=True, capture_output=True
    )
    return out


def flash(parts: list[tuple[int, bytes]], size: int, filler: bytes = b"\xff") -> bytes:
    """A flash dump of ``size`` bytes with each part at its offset, erased (0xff) between."""
    dump = bytearray(filler * size)
    for offset, data in parts:
        dump[offset : offset + len(data)] = data
    return bytes(dump)


def mkimage(*argv: str | Path) -> None:
    """Run U-Boot's mkimage."""
    run(tool("mkimage"), *argv)


def fake_kernel(version: str) -> bytes:
    """Bytes that carry a Linux boot banner, compressible as code is (not a kernel: the banner
    is all that is read of it)."""
    banner = f"Linux version {version} (builder@host) (gcc 12) #1 SMP\n\0".encode()
    return bytes(range(256)) * 40 + banner + b"\x00\x00\xa0\xe1" * 5000
