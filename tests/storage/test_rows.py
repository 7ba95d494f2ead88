"""Stored rows: evaluation.json splices each stored body with its path, no parsing; the text
must be exactly what encoding the record with its path (keys sorted, non-ASCII kept) gives."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from assay.errors import StorageError
from assay.storage.findings import FindingStore, encode_rows, row_json

RECORDS: list[dict[str, Any]] = [
    {},
    {"a": 1},
    {"z": 1},
    {"line": 3, "name": "main", "complexity": 7, "params": 2},
    {"line": 4, "name": "ünïcode_名前", "tokens": 1.5, "x": {"path": "nested", "b": [1, None]}},
    {"pat": "before", "pathx": "after", "line": 9},
    {"PATH": "upper sorts first", "line": 1, "q": 'quote " and \\ and \n'},
]


@pytest.mark.parametrize("record", RECORDS)
def test_a_spliced_row_is_the_record_with_its_path_encoded(record: dict[str, Any]) -> None:
    ((line, body, split),) = encode_rows([record])
    assert line == record.get("line", 0)
    for path in ("src/a.c", 'dir/ünï "q".c'):
        text = row_json(path, body, split)
        assert text == json.dumps({**record, "path": path}, sort_keys=True, ensure_ascii=False)


def test_a_row_may_not_bring_its_own_path() -> None:
    with pytest.raises(ValueError, match="path"):
        encode_rows([{"path": "x.c", "line": 1}])


def test_the_store_gives_rows_as_records_and_as_the_same_json(tmp_path: Path) -> None:
    store = FindingStore(tmp_path / "s.sqlite", create=True)
    try:
        store.add_rows("complexity", "b.c", RECORDS[3:5])
        store.add_rows("complexity", "a.c", RECORDS[:3])
        store.add_rows("other", "a.c", [{"line": 1}])
        store.close_writing()
        records = list(store.rows("complexity"))
        texts = list(store.rows_json("complexity"))
    finally:
        store.close()
    assert [r["path"] for r in records] == ["a.c"] * 3 + ["b.c"] * 2
    assert texts == [json.dumps(r, sort_keys=True, ensure_ascii=False) for r in records]


@pytest.mark.parametrize(("body", "split"), [("not json", 1), ('{"a": 1}', 0), ('{"a": 1}', 8)])
def test_a_corrupt_stored_row_is_an_error(body: str, split: int) -> None:
    with pytest.raises(StorageError, match=r"corrupt row of x\.c"):
        row_json("x.c", body, split)
