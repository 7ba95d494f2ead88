"""Real Linux kernels from Debian's linux-image packages of three architectures: a bzImage with
an LZ4 payload (amd64), a zImage with an XZ payload (armhf) and an uncompressed arm64 Image,
each also wrapped as U-Boot would boot it. The expected release is the one the package is
named after (``linux-image-cloud-amd64`` depends on ``linux-image-<release>``), read from
the package index the download used, never written here.
"""

from __future__ import annotations

import gzip
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assay.ingest import ArchiveLimits, ingest

_TOOLS = Path(__file__).resolve().parents[2] / "tools"
if str(_TOOLS) not in sys.path:
    sys.path.insert(0, str(_TOOLS))
import debian_binaries  # noqa: E402  (tools/ is a plain script folder)

pytestmark = [pytest.mark.realworld, pytest.mark.usefixtures("need_sandbox")]
SUITE = "bookworm"
FLAVOURS = {"amd64": "cloud-amd64", "armhf": "armmp", "arm64": "cloud-arm64"}
LIMITS = ArchiveLimits(max_total_bytes=1 << 30, max_depth=4)


def kernel(arch: str) -> tuple[Path, str]:
    """The vmlinuz of the newest kernel of the flavour, and its release from the index."""
    flavour = FLAVOURS[arch]
    try:
        # the metapackage names the versioned kernel package the mirror holds today
        depends = debian_binaries.dependency(f"linux-image-{flavour}", SUITE, arch)
        release = depends.removeprefix("linux-image-")
        binary = debian_binaries.fetch(f"linux-image-{release}", SUITE, arch)
    except debian_binaries.BinaryError as exc:
        pytest.fail(f"could not download the {flavour} kernel: {exc}")
    return binary.path / "boot" / f"vmlinuz-{release}", release


def uimage(payload: bytes, out: Path, compression: str) -> Path:
    """A U-Boot legacy kernel image of ``payload`` made by mkimage."""
    mkimage = shutil.which("mkimage")
    if mkimage is None:
        pytest.fail("mkimage is not installed (Debian: apt-get install u-boot-tools)")
    raw = out.with_suffix(".payload")
    raw.write_bytes(payload)
    argv = [mkimage, "-A", "arm", "-O", "linux", "-T", "kernel", "-C", compression]
    subprocess.run([*argv, "-a", "0", "-e", "0", "-d", str(raw), str(out)], check=True,
                   capture_output=True)  # fmt: skip
    raw.unlink()
    return out


@pytest.mark.parametrize("arch", sorted(FLAVOURS))
def test_kernel_version_and_built_in_initramfs(tmp_path: Path, arch: str) -> None:
    vmlinuz, release = kernel(arch)
    boot = tmp_path / "release/boot"
    boot.mkdir(parents=True)
    shutil.copy(vmlinuz, boot / vmlinuz.name)
    data = vmlinuz.read_bytes()
    wrapped = gzip.compress(data, 1) if arch == "arm64" else data  # an Image is booted gzipped
    uimage(wrapped, boot / "uImage", "gzip" if arch == "arm64" else "none")

    result = ingest(tmp_path / "release", tmp_path / "work", LIMITS)

    kernels = [c for c in result.containers if c.format == "linux-kernel"]
    assert {c.version for c in kernels} == {release}
    tops = {c.path.split("@")[0].split("!/")[0] for c in kernels}
    assert tops == {f"boot/{vmlinuz.name}", "boot/uImage"}
    # Debian builds its kernels with the default built-in initramfs: /dev, /dev/console, /root
    for top in tops:
        console = [
            s for s in result.skipped if s.path.startswith(top) and s.path.endswith(
                ":initramfs!/dev/console")
        ]  # fmt: skip
        assert [s.reason for s in console] == ["special-file"], top
    assert not [s for s in result.skipped if s.reason == "unsupported-container"]
