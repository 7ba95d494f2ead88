"""Helpers for the ingest tests: a sandbox that proves nothing is written outside the work area,
and builders for hand-made (often hostile) tar and zip archives.

Not a ``conftest.py``: ``tests/conftest.py`` is imported by name from other test modules, and a
second module called ``conftest`` would shadow it.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import lzma
import os
import tarfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from assay.ingest import ArchiveLimits, IngestResult, ingest
from assay.model import Skipped

SMALL = ArchiveLimits(max_total_bytes=4 << 20, max_ratio=50.0, max_files=100, max_depth=3)
"""Limits small enough to keep every test fast."""


@dataclass(frozen=True)
class Sandbox:
    """``root`` holds the inputs (``inputs``) and the work area (``work``), nothing else."""

    root: Path
    inputs: Path
    work: Path

    def ingest(self, input: Path, limits: ArchiveLimits = SMALL) -> IngestResult:
        """Ingest ``input`` and fail if anything outside ``work`` changed."""
        before = self.outside()
        result = ingest(input, self.work, limits)
        assert self.outside() == before, "ingest wrote outside its work directory"
        return result

    def outside(self) -> dict[str, tuple[int, int, int]]:
        """Every path below ``root`` but outside ``work``, with its mode, size and mtime."""
        found: dict[str, tuple[int, int, int]] = {}
        pending = [str(self.root)]
        while pending:  # by hand: os.walk recurses on Python 3.11, and some trees are deep
            with os.scandir(pending.pop()) as listing:
                for entry in listing:
                    if entry.path == str(self.work):
                        continue
                    info = entry.stat(follow_symlinks=False)
                    found[entry.path] = (info.st_mode, info.st_size, info.st_mtime_ns)
                    if entry.is_dir(follow_symlinks=False):
                        pending.append(entry.path)
        return found

    def work_files(self) -> list[Path]:
        """Every regular file the ingest wrote."""
        return [p for p in self.work.rglob("*") if p.is_file()]


def sandbox(tmp_path: Path) -> Sandbox:
    """A fresh sandbox below ``tmp_path``."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    return Sandbox(tmp_path, inputs, tmp_path / "work")


def unpacked(result: IngestResult, prefix: str) -> tuple[dict[str, bytes], dict[str, str]]:
    """Files (path below ``prefix`` -> bytes read back, each checked against its recorded
    sha256) and links (path -> target) that ingest found below ``prefix``."""
    files = {}
    for file in result.files:
        if file.path.startswith(prefix):
            data = Path(file.disk_path).read_bytes()
            assert hashlib.sha256(data).hexdigest() == file.sha256, file.path
            files[file.path[len(prefix) :]] = data
    links = {
        s.path[len(prefix) :]: s.detail.removeprefix("symlink -> ")
        for s in result.skipped
        if s.path.startswith(prefix) and s.reason == "link"
    }
    return files, links


def written(result: IngestResult, prefix: str) -> dict[str, bytes]:
    """The files of ``unpacked``, without the links."""
    return unpacked(result, prefix)[0]


def member(
    name: str, data: bytes = b"", type: bytes = tarfile.REGTYPE, linkname: str = ""
) -> tuple[tarfile.TarInfo, bytes]:
    """A tar member exactly as given: no name is cleaned on the way in."""
    info = tarfile.TarInfo(name)
    info.type = type
    info.linkname = linkname
    info.size = len(data) if type == tarfile.REGTYPE else 0
    return info, data


COMPRESS: dict[str, Callable[[bytes], bytes]] = {
    "": bytes,
    "gz": gzip.compress,
    "bz2": bz2.compress,
    "xz": lzma.compress,
}
"""Compressors by the suffix they give a tar."""


def tar_bytes(members: Iterable[tuple[tarfile.TarInfo, bytes]], compress: str = "") -> bytes:
    """The bytes of a (GNU) tar of ``members``, compressed with ``COMPRESS[compress]``."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return COMPRESS[compress](buffer.getvalue())


def write_tar(
    path: Path, members: Iterable[tuple[tarfile.TarInfo, bytes]], compress: str = ""
) -> Path:
    """Write a tar of ``members`` to ``path``."""
    path.write_bytes(tar_bytes(members, compress))
    return path


def zip_bytes(members: Iterable[tuple[str | zipfile.ZipInfo, bytes]]) -> bytes:
    """The bytes of a zip of ``members`` (names kept exactly as given)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def reasons(result: IngestResult) -> list[tuple[str, str]]:
    """(path, reason) of every skipped record, in order."""
    return [(s.path, s.reason) for s in result.skipped]


def only(result: IngestResult, reason: str) -> Skipped:
    """The one skipped record with ``reason``."""
    found = [s for s in result.skipped if s.reason == reason]
    assert len(found) == 1, result.skipped
    return found[0]


_BZ2_BLOCK_MAGIC = 0x314159265359
_BZ2_END_MAGIC = 0x177245385090
BZ2_BLOCK = 40_000_000
"""Bytes of each block of ``bz2_bomb`` (a bzip2 block holds about 45 MB of zeros)."""


def _bz2_block(data: bytes) -> tuple[int, int, int]:
    """The one block of ``bzip2(data)``: its bits, their number and its CRC."""
    stream = bz2.compress(data, 9)
    value, total = int.from_bytes(stream, "big"), len(stream) * 8
    for pad in range(8):  # the stream ends with 48 bits of magic, the CRC, 0-7 bits of padding
        end = total - pad - 80
        if (value >> (total - end - 48)) & ((1 << 48) - 1) == _BZ2_END_MAGIC:
            bits = end - 32  # after the 4-byte stream header "BZh9"
            crc = (value >> (total - 32 - 80)) & 0xFFFFFFFF  # after the block's own magic
            return (value >> (total - end)) & ((1 << bits) - 1), bits, crc
    raise AssertionError("no bzip2 end-of-stream marker")


def bz2_bomb(head: bytes, blocks: int) -> bytes:
    """A bzip2 stream of ``head`` and zeros, ``BZ2_BLOCK * (blocks + 1)`` bytes in all.

    Blocks of a bzip2 stream are independent, so one compressed block of zeros is repeated
    (bit-aligned) instead of compressing gigabytes: about 40 bytes per block.
    """
    first = _bz2_block(head + bytes(BZ2_BLOCK - len(head)))
    zeros = _bz2_block(bytes(BZ2_BLOCK))
    value, bits, crc = int.from_bytes(b"BZh9", "big"), 32, 0
    for block, size, block_crc in [first, *[zeros] * blocks]:
        value, bits = (value << size) | block, bits + size
        crc = (((crc << 1) | (crc >> 31)) & 0xFFFFFFFF) ^ block_crc
    value, bits = (((value << 48) | _BZ2_END_MAGIC) << 32) | crc, bits + 80
    pad = -bits % 8
    return (value << pad).to_bytes((bits + pad) // 8, "big")
