"""Numbered fingerprints: assigned per batch as findings arrive, renumbered on close when two
batches of one file shared a base fingerprint; either way each file's equal findings are
numbered by (line, end line, message), as a window function over the whole store numbers them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from assay.errors import StorageError
from assay.model import RawFinding, Severity
from assay.storage import findings
from assay.storage.findings import FindingStore, base_fingerprint

WINDOW = (
    "SELECT path, start_line, message, base_fp || ':' || ROW_NUMBER() OVER (PARTITION BY path,"
    " base_fp ORDER BY start_line, end_line, message) FROM findings"
)


def _raw(line: int, message: str, evidence: str = "memcpy(a, b, n);") -> RawFinding:
    return RawFinding("unsafe-calls/memcpy", line, line, message, evidence)


def _numbered(
    path: Path,
) -> tuple[list[tuple[str, int, str, str]], list[tuple[str, int, str, str]]]:
    """(path, line, message, fp) as stored, and as the window function numbers them."""
    with sqlite3.connect(path) as db:
        stored = sorted(db.execute("SELECT path, start_line, message, fp FROM findings"))
        window = sorted(db.execute(WINDOW))
    return stored, window


# the same evidence three times in a.c, out of order; another evidence; b.c on its own
BATCH = [_raw(30, "m"), _raw(10, "m"), _raw(20, "m"), _raw(5, "m", "strcpy(a, b);")]


def test_equal_findings_of_one_batch_are_numbered_by_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the batches alone number them: closing must not need to renumber
    monkeypatch.setattr(findings, "_RENUMBER", "not SQL")
    store = FindingStore(tmp_path / "s.sqlite", create=True)
    try:
        store.add_all("unsafe-calls", "a.c", [(r, Severity.HIGH) for r in BATCH])
        store.add_all("unsafe-calls", "b.c", [(BATCH[0], Severity.HIGH)])
        store.close_writing()
        found = [(f.location.path, f.location.start_line, f.fingerprint) for f in store.findings()]
    finally:
        store.close()
    base = base_fingerprint("unsafe-calls/memcpy", "a.c", "memcpy(a, b, n);")
    assert [fp for path, line, fp in found if path == "a.c" and fp.startswith(base)] == [
        f"{base}:1", f"{base}:2", f"{base}:3"
    ]  # fmt: skip
    assert [line for path, line, _ in found if path == "a.c"] == [5, 10, 20, 30]
    stored, window = _numbered(tmp_path / "s.sqlite")
    assert stored == window


def test_a_file_given_in_several_batches_is_renumbered_on_close(tmp_path: Path) -> None:
    store = FindingStore(tmp_path / "s.sqlite", create=True)
    try:
        for raw in BATCH:  # one finding per batch: every batch numbers its own ":1"
            store.add("unsafe-calls", Severity.HIGH, "a.c", raw)
        store.close_writing()
        fingerprints = [f.fingerprint for f in store.findings()]
    finally:
        store.close()
    assert len(set(fingerprints)) == len(BATCH)
    stored, window = _numbered(tmp_path / "s.sqlite")
    assert stored == window


def test_a_store_of_another_schema_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE findings (path TEXT)")
    with pytest.raises(StorageError, match="evaluate again"):
        FindingStore(path)
    with pytest.raises(StorageError, match="evaluate again"):
        FindingStore(path, read_only=True)
