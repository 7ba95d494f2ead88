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
from assay.storage.findings import FindingStore, base_fingerprint, encode_findings

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


def test_findings_encoded_by_the_workers_are_stored_as_raw_ones_are(tmp_path: Path) -> None:
    """The pool workers hand findings over encoded (``encode_findings``); the store must give
    back what storing the findings themselves gives: severities, fingerprints over the
    whitespace-normalised evidence, properties."""
    spaced = "memcpy( a,\n\t b );  "
    raws = [
        RawFinding("r/a", 3, 4, "m", spaced, Severity.CRITICAL, {"z": 1, "a": [2]}),
        RawFinding("r/a", 1, 1, "m", spaced),
        RawFinding("r/b", 2, 2, "n", "plain", None, {"k": "ü"}),
    ]  # fmt: skip
    severities = {"r/a": Severity.LOW, "r/b": Severity.MEDIUM}
    stored = []
    for how in ("raw", "encoded"):
        store = FindingStore(tmp_path / f"{how}.sqlite", create=True)
        try:
            if how == "raw":
                store.add_all("c", "x/a.c", [(r, severities[r.rule_id]) for r in raws], "k", "a.c")
            else:
                store.add_encoded("c", "x/a.c", severities, encode_findings(raws), "k", "a.c")
            store.close_writing()
            stored.append(list(store.findings()))
        finally:
            store.close()
    assert stored[0] == stored[1]
    by_line = {f.location.start_line: f for f in stored[0]}
    assert by_line[3].severity is Severity.CRITICAL and by_line[1].severity is Severity.LOW
    base = base_fingerprint("r/a", "a.c", "memcpy( a,\n\t b );  ")
    assert base == base_fingerprint("r/a", "a.c", "memcpy( a, b );")
    assert sorted(f.fingerprint for f in stored[0] if f.rule_id == "r/a") == [
        f"{base}:1", f"{base}:2"
    ]  # fmt: skip
    assert by_line[3].properties == {"z": 1, "a": [2]} and by_line[2].properties == {"k": "ü"}
