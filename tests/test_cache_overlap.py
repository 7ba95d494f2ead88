"""Warm parallel runs: every key is looked up first, the misses go to the pool (or cluster)
before any hit is decoded, and the result equals a cold run's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assay import analyze, engine
from assay.analyze.interface import FileAnalyzer
from assay.config import Options
from assay.engine import cache, cluster, worker
from assay.engine.execute import Executor, InProcess, Remembered, execute
from assay.engine.plan import plan
from assay.engine.pool import Pool
from assay.ingest.tree import ingest
from assay.parse import ParseLimits
from support import Run, run_evaluation

CHANGED = ("src/httpd.c", "src/cli.c", "lib/safe_str.c")
"""Files edited between the two releases: more than one miss, so the pool is used."""


def stable(run: Run) -> dict[str, Any]:
    """evaluation.json without its run facts (none today, kept in line with test_cache)."""
    doc = run.json()
    return {k: v for k, v in doc.items() if not any(w in k for w in ("time", "duration"))}


def next_release(tree: Path) -> None:
    """Edit ``CHANGED`` as a next release would."""
    for rel in CHANGED:
        path = tree / rel
        path.write_text(path.read_text() + "\nstatic const int assay_next_release = 1;\n")


@pytest.fixture
def events(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records ``decode`` for each cache hit (and ``submit``, by ``observed_pool``)."""
    seen: list[str] = []
    decode = cache.decode

    def decoding(key: int, blob: bytes) -> worker.Outcome:
        seen.append("decode")
        return decode(key, blob)

    monkeypatch.setattr(cache, "decode", decoding)
    return seen


def observed_pool(seen: list[str]) -> engine.ExecutorFactory:
    """The real process pool, telling ``seen`` of every batch it submits."""

    def make(options: Options, analyzers: tuple[FileAnalyzer, ...]) -> Executor:
        return Pool(options.jobs, analyzers, options.parse, lambda _: seen.append("submit"))

    return make


def test_warm_parallel_run_with_misses_equals_cold_run(example_tree: Path, tmp_path: Path) -> None:
    store = tmp_path / "cache"
    run_evaluation(example_tree, tmp_path / "n", cache_dir=store, jobs=2)
    next_release(example_tree)
    warm = run_evaluation(example_tree, tmp_path / "warm", cache_dir=store, jobs=2)
    warm_serial = run_evaluation(example_tree, tmp_path / "warm-1", cache_dir=store, jobs=1)
    cold = run_evaluation(example_tree, tmp_path / "cold", jobs=2)
    assert stable(warm) == stable(cold) == stable(warm_serial)
    assert warm.findings() == cold.findings()
    assert len(cold.findings()) > 0


def test_misses_are_submitted_before_hits_are_decoded(
    example_tree: Path, tmp_path: Path, events: list[str]
) -> None:
    store = tmp_path / "cache"
    pool = observed_pool(events)
    run_evaluation(example_tree, tmp_path / "n", pool, cache_dir=store, jobs=2)
    assert "decode" not in events and "submit" in events
    next_release(example_tree)
    events.clear()
    run_evaluation(example_tree, tmp_path / "n1", pool, cache_dir=store, jobs=2)
    assert "submit" in events and "decode" in events
    assert events.index("submit") < events.index("decode")


def test_cluster_misses_are_submitted_before_hits_are_decoded(
    example_tree: Path, tmp_path: Path, events: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cluster path, with a stand-in for the cluster that computes in-process."""
    submitted: list[int] = []

    def fake_cluster(
        address: str,
        batches: list[list[worker.Task]],
        chosen: tuple[FileAnalyzer, ...],
        limits: ParseLimits,
        shared_path: bool,
    ) -> Iterator[worker.Outcome]:
        events.append("submit")
        submitted.extend(task.key for batch in batches for task in batch)
        for batch in batches:
            yield from (worker.run(task, chosen, limits) for task in batch)

    store = tmp_path / "cache"
    run_evaluation(example_tree, tmp_path / "n", cache_dir=store)
    monkeypatch.setattr(cluster, "run", fake_cluster)
    next_release(example_tree)
    events.clear()
    warm = run_evaluation(example_tree, tmp_path / "n1", cache_dir=store, scheduler="tcp://x:1")
    cold = run_evaluation(example_tree, tmp_path / "cold")
    assert len(submitted) == len(CHANGED)
    assert events.index("submit") < events.index("decode")
    assert stable(warm) == stable(cold)


def test_serial_warm_run_keeps_unit_order(example_tree: Path, tmp_path: Path) -> None:
    """``-j 1``: hits and misses arrive in the order of a run without the cache."""
    options = Options.default(example_tree, tmp_path / "out")
    analyzers = analyze.build(options.settings)
    executor = InProcess(analyzers, options.parse)
    store = tmp_path / "cache"

    def keys(remembered: bool) -> list[int]:
        files = ingest(example_tree, tmp_path / "work", options.archive).files
        opened = cache.open_cache(store) if remembered else None
        with_cache = Remembered(opened, "context") if opened is not None else None
        return [o.key for o in execute(plan(files, analyzers).units, executor, with_cache)]

    plain = keys(False)
    cold = keys(True)
    next_release(example_tree)
    warm = keys(True)
    assert plain == sorted(plain) == cold == warm
    assert len(plain) > 5


def test_batched_lookups(tmp_path: Path) -> None:
    keys = [n.to_bytes(2, "big") * 16 for n in range(1200)]  # more than two lookup chunks
    with cache.ResultCache(tmp_path) as results:
        for n, key in enumerate(keys):
            if n % 3 == 0:
                results.put(key, b"v%d" % n)
    with cache.ResultCache(tmp_path) as results:
        assert results.present(keys) == set(keys[::3])
        found = results.get_many(keys)
        assert found == {key: b"v%d" % n for n, key in enumerate(keys) if n % 3 == 0}
        assert results.hits == 400


def test_entry_gone_after_the_lookup_is_computed(
    example_tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hit trimmed by another process between lookup and read is computed, not lost."""
    store = tmp_path / "cache"
    run_evaluation(example_tree, tmp_path / "n", cache_dir=store, jobs=2)
    get_many = cache.ResultCache.get_many

    def forgetful(self: cache.ResultCache, keys: list[bytes]) -> dict[bytes, bytes]:
        found = get_many(self, keys)
        return dict(list(found.items())[1:])

    monkeypatch.setattr(cache.ResultCache, "get_many", forgetful)
    warm = run_evaluation(example_tree, tmp_path / "n1", cache_dir=store, jobs=2)
    cold = run_evaluation(example_tree, tmp_path / "cold")
    assert stable(warm) == stable(cold)
