"""What a decompressed Linux kernel says of itself: its version banner and its built-in
initramfs.

unblob finds and decompresses the payload of a bzImage or zImage whatever its compressor (it
carves the gzip, bzip2, lzma, xz, lzo, lz4 or zstd stream out of the image), and assay's own
U-Boot reader yields a uImage's kernel. The payload is then an ELF ``vmlinux`` (x86) or a raw
``Image`` (ARM, MIPS). Two facts are read from it here in one pass, with bounded memory:

- the banner the kernel prints at boot, ``Linux version 6.1.0-50-cloud-amd64 (…)``, from which
  the version is the first word (``init/version.c``; the same string ``uname -r`` shows);
- a built-in initramfs that is an uncompressed ``newc`` cpio (``usr/initramfs_data.S`` puts it
  in ``.init.data``): its first header and its ``TRAILER!!!`` bound it, and those bytes become
  one more archive, opened by assay's cpio reader at the next level.

Hand-written because no library reads these two facts without running the kernel's own
scripts (``extract-ikconfig``-style tools, which would have to be executed). This reader only
finds the plain initramfs; a compressed one is found by ``initramfs``, when this finds none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

_CHUNK: Final = 1 << 20
_OVERLAP: Final = 256
_BANNER: Final = re.compile(rb"Linux version (\d+\.\d+[\w.+~-]*) \(")
# A newc cpio header whose name is "." or a short path, the first entry of an initramfs.
_CPIO_START: Final = re.compile(rb"070701[0-9A-Fa-f]{104}")
_TRAILER: Final = b"TRAILER!!!\0"
_INITRAMFS_MAX: Final = 64 << 20


@dataclass(frozen=True, slots=True)
class KernelFacts:
    """What a decompressed kernel says of itself."""

    version: str
    """The release in its banner (``6.1.0-50-cloud-amd64``)."""
    initramfs: tuple[int, int] | None
    """Start and end offsets of an uncompressed built-in initramfs, if one was found."""


def read(path: Path) -> KernelFacts | None:
    """The kernel facts of the file at ``path``, or ``None`` when it has no kernel banner."""
    version: str | None = None
    start: int | None = None
    end: int | None = None
    offset = 0
    tail = b""
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            window = tail + chunk
            base = offset - len(tail)
            if version is None and (banner := _BANNER.search(window)) is not None:
                version = banner[1].decode("ascii")
            if start is None and (header := _CPIO_START.search(window)) is not None:
                start = base + header.start()
            if start is not None and end is None:
                found = window.find(_TRAILER, max(0, start - base))
                if found >= 0:
                    end = base + found + len(_TRAILER)
                elif base + len(window) - start > _INITRAMFS_MAX:
                    start = None  # a stray header: look for another after it
            if version is not None and end is not None:
                break
            offset += len(chunk)
            tail = window[-_OVERLAP:]
    if version is None:
        return None
    span = (start, end + (-end % 4)) if start is not None and end is not None else None
    return KernelFacts(version, span)
