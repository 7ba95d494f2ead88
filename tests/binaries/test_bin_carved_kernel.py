"""A kernel carved out of a flash dump as a compressed stream names the operating system.

unblob carves the stream (a zImage's payload, an LZMA kernel behind a vendor header) and
writes it as ``xz.uncompressed``; ingest reads its banner, and the ``binaries`` section must
describe the same kernel under ``os``, with its support status, as it does for a ``vmlinuz``.
"""

from __future__ import annotations

import lzma
from pathlib import Path

import pytest

from support import run_evaluation

VERSION = "5.10.201"
BANNER = f"Linux version {VERSION}-router (builder@host) (gcc 12) #1 SMP\n\0".encode()


pytestmark = pytest.mark.usefixtures("need_sandbox")


def _dump(tmp_path: Path) -> Path:
    """A flash dump: 64 KiB of a vendor header no handler claims, then an xz-compressed kernel."""
    kernel = bytes(range(256)) * 40 + BANNER + b"\x00\x00\xa0\xe1" * 20000
    header = b"VENDORHDR" + bytes(range(256)) * 255 + b"\xff" * 1271
    dump = tmp_path / "release" / "flash.bin"
    dump.parent.mkdir()
    dump.write_bytes(header + lzma.compress(kernel, format=lzma.FORMAT_XZ) + b"\xff" * 4096)
    return dump


def test_kernel_of_a_carved_stream_is_the_os_kernel(tmp_path: Path) -> None:
    dump = _dump(tmp_path)
    doc = run_evaluation(dump.parent, tmp_path / "out").json()
    containers = {c["path"]: c for c in doc["inventory"]["containers"]}
    kernels = [c for c in containers.values() if c["format"] == "linux-kernel"]
    assert [c["path"].rpartition("!/")[2] for c in kernels] == ["xz.uncompressed"]
    # its parent is the carved stream it came out of, whose parent is the dump
    stream = containers[kernels[0]["parent"]]
    assert (stream["path"], stream["format"], stream["parent"]) == (
        kernels[0]["path"].rpartition("!/")[0], "xz", "flash.bin")  # fmt: skip
    os_part = doc["binaries"]["os"]
    assert os_part["kernel"]["version"] == VERSION
    assert os_part["kernel"]["support"]["status"] != "unknown-policy"
    found = {(c["name"], c["version"]) for c in doc["binaries"]["components"]}
    assert ("linux", VERSION) in found
