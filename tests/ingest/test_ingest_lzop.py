"""The lzop frame reader (``ingest/lzop.py``) on streams written by the real ``lzop``."""

from __future__ import annotations

import io
import random
import subprocess
from pathlib import Path

import pytest
from firmware_build import tool

from assay.ingest import lzop

DATA = b"".join(b"CONFIG_OPTION_%d=%x\n" % (n, n * 7919) for n in range(40_000)) + (
    random.Random(15).randbytes(300_000)
)  # compressible text, then random bytes lzop stores as they are: several 256 KiB blocks


def _lzop(*options: str, data: bytes = DATA) -> bytes:
    return subprocess.run(
        [tool("lzop"), *options, "-c"], input=data, capture_output=True, check=True
    ).stdout


def _read(stream: bytes, at: int = 0) -> tuple[bytes, int]:
    """What ``lzop.blocks`` decompresses from ``stream`` at ``at``, and where it stopped."""
    source = io.BytesIO(stream)
    source.seek(at)
    out = b"".join(block for _, block in lzop.blocks(source))
    return out, source.tell()


@pytest.mark.parametrize("level", ["-1", "-3", "-9"])
def test_blocks_give_what_lzop_compressed_and_the_stream_end(level: str) -> None:
    packed = _lzop(level)
    out, end = _read(b"kernel code" + packed + b"what follows the stream", 11)
    assert out == DATA
    assert end == 11 + len(packed)
    assert len(DATA) > 4 * lzop.BLOCK


def test_a_stream_with_crc32_checksums_and_a_stored_name(tmp_path: Path) -> None:
    (tmp_path / "initramfs.cpio").write_bytes(DATA)
    subprocess.run([tool("lzop"), "--crc32", "-9", "initramfs.cpio"], cwd=tmp_path, check=True)
    packed = (tmp_path / "initramfs.cpio.lzo").read_bytes()
    assert b"initramfs.cpio" in packed[:80]
    assert _read(packed) == (DATA, len(packed))


@pytest.mark.parametrize(
    ("where", "message"),
    [(26, "header checksum"), (-5000, "checksum does not match|damaged LZO block")],
)
def test_damage_is_an_error(where: int, message: str) -> None:
    packed = bytearray(_lzop("-9", data=DATA[:100_000]))
    packed[where] ^= 0x55
    with pytest.raises(lzop.LzopError, match=message):
        _read(bytes(packed))


def test_a_block_over_the_kernels_limit_is_an_error() -> None:
    packed = bytearray(_lzop("-9", data=DATA[:1000]))
    header = (
        len(packed)
        - 4
        - 12
        - next(n for n in range(len(packed)) if packed[-4 - 12 - n :].startswith(b"\0\0\x03\xe8"))
    )  # the first block's decompressed size, 1000
    packed[header : header + 4] = (lzop.BLOCK + 1).to_bytes(4, "big")
    with pytest.raises(lzop.LzopError, match="over the kernel's"):
        _read(bytes(packed))


def test_cut_short_is_an_error() -> None:
    packed = _lzop("-9", data=DATA[:100_000])
    with pytest.raises(lzop.LzopError, match="cut short"):
        _read(packed[:-100])
