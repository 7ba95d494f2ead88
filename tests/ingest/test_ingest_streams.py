"""Single compressed files opened as what they hold, U-Boot images opened through their
payload, and every firmware container assay recognises but does not open recorded as skipped
(never counted silently as an ordinary file). Inputs are built from real pieces: the standard
library's and the packages' compressors, ``mke2fs`` and ``cpio`` images, and headers packed
field by field from their specifications (U-Boot ``image.h``, the Linux boot protocol, the
flattened device tree, TRX, romfs)."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import random
import struct
import subprocess
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import lz4.frame
import pytest
import zstandard
from ingest_support import member, sandbox, tar_bytes
from test_ingest_images import ext4, need_sandbox, tool

from assay.errors import IngestError
from assay.ingest import ArchiveLimits, IngestResult
from assay.ingest.classify import archive_format
from assay.ingest.magic import ArchiveFormat
from assay.model import FileKind
from bounded import INGEST, run_bounded

LIMITS = ArchiveLimits(max_total_bytes=64 << 20, max_ratio=100_000.0, max_files=100, max_depth=3)
"""A nearly empty 4 MiB ext4 image compresses up to 5,000 times, past the default ratio cap."""

COMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    "gz": gzip.compress,
    "bz2": bz2.compress,
    "xz": lzma.compress,
    "lzma": lambda data: lzma.compress(data, format=lzma.FORMAT_ALONE),
    "zst": lambda data: zstandard.ZstdCompressor().compress(data),
    "lz4": lambda data: bytes(lz4.frame.compress(data)),
}
NET_C = b"#include <string.h>\nvoid f(char *d, char *s) { strcpy(d, s); }\n"


def kinds(result: IngestResult) -> dict[str, FileKind]:
    """Path -> kind of every inventoried file."""
    return {f.path: f.kind for f in result.files}


def newc(name: str, data: bytes = b"", mode: int = 0o100644) -> bytes:
    """One ``newc`` cpio entry (header, name and data, each padded to 4 bytes)."""
    fields = [1, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name) + 1, 0]
    header = b"070701" + b"".join(b"%08x" % value for value in fields)
    named = header + name.encode() + b"\0"
    named += b"\0" * (-len(named) % 4)
    return named + data + b"\0" * (-len(data) % 4)


def initrd() -> bytes:
    """A small newc cpio archive: a directory, a text file and the trailer."""
    return newc("etc", mode=0o040755) + newc("etc/hostname", b"router\n") + newc("TRAILER!!!")


def uimage(payload: bytes, compression: int, image_type: int = 3, data_crc: int = -1) -> bytes:
    """A U-Boot legacy image (``image.h``): header with both CRCs, then ``payload``."""
    crc = zlib.crc32(payload) if data_crc < 0 else data_crc
    name = b"assay test image".ljust(32, b"\0")
    fields = [0x27051956, 0, int(time.time()), len(payload), 0x80008000, 0x80008000, crc]
    fields += [5, 2, image_type, compression]  # Linux, ARM
    header = struct.pack(">7I4B32s", *fields, name)
    header_crc = zlib.crc32(header)
    return header[:4] + header_crc.to_bytes(4, "big") + header[8:] + payload


@pytest.mark.parametrize("suffix", sorted(COMPRESSORS))
def test_compressed_ext_image_is_unpacked_as_an_image(tmp_path: Path, suffix: str) -> None:
    need_sandbox()
    box = sandbox(tmp_path)
    root = tmp_path / "rootfs"
    (root / "etc").mkdir(parents=True)
    (root / "etc/motd").write_text("welcome\n")
    image = ext4(root, tmp_path / "rootfs.ext2")
    name = f"rootfs.ext2.{suffix}"
    (box.inputs / name).write_bytes(COMPRESSORS[suffix](image.read_bytes()))
    result = box.ingest(box.inputs, LIMITS)
    assert kinds(result) == {
        name: FileKind.ARCHIVE,
        f"{name}!/rootfs.ext2": FileKind.ARCHIVE,
        f"{name}!/rootfs.ext2!/etc/motd": FileKind.TEXT,
    }
    assert result.skipped == ()
    [ext] = [file for file in result.files if file.path.endswith("!/rootfs.ext2")]
    assert ext.read_bytes() == image.read_bytes()


def test_compressed_tar_cpio_and_plain_files_are_opened_as_what_they_hold(
    tmp_path: Path,
) -> None:
    box = sandbox(tmp_path)
    tar = tar_bytes([member("src/net.c", NET_C)])
    files = {
        "vendor-src.tar.zst": COMPRESSORS["zst"](tar),
        "vendor-src.tlz": COMPRESSORS["lzma"](tar),
        "initrd.cpio.lz4": COMPRESSORS["lz4"](initrd()),
        "initrd.cpio.xz": COMPRESSORS["xz"](initrd()),
        "net.c.bz2": COMPRESSORS["bz2"](NET_C),
        "README.gz": COMPRESSORS["gz"](b"read me\n"),
        "blob.gz": COMPRESSORS["gz"](b"\0\1\2" * 100),  # no suffix to drop: the name is kept
    }
    for name, data in files.items():
        (box.inputs / name).write_bytes(data)
    result = box.ingest(box.inputs)
    assert kinds(result) == {
        "README.gz": FileKind.ARCHIVE,
        "README.gz!/README": FileKind.TEXT,
        "blob.gz": FileKind.ARCHIVE,
        "blob.gz!/blob": FileKind.OTHER,
        "initrd.cpio.lz4": FileKind.ARCHIVE,
        "initrd.cpio.lz4!/etc/hostname": FileKind.TEXT,
        "initrd.cpio.xz": FileKind.ARCHIVE,
        "initrd.cpio.xz!/etc/hostname": FileKind.TEXT,
        "net.c.bz2": FileKind.ARCHIVE,
        "net.c.bz2!/net.c": FileKind.C,
        "vendor-src.tar.zst": FileKind.ARCHIVE,
        "vendor-src.tar.zst!/src/net.c": FileKind.C,
        "vendor-src.tlz": FileKind.ARCHIVE,
        "vendor-src.tlz!/src/net.c": FileKind.C,
    }
    assert result.skipped == ()
    [net] = [file for file in result.files if file.path == "net.c.bz2!/net.c"]
    assert net.read_bytes() == NET_C


def test_compressed_file_as_the_input_is_its_only_member(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    (box.inputs / "net.c.zst").write_bytes(COMPRESSORS["zst"](NET_C))
    result = box.ingest(box.inputs / "net.c.zst")
    assert kinds(result) == {"net.c": FileKind.C} and result.skipped == ()
    assert result.input.kind == "archive"


def zeros_bomb(suffix: str, mebibytes: int) -> bytes:
    """``mebibytes`` MiB of zeros compressed a MiB at a time (never held whole here)."""
    zeros = bytes(1 << 20)
    if suffix == "lz4":
        lz4_writer = lz4.frame.LZ4FrameCompressor()
        parts = [lz4_writer.begin(), *(lz4_writer.compress(zeros) for _ in range(mebibytes))]
        return b"".join([*parts, lz4_writer.flush()])
    if suffix == "zst":
        out = io.BytesIO()
        with zstandard.ZstdCompressor().stream_writer(out, closefd=False) as zstd_writer:
            for _ in range(mebibytes):
                zstd_writer.write(zeros)
        return out.getvalue()
    gzip_writer = zlib.compressobj(1, zlib.DEFLATED, 31)  # 31: with a gzip header and trailer
    parts = [gzip_writer.compress(zeros) for _ in range(mebibytes)]
    return b"".join([*parts, gzip_writer.flush()])


# zstd and lz4 expand past the child's 1 GiB memory cap: only bounded reads get through.
@pytest.mark.parametrize(("suffix", "mebibytes"), [("zst", 1536), ("lz4", 1536), ("gz", 256)])
def test_compressed_file_bomb_stops_at_the_ratio_cap(
    tmp_path: Path, suffix: str, mebibytes: int
) -> None:
    box = sandbox(tmp_path)
    (box.inputs / f"zeros.img.{suffix}").write_bytes(zeros_bomb(suffix, mebibytes))
    before = box.outside()
    result = run_bounded(INGEST, input=str(box.inputs), work=str(box.work))
    assert box.outside() == before
    size = (box.inputs / f"zeros.img.{suffix}").stat().st_size
    assert result["files"] == [[f"zeros.img.{suffix}", size]]  # the cut member is deleted
    [(path, stage, reason, detail)] = result["skipped"]
    assert (path, stage, reason) == (f"zeros.img.{suffix}", "ingest", "bomb-ratio")
    assert "at member 'zeros.img'" in detail and "> cap 200" in detail


def test_truncated_compressed_file_is_corrupt_and_nothing_is_kept(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    whole = COMPRESSORS["xz"](random.Random(16).randbytes(64 << 10))  # its head still decodes
    (box.inputs / "data.bin.xz").write_bytes(whole[: len(whole) // 2])
    result = box.ingest(box.inputs)
    assert list(kinds(result)) == ["data.bin.xz"]
    [record] = result.skipped
    assert (record.path, record.stage, record.reason) == (
        "data.bin.xz",
        "ingest",
        "corrupt-archive",
    )
    assert record.detail.startswith("at member 'data.bin': ")
    assert record.detail.endswith("; 0 files before it kept, the one cut short deleted")
    assert box.work_files() == []


def test_uimage_payload_is_opened_through_the_compressed_stream_path(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    (box.inputs / "uInitrd").write_bytes(uimage(gzip.compress(initrd()), compression=1))
    (box.inputs / "uScript").write_bytes(uimage(b"setenv bootargs quiet\n", 0, image_type=6))
    (box.inputs / "uKernel.lzma").write_bytes(uimage(COMPRESSORS["lzma"](b"k" * 999), 3, 2))
    result = box.ingest(box.inputs)
    assert kinds(result) == {
        "uInitrd": FileKind.ARCHIVE,
        "uInitrd!/ramdisk": FileKind.ARCHIVE,
        "uInitrd!/ramdisk!/etc/hostname": FileKind.TEXT,
        "uKernel.lzma": FileKind.ARCHIVE,
        "uKernel.lzma!/kernel": FileKind.TEXT,
        "uScript": FileKind.ARCHIVE,
        "uScript!/script": FileKind.TEXT,
    }
    assert result.skipped == ()


def test_uimage_that_is_not_opened_says_why(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    (box.inputs / "lzo.uImage").write_bytes(uimage(b"\x89LZO\0\r\n\x1a\n" + bytes(60), 4))
    (box.inputs / "multi.uImage").write_bytes(uimage(bytes(16), 0, image_type=4))
    (box.inputs / "bad-crc.uImage").write_bytes(uimage(b"text\n", 0, data_crc=1))
    (box.inputs / "short.uImage").write_bytes(uimage(b"text\n" * 10, 0)[:-20])
    result = box.ingest(box.inputs)
    assert kinds(result) == dict.fromkeys(
        ["bad-crc.uImage", "lzo.uImage", "multi.uImage", "short.uImage"], FileKind.ARCHIVE
    )
    assert [(s.path, s.stage, s.reason) for s in result.skipped] == [
        ("bad-crc.uImage", "ingest", "corrupt-archive"),
        ("lzo.uImage", "ingest", "missing-tool"),
        ("multi.uImage", "ingest", "unsupported-container"),
        ("short.uImage", "ingest", "corrupt-archive"),
    ]
    details = [s.detail for s in result.skipped]
    assert "data CRC" in details[0] and "lzo payload" in details[1]
    assert "multi-file" in details[2] and "runs past the end" in details[3]
    assert box.work_files() == []


def fdt(*nodes: str) -> bytes:
    """A flattened device tree whose root holds the empty nodes ``nodes`` (FDT version 17)."""
    structure = struct.pack(">II", 1, 0)  # FDT_BEGIN_NODE "" (the root)
    for node in nodes:
        name = node.encode() + b"\0"
        structure += struct.pack(">I", 1) + name + b"\0" * (-len(name) % 4)
        structure += struct.pack(">I", 2)  # FDT_END_NODE
    structure += struct.pack(">II", 2, 9)  # FDT_END_NODE, FDT_END
    start = 40 + 16  # header, then an empty memory reservation map
    total = start + len(structure)
    header = struct.pack(">10I", 0xD00DFEED, total, start, total, 40, 17, 16, 0, 0, len(structure))
    return header + bytes(16) + structure


def romfs() -> bytes:
    """A romfs superblock, its checksum making the first 512 bytes sum to 0 as words."""
    image = bytearray(b"-rom1fs-" + (1024).to_bytes(4, "big") + bytes(4) + b"assay\0".ljust(16))
    image += bytes(1024 - len(image))
    total = sum(struct.unpack(">128I", image[:512]))
    image[12:16] = (-total & 0xFFFFFFFF).to_bytes(4, "big")
    return bytes(image)


def bzimage() -> bytes:
    """The start of an x86 bzImage: boot sector signature, then ``HdrS`` at 0x202."""
    image = bytearray(0x400)
    image[0x1FE:0x200] = b"\x55\xaa"
    image[0x202:0x208] = b"HdrS\x0f\x02"  # boot protocol 2.15
    return bytes(image)


def zimage() -> bytes:
    """The start of an ARM zImage: nops, the magic at 0x24, start and end addresses."""
    head = b"\x00\x00\xa0\xe1" * 9 + struct.pack("<III", 0x016F2818, 0, 0x4000)
    return head + bytes(0x100)


def trx() -> bytes:
    """A TRX v1 header (Broadcom): magic, length, CRC, flags and version, partition offsets."""
    return b"HDR0" + struct.pack("<IIHH3I", 64, 0, 0, 1, 28, 32, 48) + bytes(36)


def squashfs_variant() -> bytes:
    """A squashfs 4 superblock under a vendor magic (``shsq``), which unsquashfs refuses."""
    block = bytearray(96)
    block[:4] = b"shsq"
    block[12:16] = (1 << 17).to_bytes(4, "little")
    block[22:24] = (17).to_bytes(2, "little")
    block[28:30] = (4).to_bytes(2, "little")
    return bytes(block)


def binary_cpio(tmp_path: Path) -> bytes:
    """An old binary cpio archive, written by ``cpio -H bin``."""
    (tmp_path / "cpio-root").mkdir()
    (tmp_path / "cpio-root/hostname").write_text("router\n")
    done = subprocess.run(
        [tool("cpio"), "-o", "-H", "bin", "--quiet"],
        cwd=tmp_path / "cpio-root",
        input=b"hostname\n",
        capture_output=True,
        check=True,
    )
    return done.stdout


def test_containers_not_opened_each_get_a_skipped_record(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    built = {
        "bzImage": (bzimage(), ArchiveFormat.BZIMAGE),
        "zImage": (zimage(), ArchiveFormat.ZIMAGE),
        "firmware.trx": (trx(), ArchiveFormat.TRX),
        "archive.7z": (b"7z\xbc\xaf\x27\x1c\x00\x04" + bytes(24), ArchiveFormat.SEVEN_ZIP),
        "rootfs.romfs": (romfs(), ArchiveFormat.ROMFS),
        "initrd.bin.cpio": (binary_cpio(tmp_path), ArchiveFormat.CPIO_BINARY),
        "initrd.lz4": (b"\x02\x21\x4c\x18" + bytes(12), ArchiveFormat.LZ4_LEGACY),
        "rootfs.lzo": (b"\x89LZO\x00\r\n\x1a\n" + bytes(40), ArchiveFormat.LZO),
        "rootfs.sqsh": (squashfs_variant(), ArchiveFormat.SQUASHFS_VARIANT),
    }
    for name, (data, _) in built.items():
        (box.inputs / name).write_bytes(data)
    (box.inputs / "board.dtb").write_bytes(fdt("cpus", "memory"))  # a plain device tree
    result = box.ingest(box.inputs)
    expected = dict.fromkeys(built, FileKind.ARCHIVE) | {"board.dtb": FileKind.OTHER}
    expected["initrd.bin.cpio!/hostname"] = FileKind.TEXT  # the real one: unblob reads it
    assert kinds(result) == dict(sorted(expected.items()))
    # the others are headers alone: each is named as not unpacked, none is dropped in silence
    records = {s.path: s for s in result.skipped}
    assert set(records) == set(built) - {"initrd.bin.cpio"}
    for name, record in records.items():
        assert record.reason in ("unsupported-container", "missing-tool", "image-errors"), name
        assert record.detail.startswith(str(built[name][1])), record


def test_unopened_container_as_the_input_is_an_error_that_says_why(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    (box.inputs / "bzImage").write_bytes(bzimage())
    with pytest.raises(IngestError, match=r"bzImage.*bzimage recognised.*not unpacked"):
        box.ingest(box.inputs / "bzImage")


@pytest.mark.parametrize(
    "head",
    [
        b"HDR0 is the TRX magic\n" + b" " * 600,
        b"-rom1fs- is the romfs magic\n" + b" " * 600,
        b"shsq: a squashfs variant\n" + b" " * 100,
        b"hsqs: notes on squashfs\n" + b" " * 100,
        b"7z\xbc\xaf\x27\x1c" + b"\x01" * 20,
        fdt("cpus", "memory"),
        b"\x27\x05\x19\x56" + bytes(60),  # U-Boot magic, wrong header CRC
    ],
)
def test_text_and_data_that_look_like_container_magic(head: bytes) -> None:
    assert archive_format(head) is None
