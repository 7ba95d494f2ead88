"""A compressed built-in initramfs found in a real kernel.

Debian's kernels carry the default built-in initramfs uncompressed (``/dev``, ``/dev/console``,
``/root``), and no Debian kernel has a compressed one, so none of them can show the compressed
case as built. This test is honest about that: it takes Debian's real arm64 kernel ``Image``
(a real decompressed kernel payload, booted as is), finds the span of its built-in initramfs
with assay's plain-cpio reader, and writes over that span, at the same offset and within the
same size, a real cpio archive built by ``cpio`` and compressed by each compressor the kernel
offers for ``CONFIG_INITRAMFS_COMPRESSION_*`` (gzip, bzip2, lzma, xz, lzo by ``lzop``, lz4
legacy by ``lz4``, zstd), the rest of the span zeroed as the linker pads it. What the rest of
the kernel holds (its own gzip-compressed config, the compressors' magic constants in its
decompressors) is what the finder must see past. Expected contents are the files put in; the
expected release is read from the package index, as in ``test_kernels_realworld``.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import random
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import zstandard
from test_kernels_realworld import kernel

from assay.ingest import ArchiveLimits, ingest
from assay.ingest import kernel as kernel_facts
from assay.model import FileKind

pytestmark = [pytest.mark.realworld, pytest.mark.usefixtures("need_sandbox")]
LIMITS = ArchiveLimits(max_total_bytes=1 << 30, max_depth=4)


def _lz4_legacy(data: bytes) -> bytes:
    lz4 = shutil.which("lz4")
    if lz4 is None:
        pytest.fail("lz4 is not installed (Debian: apt-get install lz4)")
    return subprocess.run([lz4, "-l", "-c"], input=data, capture_output=True, check=True).stdout


def _lzop(data: bytes) -> bytes:
    """As the kernel's build compresses an initramfs for CONFIG_INITRAMFS_COMPRESSION_LZO
    (``scripts/Makefile.lib``: ``lzop -9``, from standard input)."""
    lzop = shutil.which("lzop")
    if lzop is None:
        pytest.fail("lzop is not installed (Debian: apt-get install lzop)")
    return subprocess.run([lzop, "-9", "-c"], input=data, capture_output=True, check=True).stdout


COMPRESS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": lambda data: gzip.compress(data, 9),
    "bzip2": bz2.compress,
    "lzma": lambda data: lzma.compress(data, format=lzma.FORMAT_ALONE),
    "xz": lambda data: lzma.compress(data, check=lzma.CHECK_CRC32),  # as the kernel's xz -C crc32
    "lz4": _lz4_legacy,
    "lzo": _lzop,
    "zstd": lambda data: zstandard.ZstdCompressor(level=19).compress(data),
}


def _cpio(root: Path) -> bytes:
    """A newc cpio of two small files, written by ``cpio``."""
    (root / "etc").mkdir(parents=True)
    (root / "init").write_text("#!/bin/sh\nexec /sbin/init\n")
    (root / "etc/hostname").write_text("initramfs-test\n")
    cpio = shutil.which("cpio")
    if cpio is None:
        pytest.fail("cpio is not installed (Debian: apt-get install cpio)")
    listing = b"init\netc\netc/hostname\n"
    done = subprocess.run(
        [cpio, "-o", "-H", "newc", "--quiet"], cwd=root, input=listing, capture_output=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("comp", sorted(COMPRESS))
def test_compressed_initramfs_in_a_real_kernel_is_opened(tmp_path: Path, comp: str) -> None:
    image, release = kernel("arm64")  # Debian's arm64 vmlinuz is the uncompressed Image
    span = kernel_facts.read(image)
    assert span is not None and span.initramfs is not None
    start, end = span.initramfs
    packed = COMPRESS[comp](_cpio(tmp_path / "root"))
    assert len(packed) <= end - start, f"{comp} cpio of {len(packed)} bytes over {end - start}"
    data = bytearray(image.read_bytes())
    data[start:end] = packed + bytes(end - start - len(packed))
    boot = tmp_path / "release/boot"
    boot.mkdir(parents=True)
    (boot / "Image").write_bytes(data)

    result = ingest(tmp_path / "release", tmp_path / "work", LIMITS)

    (found,) = [c for c in result.containers if c.path == f"boot/Image@{start:#x}:initramfs"]
    assert (found.offset, found.size) == (start, len(packed))
    assert found.format == {"lz4": "lz4 legacy"}.get(comp, comp)
    prefix = f"boot/Image@{start:#x}:initramfs!/"
    files = {
        f.path.rpartition("!/")[2]: Path(f.disk_path).read_bytes()
        for f in result.files
        if f.path.startswith(prefix) and f.kind is not FileKind.ARCHIVE
    }  # (lz4 legacy and lzo are opened by unblob, whose output is one more cpio file)
    assert files == {
        "init": b"#!/bin/sh\nexec /sbin/init\n",
        "etc/hostname": b"initramfs-test\n",
    }
    (version,) = {c.version for c in result.containers if c.format == "linux-kernel"}
    assert version == release
    assert not [s for s in result.skipped if s.path.startswith("boot/")]


def _kernel_with(tmp_path: Path, blob: bytes) -> tuple[Path, int]:
    """The real arm64 Image with ``blob`` written at its initramfs offset (spilling past the
    span when it is larger: what follows is then overwritten, a kernel no longer bootable)."""
    image, _ = kernel("arm64")
    span = kernel_facts.read(image)
    assert span is not None and span.initramfs is not None
    start, end = span.initramfs
    data = bytearray(image.read_bytes())
    data[start : start + max(len(blob), end - start)] = blob + bytes(
        max(0, end - start - len(blob))
    )
    release = tmp_path / "release"
    release.mkdir()
    (release / "Image").write_bytes(data)
    return release, start


@pytest.mark.parametrize("comp", ["zstd", "lzo"])
def test_initramfs_bomb_is_stopped_before_anything_is_written(tmp_path: Path, comp: str) -> None:
    header = _cpio(tmp_path / "root")[:110]  # a real newc header, then 256 MiB of zeros
    bomb = COMPRESS[comp](header + bytes(256 << 20))
    release, _ = _kernel_with(tmp_path, bomb)
    limits = ArchiveLimits(max_total_bytes=64 << 20, max_depth=4)
    result = ingest(release, tmp_path / "work", limits)
    assert not [c for c in result.containers if c.path.endswith(":initramfs")]
    (record,) = [s for s in result.skipped if s.path == "Image"]
    assert record.reason == "bomb-total-size"
    assert f"{comp} initramfs decompresses past" in record.detail
    written = sum(p.stat().st_size for p in (tmp_path / "work").rglob("*") if p.is_file())
    assert written < 64 << 20


def test_damaged_compressed_initramfs_is_a_record(tmp_path: Path) -> None:
    root = tmp_path / "root"
    packed = bytearray(gzip.compress(_cpio(root) + random.Random(41).randbytes(2000), 9))
    packed[-400:-380] = b"\xff" * 20  # the cpio header decompresses; then garbage
    release, _ = _kernel_with(tmp_path, bytes(packed))
    result = ingest(release, tmp_path / "work", LIMITS)
    (record,) = [s for s in result.skipped if s.path == "Image"]
    assert record.reason == "corrupt-archive"
    assert record.detail.startswith("gzip initramfs damaged")


@pytest.mark.parametrize("comp", sorted(COMPRESS))
def test_a_large_compressed_initramfs_is_found_past_its_first_blocks(
    tmp_path: Path, comp: str
) -> None:
    """An initramfs of a few MB, whose first bzip2 or zstd block gives nothing until hundreds
    of kilobytes are fed; written at the initramfs offset, it runs over what follows. (How
    the kernel bytes after an lz4 stream are told from it: ``test_ingest_initramfs_end``.)"""
    root = tmp_path / "root"
    config = b"".join(b"CONFIG_OPTION_%d=%x\n" % (n, n * 7919) for n in range(100_000))
    blob = random.Random(42).randbytes(200_000)
    root.mkdir()
    (root / "config").write_bytes(config)
    (root / "blob").write_bytes(blob)
    cpio = shutil.which("cpio")
    assert cpio is not None
    listing = b"config\nblob\n"
    done = subprocess.run([cpio, "-o", "-H", "newc", "--quiet"], cwd=root, input=listing,
                          capture_output=True, check=True)  # fmt: skip
    release, start = _kernel_with(tmp_path, COMPRESS[comp](done.stdout))
    result = ingest(release, tmp_path / "work", LIMITS)
    prefix = f"Image@{start:#x}:initramfs!/"
    files = {
        f.path.rpartition("!/")[2]: Path(f.disk_path).read_bytes()
        for f in result.files
        if f.path.startswith(prefix) and f.kind is not FileKind.ARCHIVE
    }
    assert files == {"config": config, "blob": blob}
