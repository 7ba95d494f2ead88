"""``evaluate(options) -> Evaluation``: the pipeline's stages, run in order.

ingest -> plan -> execute (pool, cluster or in-process, through the result cache) ->
correlate (which copies of third-party code the release holds) -> attribute (each content's
results credited to every path holding it) -> finish the analyzers -> assess (vulnerabilities,
end of life, binaries) -> the evaluation. The per-file work (``engine.worker``) runs once per
unique content and kind, while the correlate step runs beside it. Findings stream to the
store at ``storage.findings.store_path(options.output_dir)``; the reports read them back.
"""

from __future__ import annotations

import logging
import shutil
import signal
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from itertools import chain
from multiprocessing import forkserver, get_context
from pathlib import Path
from typing import Any

from assay import __version__, analyze, assess, correlate
from assay.analyze.interface import FileAnalyzer
from assay.assess.vulns import db as vulndb
from assay.config import Options, capped_jobs
from assay.correlate.components.step import kb_info
from assay.correlate.step import Corpus, Step, StepResult, run_steps
from assay.engine import cache
from assay.engine.attribute import Attribution, inventory
from assay.engine.execute import Cluster, Executor, InProcess, Remembered, execute
from assay.engine.manifest import manifest
from assay.engine.plan import Plan, plan
from assay.engine.pool import Pool
from assay.errors import AssayError
from assay.ingest.interface import IngestResult
from assay.ingest.memo import open_memo
from assay.ingest.tree import ingest
from assay.model import SCHEMA_VERSION, Evaluation, Rule
from assay.parse import GRAMMAR_VERSION
from assay.progress import NullProgress, Progress
from assay.storage.findings import STORE_NAME, WORK_DIR, FindingStore

__all__ = ["Executor", "ExecutorFactory", "evaluate", "executor_for"]

ExecutorFactory = Callable[[Options, tuple[FileAnalyzer, ...]], Executor]
"""Makes the executor of one evaluation from its options and its configured analyzers."""

log = logging.getLogger("assay")
_PRELOAD = ("assay.engine.quiet", "__main__", "assay.engine.worker", *analyze.MODULES)
"""What the fork server imports before it starts any worker process (``engine.quiet`` first:
Ctrl-C then ends the fork server and its children without a traceback)."""


def evaluate(
    options: Options,
    progress: Progress | None = None,
    executor: ExecutorFactory | None = None,
    preload: Sequence[str] = (),
) -> Evaluation:
    """Evaluate ``options.input``. The findings go to the store in ``options.output_dir``;
    ``executor`` makes the executor instead of ``executor_for`` (tests inject one).

    With a process pool the fork server starts while ingest runs, importing the workers'
    modules and ``preload`` (the modules of a caller that starts its own processes from it
    afterwards, as the reporters do): those processes then start with them imported.
    ``options.jobs`` above ``config.max_jobs()`` is capped, with a warning logged."""
    progress = progress or NullProgress()
    options = _capped(options)
    work = options.output_dir / WORK_DIR
    extract = work / "extract"
    shutil.rmtree(extract, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    try:
        _start_fork_server(options, preload)
        return _stages(options, work, extract, progress, executor)
    finally:
        if not options.keep_work:
            shutil.rmtree(extract, ignore_errors=True)
        progress.done()


def _capped(options: Options) -> Options:
    """``options`` with ``jobs`` capped at ``config.max_jobs()`` (a warning says so)."""
    jobs, warning = capped_jobs(options.jobs)
    if warning is None:
        return options
    log.warning("%s", warning)
    return replace(options, jobs=jobs)


def executor_for(options: Options, analyzers: tuple[FileAnalyzer, ...]) -> Executor:
    """The executor ``options`` ask for: the cluster, this process (``jobs == 1``) or a pool."""
    if options.scheduler:
        return Cluster(options.scheduler, analyzers, options.parse, options.shared_path)
    if options.jobs <= 1:
        return InProcess(analyzers, options.parse)
    return Pool(options.jobs, analyzers, options.parse)


def _stages(
    options: Options,
    work: Path,
    extract: Path,
    progress: Progress,
    executor: ExecutorFactory | None,
) -> Evaluation:
    ingested = _ingest(options, extract, progress)
    chosen = analyze.select(analyze.build(options.settings), options.categories)
    todo = plan(ingested.files, chosen)
    known = vulndb.load(options.vulndb)
    snapshot = kb_info(options.kb)
    correlating = correlate.steps(options.kb, options.compile_db, snapshot)
    assessing = assess.steps(known, options.kb)
    rules = _rules(chosen, (*correlating, *assessing))
    remembered = _result_cache(options, chosen, {"kb": snapshot, "vulndb": known.snapshot})
    progress.stage("analyze", total=sum(len(u.paths) for u in todo.units))
    # A side thread closes the result cache (its last writes) and runs the clone matching's
    # finish while this thread finishes the other analyzers; both mostly release the GIL.
    with ThreadPoolExecutor(2, thread_name_prefix="assay-side") as side:
        run_on = (executor or executor_for)(options, chosen)
        outcomes = execute(todo.units, run_on, remembered, side)
        first = next(outcomes, None)  # the work is submitted: correlate while it runs
        corpus, correlated = run_steps(correlating, Corpus(ingested.files))
        store = FindingStore(work / STORE_NAME, create=True)
        done = Attribution.start(chosen, store, ingested.files, corpus.components, rules)
        for outcome in chain([first] if first is not None else [], outcomes):
            done.add(todo.units[outcome.key], outcome)
            progress.advance(len(todo.units[outcome.key].paths))
        finished = done.finish(side)
    corpus, assessed = run_steps(
        assessing, replace(corpus, sections={**corpus.sections, **finished})
    )
    return _evaluation(
        options, ingested, todo, done, corpus, (*correlated, *assessed), chosen, rules
    )


def _evaluation(
    options: Options,
    ingested: IngestResult,
    todo: Plan,
    done: Attribution,
    corpus: Corpus,
    results: Sequence[tuple[Step, StepResult]],
    chosen: tuple[FileAnalyzer, ...],
    rules: tuple[Rule, ...],
) -> Evaluation:
    """Store the steps' findings; the evaluation with every figure and record."""
    for step, result in results:
        done.store_findings(step.id, result.findings)
    done.store.close_writing()
    skipped = [*ingested.skipped, *done.skipped, *(s for _, r in results for s in r.skipped)]
    files = inventory(ingested.files, todo, done, ingested.links, len(skipped))
    if ingested.containers:  # archives, images, carved regions: each file's chain (ingest.md)
        files["containers"] = [c.as_json() for c in ingested.containers]
    files["manifest"] = manifest(ingested.files, ingested.containers)  # every file: what and whence
    counts = done.store.counts()
    done.store.close()
    return Evaluation(
        schema_version=SCHEMA_VERSION,
        tool_version=__version__,
        input=ingested.input,
        options={**options.effective(), "grammar": GRAMMAR_VERSION},
        inventory=files,
        sections=dict(corpus.sections),
        finding_counts=counts,
        skipped=tuple(sorted(skipped, key=lambda s: (s.path, s.stage, s.reason))),
        rules=rules,
        rows_keys={a.id: a.rows_key for a in chosen if a.rows_key},
        components=corpus.components,
    )


def _start_fork_server(options: Options, preload: Sequence[str]) -> None:
    """Start the fork server (importing the analyzers, the worker and ``preload``); it starts
    in the background, so ingest runs meanwhile."""
    if options.scheduler is None and options.jobs > 1:
        get_context("forkserver").set_forkserver_preload([*_PRELOAD, *preload])
        _ensure_fork_server()


def _ensure_fork_server() -> None:
    """Start the fork server with SIGINT ignored, which it keeps through ``exec``: a Ctrl-C
    while it imports cannot interrupt it with a traceback, and once ``engine.quiet`` is
    imported a Ctrl-C ends it and its children quietly. A Ctrl-C in the instant of the start
    itself is lost; only the main thread can change signal handlers."""
    if threading.current_thread() is not threading.main_thread():
        forkserver.ensure_running()
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        forkserver.ensure_running()
    finally:
        signal.signal(signal.SIGINT, previous)


def _ingest(options: Options, extract: Path, progress: Progress) -> IngestResult:
    """The release's files, with the hash memo of a directory input when the cache is on."""
    memo = None
    if options.cache_dir is not None and not options.no_cache and options.input.is_dir():
        memo = open_memo(options.cache_dir, options.input)
    try:
        return ingest(options.input, extract, options.archive, progress, [options.output_dir], memo)
    finally:
        if memo is not None:
            memo.close()


def _result_cache(
    options: Options, chosen: tuple[FileAnalyzer, ...], snapshots: dict[str, Any]
) -> Remembered | None:
    """The result cache, opened, unless it is off or cannot be opened."""
    if options.no_cache or options.cache_dir is None:
        return None
    opened = cache.open_cache(options.cache_dir, options.cache_limit)
    if opened is None:
        return None
    return Remembered(opened, cache.context_key(chosen, options.settings, options.parse, snapshots))


def _rules(chosen: tuple[FileAnalyzer, ...], steps: Iterable[Step]) -> tuple[Rule, ...]:
    """Every rule of every analyzer and step, sorted by id; duplicates are a programming error."""
    every = [*(r for a in chosen for r in a.rules()), *(r for s in steps for r in s.rules())]
    rules = sorted(every, key=lambda r: r.id)
    ids = [r.id for r in rules]
    if len(ids) != len(set(ids)):
        raise AssayError(f"duplicate rule ids: {sorted(i for i in ids if ids.count(i) > 1)}")
    return tuple(rules)
