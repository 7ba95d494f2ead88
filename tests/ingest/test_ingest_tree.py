"""Directory inputs: inventory, links never followed, special and odd files, determinism."""

from __future__ import annotations

import errno
import hashlib
import os
import random
from pathlib import Path

import pytest
from ingest_support import sandbox

from assay.errors import IngestError
from assay.ingest import ArchiveLimits, ingest, tree
from assay.ingest.classify import Digest, digest_file
from assay.model import FileKind, Skipped, tree_hash


def write(root: Path, files: dict[str, bytes]) -> Path:
    """Create ``files`` (relative POSIX path -> content) below ``root``."""
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


TREE = {
    "src/main.c": b"int main(void) { return 0; }\n",
    "src/util.cpp": b"namespace n {}\n",
    "include/util.h": b"#pragma once\n",
    "README": b"read me\n",
    "bin/tool": b"\x7fELF\x02\x01\x01" + b"\0" * 100,
    "data.bin": b"\x00\x01\x02\x03",
}


def test_directory_inventory(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    root = write(box.inputs / "release-1.0", TREE)
    result = box.ingest(root)
    assert [f.path for f in result.files] == sorted(TREE)
    kinds = {f.path: f.kind for f in result.files}
    assert kinds == {
        "README": FileKind.TEXT,
        "bin/tool": FileKind.ELF,
        "data.bin": FileKind.OTHER,
        "include/util.h": FileKind.HEADER,
        "src/main.c": FileKind.C,
        "src/util.cpp": FileKind.CPP,
    }
    for file in result.files:
        assert file.size == len(TREE[file.path])
        assert file.sha256 == hashlib.sha256(TREE[file.path]).hexdigest()
        assert file.read_bytes() == TREE[file.path]
    assert (result.input.name, result.input.kind) == ("release-1.0", "directory")
    assert result.skipped == () and result.links == 0
    assert not box.work.exists(), "a directory without archives needs no work area"


def test_tree_hash_follows_its_definition_and_is_stable(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    first = box.ingest(write(box.inputs / "a", TREE))
    # The same content created in the opposite order, elsewhere.
    second = box.ingest(write(box.inputs / "b", dict(reversed(TREE.items()))))
    lines = sorted(f"{p}\0{hashlib.sha256(d).hexdigest()}\n" for p, d in TREE.items())
    expected = hashlib.sha256("".join(lines).encode()).hexdigest()
    assert first.input.sha256 == second.input.sha256 == expected
    assert tree_hash((f.path, f.sha256) for f in first.files) == expected
    (box.inputs / "b" / "README").write_bytes(b"read me!\n")
    assert box.ingest(box.inputs / "b").input.sha256 != expected
    (box.inputs / "b" / "README").rename(box.inputs / "b" / "README.txt")
    assert box.ingest(box.inputs / "b").input.sha256 != expected


def test_ingest_is_deterministic(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    root = write(box.inputs / "r", {f"d{i % 7}/f{i}.c": b"x" * i for i in range(60)})
    os.symlink("f1.c", root / "d1" / "link.c")
    first, second = box.ingest(root), box.ingest(root)
    assert first == second
    assert [f.path for f in first.files] == sorted(f.path for f in first.files)


def test_symlinks_and_loops_are_recorded_never_followed(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    root = write(box.inputs / "r", {"sub/x.c": b"int x;\n"})
    os.symlink("b", root / "a")
    os.symlink("a", root / "b")
    os.symlink("..", root / "sub" / "up")
    os.symlink("/etc", root / "etc")
    os.symlink("x.c", root / "sub" / "same.c")
    result = box.ingest(root)
    assert [f.path for f in result.files] == ["sub/x.c"]
    assert result.links == 5
    assert result.skipped == (
        Skipped("a", "ingest", "symlink", "-> b"),
        Skipped("b", "ingest", "symlink", "-> a"),
        Skipped("etc", "ingest", "symlink", "-> /etc"),
        Skipped("sub/same.c", "ingest", "symlink", "-> x.c"),
        Skipped("sub/up", "ingest", "symlink", "-> .."),
    )


def test_special_files_are_skipped(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    root = write(box.inputs / "r", {"x.c": b""})
    os.mkfifo(root / "pipe.c")
    result = box.ingest(root)
    assert [f.path for f in result.files] == ["x.c"]
    assert result.skipped == (Skipped("pipe.c", "ingest", "special-file", "fifo"),)


def test_unreadable_file_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    box = sandbox(tmp_path)
    root = write(box.inputs / "r", {"secret.c": b"x", "ok.c": b"y"})
    real = digest_file

    def refuse(disk_path: str) -> Digest:  # chmod 000 does not stop root, so fail by hand
        if disk_path.endswith("secret.c"):
            raise PermissionError(errno.EACCES, "Permission denied")
        return real(disk_path)

    monkeypatch.setattr(tree, "digest_file", refuse)
    result = box.ingest(root)
    assert [f.path for f in result.files] == ["ok.c"]
    assert result.skipped == (Skipped("secret.c", "ingest", "unreadable", "Permission denied"),)


def test_invalid_utf8_names_and_contents(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    root = box.inputs / "r"
    root.mkdir()
    raw = os.path.join(os.fsencode(root), b"bad\xff\xfe.c")
    with open(raw, "wb") as stream:
        stream.write(b'char *s = "\xff\xfe";\n')
    result = box.ingest(root)
    (file,) = result.files
    assert file.path == "bad\\xff\\xfe.c"
    assert file.kind is FileKind.C
    assert file.read_bytes() == b'char *s = "\xff\xfe";\n'
    file.path.encode("utf-8")  # always valid text for reports and databases


def test_binary_garbage_named_c_stays_c(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    root = write(box.inputs / "r", {"x.c": bytes(range(256)) * 4, "fw.c": TREE["bin/tool"]})
    kinds = {f.path: f.kind for f in box.ingest(root).files}
    assert kinds == {"x.c": FileKind.C, "fw.c": FileKind.ELF}


def test_big_file_is_hashed_in_chunks(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    data = random.Random(105).randbytes(3 << 20) + b"tail"
    root = write(box.inputs / "r", {"big.bin": data})
    (file,) = box.ingest(root).files
    assert (file.size, file.sha256) == (len(data), hashlib.sha256(data).hexdigest())


def test_deep_tree_does_not_recurse(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    depth = 1200  # deeper than Python's default recursion limit
    dirs = [str(box.inputs / "r")]
    for _ in range(depth):  # os.makedirs and shutil.rmtree recurse: build and remove by hand
        dirs.append(os.path.join(dirs[-1], "d"))
    for path in dirs:
        os.mkdir(path)
    Path(dirs[-1], "x.c").write_bytes(b"int x;\n")
    try:
        (file,) = box.ingest(Path(dirs[0])).files
        assert file.path == "d/" * depth + "x.c"
    finally:
        os.unlink(os.path.join(dirs[-1], "x.c"))
        for path in reversed(dirs):
            os.rmdir(path)


def test_missing_or_unsupported_input_raises(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    with pytest.raises(IngestError, match="no such file or directory"):
        ingest(box.inputs / "nope", box.work, ArchiveLimits())
    (box.inputs / "notes.txt").write_text("not an archive\n")
    with pytest.raises(IngestError, match="not a directory or an archive"):
        ingest(box.inputs / "notes.txt", box.work, ArchiveLimits())
    os.mkfifo(box.inputs / "fifo")
    with pytest.raises(IngestError, match="not a directory or an archive"):
        ingest(box.inputs / "fifo", box.work, ArchiveLimits())
    assert not box.work.exists()


class Recorder:
    """A progress observer that remembers what it was told."""

    def __init__(self) -> None:
        self.stages: list[str] = []
        self.advanced = 0

    def stage(self, name: str, total: int | None = None) -> None:
        self.stages.append(name)

    def advance(self, units: int = 1) -> None:
        self.advanced += units

    def done(self) -> None:
        self.stages.append("done")


def test_progress_hears_the_stage_and_every_file(tmp_path: Path) -> None:
    box = sandbox(tmp_path)
    recorder = Recorder()
    ingest(write(box.inputs / "r", TREE), box.work, ArchiveLimits(), recorder)
    assert (recorder.stages, recorder.advanced) == (["ingest"], len(TREE))


def test_a_deep_tree_resolves_real_paths_once_per_walk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """1,000 nested directories and an output directory at the bottom, reached through a
    link to the root: the output directory is still found, with one ``realpath`` per walk
    (it was one per directory, each as long as the tree is deep: 16 s at this depth)."""
    box = sandbox(tmp_path)
    real = deep = box.inputs / "real"
    real.mkdir()
    for _ in range(1000):  # one by one: mkdir(parents=True) recurses once per level
        deep = deep / "d"
        deep.mkdir()
    (deep / "x.c").write_text("int x;\n", encoding="utf-8")
    (deep / "out").mkdir()
    (deep / "out" / "evaluation.json").write_text("{}", encoding="utf-8")
    root = box.inputs / "link"
    root.symlink_to(real)
    calls: list[str] = []
    resolve = os.path.realpath

    def counted(path: str) -> str:
        calls.append(path)
        return resolve(path)

    monkeypatch.setattr(tree.os.path, "realpath", counted)
    try:
        result = ingest(root, box.work, ArchiveLimits(), exclude=[deep / "out"])
    finally:
        monkeypatch.undo()
        _remove_chain(real)  # bottom up: pytest's cleanup (shutil.rmtree) recurses per level
    rel = "/".join(["d"] * 1000)
    assert [f.path for f in result.files] == [f"{rel}/x.c"]
    assert [(s.path, s.reason) for s in result.skipped] == [(f"{rel}/out", "output-directory")]
    assert len(calls) <= 3


def _remove_chain(top: Path) -> None:
    """Remove the nested directories ``d/d/...`` below ``top`` and what the test put at the
    bottom, without recursion."""
    folders = [top]
    while (folders[-1] / "d").is_dir():
        folders.append(folders[-1] / "d")
    bottom = folders[-1]
    (bottom / "x.c").unlink()
    (bottom / "out" / "evaluation.json").unlink()
    (bottom / "out").rmdir()
    for folder in reversed(folders):
        folder.rmdir()
