"""The result cache: warm runs equal cold ones, only changed content is re-analysed, any
result-changing option (a user wrapper) misses, the size limit holds, ``--no-cache`` works."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from assay import cli, engine
from assay.analyze.interface import FileAnalyzer
from assay.cli import flags
from assay.config import Options
from assay.engine import cache, worker
from assay.engine.pool import Pool
from assay.model import FileKind
from assay.parse import ParseLimits
from support import Computed, Run, golden_findings, run_evaluation, write_tree

WRAPPER = {"functions": [{"name": "OS_Copy", "family": "vendor-copy", "bounded": False}]}
VOLATILE = ("time", "duration", "generated", "elapsed")
"""Top-level keys naming these are run facts, not results (none exist today)."""


def stable(doc: dict[str, Any]) -> dict[str, Any]:
    """A document without volatile top-level keys."""
    return {k: v for k, v in doc.items() if not any(word in k for word in VOLATILE)}


@pytest.fixture
def computed() -> Computed:
    """Records the disk path of every unit an evaluation given ``computed.factory`` as its
    executor really computes (in-process)."""
    return Computed()


def outputs(run: Run) -> tuple[dict[str, Any], dict[str, Any]]:
    """evaluation.json and results.sarif, without volatile fields."""
    return stable(run.json()), stable(run.sarif())


def test_warm_run_equals_cold_run_and_computes_nothing(
    example_tree: Path, tmp_path: Path, computed: Computed
) -> None:
    store = tmp_path / "cache"
    plain = run_evaluation(example_tree, tmp_path / "plain")
    cold = run_evaluation(example_tree, tmp_path / "cold", computed.factory, cache_dir=store)
    cold_work = len(computed)
    computed.clear()
    warm = run_evaluation(example_tree, tmp_path / "warm", computed.factory, cache_dir=store)
    assert cold_work == _units(plain.json()) > 5
    assert computed == []
    assert outputs(warm) == outputs(cold) == outputs(plain)
    assert warm.findings() == cold.findings()
    assert plain.findings() == golden_findings()


def test_only_changed_content_is_reanalysed(
    example_tree: Path, tmp_path: Path, computed: Computed
) -> None:
    store = tmp_path / "cache"
    run_evaluation(example_tree, tmp_path / "n", cache_dir=store)
    changed = example_tree / "src" / "httpd.c"
    changed.write_text(changed.read_text() + "\nstatic const int assay_next = 1;\n")
    warm = run_evaluation(example_tree, tmp_path / "n1", computed.factory, cache_dir=store)
    assert [Path(p).name for p in computed] == ["httpd.c"]
    cold = run_evaluation(example_tree, tmp_path / "n1-cold")
    assert outputs(warm) == outputs(cold)


def test_changing_a_user_wrapper_invalidates_the_cache(tmp_path: Path) -> None:
    tree = write_tree(
        tmp_path / "src",
        {"net.c": "void f(char *d, const char *s, int n) {\n    OS_Copy(d, s, n);\n}\n"},
    )
    store = tmp_path / "cache"
    before = run_evaluation(tree, tmp_path / "before", cache_dir=store)
    settings = {"unsafe-calls": WRAPPER}
    warm = run_evaluation(tree, tmp_path / "after", cache_dir=store, settings=settings)
    cold = run_evaluation(tree, tmp_path / "cold", settings=settings)
    assert [f["rule_id"] for f in before.findings("unsafe-calls")] == []
    assert [f["rule_id"] for f in warm.findings("unsafe-calls")] == ["unsafe-calls/OS_Copy"]
    assert outputs(warm) == outputs(cold)


def test_key_covers_content_kind_name_analyzers_and_context() -> None:
    task = worker.Task(0, "/x/a.c", FileKind.C, (0, 1))
    base = cache.task_key("ctx", "00" * 32, task)
    variants = [
        cache.task_key("ctx2", "00" * 32, task),
        cache.task_key("ctx", "11" * 32, task),
        cache.task_key("ctx", "00" * 32, worker.Task(0, "/x/a.c", FileKind.CPP, (0, 1))),
        cache.task_key("ctx", "00" * 32, worker.Task(0, "/x/a.c", FileKind.C, (0,))),
        cache.task_key("ctx", "00" * 32, worker.Task(0, "/x/a", FileKind.TEXT, (0, 1), "a")),
    ]
    assert len({base, *variants}) == 6
    assert cache.task_key("ctx", "00" * 32, worker.Task(9, "/elsewhere.c", FileKind.C, (0, 1))) == (
        base
    )


def test_size_limit_drops_least_recently_used(tmp_path: Path) -> None:
    blob = bytes(range(256)) * 40
    with cache.ResultCache(tmp_path, limit=1 << 30) as results:
        for n in range(10):
            results.put(bytes([n]) * 32, blob)
    with cache.ResultCache(tmp_path, limit=4 * len(blob)) as results:
        assert results.get(bytes([0]) * 32) == blob
    with cache.ResultCache(tmp_path, limit=1 << 30) as results:
        kept = [n for n in range(10) if results.get(bytes([n]) * 32) is not None]
        assert results.size() == 4 * len(blob)
    assert kept == [0, 7, 8, 9]


def test_unreadable_outcomes_are_not_cached() -> None:
    task = worker.Task(3, "/nonexistent/a.c", FileKind.C, (0,))
    outcome = worker.run(task, (), ParseLimits())
    assert outcome.skip is not None and outcome.skip[0] == "unreadable"
    assert not cache.cacheable(outcome)
    stored = worker.Outcome(3, ("too-large", "detail"), 7)
    assert cache.cacheable(stored)
    assert cache.decode(5, cache.encode(stored)) == worker.Outcome(5, ("too-large", "detail"), 7)


def cli_run(tmp_path: Path, name: str, *flags: str) -> Callable[[], dict[str, Any]]:
    out = tmp_path / name
    code = cli.main(["example", "-o", str(out), "-q", "-j", "1", *flags])
    assert code == 0
    return lambda: json.loads((out / "evaluation.json").read_text())


def test_cli_cache_dir_and_no_cache(tmp_path: Path) -> None:
    store = tmp_path / "store"
    skipped = cli_run(tmp_path, "a", "--cache-dir", str(store), "--no-cache")
    assert not store.exists()
    used = cli_run(tmp_path, "b", "--cache-dir", str(store), "--cache-limit", "64M")
    assert (store / cache.FILE_NAME).stat().st_size > 0
    with cache.ResultCache(store) as results:
        assert results.size() > 0
    assert stable(skipped())["inventory"] == stable(used())["inventory"]


def _units(doc: dict[str, Any]) -> int:
    """Unique contents the analyzers read: C/C++ and the other files (text, binaries)."""
    inventory = doc["inventory"]
    return int(
        inventory["analyzed"]["unique_contents"] + inventory["analyzed_other"]["unique_contents"]
    )


def _releases(*specs: str) -> list[Any]:
    """Real upstream releases (downloaded once into the user's cache); fails when unavailable."""
    tools = str(Path(__file__).resolve().parents[1] / "tools")
    if tools not in sys.path:
        sys.path.insert(0, tools)
    import upstream

    found = upstream.fetch(specs)
    if len(found) != len(specs):
        pytest.fail(f"could not download {specs} (see stderr)")
    return found


@pytest.mark.realworld
def test_next_release_reuses_the_previous_ones_results(tmp_path: Path, computed: Computed) -> None:
    older, newer = _releases("zlib/bullseye", "zlib/bookworm")
    assert older.version != newer.version
    store = tmp_path / "cache"
    run_evaluation(older.path, tmp_path / "n", cache_dir=store)
    warm = run_evaluation(newer.path, tmp_path / "n1", computed.factory, cache_dir=store)
    recomputed = len(computed)
    cold = run_evaluation(newer.path, tmp_path / "n1-cold")
    unique = _units(cold.json())
    assert 0 < recomputed < unique
    assert outputs(warm) == outputs(cold)
    assert warm.findings() == cold.findings()


@pytest.mark.parametrize(
    ("text", "size"),
    [("2G", 2 << 30), ("500M", 500 << 20), ("64KiB", 64 << 10), ("1048576", 1 << 20)],
)
def test_cache_limit_sizes(text: str, size: int) -> None:
    assert flags.parse_size(text) == size


def test_cache_limit_rejects_garbage() -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        flags.parse_size("two gigs")


def test_two_processes_can_share_one_cache(tmp_path: Path) -> None:
    first, second = cache.ResultCache(tmp_path), cache.ResultCache(tmp_path)
    try:
        assert first.get(b"a" * 32) is None
        for n in range(600):  # more than one write batch each, interleaved
            second.put(bytes([n % 256, n // 256]) * 16, b"second")
            first.put(bytes([n % 256, n // 256, 1]) + b"f" * 29, b"first")
        assert first.get(bytes([5, 0]) * 16) == b"second"
    finally:
        first.close()
        second.close()
    with cache.ResultCache(tmp_path) as results:
        assert results.size() == 600 * len(b"second") + 600 * len(b"first")


def test_unusable_cache_is_a_warning_not_an_error(
    example_tree: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("x")
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / cache.FILE_NAME).write_bytes(b"this is not a database" * 100)
    plain = run_evaluation(example_tree, tmp_path / "plain")
    for bad in (not_a_directory, corrupt):
        run = run_evaluation(example_tree, tmp_path / f"out-{bad.name}", cache_dir=bad)
        assert outputs(run) == outputs(plain)
    assert caplog.text.count("result cache not used") == 2


def test_outcomes_are_stored_as_plain_pickles_and_zlib_ones_still_decode() -> None:
    """Format 2 stores pickles uncompressed; a zlib-compressed pickle (what the format stored
    before) decodes to the same outcome."""
    import pickle
    import zlib

    stored = worker.Outcome(3, ("too-large", "detail"), 7)
    blob = cache.encode(stored)
    assert blob[:1] == b"\x80"
    assert pickle.loads(blob)[0] == ("too-large", "detail")
    legacy = zlib.compress(blob, 1)
    expected = worker.Outcome(9, *pickle.loads(blob))
    assert cache.decode(9, legacy) == cache.decode(9, blob) == expected


def test_a_warm_run_of_several_batches_recomputes_exactly_the_changed_files(
    tmp_path: Path,
) -> None:
    """100 files (four batches of the real pool); five change between the runs: exactly those
    five are submitted again, each once, and the outputs equal a run without the cache."""
    body = "void f{n}(char *a, const char *b)\n{{\n    strcpy(a, b);\n}}\n"
    files = {f"src/m{n:03}.c": body.format(n=n) for n in range(100)}
    tree = write_tree(tmp_path / "t", files)
    store = tmp_path / "cache"
    seen: list[list[str]] = []
    run_evaluation(tree, tmp_path / "cold", _recording_pool(seen), cache_dir=store)
    assert [len(batch) for batch in seen] == [32, 32, 32, 4]
    changed = [f"m{n:03}.c" for n in (3, 40, 41, 77, 99)]
    for name in changed:
        with (tree / "src" / name).open("a") as stream:
            stream.write("int changed;\n")
    seen.clear()
    warm = run_evaluation(tree, tmp_path / "warm", _recording_pool(seen), cache_dir=store)
    assert sorted(name for batch in seen for name in batch) == changed
    plain = run_evaluation(tree, tmp_path / "plain")
    assert outputs(warm) == outputs(plain)
    assert warm.findings() == plain.findings()
    assert len(warm.findings("unsafe-calls")) == 100


def _recording_pool(seen: list[list[str]]) -> engine.ExecutorFactory:
    """The real two-process pool, recording the base names of every batch it submits."""

    def make(options: Options, analyzers: tuple[FileAnalyzer, ...]) -> engine.Executor:
        def record(batch: list[worker.Task]) -> None:
            seen.append([Path(task.disk_path).name for task in batch])

        return Pool(2, analyzers, options.parse, record)

    return make
