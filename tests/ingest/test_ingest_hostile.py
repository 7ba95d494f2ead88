"""Hostile archives: every trick is refused with a precise reason, and nothing is written
outside the work area (the sandbox checks that on every ingest)."""

from __future__ import annotations

import gzip
import os
import random
import stat
import tarfile
import uuid
import zipfile
from pathlib import Path

import pytest
from ingest_support import member, only, reasons, sandbox, tar_bytes, write_tar, zip_bytes

from assay.errors import IngestError
from assay.ingest import ArchiveLimits, IngestResult
from assay.model import FileKind, Skipped

OK = member("ok/x.c", b"int x;\n")


def paths(result: IngestResult) -> list[str]:
    """Inventory paths of an ``IngestResult``."""
    return [f.path for f in result.files]


def no_file_named(root: Path, name: str) -> bool:
    """Nothing called ``name`` below ``root`` (the extraction never uses member names)."""
    return not any(p.name == name for p in root.rglob("*"))


def mark_encrypted(data: bytes, name: bytes) -> bytes:
    """Set the "encrypted" flag of ``name`` in the central directory (zipfile cannot encrypt)."""
    entry = data.rfind(b"PK\x01\x02", 0, data.rfind(name))
    flags = entry + 8
    return data[:flags] + bytes([data[flags] | 0x1]) + data[flags + 1 :]


def test_traversal_is_refused(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    names = ["../evil.c", "../../../../evil.c", "a/../../evil.c", "a/../b.c", "..\\evil.c"]
    archive = write_tar(box.inputs / "r.tar", [OK, *(member(n, b"pwned") for n in names)])
    result = box.ingest(archive)
    assert paths(result) == ["ok/x.c"]
    assert sorted(reasons(result)) == sorted((n, "archive-escape") for n in names)
    assert no_file_named(tmp_path, "evil.c") and no_file_named(tmp_path, "b.c")


def test_absolute_paths_are_refused(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    target = Path("/tmp") / f"assay-evil-{uuid.uuid4().hex}.c"
    archive = write_tar(box.inputs / "r.tar", [OK, member(str(target), b"pwned")])
    result = box.ingest(archive)
    assert paths(result) == ["ok/x.c"]
    assert reasons(result) == [(str(target), "absolute-path")]
    assert not target.exists()


def test_links_are_recorded_never_created(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    links = [
        member("ok/same.c", type=tarfile.SYMTYPE, linkname="x.c"),
        member("ok/up.c", type=tarfile.SYMTYPE, linkname="../ok/x.c"),
        member("passwd", type=tarfile.SYMTYPE, linkname="/etc/passwd"),
        member("ok/escape", type=tarfile.SYMTYPE, linkname="../../outside"),
        member("hard.c", type=tarfile.LNKTYPE, linkname="ok/x.c"),
        member("hard-out", type=tarfile.LNKTYPE, linkname="../etc/shadow"),
    ]
    result = box.ingest(write_tar(box.inputs / "r.tar", [OK, *links]))
    assert paths(result) == ["ok/x.c"]
    assert result.links == 6
    assert result.skipped == (
        Skipped("hard-out", "ingest", "link-outside", "hard link -> ../etc/shadow"),
        Skipped("hard.c", "ingest", "link", "hard link -> ok/x.c"),
        Skipped("ok/escape", "ingest", "link-outside", "symlink -> ../../outside"),
        Skipped("ok/same.c", "ingest", "link", "symlink -> x.c"),
        Skipped("ok/up.c", "ingest", "link", "symlink -> ../ok/x.c"),
        Skipped("passwd", "ingest", "link-outside", "symlink -> /etc/passwd"),
    )
    assert not any(p.is_symlink() for p in box.work.rglob("*"))


def test_devices_and_fifos_are_refused(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    special = [
        member("dev/null", type=tarfile.CHRTYPE),
        member("dev/sda", type=tarfile.BLKTYPE),
        member("run/pipe", type=tarfile.FIFOTYPE),
    ]
    result = box.ingest(write_tar(box.inputs / "r.tar", [*special, OK]))
    assert paths(result) == ["ok/x.c"]
    assert result.skipped == (
        Skipped("dev/null", "ingest", "special-file", "character device"),
        Skipped("dev/sda", "ingest", "special-file", "block device"),
        Skipped("run/pipe", "ingest", "special-file", "fifo"),
    )
    modes = [p.lstat().st_mode for p in box.work.rglob("*")]
    assert all(stat.S_ISREG(m) or stat.S_ISDIR(m) for m in modes)


def test_zip_tricks_are_refused(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    link = zipfile.ZipInfo("ok/link.c")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    entries: list[tuple[str | zipfile.ZipInfo, bytes]] = [
        ("ok/x.c", b"int x;\n"),
        ("../evil.c", b"pwned"),
        ("/abs/evil.c", b"pwned"),
        (link, b"../../../etc/passwd"),
        ("ok/locked.c", b"secret"),
    ]
    archive = box.inputs / "r.zip"
    archive.write_bytes(mark_encrypted(zip_bytes(entries), b"ok/locked.c"))
    result = box.ingest(archive)
    assert paths(result) == ["ok/x.c"]
    assert result.skipped == (
        Skipped("../evil.c", "ingest", "archive-escape", "file name refused"),
        Skipped("/abs/evil.c", "ingest", "absolute-path", "file name refused"),
        Skipped("ok/link.c", "ingest", "link-outside", "symlink -> ../../../etc/passwd"),
        Skipped("ok/locked.c", "ingest", "encrypted", "password-protected"),
    )
    assert no_file_named(tmp_path, "evil.c")


def test_bomb_by_total_size_stops_over_the_whole_input(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    chunk = random.Random(101).randbytes(300_000)  # incompressible: only the total cap can trip
    write_tar(box.inputs / "one.tar", [member("a.bin", chunk), member("b.bin", chunk)])
    write_tar(box.inputs / "two.tar", [member("c.bin", chunk), member("d.bin", chunk)])
    limits = ArchiveLimits(max_total_bytes=1_000_000, max_ratio=50, max_files=100, max_depth=3)
    result = box.ingest(box.inputs, limits)
    assert paths(result) == [
        "one.tar",
        "one.tar!/a.bin",
        "one.tar!/b.bin",
        "two.tar",
        "two.tar!/c.bin",
    ]
    record = only(result, "bomb-total-size")
    assert record.path == "two.tar"
    assert "> cap 1000000" in record.detail and "'d.bin'" in record.detail
    assert sum(p.stat().st_size for p in box.work_files()) <= 1_000_000


def test_bomb_by_ratio_stops_while_streaming(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    archive = write_tar(
        box.inputs / "zeros.tar.gz", [member("zeros.bin", bytes(50 << 20)), OK], "gz"
    )
    result = box.ingest(archive, ArchiveLimits(max_ratio=20))
    assert result.files == ()
    record = only(result, "bomb-ratio")
    assert record.path == "" and "> cap 20" in record.detail and "'zeros.bin'" in record.detail
    assert box.work_files() == [], "the partial member is removed"


def test_zip_bomb_by_ratio(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    archive = box.inputs / "zeros.zip"
    archive.write_bytes(zip_bytes([("small.c", b"int x;\n"), ("zeros.bin", bytes(20 << 20))]))
    result = box.ingest(archive, ArchiveLimits(max_ratio=20))
    assert paths(result) == ["small.c"]
    assert only(result, "bomb-ratio").path == ""
    assert sum(p.stat().st_size for p in box.work_files()) < 1 << 20


def test_bomb_by_file_count(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    archive = write_tar(box.inputs / "many.tar", [member(f"f{i:03}.c", b"x") for i in range(50)])
    result = box.ingest(archive, ArchiveLimits(max_files=20))
    assert paths(result) == [f"f{i:03}.c" for i in range(20)]
    record = only(result, "bomb-file-count")
    assert record.path == "" and "member 21 of the input > cap 20" in record.detail


def test_nesting_depth(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    inner = tar_bytes([member("deep.c", b"int deep;\n")])
    for level in (4, 3, 2):
        inner = tar_bytes([member(f"l{level}.tar", inner), member(f"at{level}.c", b"")])
    archive = box.inputs / "l1.tar"
    archive.write_bytes(inner)
    result = box.ingest(archive, ArchiveLimits(max_depth=3))
    assert paths(result) == [
        "at2.c",
        "l2.tar",
        "l2.tar!/at3.c",
        "l2.tar!/l3.tar",
        "l2.tar!/l3.tar!/at4.c",
        "l2.tar!/l3.tar!/l4.tar",
    ]
    assert result.files[-1].kind is FileKind.ARCHIVE
    assert result.skipped == (
        Skipped(
            "l2.tar!/l3.tar!/l4.tar",
            "ingest",
            "nesting-depth",
            "archive at depth 4 > max_depth 3; not extracted",
        ),
    )


def test_truncated_archive_keeps_what_was_read(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    data = write_tar(
        box.inputs / "full.tar.gz",
        [
            member("a.c", b"int a;\n"),
            member("big.bin", random.Random(102).randbytes(200_000)),
            member("z.c", b""),
        ],
        "gz",
    ).read_bytes()
    (box.inputs / "full.tar.gz").unlink()
    (box.inputs / "cut.tar.gz").write_bytes(data[: len(data) // 2])
    result = box.ingest(box.inputs)
    assert paths(result) == ["cut.tar.gz", "cut.tar.gz!/a.c"]
    record = only(result, "corrupt-archive")
    assert record.path == "cut.tar.gz" and "'big.bin'" in record.detail
    assert record.detail.endswith("; 1 file before it kept, the one cut short deleted")
    assert len(box.work_files()) == 1, "the partial member is removed"


def test_corrupt_archives(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    # fixed junk: random bytes after a gzip header now and then decode far enough to pass
    (box.inputs / "junk.tar.gz").write_bytes(b"\x1f\x8b\x08" + random.Random(7).randbytes(500))
    (box.inputs / "junk.zip").write_bytes(b"PK\x03\x04" + random.Random(103).randbytes(500))
    (box.inputs / "notes.gz").write_bytes(gzip.compress(b"plain text, not a tar\n"))
    result = box.ingest(box.inputs)
    assert paths(result) == ["junk.tar.gz", "junk.zip", "notes.gz", "notes.gz!/notes"]
    assert reasons(result) == [
        ("junk.tar.gz", "corrupt-archive"),
        ("junk.zip", "corrupt-archive"),
    ]


def test_unreadable_input_archive_raises(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    # fixed junk: random bytes after a gzip header now and then decode far enough to pass
    (box.inputs / "junk.tar.gz").write_bytes(b"\x1f\x8b\x08" + random.Random(7).randbytes(500))
    with pytest.raises(IngestError, match="cannot read archive"):
        box.ingest(box.inputs / "junk.tar.gz")
    (box.inputs / "notes.gz").write_bytes(gzip.compress(b"plain text\n"))
    result = box.ingest(box.inputs / "notes.gz")  # one compressed file: opened as that file
    assert [(file.path, file.kind) for file in result.files] == [("notes", FileKind.TEXT)]
    assert result.input.kind == "archive" and result.skipped == ()


def test_invalid_utf8_member_names(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    name = b"src/bad\xff.c".decode("utf-8", "surrogateescape")
    archive = write_tar(box.inputs / "r.tar", [member(name, b"char c = '\xff';\n")])
    (file,) = box.ingest(archive).files
    assert (file.path, file.kind) == ("src/bad\\xff.c", FileKind.C)
    assert file.read_bytes() == b"char c = '\xff';\n"


def test_duplicate_members_keep_the_last_copy(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    archive = write_tar(box.inputs / "r.tar", [member("x.c", b"first"), member("./x.c", b"last")])
    result = box.ingest(archive)
    (file,) = result.files
    assert (file.path, file.read_bytes()) == ("x.c", b"last")
    assert reasons(result) == [("x.c", "duplicate-path")]


def test_names_that_only_print_alike_are_not_archive_duplicates(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    raw = b"bad\xff.c".decode("utf-8", "surrogateescape")  # prints as bad\xff.c
    members = [member(raw, b"raw"), member("bad\\xff.c", b"spelled"), member("x.c", b"1")]
    archive = write_tar(box.inputs / "r.tar", [*members, member("./x.c", b"2")])
    result = box.ingest(archive)
    assert [(f.path, f.read_bytes()) for f in result.files] == [
        ("bad\\xff.c", b"raw"),
        ("x.c", b"2"),
    ]
    assert reasons(result) == [("bad\\xff.c", "ambiguous-name"), ("x.c", "duplicate-path")]


def test_names_that_only_print_alike_in_a_directory_keep_one_with_a_record(
    tmp_path: Path,
) -> None:
    box = sandbox(tmp_path)
    src = box.inputs / "src"
    src.mkdir()
    Path(os.fsdecode(os.fsencode(src) + b"/bad\xff.c")).write_bytes(b"raw")
    (src / "bad\\xff.c").write_bytes(b"spelled")  # a real backslash: the same printed name
    result = box.ingest(src)
    assert [(f.path, f.read_bytes()) for f in result.files] == [("bad\\xff.c", b"spelled")]
    [record] = result.skipped
    assert (record.path, record.stage, record.reason) == ("bad\\xff.c", "ingest", "ambiguous-name")
    assert "archive" not in record.detail
