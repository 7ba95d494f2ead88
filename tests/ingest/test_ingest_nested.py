"""Archives as input and inside the tree: ``!/`` paths, levels, formats by magic, determinism."""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from ingest_support import member, sandbox, tar_bytes, write_tar, zip_bytes

from assay.ingest import ArchiveLimits
from assay.model import FileKind, Skipped

A_C = b"int a(void) { return 1; }\n"
INNER_ZIP = zip_bytes([("src/a.c", A_C), ("src/", b""), ("README", b"inner\n")])


def test_nested_archives_in_a_directory(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    (box.inputs / "vendor").mkdir()
    outer = [member("inner.zip", INNER_ZIP), member("docs/x.txt", b"doc\n")]
    write_tar(box.inputs / "vendor" / "outer.tar.gz", outer, "gz")
    (box.inputs / "vendor" / "top.c").write_bytes(b"int top;\n")
    result = box.ingest(box.inputs / "vendor")
    kinds = {f.path: f.kind for f in result.files}
    assert kinds == {
        "outer.tar.gz": FileKind.ARCHIVE,
        "outer.tar.gz!/docs/x.txt": FileKind.TEXT,
        "outer.tar.gz!/inner.zip": FileKind.ARCHIVE,
        "outer.tar.gz!/inner.zip!/README": FileKind.TEXT,
        "outer.tar.gz!/inner.zip!/src/a.c": FileKind.C,
        "top.c": FileKind.C,
    }
    (a_c,) = (f for f in result.files if f.path.endswith("a.c"))
    assert (a_c.read_bytes(), a_c.size, a_c.sha256) == (
        A_C,
        len(A_C),
        hashlib.sha256(A_C).hexdigest(),
    )
    extracted = [f for f in result.files if "!/" in f.path]
    assert all(Path(f.disk_path).is_relative_to(box.work.resolve()) for f in extracted)
    assert result.skipped == () and result.links == 0


def zipped(members: dict[str, bytes]) -> bytes:
    """A zip of ``members``."""
    return zip_bytes(members.items())


RELEASE = [member("release/src/a.c", A_C), member("release/lib.zip", zipped({"b.c": b"int b;\n"}))]


@pytest.mark.parametrize("mode", ["", "gz", "bz2", "xz", "zip"])
def test_input_archive_members_are_the_root(tmp_path: Path, mode: str) -> None:
    box = sandbox(tmp_path)
    archive = box.inputs / "release.bin"  # the format comes from the magic, not the name
    if mode == "zip":
        archive.write_bytes(zipped({i.name: d for i, d in RELEASE}))
    else:
        archive.write_bytes(tar_bytes(RELEASE, mode))
    result = box.ingest(archive)
    assert [f.path for f in result.files] == [
        "release/lib.zip",
        "release/lib.zip!/b.c",
        "release/src/a.c",
    ]
    assert result.input.name == "release.bin" and result.input.kind == "archive"
    assert result.input.sha256 == hashlib.sha256(archive.read_bytes()).hexdigest()


def test_depth_one_extracts_only_the_first_level(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    archive = write_tar(box.inputs / "release.tar", RELEASE)
    result = box.ingest(archive, ArchiveLimits(max_depth=1))
    assert [f.path for f in result.files] == ["release/lib.zip", "release/src/a.c"]
    assert result.skipped == (
        Skipped(
            "release/lib.zip",
            "ingest",
            "nesting-depth",
            "archive at depth 2 > max_depth 1; not extracted",
        ),
    )
    # In a directory input, the archives found are level 1 and are extracted.
    result = box.ingest(box.inputs, ArchiveLimits(max_depth=1))
    assert [f.path for f in result.files] == [
        "release.tar",
        "release.tar!/release/lib.zip",
        "release.tar!/release/src/a.c",
    ]
    assert [s.reason for s in result.skipped] == ["nesting-depth"]


def test_archive_results_are_deterministic(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for i in reversed(range(30)):
            archive.writestr(f"d{i % 4}/f{i}.c", f"int f{i};\n")
        archive.writestr("../evil.c", b"")
    (box.inputs / "r.zip").write_bytes(buffer.getvalue())
    first = box.ingest(box.inputs / "r.zip")
    second = box.ingest(box.inputs / "r.zip")
    assert [replace(f, disk_path="") for f in first.files] == [
        replace(f, disk_path="") for f in second.files
    ]
    assert first.skipped == second.skipped and first.input == second.input
    assert [f.path for f in first.files] == sorted(f.path for f in first.files)
    assert first.files[0].disk_path != second.files[0].disk_path, "each run has a fresh area"
