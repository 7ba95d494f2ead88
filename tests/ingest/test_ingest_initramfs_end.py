"""Where an lz4 legacy initramfs ends inside a kernel (``ingest/initramfs.py``).

The legacy frame has no end marker: the kernel learns the initramfs's length from the linker,
so the bytes after the stream are whatever the link put there. These streams are written by
the real ``lz4 -l`` (as the kernel's build does) from a cpio written by the real ``cpio``.
"""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import pytest
from firmware_build import tool

from assay.ingest import initramfs

HEAD = bytes(4096)
"""Kernel bytes before the stream (a real kernel's search starts past its own code)."""


def _lz4_cpio(root: Path, files: dict[str, bytes]) -> bytes:
    root.mkdir()
    for name, data in files.items():
        (root / name).write_bytes(data)
    listing = "".join(f"{name}\n" for name in files).encode()
    cpio = subprocess.run([tool("cpio"), "-o", "-H", "newc", "--quiet"], cwd=root,
                          input=listing, capture_output=True, check=True).stdout  # fmt: skip
    return subprocess.run([tool("lz4"), "-l", "-c"], input=cpio, capture_output=True,
                          check=True).stdout  # fmt: skip


def _kernel(tmp: Path, stream: bytes, after: bytes) -> Path:
    kernel = tmp / "Image"
    kernel.write_bytes(HEAD + stream + after)
    return kernel


NOISE = random.Random(31).randbytes(3000)

AFTER = {
    "zeros": bytes(64),  # the linker's padding: a block size of 0 ends the stream
    "a size, then code": (16).to_bytes(4, "little") + NOISE,  # reads as a 16-byte block
    "a large size, then code": (2000).to_bytes(4, "little") + NOISE,
    "a size past the file's end": (1 << 20).to_bytes(4, "little") + NOISE[:100],
}


@pytest.mark.parametrize("after", sorted(AFTER))
def test_what_follows_a_short_last_block_is_not_the_stream(tmp_path: Path, after: str) -> None:
    files = {"init": b"#!/bin/sh\n" * 50, "blob": random.Random(32).randbytes(100_000)}
    stream = _lz4_cpio(tmp_path / "root", files)
    kernel = _kernel(tmp_path, stream, AFTER[after])

    found = initramfs.find(kernel, 1 << 30)

    assert found is not None and found.problem == ""
    assert (found.start, found.end) == (len(HEAD), len(HEAD) + len(stream))


def test_a_block_that_does_not_decompress_after_a_full_block_is_damage(tmp_path: Path) -> None:
    # every block but the last holds 8 MiB: after a full one the stream goes on, so a block
    # that does not decompress there is damage to the stream, not what follows it
    text = b"".join(b"CONFIG_OPTION_%d=%x\n" % (n, n * 7919) for n in range(400_000))
    stream = _lz4_cpio(tmp_path / "root", {"config": text})
    first = int.from_bytes(stream[4:8], "little")
    second = 8 + first
    assert len(text) > 8 << 20  # the stream has a full first block and a second one
    damaged = bytearray(stream)
    damaged[second + 4 : second + 40] = NOISE[:36]
    kernel = _kernel(tmp_path, bytes(damaged), bytes(64))

    found = initramfs.find(kernel, 1 << 30)

    assert found is not None and found.end is None
    assert found.reason == "corrupt-archive"
    assert found.problem.startswith("lz4 initramfs damaged")
