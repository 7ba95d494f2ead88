"""File-system images built here with the real tools (mksquashfs, mkfs.cramfs, mke2fs) and
unpacked by their extractors in the sandbox: the right files and kinds, links recorded and
never followed, hostile images refused with the extractor's own reason, bombs stopped, and
nothing written outside the work area (the ``ingest_support`` sandbox checks every ingest)."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import zlib
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest
from ingest_support import Sandbox, member, sandbox, write_tar

from assay import sandbox as bwrap
from assay.ingest import ArchiveLimits, IngestResult
from assay.ingest.tree import skip_key
from assay.model import FileKind, Skipped
from support import run_evaluation

LIMITS = ArchiveLimits(max_total_bytes=4 << 20, max_ratio=50.0, max_files=100, max_depth=3)
TOOLS = {
    "mksquashfs": "squashfs-tools",
    "unsquashfs": "squashfs-tools",
    "mkfs.cramfs": "util-linux",
    "fsck.cramfs": "util-linux",
    "mke2fs": "e2fsprogs",
    "debugfs": "e2fsprogs",
    "gcc": "gcc",
}
SCHEMA = Path(__file__).parents[2] / "src/assay/schemas/evaluation.schema.json"
COPY_C = "#include <string.h>\nvoid f(char *d, char *s) { strcpy(d, s); }\n"
HELLO_C = b'#include <stdio.h>\nint main(void) { puts("hi"); return 0; }\n'


def tool(name: str) -> str:
    """The path of a tool the test drives; fails (never skips) when it is not installed."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if found is None:
        pytest.fail(f"{name} is not installed (Debian: apt-get install {TOOLS[name]})")
    return found


def need_sandbox() -> None:
    """Image extraction runs in bwrap; without it the tests cannot show anything."""
    problem = bwrap.available()
    if problem is not None:
        pytest.fail(f"the extraction sandbox does not work here: {problem}")


def rootfs(root: Path, canary: Path) -> Path:
    """A small firmware root: an ELF (compiled, never run), text, and every kind of link."""
    for folder in ("bin", "dev", "etc", "usr/lib", "lib"):
        (root / folder).mkdir(parents=True)
    source = root.parent / "hello.c"
    source.write_bytes(HELLO_C)
    subprocess.run([tool("gcc"), "-o", str(root / "bin/hello"), str(source)], check=True)
    (root / "etc/motd").write_text("welcome\n")
    (root / "lib/libx.so").write_bytes(b"\x7fELF\x01\x01\x01" + b"\0" * 60)
    os.symlink("/bin/busybox", root / "bin/sh")
    os.symlink("/etc/passwd", root / "etc/passwd")
    os.symlink(str(canary / "planted"), root / "etc/canary")
    os.symlink("loop2", root / "etc/loop1")
    os.symlink("loop1", root / "etc/loop2")
    os.symlink("../../lib/libx.so", root / "usr/lib/libx.so")
    os.symlink("../../../../escape", root / "usr/lib/up")
    return root


def fresh(tmp_path: Path) -> tuple[Sandbox, Path, Path]:
    """A sandbox, a canary directory outside the work area, and a root file system."""
    need_sandbox()
    box = sandbox(tmp_path)
    canary = tmp_path / "canary"
    canary.mkdir()
    return box, canary, rootfs(tmp_path / "rootfs", canary)


def squashfs(root: Path, image: Path, *pseudo: str) -> Path:
    """``mksquashfs root image`` with pseudo-file definitions (``-p``)."""
    argv = [tool("mksquashfs"), str(root), str(image), "-noappend", "-quiet", "-no-progress"]
    for definition in pseudo:
        argv += ["-p", definition]
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    return image


def expected_records(prefix: str, canary: Path) -> list[Skipped]:
    """The links of ``rootfs``, as any image of it must record them."""
    rows = [
        ("bin/sh", "link-outside", "/bin/busybox"),
        ("etc/canary", "link-outside", str(canary / "planted")),
        ("etc/loop1", "link", "loop2"),
        ("etc/loop2", "link", "loop1"),
        ("etc/passwd", "link-outside", "/etc/passwd"),
        ("usr/lib/libx.so", "link", "../../lib/libx.so"),
        ("usr/lib/up", "link-outside", "../../../../escape"),
    ]
    return [Skipped(prefix + p, "ingest", r, f"symlink -> {t}") for p, r, t in rows]


def kinds(result: IngestResult) -> dict[str, FileKind]:
    """Path -> kind of every inventoried file."""
    return {f.path: f.kind for f in result.files}


def test_squashfs_input_is_unpacked_with_links_recorded(tmp_path: Path) -> None:
    box, canary, root = fresh(tmp_path)
    image = squashfs(root, box.inputs / "rootfs.sqfs", "dev/console c 600 0 0 5 1")
    result = box.ingest(image, LIMITS)
    assert result.input.kind == "archive"
    assert kinds(result) == {
        "bin/hello": FileKind.ELF,
        "etc/motd": FileKind.TEXT,
        "lib/libx.so": FileKind.ELF,
    }
    hello = next(f for f in result.files if f.path == "bin/hello")
    assert hello.read_bytes() == (root / "bin/hello").read_bytes()
    assert Path(hello.disk_path).is_relative_to(box.work.resolve())
    console = Skipped("dev/console", "ingest", "special-file", "character device")
    assert list(result.skipped) == sorted([console, *expected_records("", canary)], key=skip_key)
    assert result.links == 7
    assert list(canary.iterdir()) == []


def test_squashfs_inside_a_tar_is_unpacked_at_its_level(tmp_path: Path) -> None:
    box, canary, root = fresh(tmp_path)
    image = squashfs(root, tmp_path / "rootfs.sqfs")
    firmware = [member("fw/rootfs.sqfs", image.read_bytes()), member("fw/VERSION", b"1.2\n")]
    result = box.ingest(write_tar(box.inputs / "firmware.tar", firmware, "gz"), LIMITS)
    prefix = "fw/rootfs.sqfs!/"
    assert kinds(result) == {
        "fw/VERSION": FileKind.TEXT,
        "fw/rootfs.sqfs": FileKind.ARCHIVE,
        f"{prefix}bin/hello": FileKind.ELF,
        f"{prefix}etc/motd": FileKind.TEXT,
        f"{prefix}lib/libx.so": FileKind.ELF,
    }
    assert list(result.skipped) == expected_records(prefix, canary)
    assert list(canary.iterdir()) == []


def test_squashfs_below_max_depth_is_not_unpacked(tmp_path: Path) -> None:
    box, _, root = fresh(tmp_path)
    image = squashfs(root, tmp_path / "rootfs.sqfs")
    archive = write_tar(box.inputs / "firmware.tar", [member("rootfs.sqfs", image.read_bytes())])
    limits = ArchiveLimits(max_depth=1)
    result = box.ingest(archive, limits)
    assert kinds(result) == {"rootfs.sqfs": FileKind.ARCHIVE}
    assert [(s.path, s.reason) for s in result.skipped] == [("rootfs.sqfs", "nesting-depth")]


def rename_in_place(image: Path, old: bytes, new: bytes) -> None:
    """Overwrite a name in an image whose tables are stored uncompressed (``-noI``)."""
    data = image.read_bytes()
    assert data.count(old) == 1 and len(old) == len(new)
    image.write_bytes(data.replace(old, new))


def test_squashfs_with_a_dotdot_entry_is_refused_by_unsquashfs(tmp_path: Path) -> None:
    # mksquashfs will not store "..", so the name is written into the image by hand; unsquashfs
    # (>= 4.5) refuses such a name, and that refusal is what the record must carry.
    box, canary, root = fresh(tmp_path)
    (root / "QQ").write_text("pwned\n")
    image = box.inputs / "evil.sqfs"
    argv = [tool("mksquashfs"), str(root), str(image), "-noappend", "-quiet", "-noI", "-noD"]
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    rename_in_place(image, b"QQ", b"..")
    result = box.ingest(image, LIMITS)
    assert result.files == ()
    (record,) = result.skipped
    assert (record.path, record.reason) == ("", "image-rejected")
    assert "invalid characters in name" in record.detail
    assert box.work_files() == [] and list(canary.iterdir()) == []
    assert not (tmp_path / "pwned").exists() and not (box.root.parent / "QQ").exists()


def test_squashfs_bomb_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    box, _, root = fresh(tmp_path)
    zeros = f"zeros f 644 0 0 head -c {64 << 20} /dev/zero"
    image = squashfs(root, box.inputs / "bomb.sqfs", zeros)
    assert image.stat().st_size < 64 << 10
    result = box.ingest(image, LIMITS)
    assert result.files == ()
    (record,) = result.skipped
    assert (record.path, record.reason) == ("", "bomb-total-size")
    regular = [p for p in root.rglob("*") if p.is_file() and not p.is_symlink()]
    listed = (64 << 20) + sum(p.stat().st_size for p in regular)
    assert record.detail.startswith(f"{listed} bytes listed, 0 before > cap {4 << 20}")
    assert box.work_files() == []


def test_squashfs_bomb_by_ratio_inside_a_directory(tmp_path: Path) -> None:
    box, _, root = fresh(tmp_path)
    (box.inputs / "fw").mkdir()
    zeros = f"zeros f 644 0 0 head -c {32 << 20} /dev/zero"
    squashfs(root, box.inputs / "fw" / "rootfs.img", zeros)
    (box.inputs / "fw" / "notes.txt").write_text("kept\n")
    result = box.ingest(box.inputs, ArchiveLimits(max_ratio=100.0))
    assert kinds(result) == {"fw/notes.txt": FileKind.TEXT, "fw/rootfs.img": FileKind.ARCHIVE}
    (record,) = result.skipped
    assert (record.path, record.reason) == ("fw/rootfs.img", "bomb-ratio")


def ext4(root: Path, image: Path) -> Path:
    """``mke2fs -t ext4 -d root`` into a 4 MiB image."""
    argv = [tool("mke2fs"), "-q", "-F", "-t", "ext4", "-d", str(root), str(image), "4M"]
    subprocess.run(argv, check=True)
    return image


def cramfs(root: Path, image: Path, *options: str) -> Path:
    """``mkfs.cramfs [options] root image``."""
    subprocess.run([tool("mkfs.cramfs"), *options, str(root), str(image)], check=True)
    return image


def cramfs_big(root: Path, image: Path) -> Path:
    """A big-endian cramfs image, as MIPS and PowerPC firmware carries."""
    return cramfs(root, image, "-N", "big")


def cramfs_padded(root: Path, image: Path) -> Path:
    """A cramfs image whose superblock follows a 512-byte boot block."""
    return cramfs(root, image, "-p")


@pytest.mark.parametrize(
    "build", [ext4, cramfs, cramfs_big, cramfs_padded], ids=["ext4", "cramfs", "be", "padded"]
)
def test_ext4_and_cramfs_images(tmp_path: Path, build: Callable[[Path, Path], Path]) -> None:
    box, canary, root = fresh(tmp_path)
    image = build(root, box.inputs / "rootfs.img")
    result = box.ingest(image, LIMITS)
    assert kinds(result) == {
        "bin/hello": FileKind.ELF,
        "etc/motd": FileKind.TEXT,
        "lib/libx.so": FileKind.ELF,
    }
    for file in result.files:  # the bytes are the originals, block by block
        assert file.read_bytes() == (root / file.path).read_bytes()
    assert list(result.skipped) == expected_records("", canary)
    assert list(canary.iterdir()) == []


def patch_entry(image: Path, name: bytes, new_name: bytes, mode: int | None = None) -> None:
    """Rename a cramfs entry in place (names are stored uncompressed after their 12-byte
    inode) and optionally set its mode: what a hostile image holds and mkfs.cramfs never
    writes. Little-endian images only; the image CRC is not checked by the reader."""
    data = bytearray(image.read_bytes())
    at = data.index(name + b"\0")
    assert data.count(name + b"\0") == 1 and len(name) == len(new_name)
    data[at : at + len(name)] = new_name
    if mode is not None:
        data[at - 12 : at - 10] = mode.to_bytes(2, "little")
    image.write_bytes(bytes(data))


def test_hostile_cramfs_entries_are_refused_and_the_rest_is_read(tmp_path: Path) -> None:
    # fsck.cramfs --extract stops at the first device node it may not create; the Python
    # reader records it and goes on, and applies the archive name rules to every entry.
    box, canary, root = fresh(tmp_path)
    (root / "dev/console").write_bytes(b"")
    (root / "QQ").write_text("pwned\n")
    (root / "zz-last").write_text("read after the device\n")
    image = cramfs(root, box.inputs / "rootfs.img")
    patch_entry(image, b"console", b"console", mode=0o020600)
    patch_entry(image, b"QQ", b"..")
    result = box.ingest(image, LIMITS)
    assert kinds(result) == {
        "bin/hello": FileKind.ELF,
        "etc/motd": FileKind.TEXT,
        "lib/libx.so": FileKind.ELF,
        "zz-last": FileKind.TEXT,
    }
    hostile = [
        Skipped("..", "ingest", "archive-escape", "file name refused"),
        Skipped("dev/console", "ingest", "special-file", "character device"),
    ]
    assert list(result.skipped) == sorted([*hostile, *expected_records("", canary)], key=skip_key)
    assert list(canary.iterdir()) == [] and not (tmp_path / "pwned").exists()


def test_cramfs_bomb_stops_at_the_ratio_cap(tmp_path: Path) -> None:
    box, _, root = fresh(tmp_path)
    (root / "zeros").write_bytes(bytes(8 << 20))
    image = cramfs(root, box.inputs / "rootfs.img")
    result = box.ingest(image, ArchiveLimits(max_ratio=20.0))
    bombs = [s for s in result.skipped if s.reason.startswith("bomb")]
    assert [(s.path, s.reason) for s in bombs] == [("", "bomb-ratio")]
    assert "at member 'zeros'" in bombs[0].detail
    assert "zeros" not in kinds(result)
    assert sum(p.stat().st_size for p in box.work_files()) < 1 << 20


def test_sparse_file_in_ext4_is_refused_from_its_listing(tmp_path: Path) -> None:
    # ext images are listed whole first (``extfs``): the sparse file's size is known before
    # anything is written, and the image is refused with nothing in the work area.
    box, _, root = fresh(tmp_path)
    with open(root / "sparse.bin", "wb") as stream:
        stream.truncate(512 << 20)
    image = ext4(root, box.inputs / "rootfs.img")
    assert image.stat().st_size == 4 << 20
    result = box.ingest(image, LIMITS)
    assert result.files == ()
    (record,) = result.skipped
    assert (record.path, record.reason) == ("", "bomb-total-size")
    regular = [p for p in root.rglob("*") if p.is_file() and not p.is_symlink()]
    listed = sum(p.stat().st_size for p in regular)
    assert record.detail == f"{listed} bytes listed, 0 before > cap {4 << 20}; not unpacked"
    assert box.work_files() == []


def jffs2_cleanmarker() -> bytes:
    """A JFFS2 clean-marker node (little endian) with its header CRC, then erased flash."""
    header = (0x1985).to_bytes(2, "little") + (0x2003).to_bytes(2, "little")
    header += (12).to_bytes(4, "little")
    crc = zlib.crc32(header, 0xFFFFFFFF) ^ 0xFFFFFFFF
    return header + crc.to_bytes(4, "little") + b"\xff" * 4084


def test_image_without_extractor_is_recorded_and_the_rest_goes_on(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    (box.inputs / "mtd3.bin").write_bytes(jffs2_cleanmarker())
    (box.inputs / "README").write_text("firmware\n")
    result = box.ingest(box.inputs, LIMITS)
    assert kinds(result) == {"README": FileKind.TEXT, "mtd3.bin": FileKind.ARCHIVE}
    (record,) = result.skipped  # a clean marker alone: unblob finds no file system to unpack
    assert (record.path, record.reason) == ("mtd3.bin", "unsupported-container")
    assert record.detail.startswith("jffs2 recognised by its header")


def test_squashfs_in_a_firmware_tree_evaluated_end_to_end(tmp_path: Path) -> None:
    _, canary, root = fresh(tmp_path)
    (root / "etc/rc.c").write_text(
        "#include <string.h>\nvoid f(char *d, char *s) { strcpy(d, s); }\n"
    )
    release = tmp_path / "release"
    release.mkdir()
    squashfs(root, release / "rootfs.squashfs")
    (release / "mtd3.jffs2").write_bytes(jffs2_cleanmarker())
    run = run_evaluation(release, tmp_path / "out")
    report = run.json()
    jsonschema.validate(report, json.loads(SCHEMA.read_text()))
    assert report["inventory"]["by_kind"]["elf"] == 2
    skipped = {(s["path"], s["reason"]) for s in report["skipped"]}
    assert {
        ("rootfs.squashfs!/etc/canary", "link-outside"),
        ("rootfs.squashfs!/etc/loop1", "link"),
        ("mtd3.jffs2", "unsupported-container"),
    } <= skipped
    paths = {f["path"] for f in run.findings("unsafe-calls")}
    assert paths == {"rootfs.squashfs!/etc/rc.c"}
    assert list(canary.iterdir()) == []


def test_extractor_over_its_time_limit_is_recorded(tmp_path: Path) -> None:
    box, _, root = fresh(tmp_path)
    image = squashfs(root, box.inputs / "rootfs.sqfs")
    result = box.ingest(image, ArchiveLimits(extract_timeout=0.0001))
    assert result.files == ()
    (record,) = result.skipped
    assert (record.path, record.reason) == ("", "image-timeout")
    # The limit strikes the listing or, on a fast start, the extraction that follows it.
    assert record.detail.startswith(("unsquashfs -lls: timed out after", "unsquashfs stopped"))


def test_missing_extractor_names_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    box, _, root = fresh(tmp_path)
    image = squashfs(root, box.inputs / "rootfs.sqfs")
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # no unsquashfs on the PATH, nor in /usr/sbin
    result = box.ingest(image, LIMITS)
    assert result.files == ()
    assert result.skipped == (
        Skipped(
            "",
            "ingest",
            "image-unsupported",
            "squashfs: unsquashfs not found (install squashfs-tools)",
        ),
    )


def test_extractor_errors_drop_the_files_they_name(tmp_path: Path) -> None:
    # The listing reads only metadata; a damaged data block fails the extraction itself.
    box = sandbox(tmp_path)
    need_sandbox()
    root = tmp_path / "rootfs"
    root.mkdir()
    (root / "big.txt").write_bytes(random.Random(104).randbytes(300_000).hex().encode())
    image = squashfs(root, box.inputs / "rootfs.sqfs")
    data = bytearray(image.read_bytes())
    data[2000:2100] = bytes(byte ^ 0xFF for byte in data[2000:2100])  # inside big.txt's blocks
    image.write_bytes(bytes(data))
    result = box.ingest(image, ArchiveLimits())
    assert result.files == ()
    assert [(s.path, s.reason) for s in result.skipped] == [
        ("", "image-errors"),
        ("big.txt", "image-errors"),
    ]
    assert "failed to read/uncompress file root/big.txt" in result.skipped[0].detail


def test_squashfs_listing_over_1_mib_is_read_whole_before_unpacking(tmp_path: Path) -> None:
    """10,000 long names make a 1.7 MB listing; the zeros listed after them are counted, so
    the image is refused before anything is written (the sandbox kept 1 MiB of the listing,
    so they were missed and the image was unpacked up to the file-size cap)."""
    box, _, root = fresh(tmp_path)
    many = root / "many"
    many.mkdir()
    for n in range(10_000):
        (many / f"f{n:05}_{'a' * 120}").touch()
    zeros = f"zz f 644 0 0 head -c {64 << 20} /dev/zero"
    image = squashfs(root, box.inputs / "long.sqfs", zeros)
    assert image.stat().st_size < 1 << 20
    limits = ArchiveLimits(max_total_bytes=16 << 20, max_ratio=1000, max_files=100_000)
    result = box.ingest(image, limits)
    assert result.files == ()
    (record,) = result.skipped
    assert (record.path, record.stage, record.reason) == ("", "ingest", "bomb-total-size")
    assert "bytes listed" in record.detail and record.detail.endswith("; not unpacked")
    assert box.work_files() == []
