"""``evaluate(options) -> Evaluation``: ingest → parse+analyze (pool) → aggregate → store.

The engine is the only place that knows about executors. Per-file work (``assay.engine.worker``)
runs once per unique content and kind; its result is attributed here to every path holding
that content, so every figure counts each shipped copy while the work is done once.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import (
    FIRST_COMPLETED,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from itertools import chain, islice
from multiprocessing import forkserver, get_context
from pathlib import Path
from typing import Any

from assay import __version__
from assay import analyze as analyzers
from assay.analyze import binaries as binary_findings
from assay.analyze.interface import Aggregator, FileAnalyzer, PathContext
from assay.assess import binaries as binary_correlate
from assay.assess.vulns import db as vulndb
from assay.assess.vulns import findings as vuln_findings
from assay.assess.vulns.match import assess
from assay.config import Options
from assay.correlate.components import compile_db, inventory
from assay.correlate.components.copies import Ownership, identify, relative_to_root
from assay.correlate.components.kb import KnowledgeBase, open_default
from assay.correlate.components.matching import correlate
from assay.engine import cache, cluster
from assay.engine.worker import Outcome, Task, init, run, run_batch
from assay.errors import AssayError
from assay.ingest import SourceFile
from assay.ingest.memo import open_memo
from assay.ingest.tree import ingest
from assay.model import (
    SCHEMA_VERSION,
    SOURCE_KINDS,
    Component,
    Evaluation,
    RawFinding,
    Rule,
    Severity,
    Skipped,
)
from assay.parse import GRAMMAR_VERSION
from assay.progress import NullProgress, Progress
from assay.storage.findings import STORE_NAME, WORK_DIR, FindingStore

_BATCH_BYTES = 1 << 20
_BATCH_FILES = 32
_PRELOAD = ("__main__", "assay.engine.worker", "assay.report", *analyzers.MODULES)
"""What the fork server imports before it starts any worker process."""
_LOOKUP_BATCH = 500
"""Cached outcomes read from the result cache per query."""
_READY_STEP = 64
"""Cached outcomes yielded between two polls of the pool."""
HUGE_BYTES = 4 << 20
"""A file this large gets a batch of its own, and only one such batch runs at a time: its
parse tree alone can take 300 MiB (OpenSSL's 8 MB ``drbg_cavs_data.c``), and two at once on
two workers would crowd the memory budget."""


@dataclass(slots=True)
class _Unit:
    """One unique (content, kind) and the paths that hold it."""

    task: Task
    size: int
    sha256: str
    paths: list[str] = field(default_factory=list)


_Finished = tuple[Mapping[str, Any], Iterable[tuple[str, RawFinding]]]
"""What an aggregator's ``finish`` gives: its section and corpus-level findings."""


@dataclass(slots=True)
class _Run:
    """Mutable state of one evaluation, private to the engine."""

    options: Options
    analyzers: tuple[FileAnalyzer, ...]
    aggregators: list[Aggregator]
    store: FindingStore
    directories: dict[str, str]
    ownership: Ownership
    severities: list[dict[str, Severity]]
    skipped: list[Skipped] = field(default_factory=list)
    lines: Counter[str] = field(default_factory=Counter)
    labels: Counter[str] = field(default_factory=Counter)


def evaluate(options: Options, progress: Progress | None = None) -> Evaluation:
    """Evaluate ``options.input``; findings go to ``store_path(options.output_dir)``."""
    progress = progress or NullProgress()
    work = options.output_dir / WORK_DIR
    extract = work / "extract"
    shutil.rmtree(extract, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    try:
        return _evaluate(options, work, extract, progress)
    finally:
        if not options.keep_work:
            shutil.rmtree(extract, ignore_errors=True)
        progress.done()


def _evaluate(options: Options, work: Path, extract: Path, progress: Progress) -> Evaluation:
    if options.scheduler is None and options.jobs > 1:
        # The fork server imports assay, the analyzers and the worker while ingest runs: the
        # pool's workers (and the reporters' child) then start without that delay.
        get_context("forkserver").set_forkserver_preload(list(_PRELOAD))
        forkserver.ensure_running()
    memo = None
    if options.cache_dir is not None and not options.no_cache and options.input.is_dir():
        memo = open_memo(options.cache_dir, options.input)
    try:
        ingested = ingest(
            options.input, extract, options.archive, progress, [options.output_dir], memo
        )
    finally:
        if memo is not None:
            memo.close()
    chosen = analyzers.select(analyzers.build(options.settings), options.categories)
    units, out_of_scope = _plan(ingested.files, chosen)
    known = vulndb.load(options.vulndb)
    skipped = list(ingested.skipped)
    kb_info = _kb_info(options)
    snapshots = {"kb": kb_info, "vulndb": known.snapshot}
    progress.stage("analyze", total=sum(len(u.paths) for u in units))
    # A side thread closes the result cache (its last writes) and runs the clone matching's
    # finish while this thread closes the other aggregators; both mostly release the GIL.
    with ThreadPoolExecutor(2, thread_name_prefix="assay-side") as side:
        # Starting the outcomes submits the per-file work (the cache's misses) to the
        # workers, which compute while this process identifies the components the results
        # are credited to.
        outcomes = _execute(units, chosen, options, skipped, snapshots, side)
        first = next(outcomes, None)
        found, component_skips, components_section = _components(options, ingested.files, kb_info)
        skipped.extend(component_skips)
        state = _Run(
            options=options,
            analyzers=chosen,
            aggregators=[a.aggregator() for a in chosen],
            store=FindingStore(work / STORE_NAME, create=True),
            directories=_directories([f.path for f in ingested.files]),
            ownership=Ownership.of(found),
            severities=[_severities(a.rules()) for a in chosen],
            skipped=skipped,
        )
        assessed = {
            c.key: assess(c, known.advisories, known.cycles, known.exploited, known.snapshot)
            for c in found
        }
        for outcome in chain([first] if first is not None else [], outcomes):
            _attribute(state, units[outcome.key], outcome)
            progress.advance(len(units[outcome.key].paths))
        beside = _start_beside(state, side)
        _store_pairs(state, vuln_findings.CATEGORY, vuln_findings.rules(),
                     vuln_findings.findings(found, assessed))  # fmt: skip
        sections = {
            "components": components_section,
            vuln_findings.CATEGORY: vuln_findings.section(
                found, assessed, known.snapshot, known.sources
            ),
            **_finish(state, beside),
        }
    if "binaries" in sections:  # binary components vs the KB and the source copies
        has_source = any(f.kind in SOURCE_KINDS for f in ingested.files)
        sections["binaries"], pairs = binary_correlate.complete(
            sections["binaries"], found, known, has_source
        )
        _store_pairs(state, "binaries", binary_findings.rules(), pairs)
    state.store.close_writing()
    files = _inventory(ingested.files, units, out_of_scope, state, ingested.links)
    counts = state.store.counts()
    state.store.close()
    return Evaluation(
        schema_version=SCHEMA_VERSION,
        tool_version=__version__,
        input=ingested.input,
        options={**options.effective(), "grammar": GRAMMAR_VERSION},
        inventory=files,
        sections=sections,
        finding_counts=counts,
        skipped=tuple(sorted(state.skipped, key=lambda s: (s.path, s.stage, s.reason))),
        rules=_rules(chosen, vuln_findings.rules()),
        rows_keys={a.id: a.rows_key for a in chosen if a.rows_key},
        components=found,
    )


def _components(
    options: Options, files: Sequence[SourceFile], kb_info: dict[str, Any]
) -> tuple[tuple[Component, ...], list[Skipped], dict[str, Any]]:
    """The copies in ``files`` (correlate stage), what could not be read, and their section
    (which records ``kb_info``, the knowledge base's snapshot)."""
    found, skipped = identify(files)
    with _knowledge_base(options) as kb:
        found = correlate(found, files, kb)
    found = inventory.with_file_counts(found, files)
    build = None
    if options.compile_db is not None:
        db_files = compile_db.load(options.compile_db)
        found, build = inventory.with_build(found, files, db_files)
    return found, skipped, inventory.section(found, build, kb_info)


def _kb_info(options: Options) -> dict[str, Any]:
    """The knowledge base's snapshot as the components section records it (part of the result
    cache's keys, known before the component pass)."""
    with _knowledge_base(options) as kb:
        snapshot = kb.snapshot()
    return {"built": snapshot.built, "releases": snapshot.releases}


def _knowledge_base(options: Options) -> KnowledgeBase:
    """The KB named by ``--kb``, else the shipped one with the user's overlay."""
    return KnowledgeBase.open([options.kb]) if options.kb else open_default()


def _plan(
    files: Sequence[SourceFile], chosen: tuple[FileAnalyzer, ...]
) -> tuple[list[_Unit], Counter[str]]:
    """Group wanted files by (content, kind); count the files no analyzer wants by kind."""
    by_key: dict[tuple[str, str, tuple[int, ...], str], _Unit] = {}
    out_of_scope: Counter[str] = Counter()
    for file in files:
        wanted = tuple(i for i, a in enumerate(chosen) if a.wants(file))
        if not wanted:
            out_of_scope[file.kind.value] += 1
            continue
        # Non-source analyzers may read the base name, so it is part of the unit's identity.
        name = "" if file.kind in SOURCE_KINDS else file.path.rpartition("/")[2]
        key = (file.sha256, file.kind.value, wanted, name)
        unit = by_key.get(key)
        if unit is None:
            task = Task(len(by_key), file.disk_path, file.kind, wanted, name)
            unit = by_key[key] = _Unit(task, file.size, file.sha256)
        unit.paths.append(file.path)
    return list(by_key.values()), out_of_scope


def _directories(paths: Sequence[str]) -> dict[str, str]:
    """Top-level directory of each path below the release root (a lone top folder is skipped)."""
    split = [p.split("/") for p in paths]
    tops = {parts[0] for parts in split}
    depth = 1 if len(tops) == 1 and all(len(parts) > 1 for parts in split) else 0
    return {
        path: parts[depth] if len(parts) > depth + 1 else "."
        for path, parts in zip(paths, split, strict=True)
    }


def _batches(units: Sequence[_Unit]) -> Iterator[list[Task]]:
    """Tasks in batches of about ``_BATCH_BYTES``, largest files first (better balance)."""
    batch: list[Task] = []
    size = 0
    for unit in sorted(units, key=lambda u: (-u.size, u.task.key)):
        if batch and unit.size >= HUGE_BYTES:
            yield batch
            batch, size = [], 0
        batch.append(unit.task)
        size += unit.size
        if size >= _BATCH_BYTES or len(batch) >= _BATCH_FILES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _execute(
    units: Sequence[_Unit],
    chosen: tuple[FileAnalyzer, ...],
    options: Options,
    skipped: list[Skipped],
    snapshots: Mapping[str, Any],
    side: ThreadPoolExecutor | None = None,
) -> Iterator[Outcome]:
    """Every unit's outcome: from the result cache where it holds one, else computed (and
    stored as it arrives). In-process runs keep the order of a run without the cache. Once
    every outcome is given, the cache's last writes and its trim run on ``side`` (if given);
    the caller waits for ``side`` before the cache may be read again.

    Parallel runs look every key up first (in batches), submit the misses to the pool or
    cluster, and decode the hits while the workers compute: the main process attributes
    cached outcomes instead of waiting. Aggregators do not depend on arrival order (pool
    completion order already varies from run to run).
    """
    if options.no_cache or options.cache_dir is None:
        yield from _compute(units, units, chosen, options, skipped)
        return
    opened = cache.open_cache(options.cache_dir, options.cache_limit)
    if opened is None:
        yield from _compute(units, units, chosen, options, skipped)
        return
    context = cache.context_key(chosen, options.settings, options.parse, snapshots)
    try:
        yield from _through_cache(opened, context, units, chosen, options, skipped)
    except BaseException:
        opened.close()
        raise
    if side is None:
        opened.close()
    else:
        side.submit(opened.close)


def _through_cache(
    results: cache.ResultCache,
    context: str,
    units: Sequence[_Unit],
    chosen: tuple[FileAnalyzer, ...],
    options: Options,
    skipped: list[Skipped],
) -> Iterator[Outcome]:
    """``_execute`` with the cache open: hits read, misses computed and stored."""
    pairs = [(unit, cache.task_key(context, unit.sha256, unit.task)) for unit in units]
    if options.scheduler is None and options.jobs <= 1:
        yield from _cached(results, pairs, chosen, options)
        return
    present = results.present([key for _, key in pairs])
    misses = [unit for unit, key in pairs if key not in present]
    keys = {unit.task.key: key for unit, key in pairs if key not in present}
    hits = _cached(results, [(u, k) for u, k in pairs if k in present], chosen, options)
    for outcome in _compute(misses, units, chosen, options, skipped, hits):
        key = keys.get(outcome.key)
        yield outcome if key is None else _remember(results, key, outcome)


def _cached(
    results: cache.ResultCache,
    pairs: Sequence[tuple[_Unit, bytes]],
    chosen: tuple[FileAnalyzer, ...],
    options: Options,
) -> Iterator[Outcome]:
    """The outcomes of ``pairs`` (unit, key) in order, read a batch of keys at a time; a
    unit without a stored outcome (a miss, or one another process trimmed since the lookup)
    is computed here, in-process, and stored."""
    for start in range(0, len(pairs), _LOOKUP_BATCH):
        chunk = pairs[start : start + _LOOKUP_BATCH]
        blobs = results.get_many([key for _, key in chunk])
        for unit, key in chunk:
            blob = blobs.pop(key, None)
            if blob is None:
                yield _remember(results, key, run(unit.task, chosen, options.parse))
            else:
                yield cache.decode(unit.task.key, blob)


def _remember(results: cache.ResultCache, key: bytes, outcome: Outcome) -> Outcome:
    """Store an outcome that depends on the content alone; return it."""
    if cache.cacheable(outcome):
        results.put(key, cache.encode(outcome))
    return outcome


def _compute(
    todo: Sequence[_Unit],
    units: Sequence[_Unit],
    chosen: tuple[FileAnalyzer, ...],
    options: Options,
    skipped: list[Skipped],
    ready: Iterator[Outcome] | None = None,
) -> Iterator[Outcome]:
    """Run the tasks of ``todo`` on the cluster when a scheduler is given, in-process for
    ``jobs == 1``, else on a process pool (``units`` is the whole table, indexed by key).

    ``ready`` (outcomes known without work, i.e. cache hits) are yielded too, once the work
    is submitted, so the workers compute while the caller consumes them.
    """
    ready = ready if ready is not None else iter(())
    if options.scheduler:
        computed = cluster.run(
            options.scheduler, list(_batches(todo)), chosen, options.parse, options.shared_path,
            lambda batch: _crashed(batch, units, skipped),
        )  # fmt: skip
        yield from _interleave(computed, ready, len(units) // max(1, len(todo)) + 1)
        return
    if options.jobs <= 1 or len(todo) < 2:
        yield from ready
        for unit in todo:
            yield run(unit.task, chosen, options.parse)
        return
    yield from _pooled(list(_batches(todo)), chosen, options, skipped, units, ready)


def _interleave(
    computed: Iterator[Outcome], ready: Iterator[Outcome], share: int
) -> Iterator[Outcome]:
    """Each computed outcome followed by ``share`` ready ones, then the ready ones left.

    Starting ``computed`` submits its work; while it is suspended, the work in flight goes on.
    """
    for outcome in computed:
        yield outcome
        yield from islice(ready, share)
    yield from ready


def _pooled(
    batches: list[list[Task]],
    chosen: tuple[FileAnalyzer, ...],
    options: Options,
    skipped: list[Skipped],
    units: Sequence[_Unit],
    ready: Iterator[Outcome] | None = None,
) -> Iterator[Outcome]:
    """Keep ``2 * jobs`` batches in flight on a process pool.

    Outcomes in ``ready`` are yielded ``_READY_STEP`` at a time whenever no batch has
    completed, after the first batches are submitted: the pool works while the caller
    consumes them. A worker that dies (e.g. a native crash on hostile input) breaks the
    pool: the batches in flight are retried one task at a time on a fresh pool, and a task
    that breaks it again is recorded as skipped. The run goes on.
    """
    ready = ready if ready is not None else iter(())
    more = True
    pending = list(reversed(batches))
    while pending:
        broken: list[list[Task]] = []
        completed = 0
        with ProcessPoolExecutor(
            options.jobs, get_context("forkserver"), initializer=init,
            initargs=(chosen, options.parse),
        ) as pool:  # fmt: skip
            inflight: dict[Future[list[Outcome]], list[Task]] = {}
            while (pending or inflight) and not broken:
                if not _fill(pool, pending, inflight, units, 2 * options.jobs) or not inflight:
                    break
                done, _ = wait(inflight, 0 if more else None, FIRST_COMPLETED)
                for future in done:
                    batch = inflight.pop(future)
                    try:
                        outcomes = future.result()
                    except BrokenProcessPool:
                        broken.append(batch)
                        continue
                    completed += 1
                    yield from outcomes
                if more and not done:
                    more = yield from _step(ready, _READY_STEP)
            broken.extend(inflight.values())
        if (broken or pending) and not completed and all(len(b) > 1 for b in broken):
            raise AssayError("worker processes could not start (run assay from a script file)")
        _retry_alone(broken, pending, units, skipped)
    yield from ready


def _step(ready: Iterator[Outcome], count: int) -> Generator[Outcome, None, bool]:
    """Yield up to ``count`` outcomes of ``ready``; ``False`` once it is exhausted."""
    for _ in range(count):
        outcome = next(ready, None)
        if outcome is None:
            return False
        yield outcome
    return True


def _fill(
    pool: ProcessPoolExecutor,
    pending: list[list[Task]],
    inflight: dict[Future[list[Outcome]], list[Task]],
    units: Sequence[_Unit],
    limit: int,
) -> bool:
    """Submit batches until ``limit`` are in flight; ``False`` when the pool is broken."""
    while pending and len(inflight) < limit:
        batch = _next_batch(pending, inflight.values(), units)
        if batch is None:
            return True
        try:
            inflight[pool.submit(run_batch, batch)] = batch
        except BrokenProcessPool:
            pending.append(batch)
            return False
    return True


def _retry_alone(
    broken: list[list[Task]],
    pending: list[list[Task]],
    units: Sequence[_Unit],
    skipped: list[Skipped],
) -> None:
    """Requeue the batches of a broken pool one task each; a lone task that broke it is skipped."""
    for batch in broken:
        if len(batch) == 1:
            _crashed(batch, units, skipped)
        else:
            pending.extend([task] for task in batch)


def _huge(batch: list[Task], units: Sequence[_Unit]) -> bool:
    return any(units[t.key].size >= HUGE_BYTES for t in batch)


def _next_batch(
    pending: list[list[Task]], inflight: Iterable[list[Task]], units: Sequence[_Unit]
) -> list[Task] | None:
    """Pop the next batch to submit, holding a huge one back while another huge one runs."""
    if not any(_huge(b, units) for b in inflight):
        return pending.pop()
    for index in range(len(pending) - 1, -1, -1):
        if not _huge(pending[index], units):
            return pending.pop(index)
    return None


def _crashed(batch: list[Task], units: Sequence[_Unit], skipped: list[Skipped]) -> None:
    """Record every path of a batch whose worker process died."""
    for task in batch:
        for path in units[task.key].paths:
            skipped.append(Skipped(path, "parse", "worker-crashed", "the worker process died"))


def _attribute(state: _Run, unit: _Unit, outcome: Outcome) -> None:
    """Attribute one content's results to every path that holds it."""
    if outcome.skip is not None:
        reason, detail = outcome.skip
        state.skipped.extend(Skipped(p, "parse", reason, detail) for p in unit.paths)
        return
    state.labels.update({label: len(unit.paths) for label in outcome.labels})
    state.lines["total"] += outcome.lines * len(unit.paths)
    state.lines["unique"] += outcome.lines
    for index, result in outcome.results.items():
        state.aggregators[index].add_unique(result)
    for path in unit.paths:
        owner = state.ownership.owner(path)
        key, below = (owner.key if owner else None), relative_to_root(path, owner)
        ctx = PathContext(path, state.directories[path], key)
        for index, result in outcome.results.items():
            analyzer = state.analyzers[index]
            state.aggregators[index].add(ctx, result)
            if encoded := outcome.findings.get(index):
                state.store.add_encoded(
                    analyzer.id, path, state.severities[index], encoded, key, below
                )
            rows = outcome.rows.get(index)
            if analyzer.rows_key and rows:
                state.store.add_encoded_rows(analyzer.id, path, rows)
    for index, (reason, detail) in outcome.failures.items():
        stage = state.analyzers[index].id
        state.skipped.extend(Skipped(p, stage, reason, detail) for p in unit.paths)


def _store_pairs(
    state: _Run, category: str, rules: Iterable[Rule], pairs: Iterable[tuple[str, RawFinding]]
) -> None:
    """Store corpus-level findings given as (path, finding), with their copy's key; each
    path's findings in one batch (the store numbers equal fingerprints per batch)."""
    severities = _severities(rules)
    by_path: dict[str, list[RawFinding]] = {}
    for path, raw in pairs:
        by_path.setdefault(path, []).append(raw)
    for path, raws in by_path.items():
        _store(state, category, severities, path, state.ownership.owner(path), raws)


def _store(
    state: _Run,
    category: str,
    severities: Mapping[str, Severity],
    path: str,
    owner: Component | None,
    raws: Sequence[RawFinding],
) -> None:
    """Store findings of ``path`` (one batch): its copy's key, fingerprinted below the copy's
    root."""
    if not raws:
        return
    key, below = (owner.key if owner else None), relative_to_root(path, owner)
    state.store.add_all(category, path, [(r, severities[r.rule_id]) for r in raws], key, below)


def _severities(rules: Iterable[Rule]) -> dict[str, Severity]:
    """Default severity of each rule id."""
    return {r.id: r.severity for r in rules}


def _finish(
    state: _Run, beside: Mapping[int, Future[_Finished]] | None = None
) -> dict[str, Mapping[str, object]]:
    """Close every aggregator: section summaries, plus corpus-level findings into the store.
    ``beside`` holds the finishes already running on a thread (``_start_beside``)."""
    beside = beside or {}
    finished = {i: a.finish() for i, a in enumerate(state.aggregators) if i not in beside}
    finished.update({i: future.result() for i, future in beside.items()})
    sections: dict[str, Mapping[str, object]] = {}
    for index, analyzer in enumerate(state.analyzers):
        summary, findings = finished[index]
        _store_pairs(state, analyzer.id, analyzer.rules(), findings)
        sections[analyzer.id] = dict(summary)
    return sections


def _start_beside(state: _Run, side: ThreadPoolExecutor) -> dict[int, Future[_Finished]]:
    """Start on ``side`` the finishes of the aggregators that say ``finish_beside`` (most of
    their work is numpy, which releases the GIL: the clone matching's sorts run while this
    thread closes the other aggregators)."""
    return {
        index: side.submit(aggregator.finish)
        for index, aggregator in enumerate(state.aggregators)
        if getattr(aggregator, "finish_beside", False)
    }


def _inventory(
    files: Sequence[SourceFile],
    units: Sequence[_Unit],
    out_of_scope: Counter[str],
    state: _Run,
    links: int,
) -> dict[str, object]:
    """Files by kind, bytes, lines (every path and unique content), labels."""
    source = [u for u in units if u.task.kind in SOURCE_KINDS]
    other = [u for u in units if u.task.kind not in SOURCE_KINDS]
    kinds = Counter(f.kind.value for f in files)
    return {
        "files": len(files),
        "bytes": sum(f.size for f in files),
        "unique_contents": len({f.sha256 for f in files}),
        "by_kind": dict(sorted(kinds.items())),
        "out_of_scope_by_kind": dict(sorted(out_of_scope.items())),
        "analyzed": {
            "paths": sum(len(u.paths) for u in source),
            "unique_contents": len(source),
            "lines": state.lines["total"],
            "unique_lines": state.lines["unique"],
        },
        "analyzed_other": {  # text, build files, binaries read by the non-C analyzers
            "paths": sum(len(u.paths) for u in other),
            "unique_contents": len(other),
        },
        "labels": dict(sorted(state.labels.items())),
        "symlinks": links,
        "skipped": len(state.skipped),
    }


def _rules(chosen: tuple[FileAnalyzer, ...], extra: Iterable[Rule] = ()) -> tuple[Rule, ...]:
    """Every rule of every analyzer, sorted by id; duplicates are a programming error."""
    rules = sorted([*(r for a in chosen for r in a.rules()), *extra], key=lambda r: r.id)
    ids = [r.id for r in rules]
    if len(ids) != len(set(ids)):
        raise AssayError(f"duplicate rule ids: {sorted(i for i in ids if ids.count(i) > 1)}")
    return tuple(rules)
