"""Firmware inputs: cpio initramfs (built with the cpio tool, and hostile ones by hand), ELF of
every common architecture, static libraries and objects, busybox-style link farms, a lone
binary as input, and an initramfs evaluated end to end. Nothing is written outside the work
area (the ``ingest_support`` sandbox checks every ingest)."""

from __future__ import annotations

import gzip
import json
import lzma
import os
import random
import shutil
import subprocess
import time
from pathlib import Path

import jsonschema
import pytest
from elftools.elf.elffile import ELFFile
from ingest_support import sandbox

from assay.ingest import ArchiveLimits, IngestResult
from assay.ingest.classify import archive_format, classify
from assay.model import FileKind, Skipped
from support import run_evaluation

LIMITS = ArchiveLimits(max_total_bytes=4 << 20, max_ratio=50.0, max_files=100, max_depth=3)
COPY_C = "#include <string.h>\nvoid f(char *d, char *s) { strcpy(d, s); }\n"
HELLO_C = b'#include <stdio.h>\nint main(void) { puts("hi"); return 0; }\n'
ADD_C = b"int add(int a, int b) { return a + b; }\n"
TOOLS = {
    "cpio": "cpio",
    "gcc": "gcc",
    "ar": "binutils",
    "llvm-mc": "llvm",
    "mips-linux-gnu-gcc": "gcc-mips-linux-gnu",
    "powerpc-linux-gnu-gcc": "gcc-powerpc-linux-gnu",
}
SCHEMA = Path(__file__).parents[2] / "src/assay/schemas/evaluation.schema.json"


def tool(name: str) -> str:
    """The path of a tool the test drives; fails (never skips) when it is not installed."""
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed (Debian: apt-get install {TOOLS[name]})")
    return found


def kinds(result: IngestResult) -> dict[str, FileKind]:
    """Path -> kind of every inventoried file."""
    return {f.path: f.kind for f in result.files}


def reasons(result: IngestResult) -> list[tuple[str, str]]:
    """(path, reason) of every skipped record, in order."""
    return [(s.path, s.reason) for s in result.skipped]


def cpio_of(cwd: Path, names: list[str], fmt: str = "newc") -> bytes:
    """``cpio -o -H fmt`` of ``names`` (taken as given, relative to ``cwd``)."""
    listing = "".join(f"{name}\n" for name in names).encode()
    done = subprocess.run(
        [tool("cpio"), "-o", "-H", fmt, "--quiet"],
        cwd=cwd,
        input=listing,
        capture_output=True,
        check=True,
    )
    return done.stdout


def initramfs(root: Path) -> Path:
    """A small initramfs tree: an ELF and its hard link, text, and links in and out."""
    for folder in ("bin", "etc", "sbin"):
        (root / folder).mkdir(parents=True)
    (root.parent / "hello.c").write_bytes(HELLO_C)
    hello = str(root.parent / "hello.c")
    subprocess.run([tool("gcc"), "-o", str(root / "bin/busybox"), hello], check=True)
    os.link(root / "bin/busybox", root / "sbin/init")
    (root / "etc/hostname").write_text("router\n")
    os.symlink("busybox", root / "bin/sh")
    os.symlink("/etc/passwd", root / "etc/passwd")
    os.symlink("../../../outside", root / "etc/up")
    return root


NAMES = [".", "bin", "bin/busybox", "bin/sh", "etc", "etc/hostname", "etc/passwd", "etc/up"]
NAMES += ["sbin", "sbin/init"]
LINKS = [
    ("bin/sh", "link", "symlink -> busybox"),
    ("etc/passwd", "link-outside", "symlink -> /etc/passwd"),
    ("etc/up", "link-outside", "symlink -> ../../../outside"),
]


@pytest.mark.parametrize("fmt", ["newc", "crc", "odc"])
@pytest.mark.parametrize("compress", ["", "gz", "xz"])
def test_initramfs_in_every_cpio_format(tmp_path: Path, fmt: str, compress: str) -> None:
    box = sandbox(tmp_path)
    root = initramfs(tmp_path / "rootfs")
    data = cpio_of(root, NAMES, fmt)
    packed = {"": bytes, "gz": gzip.compress, "xz": lzma.compress}[compress](data)
    image = box.inputs / "initrd.img"  # the format comes from the magic, not the name
    image.write_bytes(packed)
    result = box.ingest(image, LIMITS)
    expected = {"etc/hostname": FileKind.TEXT, "sbin/init": FileKind.ELF}
    records = [Skipped(p, "ingest", r, d) for p, r, d in LINKS]
    if fmt == "odc":  # odc stores the bytes with every name of a hard link
        expected["bin/busybox"] = FileKind.ELF
    else:  # newc and crc store them once, with the last name
        records.insert(0, Skipped("bin/busybox", "ingest", "link", "hard link -> sbin/init"))
    assert kinds(result) == expected
    assert list(result.skipped) == records
    elf = next(f for f in result.files if f.kind is FileKind.ELF)
    assert elf.read_bytes() == (root / "bin/busybox").read_bytes()
    assert Path(elf.disk_path).is_relative_to(box.work.resolve())


def newc(name: str, data: bytes = b"", mode: int = 0o100644, ino: int = 1) -> bytes:
    """One newc entry written by hand, for what the cpio tool will not produce."""
    encoded = name.encode() + b"\0"
    fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, 5, 1, len(encoded), 0]
    header = b"070701" + b"".join(b"%08X" % value for value in fields)
    pad = b"\0" * (-(len(header) + len(encoded)) % 4)
    return header + encoded + pad + data + b"\0" * (-len(data) % 4)


TRAILER = newc("TRAILER!!!", ino=0, mode=0)


def test_hostile_cpio_names_links_and_devices(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    canary = tmp_path / "canary"
    canary.mkdir()
    work = tmp_path / "build" / "sub"
    work.mkdir(parents=True)
    (tmp_path / "build" / "evil").write_text("pwned\n")
    (work / "ok").write_text("fine\n")
    absolute = str(tmp_path / "build" / "evil")
    made = cpio_of(work, ["ok", "../evil", absolute])  # the cpio tool keeps names as given
    assert made.endswith(b"\0") and b"../evil\0" in made
    crafted = [
        newc("dev/console", mode=0o020600, ino=7),
        newc("dev/sda", mode=0o060600, ino=8),
        newc("run/fifo", mode=0o010600, ino=9),
        newc("etc/shadow", str(canary / "planted").encode(), mode=0o120777, ino=10),
    ]
    archive = box.inputs / "initramfs.cpio"
    archive.write_bytes(strip_trailer(made) + b"".join(crafted) + TRAILER)
    result = box.ingest(archive, LIMITS)
    assert kinds(result) == {"ok": FileKind.TEXT}
    assert list(result.skipped) == sorted(
        [
            Skipped("../evil", "ingest", "archive-escape", "file name refused"),
            Skipped(absolute, "ingest", "absolute-path", "file name refused"),
            Skipped("dev/console", "ingest", "special-file", "character device"),
            Skipped("dev/sda", "ingest", "special-file", "block device"),
            Skipped("etc/shadow", "ingest", "link-outside", f"symlink -> {canary}/planted"),
            Skipped("run/fifo", "ingest", "special-file", "fifo"),
        ],
        key=lambda s: s.path,
    )
    assert list(canary.iterdir()) == []
    assert [p.read_bytes() for p in box.work_files()] == [b"fine\n"]
    assert (tmp_path / "build" / "evil").read_text() == "pwned\n"


def strip_trailer(archive: bytes) -> bytes:
    """A newc archive without its trailer entry and padding, so that entries can follow."""
    return archive[: archive.rindex(b"070701")]


def test_cpio_gz_bomb_stops_at_the_ratio_cap(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    zeros = newc("data/zeros.bin", bytes(64 << 20))
    archive = box.inputs / "initramfs.cpio.gz"
    archive.write_bytes(gzip.compress(newc("ok.txt", b"kept\n") + zeros + TRAILER, 1))
    assert archive.stat().st_size < 1 << 20
    result = box.ingest(archive, ArchiveLimits(max_ratio=20.0))
    assert kinds(result) == {"ok.txt": FileKind.TEXT}
    (record,) = result.skipped
    assert (record.path, record.reason) == ("", "bomb-ratio")
    assert "at member 'data/zeros.bin'" in record.detail
    assert [p.stat().st_size for p in box.work_files()] == [5]  # the cut-short file is gone


def test_cpio_bomb_by_total_size_inside_a_directory(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    (box.inputs / "boot").mkdir()
    payload = newc("a.bin", random.Random(106).randbytes(3 << 20)) + newc(
        "b.bin", random.Random(107).randbytes(3 << 20)
    )
    (box.inputs / "boot" / "initrd.cpio").write_bytes(payload + TRAILER)
    result = box.ingest(box.inputs, LIMITS)
    assert kinds(result) == {
        "boot/initrd.cpio": FileKind.ARCHIVE,
        "boot/initrd.cpio!/a.bin": FileKind.OTHER,
    }
    assert reasons(result) == [("boot/initrd.cpio", "bomb-total-size")]


def test_concatenated_initramfs_and_trailing_data(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    early = newc("kernel/x86/microcode/GenuineIntel.bin", b"\x01\x00\x00\x00ucode") + TRAILER
    main = newc("init", b"#!/bin/sh\n", mode=0o100755, ino=2) + TRAILER
    (box.inputs / "both.cpio").write_bytes(early + b"\0" * 512 + main)
    # mtime=0: the gzip header is part of the detail, and a clock byte could be a quote
    (box.inputs / "mixed.cpio").write_bytes(early + gzip.compress(main, mtime=0))
    result = box.ingest(box.inputs, LIMITS)
    assert kinds(result) == {
        "both.cpio": FileKind.ARCHIVE,
        "both.cpio!/init": FileKind.TEXT,
        "both.cpio!/kernel/x86/microcode/GenuineIntel.bin": FileKind.OTHER,
        "mixed.cpio": FileKind.ARCHIVE,
        "mixed.cpio!/kernel/x86/microcode/GenuineIntel.bin": FileKind.OTHER,
    }
    (record,) = result.skipped
    assert (record.path, record.reason) == ("mixed.cpio", "trailing-data")
    assert record.detail.startswith("b'\\x1f\\x8b\\x08")


def test_truncated_cpio_keeps_what_came_before(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    whole = newc("a.txt", b"first\n") + newc("b.txt", b"second file\n", ino=2) + TRAILER
    (box.inputs / "cut.cpio").write_bytes(whole[: len(newc("a.txt", b"first\n")) + 120])
    result = box.ingest(box.inputs, LIMITS)
    assert kinds(result) == {"cut.cpio": FileKind.ARCHIVE, "cut.cpio!/a.txt": FileKind.TEXT}
    (record,) = result.skipped
    assert (record.path, record.reason) == ("cut.cpio", "corrupt-archive")
    assert record.detail == (
        "at member 'b.txt': archive ends inside member data at byte 244;"
        " 1 file before it kept, the one cut short deleted"
    )


# Every common architecture and byte order: (file, llvm-mc triple, e_machine, little endian).
ARCHES = [
    ("x86_64.o", "x86_64-linux-gnu", "EM_X86_64", True),
    ("i386.o", "i386-linux-gnu", "EM_386", True),
    ("arm.o", "armv7-linux-gnueabihf", "EM_ARM", True),
    ("armeb.o", "armebv7-linux-gnueabi", "EM_ARM", False),
    ("aarch64.o", "aarch64-linux-gnu", "EM_AARCH64", True),
    ("mips.o", "mips-linux-gnu", "EM_MIPS", False),
    ("mipsel.o", "mipsel-linux-gnu", "EM_MIPS", True),
    ("ppc.o", "powerpc-linux-gnu", "EM_PPC", False),
    ("ppc64le.o", "powerpc64le-linux-gnu", "EM_PPC64", True),
    ("s390x.o", "s390x-linux-gnu", "EM_S390", False),
    ("riscv64.o", "riscv64-linux-gnu", "EM_RISCV", True),
]


def binaries(root: Path) -> dict[str, tuple[str, bool]]:
    """Real objects for every architecture, executables from the installed compilers, and a
    static library; returns file -> (e_machine, little endian) for the ELF files."""
    root.mkdir(parents=True)
    (root / "empty.s").write_text("\t.text\n")
    expected: dict[str, tuple[str, bool]] = {}
    for name, triple, machine, little in ARCHES:
        argv = [tool("llvm-mc"), f"-triple={triple}", "-filetype=obj", "empty.s", "-o", name]
        subprocess.run(argv, cwd=root, check=True)
        expected[name] = (machine, little)
    (root / "add.c").write_bytes(ADD_C)
    (root / "hello.c").write_bytes(HELLO_C)
    compilers = [
        ("gcc", ["-o", "hello"], "hello", "EM_X86_64", True),
        ("gcc", ["-c", "-o", "add.o"], "add.o", "EM_X86_64", True),
        ("mips-linux-gnu-gcc", ["-c", "-o", "add-mips.o"], "add-mips.o", "EM_MIPS", False),
        (
            "mips-linux-gnu-gcc",
            ["-EL", "-c", "-o", "add-mipsel.o"],
            "add-mipsel.o",
            "EM_MIPS",
            True,
        ),
        ("powerpc-linux-gnu-gcc", ["-c", "-o", "add-ppc.o"], "add-ppc.o", "EM_PPC", False),
    ]
    for compiler, flags, out, machine, little in compilers:
        source = "hello.c" if out == "hello" else "add.c"
        subprocess.run([tool(compiler), *flags, source], cwd=root, check=True)
        expected[out] = (machine, little)
    subprocess.run([tool("ar"), "rcs", "libadd.a", "add.o", "add-mips.o"], cwd=root, check=True)
    return expected


def test_elf_of_every_architecture_static_libraries_and_objects(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    expected = binaries(box.inputs / "fw")
    for name, (machine, little) in expected.items():  # the inputs are what they claim to be
        with open(box.inputs / "fw" / name, "rb") as stream:
            elf = ELFFile(stream)
            assert (elf["e_machine"], elf.little_endian) == (machine, little), name
    archive = box.inputs / "fw.cpio"
    archive.write_bytes(cpio_of(box.inputs / "fw", [*sorted(expected), "libadd.a"]))
    result = box.ingest(box.inputs, LIMITS)
    found = kinds(result)
    for name in expected:
        assert found[f"fw/{name}"] is FileKind.ELF, name
        assert found[f"fw.cpio!/{name}"] is FileKind.ELF, name
    assert found["fw/libadd.a"] is FileKind.OTHER
    assert found["fw.cpio!/libadd.a"] is FileKind.OTHER
    assert found["fw/empty.s"] is FileKind.TEXT


def test_text_only_static_library_is_still_other(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    (box.inputs / "notes.txt").write_text("no NUL byte here\n")
    subprocess.run([tool("ar"), "rcs", "libnotes.a", "notes.txt"], cwd=box.inputs, check=True)
    assert b"\0" not in (box.inputs / "libnotes.a").read_bytes()
    result = box.ingest(box.inputs, LIMITS)
    assert kinds(result) == {"libnotes.a": FileKind.OTHER, "notes.txt": FileKind.TEXT}


def test_a_lone_binary_is_an_input(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    (tmp_path / "hello.c").write_bytes(HELLO_C)
    binary = box.inputs / "httpd"
    subprocess.run([tool("gcc"), "-o", str(binary), str(tmp_path / "hello.c")], check=True)
    result = box.ingest(binary, LIMITS)
    assert (result.input.name, result.input.kind) == ("httpd", "file")
    (file,) = result.files
    assert (file.path, file.kind, file.size) == ("httpd", FileKind.ELF, binary.stat().st_size)
    assert result.skipped == () and not box.work.exists()


def test_busybox_link_farm_is_recorded_link_by_link(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    root = box.inputs / "rootfs"
    (root / "bin").mkdir(parents=True)
    (root / "bin" / "busybox").write_bytes(b"\x7fELF\x01\x02\x01" + b"\0" * 60)
    for number in range(2000):
        os.symlink("/bin/busybox", root / "bin" / f"applet{number:04}")
    started = time.perf_counter()
    result = box.ingest(root, LIMITS)
    print(f"2000 links walked in {time.perf_counter() - started:.3f} s")
    assert kinds(result) == {"bin/busybox": FileKind.ELF}
    assert result.links == 2000 and len(result.skipped) == 2000
    assert {(s.reason, s.detail) for s in result.skipped} == {("symlink", "-> /bin/busybox")}


def test_initramfs_evaluated_end_to_end(tmp_path: Path) -> None:
    canary = tmp_path / "canary"
    canary.mkdir()
    root = initramfs(tmp_path / "rootfs")
    os.symlink(str(canary / "planted"), root / "etc/canary")
    (root / "etc/rc.c").write_text(
        "#include <string.h>\nvoid f(char *d, char *s) { strcpy(d, s); }\n"
    )
    source = tmp_path / "in" / "initramfs.cpio.gz"
    source.parent.mkdir()
    source.write_bytes(gzip.compress(cpio_of(root, [*NAMES, "etc/canary", "etc/rc.c"])))
    run = run_evaluation(source, tmp_path / "out")
    report = run.json()
    jsonschema.validate(report, json.loads(SCHEMA.read_text()))
    assert report["input"]["kind"] == "archive"
    assert report["inventory"]["by_kind"]["elf"] == 1
    skipped = {(s["path"], s["reason"]) for s in report["skipped"]}
    assert {("etc/canary", "link-outside"), ("etc/passwd", "link-outside")} <= skipped
    assert any(f["path"] == "etc/rc.c" for f in run.findings("unsafe-calls"))
    assert list(canary.iterdir()) == []


@pytest.mark.parametrize(
    "head",
    [
        b"070701 is the newc magic, but this is a note about it\n",
        b"070707" + b"9" * 70 + b"\n",  # odc fields are octal digits
        b"hsqs: notes on squashfs\n",
        b"UBI# is the UBI magic\n",
        b"\x85\x19\x01\xe0" + b"\0" * 8,  # JFFS2 magic and node type, wrong header CRC
    ],
)
def test_text_and_data_that_look_like_firmware_magic(head: bytes) -> None:
    assert archive_format(head) is None
    assert classify("notes", head) in (FileKind.TEXT, FileKind.OTHER)
