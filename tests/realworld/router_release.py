"""A router release built from real parts, the way a vendor ships one to an evaluation lab.

``build(work, variant)`` makes ``work/release/``:

- ``firmware.bin``: a flash dump with a U-Boot legacy image (``mkimage``) of Debian's armhf
  kernel at 0x40000 and a squashfs (``mksquashfs -comp xz``) root file system at 0x800000,
  erased flash (0xff) between and after them;
- ``src/``: the vendor's source tree, the real upstream dropbear release that the firmware's
  SSH server is built from, and a few vendor files.

The root file system holds real armhf Debian binaries (static BusyBox, dropbear, dnsmasq,
wpa_supplicant, OpenSSL, libcurl, zlib, lighttpd, iptables, glibc), a few configuration
files, an SSH host key and an ``/etc/shadow`` with a SHA-512 crypt hash. ``variant`` 2 is the
next release: zlib taken from the following Debian suite, dnsmasq removed, hostapd added, a
changed configuration file. ``Built.packages`` records every Debian package put in (name,
version, path of each file), so expectations come from package metadata, never literals.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

_TOOLS = Path(__file__).resolve().parents[2] / "tools"
if str(_TOOLS) not in sys.path:
    sys.path.insert(0, str(_TOOLS))
import debian_binaries  # noqa: E402  (tools/ is a plain script folder)
import upstream  # noqa: E402

ARCH = "armhf"
SUITE = "bookworm"
NEXT_SUITE = "trixie"
KERNEL_FLAVOUR = "armmp"
MULTIARCH = "arm-linux-gnueabihf"
KERNEL_OFFSET = 0x40000
ROOTFS_OFFSET = 0x800000
ERASE_BLOCK = 0x10000

# (package, files inside the package -> path in the root file system); a file name ending in
# "*" takes the one file that matches.
_PARTS: dict[str, dict[str, str]] = {
    "busybox-static": {"bin/busybox": "bin/busybox"},
    "dropbear-bin": {"usr/sbin/dropbear": "usr/sbin/dropbear",
                     "usr/bin/dbclient": "usr/bin/dbclient"},
    "dnsmasq-base": {"usr/sbin/dnsmasq": "usr/sbin/dnsmasq"},
    "wpasupplicant": {"sbin/wpa_supplicant": "usr/sbin/wpa_supplicant"},
    "libssl3": {f"usr/lib/{MULTIARCH}/libssl.so.3": "usr/lib/libssl.so.3",
                f"usr/lib/{MULTIARCH}/libcrypto.so.3": "usr/lib/libcrypto.so.3"},
    "libcurl4": {f"usr/lib/{MULTIARCH}/libcurl.so.4.*": "usr/lib/libcurl.so.4"},
    "zlib1g": {f"lib/{MULTIARCH}/libz.so.1.*": "lib/libz.so.1"},
    "lighttpd": {"usr/sbin/lighttpd": "usr/sbin/lighttpd"},
    "iptables": {"usr/sbin/xtables-legacy-multi": "usr/sbin/xtables-legacy-multi"},
    "libxtables12": {f"usr/lib/{MULTIARCH}/libxtables.so.12.*": "usr/lib/libxtables.so.12"},
    "libc6": {f"lib/{MULTIARCH}/libc.so.6": "lib/libc.so.6",
              "lib/ld-linux-armhf.so.3": "lib/ld-linux-armhf.so.3"},
    "hostapd": {"usr/sbin/hostapd": "usr/sbin/hostapd"},
}  # fmt: skip

_FIRST = tuple(p for p in _PARTS if p != "hostapd")
_SECOND = tuple(p for p in _PARTS if p != "dnsmasq-base")

_LINKS = {
    "bin/sh": "busybox",
    "bin/ls": "busybox",
    "sbin/init": "../bin/busybox",
    "usr/sbin/iptables": "xtables-legacy-multi",
    "usr/lib/libcurl.so": "libcurl.so.4",
}

_SHADOW = (
    # openssl passwd -6 -salt Qx1d9sLk admin
    "root:$6$Qx1d9sLk$h8Jp0luOIaRDYecBNnjblB0lBDABr3NHA60SqePZYgouFHjJEtcCvtVfvomqgrb5kUr.GC3U7"
    "ILXAa8jIClko.:19700:0:99999:7:::\n"
    "daemon:*:19700:0:99999:7:::\nnobody:*:19700:0:99999:7:::\n"
)
_CONFIGS = {
    "etc/passwd": "root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1::/:/bin/false\n"
    "nobody:x:65534:65534::/:/bin/false\n",
    "etc/shadow": _SHADOW,
    "etc/dnsmasq.conf": "interface=br-lan\ndhcp-range=192.168.1.100,192.168.1.249,12h\n"
    "server=8.8.8.8\n",
    "etc/lighttpd/lighttpd.conf": 'server.document-root = "/www"\nserver.port = 80\n'
    'server.bind = "0.0.0.0"\n',
    "etc/wpa_supplicant.conf": 'network={\n  ssid="uplink"\n  psk="router-default-psk"\n}\n',
    "etc/banner": "Gateway firmware\n",
    "etc/inittab": "::sysinit:/etc/init.d/rcS\n::respawn:/usr/sbin/dropbear -F -R\n",
}


@dataclass(frozen=True)
class Part:
    """One Debian package put into the root file system."""

    package: str
    version: str
    """Full Debian version from the package index."""
    suite: str
    files: tuple[str, ...]
    """Paths in the root file system (no leading slash)."""


@dataclass(frozen=True)
class Built:
    """A release directory and what was put into it."""

    release: Path
    firmware: Path
    parts: tuple[Part, ...]
    kernel_package: str
    """``linux-image-<release>``: the kernel's release string is the package's suffix."""
    kernel_version: str
    """Full Debian version of the kernel package (upstream version before its revision)."""
    source: upstream.Release
    """The upstream release copied into ``src/``."""

    def part(self, package: str) -> Part:
        """The part built from ``package``."""
        return next(p for p in self.parts if p.package == package)

    @property
    def rootfs(self) -> Path:
        """The root file system tree the squashfs image was made from."""
        return self.release.parent / "rootfs"

    @property
    def uimage(self) -> Path:
        """The U-Boot image of the kernel written at ``KERNEL_OFFSET``."""
        return self.release.parent / "uImage"

    @property
    def squashfs(self) -> Path:
        """The squashfs image written at ``ROOTFS_OFFSET``."""
        return self.release.parent / "rootfs.sqfs"


def _tool(name: str, package: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if found is None:
        pytest.fail(f"{name} is not installed (Debian: apt-get install {package})")
    return found


def _fetch(package: str, suite: str) -> debian_binaries.Binary:
    try:
        return debian_binaries.fetch(package, suite, ARCH)
    except debian_binaries.BinaryError as exc:
        pytest.fail(f"could not download {package}/{suite}/{ARCH}: {exc}")


def kernel() -> tuple[debian_binaries.Binary, str]:
    """The kernel package the ``linux-image-armmp`` metapackage depends on, and its release."""
    try:
        depends = debian_binaries.dependency(f"linux-image-{KERNEL_FLAVOUR}", SUITE, ARCH)
    except debian_binaries.BinaryError as exc:
        pytest.fail(f"no kernel named by linux-image-{KERNEL_FLAVOUR}/{SUITE}/{ARCH}: {exc}")
    release = depends.removeprefix("linux-image-")
    return _fetch(depends, SUITE), release


def _put(binary: debian_binaries.Binary, inside: str, root: Path, dest: str) -> None:
    if inside.endswith("*"):
        # merged /usr (trixie) moved lib/ to usr/lib/: match the name in either
        matches = sorted(binary.path.glob(inside)) or sorted(binary.path.glob(f"usr/{inside}"))
        assert len(matches) == 1, f"{binary.package}: {inside} matches {matches}"
        src = matches[0]
    else:
        src = binary.path / inside
    target = root / dest
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, target)
    target.chmod(0o755)


def _rootfs(root: Path, variant: int) -> tuple[Part, ...]:
    parts = []
    for package in _FIRST if variant == 1 else _SECOND:
        suite = NEXT_SUITE if variant == 2 and package == "zlib1g" else SUITE
        binary = _fetch(package, suite)
        for inside, dest in _PARTS[package].items():
            _put(binary, inside, root, dest)
        parts.append(Part(package, binary.version, suite, tuple(_PARTS[package].values())))
    for link, target in _LINKS.items():
        # the directory first: "sbin/../bin/busybox" does not resolve while sbin/ is missing
        (root / link).parent.mkdir(parents=True, exist_ok=True)
        assert (root / link).parent.joinpath(target).exists(), f"{link} -> {target} dangles"
        (root / link).symlink_to(target)
    configs = dict(_CONFIGS)
    if variant == 2:
        configs["etc/lighttpd/lighttpd.conf"] = configs["etc/lighttpd/lighttpd.conf"].replace(
            "0.0.0.0", "192.168.1.1"
        )
        del configs["etc/dnsmasq.conf"]
        configs["etc/hostapd.conf"] = "interface=wlan0\nssid=Gateway\nwpa_passphrase=changeme\n"
    for rel, text in configs.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    key = root / "etc/dropbear/dropbear_ed25519_host_key"
    key.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [_tool("ssh-keygen", "openssh-client"), "-q", "-t", "ed25519", "-N", "", "-C",
         "root@gateway", "-f", str(key)], check=True, capture_output=True,
    )  # fmt: skip
    key.with_suffix(".pub").unlink()
    return tuple(parts)


def _vendor_source(src: Path, release: upstream.Release) -> None:
    shutil.copytree(release.path, src / f"dropbear-{release.version}", symlinks=True)
    (src / "vendor").mkdir()
    (src / "vendor" / "Makefile").write_text(
        "all:\n\t$(MAKE) -C ../dropbear-$(DROPBEAR_VERSION)\n"
        "\tmksquashfs rootfs rootfs.sqfs -comp xz\n"
    )
    (src / "vendor" / "led.c").write_text(
        "/* Front-panel LED control. */\n#include <stdio.h>\n#include <string.h>\n\n"
        "int led_name(char *out, const char *name)\n{\n    strcpy(out, name);\n"
        '    return printf("led %s\\n", out);\n}\n'
    )


def build(work: Path, variant: int = 1) -> Built:
    """Build the release ``variant`` (1 or 2) below ``work``; see the module docstring."""
    work.mkdir(parents=True, exist_ok=True)
    root = work / "rootfs"
    root.mkdir()
    parts = _rootfs(root, variant)
    sqfs = work / "rootfs.sqfs"
    subprocess.run(
        [_tool("mksquashfs", "squashfs-tools"), str(root), str(sqfs), "-comp", "xz", "-noappend",
         "-quiet", "-no-progress", "-all-root"], check=True, capture_output=True,
    )  # fmt: skip
    kbinary, krelease = kernel()
    uimage = work / "uImage"
    subprocess.run(
        [_tool("mkimage", "u-boot-tools"), "-A", "arm", "-O", "linux", "-T", "kernel", "-C",
         "none", "-a", "0x8000", "-e", "0x8000", "-n", f"Linux-{krelease}", "-d",
         str(kbinary.path / "boot" / f"vmlinuz-{krelease}"), str(uimage)],
        check=True, capture_output=True,
    )  # fmt: skip
    kernel_bytes = uimage.read_bytes()
    rootfs_bytes = sqfs.read_bytes()
    assert KERNEL_OFFSET + len(kernel_bytes) <= ROOTFS_OFFSET, "the kernel overlaps the rootfs"
    size = ROOTFS_OFFSET + len(rootfs_bytes) + 2 * ERASE_BLOCK
    size -= size % ERASE_BLOCK
    dump = bytearray(b"\xff" * size)
    dump[KERNEL_OFFSET : KERNEL_OFFSET + len(kernel_bytes)] = kernel_bytes
    dump[ROOTFS_OFFSET : ROOTFS_OFFSET + len(rootfs_bytes)] = rootfs_bytes
    release = work / "release"
    release.mkdir()
    firmware = release / "firmware.bin"
    firmware.write_bytes(bytes(dump))
    releases = upstream.fetch(["dropbear/bookworm"])
    if not releases:
        pytest.fail("could not download upstream release dropbear/bookworm (see stderr)")
    _vendor_source(release / "src", releases[0])
    return Built(release, firmware, parts, f"linux-image-{krelease}", kbinary.version, releases[0])
