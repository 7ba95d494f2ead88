"""ext images built with mke2fs, then made hostile the way an attacker would: entries named
``.``, ``..``, ``../x`` and ``a/b`` written into the directory blocks (mke2fs and debugfs refuse
such names, so the bytes of the directory entry are changed in place), and one big sparse file
under ten hard links. Every hostile entry is a record, the genuine files keep their own bytes,
and the hard links are written once (``assay.ingest.extfs``)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

from ingest_support import sandbox
from test_ingest_images import need_sandbox, tool

from assay.ingest import ArchiveLimits
from assay.model import FileKind, Skipped
from bounded import INGEST, run_bounded

LIMITS = ArchiveLimits(max_total_bytes=4 << 20, max_ratio=50.0, max_files=100, max_depth=3)
BIG = 100 << 20


def ext4(root: Path, image: Path, size: str = "4M") -> Path:
    """``mke2fs -d`` without metadata checksums, so that a directory entry can be edited."""
    argv = [tool("mke2fs"), "-q", "-F", "-t", "ext4", "-O", "^metadata_csum", "-d", str(root)]
    subprocess.run([*argv, str(image), size], check=True)
    return image


def rename_entry(image: Path, old: bytes, new: bytes) -> None:
    """Rename a regular file's directory entry in place: ``name_len, file_type=1, name``."""
    data = image.read_bytes()
    entry = bytes([len(old), 1]) + old
    assert data.count(entry) == 1 and len(old) == len(new)
    image.write_bytes(data.replace(entry, bytes([len(new), 1]) + new))


def test_hostile_ext_names_are_each_recorded(tmp_path: Path) -> None:
    need_sandbox()
    box = sandbox(tmp_path)
    root = tmp_path / "rootfs"
    (root / "a").mkdir(parents=True)
    (root / "a/b").write_text("genuine\n")
    (root / "keep.txt").write_text("kept\n")
    (root / "Q").write_text("dot\n")
    (root / "Q1").write_text("dotdot\n")
    (root / "Q234").write_text("escape\n")
    (root / "aXb").write_text("hostile\n")
    image = ext4(root, box.inputs / "rootfs.img")
    for old, new in [(b"Q", b"."), (b"Q1", b".."), (b"Q234", b"../x"), (b"aXb", b"a/b")]:
        rename_entry(image, old, new)
    # what debugfs itself lists: the four names are in the image as written
    listed = subprocess.run(
        [tool("debugfs"), "-R", "ls", str(image)], capture_output=True, check=True
    ).stdout
    assert all(name in listed.split() for name in (b"..", b"../x", b"a/b"))
    result = box.ingest(image, LIMITS)
    assert {f.path: f.kind for f in result.files} == {
        "a/b": FileKind.TEXT,
        "keep.txt": FileKind.TEXT,
    }
    genuine = next(f for f in result.files if f.path == "a/b")
    assert genuine.read_bytes() == b"genuine\n"
    assert list(result.skipped) == [
        Skipped(".", "ingest", "archive-escape", "file name refused"),
        Skipped("..", "ingest", "archive-escape", "file name refused"),
        Skipped("../x", "ingest", "archive-escape", "file name refused"),
        Skipped("a/b", "ingest", "archive-escape", "file name refused"),
    ]
    written = b"".join(p.read_bytes() for p in box.work_files())
    assert b"hostile" not in written and b"escape" not in written and b"dotdot" not in written


def test_ten_hard_links_to_a_sparse_file_are_written_once(tmp_path: Path) -> None:
    """One 100 MiB sparse file under ten names: its bytes are written once and the other nine
    names are hard-link records (debugfs rdump wrote 1 GB); the process tree stays under 1 GiB."""
    need_sandbox()
    box = sandbox(tmp_path)
    root = tmp_path / "rootfs"
    root.mkdir()
    with open(root / "big0", "wb") as stream:
        stream.truncate(BIG)
    for n in range(1, 10):
        os.link(root / "big0", root / f"big{n}")
    (root / "notes.txt").write_text("kept\n")
    image = ext4(root, box.inputs / "rootfs.img")
    assert image.stat().st_size == 4 << 20
    before = box.outside()
    result: dict[str, Any] = run_bounded(INGEST, input=str(image), work=str(box.work))
    assert box.outside() == before
    assert result["files"] == [["big0", BIG], ["notes.txt", 5]]
    assert result["skipped"] == [
        [f"big{n}", "ingest", "link", "hard link -> big0"] for n in range(1, 10)
    ]
    inodes = {p.stat().st_ino: p.stat().st_size for p in box.work_files()}
    assert sum(inodes.values()) == BIG + 5


def test_truncated_ext_image_is_rejected_with_debugfs_reason(tmp_path: Path) -> None:
    # debugfs exits 0 when it cannot open the image; its error lines make the record.
    need_sandbox()
    box = sandbox(tmp_path)
    root = tmp_path / "rootfs"
    root.mkdir()
    (root / "notes.txt").write_text("kept\n")
    whole = ext4(root, tmp_path / "whole.img")
    image = box.inputs / "cut.img"
    image.write_bytes(whole.read_bytes()[:3000])  # the superblock (at 1024) is kept
    result = box.ingest(image, LIMITS)
    assert result.files == ()
    (record,) = result.skipped
    assert (record.path, record.reason) == ("", "image-rejected")
    assert "short read while trying to open" in record.detail
    assert box.work_files() == []


def test_a_directory_linked_into_itself_is_listed_once(tmp_path: Path) -> None:
    # debugfs links the root directory into a/ as a/loop: rdump followed it round and round,
    # writing the tree again at every level until the path grew too long.
    need_sandbox()
    box = sandbox(tmp_path)
    root = tmp_path / "rootfs"
    (root / "a").mkdir(parents=True)
    (root / "a/f.txt").write_text("once\n")
    image = ext4(root, box.inputs / "rootfs.img")
    subprocess.run([tool("debugfs"), "-w", "-R", "ln <2> a/loop", str(image)], check=True)
    result = box.ingest(image, LIMITS)
    assert [f.path for f in result.files] == ["a/f.txt"]
    assert list(result.skipped) == [
        Skipped("a/loop", "ingest", "archive-escape", "directory reached twice (hard link)")
    ]
    assert len(box.work_files()) == 1
