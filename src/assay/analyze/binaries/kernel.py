"""The Linux kernel image's own version text, for the ``linux`` signature rows.

A kernel image is not an ELF file: the x86 ``bzImage`` is a boot sector, a real-mode setup and
a compressed kernel; the ARM64 ``Image`` (Debian's ``vmlinuz`` on arm64) and the payload of a
U-Boot image after ingest unpacked it are raw kernels. Both state their release without any
decompression here:

- the bzImage's setup header (``Documentation/x86/boot.rst``): "HdrS" at 0x202, the boot
  protocol version at 0x206 and, since protocol 2.00, ``kernel_version`` at 0x20E, a pointer
  (minus 0x200) to the text "6.1.0-50-cloud-amd64 (debian-kernel@lists.debian.org) #1 SMP
  PREEMPT_DYNAMIC Debian 6.1.176-1 (2026-07-02)" in the setup code;
- a raw kernel's ``linux_banner``, "Linux version 6.1.0-50-cloud-arm64 (...) #1 SMP ...".

The header is read by hand (a few fixed offsets; no library reads it, and ``extract-vmlinux``
would decompress the whole kernel only to find the same text). Images are recognised by their
base name for routing (the engine only hands the analyzer files it wants) and by their bytes
for the evidence.
"""

from __future__ import annotations

import re
import struct

_NAME = re.compile(
    r"^(?:vmlinu[xz](?:[-.].*)?|bzImage|zImage|uImage|kernel(?:-.*)?"
    r"|Image(?:\.(?:gz|bz2|lz4|lzma|lzo|xz|zst))?"
    r"|(?:bzip2|gzip|lz4|lzma|lzw|xz|zlib|zstd)\.uncompressed)$"
)
"""Kernel image names, and the names unblob gives a compressed stream it carved and
decompressed (``xz.uncompressed``): a kernel in a flash dump (a zImage's payload, an LZMA
kernel behind a vendor header) reaches the analyzer only under that name."""
_BANNER = b"Linux version "
_TEXT_MAX = 400
_BANNERS_MAX = 8
_HDRS = slice(0x202, 0x206)
_PROTOCOL = slice(0x206, 0x208)
_VERSION_POINTER = slice(0x20E, 0x210)
_SETUP_BASE = 0x200


def is_image_name(name: str) -> bool:
    """Whether a base name is one a kernel image is given (``vmlinuz-6.1.0-50-amd64``,
    ``bzImage``, ``zImage``, ``Image``, ``uImage``, ``kernel`` as ingest names a U-Boot
    image's payload, ``xz.uncompressed`` as unblob names a carved stream it decompressed)."""
    return _NAME.match(name) is not None


def version_texts(data: bytes) -> bytes:
    """The image's version texts as "Linux version ..." lines joined by NUL (empty: none).

    The bzImage header's text (prefixed with "Linux version " so one set of rows reads both)
    and up to eight banners of a raw kernel, each cut at its NUL or after 400 bytes.
    """
    texts = []
    header = _bzimage_text(data)
    if header:
        texts.append(_BANNER + header)
    start = data.find(_BANNER)
    while start >= 0 and len(texts) < _BANNERS_MAX:
        end = data.find(b"\0", start, start + _TEXT_MAX)
        texts.append(data[start : end if end >= 0 else start + _TEXT_MAX])
        start = data.find(_BANNER, start + len(_BANNER))
    return b"\0".join(texts)


def _bzimage_text(data: bytes) -> bytes:
    """The text the setup header's ``kernel_version`` points to, or ``b""``."""
    if len(data) < _VERSION_POINTER.stop or data[_HDRS] != b"HdrS":
        return b""
    (protocol,) = struct.unpack("<H", data[_PROTOCOL])
    (pointer,) = struct.unpack("<H", data[_VERSION_POINTER])
    if protocol < 0x0200 or pointer == 0:
        return b""
    start = pointer + _SETUP_BASE
    end = data.find(b"\0", start, start + _TEXT_MAX)
    text = data[start : end if end >= 0 else start]
    return text if text[:1].isdigit() else b""
