"""``assay rebuild`` copies the source on the host without reading its special files: a FIFO,
a socket or a device node in the source is refused, left out of both build copies and
listed (skipped records, stage ``rebuild``, reason ``special-file``). The FIFO holds bytes
written by the test: they are still there after the copy, so nothing read it. The character
device (made with ``os.mknod``, root only) is a copy of ``/dev/zero``'s: a copy that read it
would never end."""

from __future__ import annotations

import errno
import json
import os
import socket
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from assay import sandbox
from assay.cli import main
from assay.rebuild.copy import copy_tree
from support import write_tree

HELD = b"bytes the copy must not take"
ZERO = os.makedev(1, 5)
"""Major and minor number of ``/dev/zero``: endless bytes to any reader."""


@contextmanager
def _fifo_holding(path: Path) -> Iterator[int]:
    """A FIFO at ``path`` with ``HELD`` in its buffer; the descriptor that reads it back."""
    os.mkfifo(path)
    fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)  # never blocks; keeps the buffer alive
    try:
        os.write(fd, HELD)
        yield fd
    finally:
        os.close(fd)


def _device(path: Path) -> bool:
    """A character device at ``path`` like ``/dev/zero``; ``False`` where not permitted."""
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, ZERO)
    except PermissionError:
        return False
    except OSError as exc:  # a file system or container that refuses device nodes
        if exc.errno in (errno.EPERM, errno.EACCES, errno.EOPNOTSUPP):
            return False
        raise
    return True


def _source(tmp_path: Path) -> Path:
    source = write_tree(tmp_path / "src", {"a.c": "int a;\n", "sub/b.h": "int b;\n"})
    os.utime(source / "a.c", ns=(1_600_000_000 * 10**9, 1_600_000_000 * 10**9))
    (source / "link.c").symlink_to("a.c")
    return source


def test_special_files_are_refused_listed_and_never_read(tmp_path: Path) -> None:
    source = _source(tmp_path)
    listening = socket.socket(socket.AF_UNIX)
    listening.bind(str(source / "sub" / "sock"))
    device = _device(source / "sub" / "zero")
    with _fifo_holding(source / "pipe") as fifo:
        refused = copy_tree(source, tmp_path / "copy")
        assert os.read(fifo, 1000) == HELD  # still in the FIFO: the copy never read it
    listening.close()
    listed = [(r.path, r.stage, r.reason, r.detail.partition(":")[0]) for r in refused]
    expected = [
        ("pipe", "rebuild", "special-file", "a FIFO"),
        ("sub/sock", "rebuild", "special-file", "a socket"),
    ]
    if device:
        expected.insert(1, ("sub/zero", "rebuild", "special-file", "a character device"))
    assert sorted(listed) == sorted(expected)
    copy = tmp_path / "copy"
    assert sorted(p.relative_to(copy).as_posix() for p in copy.rglob("*")) == [
        "a.c", "link.c", "sub", "sub/b.h",
    ]  # fmt: skip
    assert os.readlink(copy / "link.c") == "a.c"
    assert (copy / "a.c").stat().st_mtime_ns == (source / "a.c").stat().st_mtime_ns


def test_a_character_device_in_the_source_is_listed_by_rebuild(tmp_path: Path) -> None:
    reason = sandbox.available()
    assert reason is None, f"the sandbox is needed (install bubblewrap): {reason}"
    source = _source(tmp_path)
    if not _device(source / "zero"):
        pytest.skip("making a device node is not permitted here (needs root)")
    out = tmp_path / "out"
    with _fifo_holding(source / "pipe") as fifo:
        code = main(["rebuild", str(source), "--build", "ls > listing.txt", "--artifacts",
                     "listing.txt", "-o", str(out), "-q"])  # fmt: skip
        assert os.read(fifo, 1000) == HELD
    assert code == 0
    document = json.loads((out / "evaluation.json").read_text(encoding="utf-8"))
    assert [(s["path"], s["reason"]) for s in document["skipped"]] == [
        ("pipe", "special-file"), ("zero", "special-file"),
    ]  # fmt: skip
    assert document["inventory"]["skipped"] == 2
    listings = sorted((out / ".assay" / "rebuild").glob("*/*/listing.txt"))
    assert len(listings) == 2  # each build saw its copy without the special files
    for listing in listings:
        assert listing.read_text(encoding="utf-8").split() == [
            "a.c",
            "link.c",
            "listing.txt",
            "sub",
        ]
