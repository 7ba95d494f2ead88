"""The file hash memo: unchanged files are not read again, changed ones always are."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from assay.ingest import memo as memo_module
from assay.ingest.memo import open_memo
from assay.ingest.tree import walk
from assay.model import FileKind
from assay.progress import NullProgress
from support import Run

FILES = {
    "src/a.c": b"int a(void) { return 1; }\n",
    "src/b.h": b"#define B 2\n",
    "doc/readme.txt": b"hello\n",
    "bin/blob": b"\x7fELF\x02\x01\x01" + bytes(64),
}


def _tree(root: Path) -> Path:
    for rel, data in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def _walk(cache: Path, root: Path) -> tuple[dict[str, tuple[str, FileKind, int]], int]:
    """(path -> (sha256, kind, size)) of a walk with the memo, and the memo's hits."""
    memo = open_memo(cache, root)
    assert memo is not None
    try:
        found = walk(root, NullProgress(), memo=memo)
    finally:
        memo.close()
    return {f.path: (f.sha256, f.kind, f.size) for f in found.files}, memo.hits


def test_unchanged_files_come_from_the_memo_and_equal_a_plain_walk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(memo_module, "RACY_NS", -1)  # files just written count as settled
    root = _tree(tmp_path / "tree")
    plain = {f.path: (f.sha256, f.kind, f.size) for f in walk(root, NullProgress()).files}
    first, hits = _walk(tmp_path / "cache", root)
    assert first == plain and hits == 0
    second, hits = _walk(tmp_path / "cache", root)
    assert second == plain and hits == len(FILES)
    assert second["bin/blob"][1] is FileKind.ELF and second["src/a.c"][1] is FileKind.C


def test_a_rewritten_file_is_hashed_again_even_with_its_old_mtime(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(memo_module, "RACY_NS", -1)
    root = _tree(tmp_path / "tree")
    _walk(tmp_path / "cache", root)
    target = root / "src/a.c"
    before = target.stat()
    new = b"int a(void) { return 2; }\n"  # same size, new content
    target.write_bytes(new)
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))  # the ctime still moves
    after, hits = _walk(tmp_path / "cache", root)
    assert after["src/a.c"][0] == hashlib.sha256(new).hexdigest()
    assert hits == len(FILES) - 1


def test_files_changed_just_before_hashing_are_not_remembered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(memo_module, "RACY_NS", 60_000_000_000)  # "just now": within a minute
    root = _tree(tmp_path / "tree")
    _walk(tmp_path / "cache", root)
    _, hits = _walk(tmp_path / "cache", root)
    assert hits == 0


def test_whole_second_times_get_the_coarse_margin() -> None:
    """On a file system that keeps whole seconds, a change within the same second keeps the
    times: such files must have settled for two seconds, others for a tenth."""
    from types import SimpleNamespace
    from typing import Any, cast

    def stat(mtime_ns: int, ctime_ns: int) -> Any:
        return cast(Any, SimpleNamespace(st_mtime_ns=mtime_ns, st_ctime_ns=ctime_ns))

    second = 1_000_000_000
    assert memo_module.racy_margin(stat(1700 * second, 1800 * second)) == memo_module.COARSE_RACY_NS
    assert memo_module.racy_margin(stat(1700 * second, 1800 * second + 5)) == memo_module.RACY_NS
    assert memo_module.racy_margin(stat(1700 * second + 1, 1800 * second)) == memo_module.RACY_NS
    assert memo_module.RACY_NS < memo_module.COARSE_RACY_NS


def test_rows_of_removed_files_are_dropped_and_other_roots_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(memo_module, "RACY_NS", -1)
    cache = tmp_path / "cache"
    root, sibling = _tree(tmp_path / "tree"), _tree(tmp_path / "tree-2")
    _walk(cache, root)
    _walk(cache, sibling)
    (root / "doc/readme.txt").unlink()
    _walk(cache, root)
    with sqlite3.connect(cache / memo_module.FILE_NAME) as db:
        paths = {row[0] for row in db.execute("SELECT path FROM digest")}
    assert str(root / "doc/readme.txt") not in paths
    assert str(root / "src/a.c") in paths
    assert {str(sibling / rel) for rel in FILES} <= paths


def test_an_unusable_memo_is_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocked = tmp_path / "cache"
    blocked.write_text("a file where the cache directory should be")
    assert open_memo(blocked, tmp_path) is None
    assert "file hash memo not used" in caplog.text


def test_a_name_that_is_not_utf8_is_remembered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(memo_module, "RACY_NS", -1)
    root = _tree(tmp_path / "tree")
    bad = os.fsdecode(os.fsencode(root / "src") + b"/bad\xff\xfename.c")  # a real file
    Path(bad).write_bytes(b"int bad;\n")
    first, hits = _walk(tmp_path / "cache", root)
    assert "src/bad\\xff\\xfename.c" in first and hits == 0
    second, hits = _walk(tmp_path / "cache", root)
    assert second == first and hits == len(FILES) + 1
    with sqlite3.connect(tmp_path / "cache" / memo_module.FILE_NAME) as db:
        stored = {path for (path,) in db.execute("SELECT path FROM digest")}
    assert os.fsencode(bad).decode("utf-8", "backslashreplace") in stored


def test_an_evaluation_with_a_name_that_is_not_utf8_completes(
    tmp_path: Path, evaluate: Callable[..., Run]
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    name = os.fsencode(src) + b"/bad\xff.c"
    Path(os.fsdecode(name)).write_text("void f(char *a, char *b) { strcpy(a, b); }\n")
    for _ in range(2):  # the second run reads the hash from the memo
        run = evaluate(src, cache_dir=tmp_path / "cache")
        assert [f["path"] for f in run.findings("unsafe-calls")] == ["bad\\xff.c"]
