"""A file rewritten between listing and analysis must not poison the result cache.

The executor factory is called after ingest has listed and hashed the files and the plan is
made, so a factory that rewrites a file there is a deterministic stand-in for a writer racing
the run. The worker hashes the bytes it reads: they are not those listed, so the file is
skipped (``changed``) and nothing is stored under the listed hash. A later evaluation of the
content that hash names computes it afresh and reports its finding."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from assay.analyze.interface import FileAnalyzer
from assay.config import Options
from assay.engine import Executor
from assay.engine.pool import Pool
from support import Computed, run_evaluation, write_tree

STRCPY = "void f(char *a, const char *b)\n{\n    strcpy(a, b);\n}\n"
BENIGN = "int g(void)\n{\n    return 0;\n}\n"
Factory = Callable[[Options, tuple[FileAnalyzer, ...]], Executor]


def _rewriting(path: Path, make: Factory) -> Factory:
    """``make``, after rewriting ``path`` with benign content (listed, not yet analysed)."""

    def factory(options: Options, analyzers: tuple[FileAnalyzer, ...]) -> Executor:
        path.write_text(BENIGN, encoding="utf-8")
        return make(options, analyzers)

    return factory


def _pool(options: Options, analyzers: tuple[FileAnalyzer, ...]) -> Executor:
    return Pool(2, analyzers, options.parse)


@pytest.mark.parametrize("where", ["in-process", "pool"])
def test_a_file_rewritten_after_listing_is_skipped_and_not_cached(
    tmp_path: Path, where: str
) -> None:
    tree = write_tree(tmp_path / "t", {"src/a.c": STRCPY, "src/b.c": STRCPY.replace("f(", "h(")})
    cache_dir = tmp_path / "cache"
    first = Computed()
    make = first.factory if where == "in-process" else _pool
    raced = run_evaluation(
        tree, tmp_path / "o1", _rewriting(tree / "src/a.c", make), cache_dir=cache_dir
    )
    skipped = [(s.path, s.stage, s.reason) for s in raced.evaluation.skipped]
    assert skipped == [("src/a.c", "parse", "changed")]
    [record] = raced.evaluation.skipped
    assert record.detail.startswith("the file changed after it was listed (sha256 ")
    assert [f["path"] for f in raced.findings("unsafe-calls")] == ["src/b.c"]

    # the listed content again, with the same hash: computed afresh, its finding reported
    (tree / "src/a.c").write_text(STRCPY, encoding="utf-8")
    again = Computed()
    later = run_evaluation(tree, tmp_path / "o2", again.factory, cache_dir=cache_dir)
    assert again == [str(tree / "src/a.c")]  # b.c was stored; a.c was not
    assert sorted(f["path"] for f in later.findings("unsafe-calls")) == ["src/a.c", "src/b.c"]
    assert later.evaluation.skipped == ()


def test_a_file_replaced_by_a_fifo_after_listing_is_not_opened_for_reading(
    tmp_path: Path,
) -> None:
    """The worker opens without blocking and reads only a regular file: a FIFO put in a
    listed file's place (no writer: a blocking open would wait forever) is unreadable."""
    tree = write_tree(tmp_path / "t", {"src/a.c": STRCPY, "src/b.c": BENIGN})
    target = tree / "src/a.c"

    def factory(options: Options, analyzers: tuple[FileAnalyzer, ...]) -> Executor:
        target.unlink()
        os.mkfifo(target)
        return Computed().factory(options, analyzers)

    run = run_evaluation(tree, tmp_path / "out", factory)
    [record] = run.evaluation.skipped
    assert (record.path, record.reason) == ("src/a.c", "unreadable")
    assert record.detail.endswith("not a regular file")
