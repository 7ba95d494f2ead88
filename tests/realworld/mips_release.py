"""A MIPS router release built the way a vendor's build system makes one, from real parts.

``build(root)`` writes three files below ``root``:

- ``fw-update.bin``, an update file behind a TP-Link style header (version 1, 512 bytes:
  vendor and firmware strings, hardware id, an MD5 of the image, the kernel's load address,
  entry point, offset and length, the root file system's offset and length). Behind it, a
  U-Boot legacy image made by ``mkimage -A mips -C lzma`` of the raw kernel of Debian's
  ``mips32r2el`` kernel package (the ``vmlinuz`` ELF of a MIPS kernel is a self-extracting
  loader whose ``.data`` holds the XZ-compressed kernel: that stream, decompressed, is what a
  router build compresses with LZMA, with the properties OpenWrt's ``lzma`` uses, ``lc=1 lp=2
  pb=2``, through ``xz --format=lzma``). The root file system follows at the next 64 KiB
  boundary: a squashfs (``mksquashfs -comp xz -b 256k``) of real mipsel binaries from Debian's
  packages (BusyBox, Dropbear, dnsmasq, hostapd, the C library, OpenSSL, zlib), BusyBox's
  applet links, a few of the kernel's own modules and a banner.
- ``config.jffs2``, a little-endian JFFS2 image (``mkfs.jffs2 -l -e 64KiB``, the byte order of
  the mipsel CPU) of the configuration partition: ``etc/shadow`` with a SHA-512 crypt hash
  of a random password (``openssl passwd -6``) and a private key for the web interface
  (``openssl genpkey``), both made fresh on every build.
- ``data.ubi``, a UBI image (``ubinize``, 2 KiB pages, 128 KiB blocks) of a NAND data
  partition: one UBIFS volume ``rootfs_data`` (``mkfs.ubifs``) holding the device's RSA key.

Everything the tests expect is returned in ``Release``: the packages (with their Debian
versions), the kernel's release string (from the metapackage's dependency in the package
index), every regular file and link of the root file system and the offsets they were put at.
"""

from __future__ import annotations

import hashlib
import lzma
import re
import shutil
import struct
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

_TOOLS = Path(__file__).resolve().parents[2] / "tools"
if str(_TOOLS) not in sys.path:
    sys.path.insert(0, str(_TOOLS))
import debian_binaries  # noqa: E402  (tools/ is a plain script folder)

SUITE = "bookworm"
ARCH = "mipsel"
FLAVOUR = "mips32r2el"
PACKAGES = (
    "busybox-static", "dropbear-bin", "dnsmasq-base", "hostapd", "libc6", "libssl3", "zlib1g",
)  # fmt: skip
"""The Debian binary packages whose files make the root file system."""

APPLETS = {
    "bin/sh": "busybox", "bin/ls": "busybox", "bin/mount": "busybox",
    "sbin/ifconfig": "../bin/busybox", "sbin/udhcpc": "../bin/busybox",
    "usr/bin/wget": "../../bin/busybox", "usr/sbin/telnetd": "../../bin/busybox",
}  # fmt: skip
"""BusyBox applet links, as a router's build installs them (relative, like OpenWrt's)."""

MODULES = ("net/netfilter/nf_conntrack.ko", "net/netfilter/nf_nat.ko", "net/bridge/bridge.ko")
"""Kernel modules shipped in the root file system (below ``lib/modules/<release>/kernel``)."""

_SKIP_PARTS = ("usr/share/", "/gconv/", "lib/systemd/")
"""Parts of the packages a router does not ship (documentation, charsets, systemd units)."""

_LOAD_ADDRESS = 0x80000000
_ALIGN = 0x10000
_TPLINK_HEADER = 0x200


class BuildError(Exception):
    """A part of the release could not be made (download or tool failure)."""


@dataclass(frozen=True)
class Release:
    """What ``build`` put in, for the tests to expect."""

    root: Path
    """The folder holding ``fw-update.bin`` and ``config.jffs2``."""
    packages: dict[str, debian_binaries.Binary]
    """Package name -> the unpacked Debian package its files come from."""
    kernel_release: str
    """The kernel's release string (``uname -r``), as the package index names it."""
    kernel_package: debian_binaries.Binary
    rootfs_offset: int
    """Where the squashfs starts in ``fw-update.bin``."""
    uimage_offset: int
    """Where the U-Boot image starts in ``fw-update.bin``."""
    files: dict[str, bytes]
    """Every regular file of the squashfs, by its path in it."""
    links: dict[str, str]
    """Every symbolic link of the squashfs: path -> target."""
    origin: dict[str, str]
    """Path in the squashfs -> the package it comes from (``kernel`` for the modules)."""
    config_files: dict[str, bytes]
    """Every regular file of ``config.jffs2``."""
    data_files: dict[str, bytes]
    """Every regular file of the UBIFS volume ``rootfs_data`` of ``data.ubi``."""
    password: str
    """The root password whose hash ``config.jffs2``'s ``etc/shadow`` holds."""


def _run(*argv: str | Path, input: bytes | None = None) -> bytes:
    """Run a build tool; its stdout, or BuildError with its stderr."""
    tool = shutil.which(str(argv[0])) or shutil.which(str(argv[0]), path="/usr/sbin:/sbin")
    if tool is None:
        raise BuildError(f"{argv[0]} is not installed (see tools/system-deps.sh)")
    done = subprocess.run(
        [tool, *map(str, argv[1:])], input=input, capture_output=True, check=False
    )
    if done.returncode != 0:
        raise BuildError(f"{argv[0]} failed: {done.stderr.decode(errors='replace')[-2000:]}")
    return done.stdout


def kernel_release() -> str:
    """The release the ``linux-image-<flavour>`` metapackage depends on, from its index."""
    depends = debian_binaries.dependency(f"linux-image-{FLAVOUR}", SUITE, ARCH)
    return depends.removeprefix("linux-image-")


def raw_kernel(vmlinuz: Path) -> bytes:
    """The kernel image inside a MIPS ``vmlinuz`` (the zboot loader's XZ stream, decompressed)."""
    data = vmlinuz.read_bytes()
    for magic in re.finditer(rb"\xfd7zXZ\x00", data):  # the loader's code holds the magic too
        decompressor = lzma.LZMADecompressor(format=lzma.FORMAT_XZ)
        try:
            kernel = decompressor.decompress(data[magic.start() :])
        except lzma.LZMAError:
            continue
        if decompressor.eof and b"Linux version " in kernel:
            return kernel
    raise BuildError(f"{vmlinuz} holds no XZ stream of a kernel image")


def tplink_header(image: bytes, kernel: tuple[int, int], rootfs: tuple[int, int]) -> bytes:
    """A TP-Link firmware header, version 1 (``struct fw_header`` of OpenWrt's mktplinkfw),
    for ``image`` (the whole file, header included, whose first 512 bytes are replaced)."""
    header = bytearray(_TPLINK_HEADER)
    struct.pack_into(">I", header, 0x00, 1)
    header[0x04:0x1C] = b"TP-LINK Technologies".ljust(24, b"\0")
    header[0x1C:0x40] = b"ver. 1.0".ljust(36, b"\0")
    struct.pack_into(">III", header, 0x40, 0x08410001, 1, 0)  # hw id, revision, region
    struct.pack_into(">I", header, 0x70, 0xFFFFFFFF)
    struct.pack_into(">IIIIIII", header, 0x74, _LOAD_ADDRESS, _LOAD_ADDRESS, len(image),
                     *kernel, *rootfs)  # fmt: skip
    struct.pack_into(">HHH", header, 0x98, 3, 16, 9)
    whole = bytes(header) + image[_TPLINK_HEADER:]
    header[0x4C:0x5C] = hashlib.md5(whole).digest()
    return bytes(header)


def _wanted(relative: str) -> bool:
    return not any(part in f"/{relative}" or relative.startswith(part) for part in _SKIP_PARTS)


def _rootfs(
    packages: dict[str, debian_binaries.Binary], kernel: debian_binaries.Binary, release: str,
    tree: Path,
) -> dict[str, str]:  # fmt: skip
    """Lay the root file system out in ``tree``; path -> origin of every file and link."""
    origin: dict[str, str] = {}
    for name, binary in packages.items():
        for path in sorted(binary.path.rglob("*")):
            relative = path.relative_to(binary.path).as_posix()
            if (path.is_dir() and not path.is_symlink()) or not _wanted(relative):
                continue
            target = tree / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            if path.is_symlink():
                target.symlink_to(path.readlink())
            else:
                shutil.copyfile(path, target)
            origin[relative] = name
    for link, points in APPLETS.items():
        (tree / link).parent.mkdir(parents=True, exist_ok=True)
        (tree / link).symlink_to(points)
        origin[link] = "busybox-static"
    for module in MODULES:
        relative = f"lib/modules/{release}/kernel/{module}"
        (tree / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(kernel.path / relative, tree / relative)
        origin[relative] = "kernel"
    (tree / "etc").mkdir(exist_ok=True)
    (tree / "etc/banner").write_text("Router firmware 3.16.9 (test build)\n")
    origin["etc/banner"] = "vendor"
    for empty in ("tmp", "proc", "sys", "dev", "overlay"):
        (tree / empty).mkdir(exist_ok=True)
    return origin


def _read_tree(tree: Path) -> tuple[dict[str, bytes], dict[str, str]]:
    files: dict[str, bytes] = {}
    links: dict[str, str] = {}
    for path in sorted(tree.rglob("*")):
        relative = path.relative_to(tree).as_posix()
        if path.is_symlink():
            links[relative] = str(path.readlink())
        elif path.is_file():
            files[relative] = path.read_bytes()
    return files, links


def _config(tree: Path, work: Path) -> str:
    """Write the configuration partition's files; returns the root password."""
    password = _run("openssl", "rand", "-hex", "12").decode().strip()
    hashed = _run("openssl", "passwd", "-6", "-stdin", input=password.encode()).decode().strip()
    (tree / "etc/config").mkdir(parents=True)
    (tree / "etc/shadow").write_text(
        f"root:{hashed}:19000:0:99999:7:::\ndaemon:*:0:0:99999:7:::\nnobody:*:0:0:99999:7:::\n"
    )
    key = work / "uhttpd.key"
    _run("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-out", key)  # fmt: skip
    shutil.copyfile(key, tree / "etc/uhttpd.key")
    (tree / "etc/config/network").write_text(
        "config interface 'lan'\n\toption proto 'static'\n\toption ipaddr '192.168.0.1'\n"
    )
    return password


def build(root: Path, work: Path) -> Release:
    """Build the release into ``root`` (``work`` is scratch space); see the module's doc."""
    try:
        release = kernel_release()
        kernel = debian_binaries.fetch(f"linux-image-{release}", SUITE, ARCH)
        packages = {name: debian_binaries.fetch(name, SUITE, ARCH) for name in PACKAGES}
    except debian_binaries.BinaryError as exc:
        raise BuildError(str(exc)) from exc
    root.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)

    # the kernel: raw image -> LZMA (OpenWrt's properties) -> U-Boot legacy image
    raw = work / "vmlinux.bin"
    raw.write_bytes(raw_kernel(kernel.path / "boot" / f"vmlinuz-{release}"))
    _run("xz", "--format=lzma", "--lzma1=preset=6,lc=1,lp=2,pb=2", "-k", "-f", raw)
    uimage = work / "uImage"
    _run("mkimage", "-A", "mips", "-O", "linux", "-T", "kernel", "-C", "lzma",
         "-a", f"{_LOAD_ADDRESS:#x}", "-e", f"{_LOAD_ADDRESS:#x}", "-n", f"Linux-{release}",
         "-d", work / "vmlinux.bin.lzma", uimage)  # fmt: skip

    # the root file system
    tree = work / "rootfs"
    tree.mkdir()
    origin = _rootfs(packages, kernel, release, tree)
    squashfs = work / "root.squashfs"
    _run("mksquashfs", tree, squashfs, "-comp", "xz", "-b", "256k", "-all-root", "-noappend",
         "-no-progress")  # fmt: skip
    files, links = _read_tree(tree)

    kernel_image = uimage.read_bytes()
    rootfs_offset = -(-(_TPLINK_HEADER + len(kernel_image)) // _ALIGN) * _ALIGN
    rootfs = squashfs.read_bytes()
    body = bytearray(rootfs_offset + len(rootfs))
    body[_TPLINK_HEADER : _TPLINK_HEADER + len(kernel_image)] = kernel_image
    body[rootfs_offset:] = rootfs
    body[:_TPLINK_HEADER] = tplink_header(
        bytes(body), (_TPLINK_HEADER, len(kernel_image)), (rootfs_offset, len(rootfs))
    )
    (root / "fw-update.bin").write_bytes(body)

    # the configuration partition
    config = work / "config"
    password = _config(config, work)
    _run("mkfs.jffs2", "-l", "-e", "0x10000", "-p", "-r", config, "-o", root / "config.jffs2")
    config_files, _ = _read_tree(config)

    # the NAND data partition: a UBI image of one UBIFS volume (2 KiB pages, 128 KiB blocks)
    data = work / "data"
    (data / "etc/ssl/private").mkdir(parents=True)
    _run("openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
         "-out", data / "etc/ssl/private/device.key")  # fmt: skip
    (data / "etc/wireless").write_text("config wifi-iface 'default'\n\toption ssid 'router'\n")
    _run("mkfs.ubifs", "-r", data, "-m", "2048", "-e", "126976", "-c", "64",
         "-o", work / "data.ubifs")  # fmt: skip
    (work / "ubi.ini").write_text(
        f"[data]\nmode=ubi\nimage={work / 'data.ubifs'}\nvol_id=0\nvol_type=dynamic\n"
        "vol_name=rootfs_data\nvol_flags=autoresize\n"
    )
    _run("ubinize", "-o", root / "data.ubi", "-m", "2048", "-p", "128KiB", "-s", "2048",
         work / "ubi.ini")  # fmt: skip
    data_files, _ = _read_tree(data)

    return Release(
        root=root,
        packages=packages,
        kernel_release=release,
        kernel_package=kernel,
        rootfs_offset=rootfs_offset,
        uimage_offset=_TPLINK_HEADER,
        files=files,
        links=links,
        origin=origin,
        config_files=config_files,
        data_files=data_files,
        password=password,
    )
