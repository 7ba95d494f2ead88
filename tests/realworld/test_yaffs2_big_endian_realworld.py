"""A big-endian yaffs2 image, checked with an independent big-endian reader, then opened.

``unyaffs`` reads yaffs2 in the byte order of the machine it runs on, so the tests' images in
big-endian order (as mkyaffs2image writes them for MIPS or PowerPC routers) are read back by
Debian's own ``unyaffs`` built for s390x, a big-endian architecture (the package and its C
library from Debian's archive through tools/debian_binaries.py), run by ``qemu-s390x-static``
(Debian package qemu-user-static). What it extracts must be what the test writer put in; then
assay must open the same image, bare and at an offset of a flash dump, to the same contents.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ingest"))

import yaffs2_build as yaffs
from firmware_build import flash
from ingest_support import sandbox, unpacked
from test_kernels_realworld import debian_binaries

from assay import sandbox as bwrap
from assay.ingest import ArchiveLimits

pytestmark = pytest.mark.realworld
LIMITS = ArchiveLimits(max_total_bytes=64 << 20, max_files=2000, max_depth=4)
SUITE = "bookworm"


def big_endian_unyaffs() -> list[str]:
    """The command that runs Debian's s390x ``unyaffs`` under qemu, its C library as root."""
    qemu = shutil.which("qemu-s390x-static")
    if qemu is None:
        pytest.fail("qemu-s390x-static is not installed (Debian: apt-get install qemu-user-static)")
    tool = debian_binaries.fetch("unyaffs", SUITE, "s390x")
    libc = debian_binaries.fetch("libc6", SUITE, "s390x")
    return [qemu, "-L", str(libc.path), str(tool.path / "usr/bin/unyaffs")]


@pytest.mark.parametrize("page", [2048, 4096])
def test_big_endian_yaffs2_read_by_a_big_endian_unyaffs_and_by_assay(
    tmp_path: Path, page: int
) -> None:
    problem = bwrap.available()
    if problem is not None:
        pytest.fail(f"the extraction sandbox does not work here: {problem}")
    entries, files, links = yaffs.tree()
    data = yaffs.image(entries, order=">", page=page, spare=page // 32)
    (tmp_path / "be.yaffs2").write_bytes(data)
    read = yaffs.unyaffs(tmp_path / "be.yaffs2", tmp_path / "oracle", big_endian_unyaffs())
    assert read == (files, links)

    box = sandbox(tmp_path)
    (box.inputs / "rootfs.yaffs2").write_bytes(data)
    (box.inputs / "fw.bin").write_bytes(flash([(0x80000, data)], 1 << 20))
    result = box.ingest(box.inputs, LIMITS)

    for prefix in ("rootfs.yaffs2!/", "fw.bin@0x80000:yaffs2!/"):
        assert unpacked(result, prefix) == (files, links), prefix
    assert not [s for s in result.skipped if s.reason != "link"]
