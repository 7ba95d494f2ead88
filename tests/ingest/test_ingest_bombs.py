"""Decompression bombs of a few hundred bytes: each is ingested in a child process capped at
1 GiB of address space, with the default caps, and stops at the ratio cap with a skipped record
(before the fix, tarfile and zipfile decompressed each compressed chunk whole: 1.2 GB here)."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import struct
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
from ingest_support import BZ2_BLOCK, Sandbox, bz2_bomb, reasons, sandbox

from assay.ingest import ArchiveLimits
from bounded import INGEST, run_bounded

BLOCKS = 30
"""Blocks of zeros after the first: 1.24 GB expanded, more than the child may hold."""
EXPANDED = BZ2_BLOCK * (BLOCKS + 1)


def ingest_bounded(box: Sandbox, source: Path) -> dict[str, Any]:
    """Ingest ``source`` under the 1 GiB cap; nothing outside the work area may change."""
    before = box.outside()
    result: dict[str, Any] = run_bounded(INGEST, input=str(source), work=str(box.work))
    assert box.outside() == before, "ingest wrote outside its work directory"
    return result


def assert_stopped_by_ratio(result: dict[str, Any], member: str) -> None:
    """The only record is the archive's ``bomb-ratio``, naming ``member``."""
    [(path, stage, reason, detail)] = result["skipped"]
    assert (path, stage, reason) == ("", "ingest", "bomb-ratio")
    assert f"at member {member!r}" in detail and "> cap 200" in detail


def tar_header(name: str, size: int) -> bytes:
    """A GNU tar header for a regular file."""
    info = tarfile.TarInfo(name)
    info.size = size
    return info.tobuf(format=tarfile.GNU_FORMAT)


def newc_header(name: str, size: int) -> bytes:
    """A cpio ``newc`` header for a regular file, padded to four bytes."""
    fields = [1, 0o100644, 0, 0, 1, 0, size, 0, 0, 0, 0, len(name) + 1, 0]
    head = b"070701" + b"".join(b"%08X" % field for field in fields) + name.encode() + b"\0"
    return head + bytes(-len(head) % 4)


def as_zip_member(name: str, packed: bytes, method: int, size: int) -> bytes:
    """A zip of one member whose bytes are ``packed`` (already compressed with ``method``).

    zipfile cannot store bytes compressed elsewhere, so the member is written stored and its
    method and size are patched in the local header and the central directory.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(name, packed)
    data = bytearray(buffer.getvalue())
    local, central = 0, data.rfind(b"PK\x01\x02")
    struct.pack_into("<H", data, local + 8, method)
    struct.pack_into("<I", data, local + 22, size)
    struct.pack_into("<H", data, central + 10, method)
    struct.pack_into("<I", data, central + 24, size)
    return bytes(data)


def test_tar_bz2_bomb_stops_at_the_ratio_cap(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    source = box.inputs / "bomb.tar.bz2"
    source.write_bytes(bz2_bomb(tar_header("zeros.bin", EXPANDED - 512), BLOCKS))
    assert source.stat().st_size < 2000
    result = ingest_bounded(box, source)
    assert result["files"] == []
    assert_stopped_by_ratio(result, "zeros.bin")
    assert box.work_files() == [], "the partial member is removed"


def test_cpio_bz2_bomb_stops_at_the_ratio_cap(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    head = newc_header("zeros.bin", EXPANDED - 112)
    source = box.inputs / "bomb.cpio.bz2"
    source.write_bytes(bz2_bomb(head, BLOCKS))
    result = ingest_bounded(box, source)
    assert result["files"] == []
    assert_stopped_by_ratio(result, "zeros.bin")


def test_zip_bzip2_member_bomb_stops_at_the_ratio_cap(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    packed = bz2_bomb(b"", BLOCKS)
    source = box.inputs / "bomb.zip"
    source.write_bytes(as_zip_member("zeros.bin", packed, zipfile.ZIP_BZIP2, 0xFFFF_FFF0))
    result = ingest_bounded(box, source)
    assert result["files"] == []
    assert_stopped_by_ratio(result, "zeros.bin")


@pytest.mark.parametrize("suffix", ["tar.xz", "tar.gz", "zip"])
def test_xz_gzip_and_zip_lzma_bombs_stop_at_the_ratio_cap(tmp_path: Path, suffix: str) -> None:
    box = sandbox(tmp_path)
    source = box.inputs / f"bomb.{suffix}"
    zeros = bytes(64 << 20)
    if suffix == "zip":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_LZMA) as archive:
            archive.writestr("zeros.bin", zeros)
        source.write_bytes(buffer.getvalue())
    else:
        plain = tar_header("zeros.bin", len(zeros)) + zeros
        source.write_bytes(lzma.compress(plain) if suffix == "tar.xz" else gzip.compress(plain))
    result = ingest_bounded(box, source)
    assert result["files"] == []
    assert_stopped_by_ratio(result, "zeros.bin")


@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_zip_bzip2_and_lzma_members_read_back_exactly(tmp_path: Path, method: int) -> None:
    box = sandbox(tmp_path)
    data = b"".join(b"line %d of a text\n" % n for n in range(200_000))  # 3.6 MB, several steps
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        archive.writestr("a.txt", data)
        archive.writestr("b.c", b"int b;\n")
        archive.writestr("empty", b"")
    source = box.inputs / "ok.zip"
    source.write_bytes(buffer.getvalue())
    result = box.ingest(source, box_limits())
    assert [(f.path, f.size) for f in result.files] == [
        ("a.txt", len(data)),
        ("b.c", 7),
        ("empty", 0),
    ]
    assert result.skipped == ()
    [copy] = [f for f in result.files if f.path == "a.txt"]
    assert Path(copy.disk_path).read_bytes() == data


@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_zip_member_with_a_wrong_crc_is_corrupt(tmp_path: Path, method: int) -> None:
    box = sandbox(tmp_path)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        archive.writestr("a.txt", b"hello\n" * 100)
    data = bytearray(buffer.getvalue())
    central = data.rfind(b"PK\x01\x02")
    for crc in (14, central + 16):
        data[crc] ^= 0xFF
    source = box.inputs / "bad.zip"
    source.write_bytes(bytes(data))
    result = box.ingest(source, box_limits())
    assert result.files == ()
    assert reasons(result) == [("", "corrupt-archive")]
    assert "Bad CRC-32" in result.skipped[0].detail
    assert box.work_files() == []


def box_limits() -> ArchiveLimits:
    """Caps large enough for the read-back tests."""
    return ArchiveLimits(max_total_bytes=64 << 20, max_ratio=1000, max_files=100, max_depth=3)


def test_bz2_bomb_helper_is_what_it_says() -> None:
    data = bz2_bomb(b"head", 1)
    out = bz2.decompress(data)
    assert len(out) == 2 * BZ2_BLOCK and out.startswith(b"head\0") and out.count(0) == len(out) - 4
