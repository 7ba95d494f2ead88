"""A real SQLite amalgamation, vendored: one full SQLite copy with its exact version.

Debian's fossil source package carries SQLite's amalgamation (``extsrc/sqlite3.c``, about
8.7 MB, with ``sqlite3.h``). The expected version is read from the header by this test's own
pattern, not from a literal: the mirror moves.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from support import Run

pytestmark = pytest.mark.realworld


def test_vendored_amalgamation_is_a_full_copy_and_is_analysed(
    upstream: Callable[[str], Any], tmp_path: Path, evaluate: Callable[..., Run]
) -> None:
    extsrc = upstream("fossil/bookworm").path / "extsrc"
    header = (extsrc / "sqlite3.h").read_text(encoding="utf-8", errors="replace")
    version = re.search(r'#define SQLITE_VERSION\s+"([^"]+)"', header)
    assert version is not None
    tree = tmp_path / "fw"
    (tree / "db" / "sqlite").mkdir(parents=True)
    for name in ("sqlite3.c", "sqlite3.h"):
        shutil.copy(extsrc / name, tree / "db" / "sqlite" / name)
    (tree / "app.c").write_text("int main(void) { return 0; }\n", encoding="utf-8")
    run = evaluate(tree, jobs=2)
    doc = run.json()
    [copy] = doc["components"]["copies"]
    assert (copy["name"], copy["version"], copy["root"], copy["kind"]) == (
        "sqlite", version.group(1), "db/sqlite", "full",
    )  # fmt: skip
    assert doc["skipped"] == []
    amalgamation = (extsrc / "sqlite3.c").read_bytes()
    assert len(amalgamation) > 8 * 1024**2
    lines = sum(p.read_bytes().count(b"\n") for p in tree.rglob("*.[ch]"))
    assert doc["inventory"]["analyzed"]["lines"] == lines
    census = doc["unsafe-calls"]["components"][copy["key"]]["totals"]
    assert census["calls_unbounded"] > 0
