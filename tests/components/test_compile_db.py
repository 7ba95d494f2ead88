"""compile_commands.json: units matched by their longest shared path tail, copies labelled."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from assay.correlate.components.compile_db import built, load
from assay.errors import ConfigError
from support import Run, write_tree

ZLIB_H = '#define ZLIB_VERSION "1.2.11"\n'
ZLIB_OLD_H = '#define ZLIB_VERSION "1.2.3"\n'
UNIT = "int f(void) { return 0; }\n"


@pytest.mark.parametrize(
    ("db_file", "expected"),
    [
        ("/home/build/fw/src/zlib/inflate.c", "src/zlib/inflate.c"),
        ("/b/test/zlib/inflate.c", "test/zlib/inflate.c"),
        ("/elsewhere/inflate.c", "src/zlib/inflate.c"),  # a tie: the shortest path wins
        ("/b/src/zlib/missing.c", None),
    ],
)
def test_a_database_file_names_the_path_with_the_longest_shared_tail(
    db_file: str, expected: str | None
) -> None:
    paths = ["src/zlib/inflate.c", "test/zlib/inflate.c", "src/main.c"]
    assert built([db_file], paths) == ({expected} if expected else frozenset())


def test_load_joins_directory_and_relative_file(tmp_path: Path) -> None:
    db = tmp_path / "compile_commands.json"
    db.write_text(json.dumps([{"directory": "/b/fw", "file": "src/../src/a.c", "command": "cc"}]))
    assert load(db) == ["/b/fw/src/a.c"]


@pytest.mark.parametrize("content", ["{}", "[{}]", "not json"])
def test_a_broken_database_is_a_config_error(tmp_path: Path, content: str) -> None:
    db = tmp_path / "compile_commands.json"
    db.write_text(content)
    with pytest.raises(ConfigError):
        load(db)


def test_copies_never_built_are_reported(tmp_path: Path, evaluate: Callable[..., Run]) -> None:
    tree = write_tree(
        tmp_path / "fw",
        {
            "lib/zlib/zlib.h": ZLIB_H,
            "lib/zlib/inflate.c": UNIT,
            "tests/old-zlib/zlib.h": ZLIB_OLD_H,
            "tests/old-zlib/inflate.c": UNIT,
            "src/main.c": UNIT,
            "src/unused.c": UNIT,
        },
    )
    db = tmp_path / "compile_commands.json"
    entries = [
        {"directory": "/home/ci/fw", "file": f} for f in ("lib/zlib/inflate.c", "src/main.c")
    ]
    db.write_text(json.dumps(entries))
    section = evaluate(tree, compile_db=db).json()["components"]
    built_by_key = {c["key"]: c["built"] for c in section["copies"]}
    assert built_by_key == {"zlib@1.2.11:lib/zlib": True, "zlib@1.2.3:tests/old-zlib": False}
    assert section["build"]["vendor_not_built"] == ["src/unused.c"]
    assert section["build"]["copies_not_built"] == ["zlib@1.2.3:tests/old-zlib"]
    assert section["libraries"]["zlib"]["not_built"] == 1
