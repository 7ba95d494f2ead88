"""Reporters: one module per output format, each a pure writer of one evaluation.

``write_all`` writes the formats two at a time when the findings come from a ``FindingStore``
on disk: a child process (``forkserver``: the parent may hold threads) opens the store read-only
and writes ``CHILD_FORMATS`` while the parent writes the others. Every format is written to a
temporary file and renamed over its target only when complete, so the outputs are the bytes the
sequential writers produce, and a failed writer replaces nothing.

``write_all_then`` also runs a task on the evaluation once the child's formats are written, in
the child, while the parent still writes its formats (``assay.pipeline`` records the evaluation in
the history this way); without a child it runs in this process after every format.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack
from enum import StrEnum
from multiprocessing import get_context
from pathlib import Path
from typing import Protocol, TextIO, TypeVar, assert_never, cast

from assay.model import Evaluation, Finding
from assay.report import cyclonedx, html, json, sarif
from assay.report.interface import Streams, Writer
from assay.storage.findings import FindingStore

T = TypeVar("T")
Then = Callable[[Evaluation], T]
"""A task run on the evaluation once the reports are written (it must pickle to run in the
reporters' child)."""


class Format(StrEnum):
    """Output formats and their file names in the output directory (a contract)."""

    JSON = "evaluation.json"
    SARIF = "results.sarif"
    HTML = "report.html"
    SBOM = "sbom.cdx.json"


class Sink(Protocol):
    """A report written during a pass over the findings shared with other reports."""

    def __enter__(self) -> Sink:
        """The sink itself."""
        ...

    def __exit__(self, *exc: object) -> None:
        """Release what the sink holds (e.g. a spool file)."""

    def add(self, finding: Finding) -> None:
        """Write (or count) one finding."""

    def finish(self) -> None:
        """Write the rest of the report once every finding was added."""


SINKS: dict[Format, Callable[[Evaluation, TextIO], Sink]] = {
    Format.SARIF: sarif.Results,
    Format.HTML: html.Page,
}
"""Formats that read nothing but the findings, so one pass can feed them together."""
CHILD_FORMATS = (Format.JSON,)
"""The formats the child process writes; the parent writes the others meanwhile, SARIF and HTML
in one pass over the findings (the two halves take about as long)."""


def writer(fmt: Format) -> Writer:
    """The writer of one format."""
    match fmt:
        case Format.JSON:
            return json.write
        case Format.SARIF:
            return sarif.write
        case Format.HTML:
            return html.write
        case Format.SBOM:
            return cyclonedx.write
        case _:
            assert_never(fmt)


def _tmp(target: Path) -> Path:
    """The temporary file a target is written to before it is renamed."""
    return target.with_name(f".{target.name}.tmp")


def write_one(evaluation: Evaluation, streams: Streams, output_dir: Path, fmt: Format) -> Path:
    """Write one format into ``output_dir`` through a temporary file, renamed when complete."""
    target = output_dir / fmt.value
    tmp = _tmp(target)
    try:
        with tmp.open("w", encoding="utf-8", newline="\n") as out:
            writer(fmt)(evaluation, streams, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(target)
    return target


def write_together(
    evaluation: Evaluation, streams: Streams, output_dir: Path, formats: tuple[Format, ...]
) -> list[Path]:
    """Write ``formats`` (all in ``SINKS``) in one pass over the findings, each through a
    temporary file; the targets are replaced only when every one is complete."""
    targets = [output_dir / fmt.value for fmt in formats]
    try:
        with ExitStack() as stack:
            sinks = [
                stack.enter_context(SINKS[fmt](evaluation, stack.enter_context(
                    _tmp(target).open("w", encoding="utf-8", newline="\n"))))
                for fmt, target in zip(formats, targets, strict=True)
            ]  # fmt: skip
            for finding in streams.findings():
                for sink in sinks:
                    sink.add(finding)
            for sink in sinks:
                sink.finish()
    except BaseException:
        for target in targets:
            _tmp(target).unlink(missing_ok=True)
        raise
    for target in targets:
        _tmp(target).replace(target)
    return targets


def write_sequential(
    evaluation: Evaluation, streams: Streams, output_dir: Path, formats: tuple[Format, ...]
) -> list[Path]:
    """Write ``formats`` in this process: the others one after the other, then those in
    ``SINKS`` in one shared pass over the findings; the paths in the order of ``formats``."""
    shared = tuple(fmt for fmt in formats if fmt in SINKS) if len(formats) > 1 else ()
    for fmt in formats:
        if fmt not in shared:
            write_one(evaluation, streams, output_dir, fmt)
    if shared:
        write_together(evaluation, streams, output_dir, shared)
    return [output_dir / fmt.value for fmt in formats]


def _child(pickled: bytes, store: Path, output_dir: Path, formats: tuple[Format, ...]) -> object:
    """In the child process: open the store read-only, write ``formats``, then run the task
    pickled beside the evaluation (if any) and return its result."""
    evaluation, then = pickle.loads(pickled)
    streams = FindingStore(store, read_only=True)
    try:
        write_sequential(evaluation, streams, output_dir, formats)
    finally:
        streams.close()
    return None if then is None else then(evaluation)


def _submit(
    stack: ExitStack, evaluation: Evaluation, then: Then[T] | None, store: Path, output_dir: Path
) -> Future[T | None] | None:
    """Start the child writing ``CHILD_FORMATS`` and then running ``then``; ``None`` when it
    cannot be started (the evaluation or the task does not pickle, or no process can be
    created)."""
    try:
        pickled = pickle.dumps((evaluation, then), protocol=pickle.HIGHEST_PROTOCOL)
        pool = stack.enter_context(ProcessPoolExecutor(1, get_context("forkserver")))
        child = cast(Callable[..., T | None], _child)  # returns what ``then`` returns
        return pool.submit(child, pickled, store, output_dir, CHILD_FORMATS)
    except (pickle.PicklingError, TypeError, AttributeError, OSError, RuntimeError):
        return None


def _write_parallel(
    evaluation: Evaluation, store: FindingStore, output_dir: Path, then: Then[T] | None
) -> T | None:
    """Write ``CHILD_FORMATS`` and run ``then`` in a child, the rest here; a child's error is
    raised here (its writer's or task's exception, pickled back), a child that died is
    replaced by this process."""
    rest = tuple(fmt for fmt in Format if fmt not in CHILD_FORMATS)
    with ExitStack() as stack:
        # absolute: the forkserver's working directory is the one it started in
        child = _submit(stack, evaluation, then, store.path.resolve(), output_dir.resolve())
        write_sequential(evaluation, store, output_dir, rest)
        if child is not None:
            try:
                return child.result()
            except BrokenProcessPool:
                pass
    write_sequential(evaluation, store, output_dir, CHILD_FORMATS)
    return None if then is None else then(evaluation)


def write_all(evaluation: Evaluation, streams: Streams, output_dir: Path) -> list[Path]:
    """Write every format into ``output_dir`` (each through a temporary file, then renamed);
    two at a time when ``streams`` is a ``FindingStore`` on disk."""
    return write_all_then(evaluation, streams, output_dir, None)[0]


def write_all_then(
    evaluation: Evaluation, streams: Streams, output_dir: Path, then: Then[T] | None
) -> tuple[list[Path], T | None]:
    """``write_all``, and ``then(evaluation)`` once the reporters' child wrote its formats (in
    the child, while this process writes the others), or after every format without a child;
    the paths written and the task's result. A writer's error stops the task; a task that
    fails after the child's formats leaves every format written."""
    paths = [output_dir / fmt.value for fmt in Format]
    if isinstance(streams, FindingStore) and streams.shared:
        return paths, _write_parallel(evaluation, streams, output_dir, then)
    written = write_sequential(evaluation, streams, output_dir, tuple(Format))
    return written, None if then is None else then(evaluation)
