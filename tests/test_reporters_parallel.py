"""``write_all`` in two processes and in one shared pass: the same bytes as one writer per file.

The reference is what ``write_all`` did before: each format's writer on its own, one after the
other, each reading the findings itself. The SBOM's serial number and timestamp change on every
run by design, so they are masked before comparing.
"""

from __future__ import annotations

import os
import pickle
import re
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

import assay.report as reporters
from assay import engine, examples
from assay.assess.rating import assess
from assay.config import Options
from assay.errors import StorageError
from assay.model import Evaluation, Finding
from assay.pipeline import Recorder
from assay.report import Format, html, write_all, write_all_then, write_sequential, writer
from assay.storage.findings import FindingStore, store_path
from assay.storage.history import History
from support import golden_findings, process_id

_VOLATILE = re.compile(r'"(serialNumber|timestamp)": "[^"]*"')


@dataclass(frozen=True)
class Example:
    """The built-in example, evaluated once, with some of its findings suppressed."""

    evaluation: Evaluation
    store: Path


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Example:
    """Evaluate the example; every third finding gets a baseline mark (both kinds)."""
    root = tmp_path_factory.mktemp("example")
    tree = examples.materialise(root / "router")
    out = root / "out"
    with pytest.MonkeyPatch.context() as env:  # the user's data and cache stay out (conftest)
        env.setenv("XDG_DATA_HOME", str(root / "xdg-data"))
        env.setenv("ASSAY_CACHE_DIR", str(root / "results-cache"))
        evaluation = engine.evaluate(replace(Options.default(tree, out), jobs=1))
    store = FindingStore(store_path(out))
    try:
        fingerprints = [f.fingerprint for f in store.findings()][::3]
    finally:
        store.close()
    marks = {fp: {"status": ("accepted", "false-positive")[i % 2], "reason": f"why <{i}>"}
             for i, fp in enumerate(fingerprints)}  # fmt: skip
    assert marks, "the example has findings"
    return Example(replace(evaluation, suppressions=marks), store_path(out))


def _reference(evaluation: Evaluation, store: Path, out: Path) -> None:
    """One writer per format, in this process, each reading the findings itself."""
    out.mkdir(parents=True, exist_ok=True)
    streams = FindingStore(store)
    try:
        for fmt in Format:
            with (out / fmt.value).open("w", encoding="utf-8", newline="\n") as handle:
                writer(fmt)(evaluation, streams, handle)
    finally:
        streams.close()


def _outputs(out: Path) -> dict[str, bytes]:
    """Every file of ``out`` (hidden ones too, so a leftover temporary file shows)."""
    found = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    name = Format.SBOM.value
    if name in found:
        found[name] = _sbom(found[name])
    return found


def _sbom(data: bytes) -> bytes:
    """The SBOM without what CycloneDX makes differ between runs: the serial number and the
    timestamp (everything else, the occurrences' order included, must be equal)."""
    return _VOLATILE.sub(r'"\1": "-"', data.decode()).encode()


def _write_all(evaluation: Evaluation, store: Path, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    streams = FindingStore(store)
    try:
        return write_all(evaluation, streams, out)
    finally:
        streams.close()


class _Wrapped:
    """Streams that are not a ``FindingStore``; counts the passes over the findings."""

    def __init__(self, store: FindingStore, fail_after: int | None = None) -> None:
        self.store = store
        self.passes = 0
        self.fail_after = fail_after

    def findings(self) -> Iterator[Finding]:
        """The store's findings (raising after ``fail_after`` of them, when given)."""
        self.passes += 1
        for n, finding in enumerate(self.store.findings()):
            if self.fail_after is not None and n >= self.fail_after:
                raise RuntimeError("stream broke")
            yield finding

    def rows(self, section: str) -> Iterator[dict[str, Any]]:
        """The store's rows."""
        return self.store.rows(section)

    def rows_json(self, section: str) -> Iterator[str]:
        """The store's rows as JSON."""
        return self.store.rows_json(section)


def test_parallel_write_all_matches_one_writer_per_file(example: Example, tmp_path: Path) -> None:
    _reference(example.evaluation, example.store, tmp_path / "ref")
    out = tmp_path / "par"
    out.mkdir()
    streams = FindingStore(example.store)
    try:
        written, writer_pid = write_all_then(example.evaluation, streams, out, process_id)
    finally:
        streams.close()
    assert writer_pid is not None and writer_pid != os.getpid(), "a child wrote its formats"
    assert written == [out / fmt.value for fmt in Format]
    assert _outputs(out) == _outputs(tmp_path / "ref")


def test_sequential_path_matches_one_writer_per_file(example: Example, tmp_path: Path) -> None:
    _reference(example.evaluation, example.store, tmp_path / "ref")
    (tmp_path / "seq").mkdir()
    store = FindingStore(example.store)
    try:
        written = write_sequential(example.evaluation, store, tmp_path / "seq", tuple(Format))
    finally:
        store.close()
    assert written == [tmp_path / "seq" / fmt.value for fmt in Format]
    assert _outputs(tmp_path / "seq") == _outputs(tmp_path / "ref")


def test_other_streams_are_written_in_this_process_with_one_shared_pass(
    example: Example, tmp_path: Path
) -> None:
    rated = replace(example.evaluation, rating=_rating(example))
    (tmp_path / "other").mkdir()
    store = FindingStore(example.store)
    try:
        streams = _Wrapped(store)
        _, writer_pid = write_all_then(rated, streams, tmp_path / "other", process_id)
    finally:
        store.close()
    assert writer_pid == os.getpid(), "no child process for streams that are not a store on disk"
    assert streams.passes == 2, "JSON reads the findings once, SARIF and HTML share one pass"
    _reference(rated, example.store, tmp_path / "ref")
    assert _outputs(tmp_path / "other") == _outputs(tmp_path / "ref")


def _rating(example: Example) -> dict[str, Any]:
    """The example's rating, computed as the command line records it."""
    store = FindingStore(example.store)
    try:
        return assess(example.evaluation, store.findings()).to_json()
    finally:
        store.close()


def test_html_reads_the_findings_once(example: Example, tmp_path: Path) -> None:
    store = FindingStore(example.store)
    try:
        streams = _Wrapped(store)
        with (tmp_path / "r.html").open("w", encoding="utf-8") as out:
            html.write(example.evaluation, streams, out)
    finally:
        store.close()
    assert streams.passes == 1


def test_child_that_cannot_start_leaves_the_work_to_this_process(
    example: Example, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_: object, **__: object) -> None:
        raise OSError("no more processes")

    monkeypatch.setattr(reporters, "ProcessPoolExecutor", refuse)
    _reference(example.evaluation, example.store, tmp_path / "ref")
    _write_all(example.evaluation, example.store, tmp_path / "fallback")
    assert _outputs(tmp_path / "fallback") == _outputs(tmp_path / "ref")


def test_error_in_the_child_is_raised_here_and_replaces_nothing(
    example: Example, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.sqlite"
    shutil.copyfile(example.store, broken)
    with sqlite3.connect(broken) as db:
        db.execute("INSERT INTO rows VALUES ('complexity', 'a.c', 1, 'not json', 1)")
    evaluation = replace(example.evaluation, rows_keys={"complexity": "functions"})
    out = tmp_path / "out"
    out.mkdir()
    (out / Format.JSON.value).write_text("old", encoding="utf-8")
    with pytest.raises(StorageError, match=r"corrupt row of a\.c"):
        _write_all(evaluation, broken, out)
    assert (out / Format.JSON.value).read_text(encoding="utf-8") == "old"
    assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp")]


def test_failed_shared_pass_replaces_nothing(example: Example, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    for fmt in (Format.SARIF, Format.HTML):
        (out / fmt.value).write_text("old", encoding="utf-8")
    store = FindingStore(example.store)
    try:
        with pytest.raises(RuntimeError, match="stream broke"):
            write_sequential(
                example.evaluation, _Wrapped(store, fail_after=3), out, (Format.SARIF, Format.HTML)
            )
    finally:
        store.close()
    assert sorted(p.name for p in out.iterdir()) == sorted([Format.SARIF.value, Format.HTML.value])
    assert all(p.read_text(encoding="utf-8") == "old" for p in out.iterdir())


def test_assay_errors_cross_the_process_boundary_unchanged() -> None:
    error = pickle.loads(pickle.dumps(StorageError("cannot open finding store x")))
    assert type(error) is StorageError and str(error) == "cannot open finding store x"


def test_read_only_store_reads_but_cannot_write(example: Example) -> None:
    store = FindingStore(example.store, read_only=True)
    try:
        assert sum(1 for _ in store.findings()) == len(golden_findings())
        with pytest.raises(sqlite3.OperationalError):
            store.add_rows("complexity", "a.c", [{"line": 1}])
    finally:
        store.close()


def test_uncommitted_store_is_not_shared(tmp_path: Path) -> None:
    store = FindingStore(tmp_path / "s.sqlite", create=True)
    try:
        store.add_rows("complexity", "a.c", [{"line": 1}])
        assert not store.shared
        store.close_writing()
        assert store.shared
    finally:
        store.close()


def test_relative_paths_reach_the_child_as_they_are_meant(
    example: Example, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copyfile(example.store, tmp_path / "store.sqlite")
    _reference(example.evaluation, example.store, tmp_path / "ref")
    monkeypatch.chdir(tmp_path)
    _write_all(example.evaluation, Path("store.sqlite"), Path("rel"))
    assert _outputs(tmp_path / "rel") == _outputs(tmp_path / "ref")


@pytest.mark.parametrize("child", [True, False], ids=["in-the-child", "no-child"])
def test_the_task_after_the_reports_records_the_evaluation_and_returns_its_id(
    example: Example, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, child: bool
) -> None:
    """The command line's task (recording in the history) runs once the child's formats are
    written, in the child, or in this process when no child can start; either way every
    format is written as before and the history holds every finding of the store."""
    if not child:
        monkeypatch.setattr(reporters, "ProcessPoolExecutor", _refuse)
    db = tmp_path / "history.sqlite"
    recorder = Recorder(db, "router", "1.0", example.store.parent.parent)
    out = tmp_path / "out"
    out.mkdir()
    store = FindingStore(example.store)
    try:
        written, result = write_all_then(example.evaluation, store, out, recorder)
        expected = [f.fingerprint for f in store.findings()]
    finally:
        store.close()
    assert written == [out / fmt.value for fmt in Format]
    _reference(example.evaluation, example.store, tmp_path / "ref")
    assert _outputs(out) == _outputs(tmp_path / "ref")
    assert result is not None and result.warning is None and result.ident is not None
    with History(db) as history:
        snapshot = history.load(result.ident)
    assert sorted(f.fingerprint for f in snapshot.findings) == sorted(expected)
    assert snapshot.label == "router@1.0"


def test_a_failing_task_is_raised_here_after_every_format_is_written(
    example: Example, tmp_path: Path
) -> None:
    """A ``--db`` that cannot be opened fails the task in the child: the error is raised here,
    and the reports (written before the task ran) are all in place."""
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    recorder = Recorder(blocker / "h.sqlite", None, None, example.store.parent.parent)
    out = tmp_path / "out"
    out.mkdir()
    store = FindingStore(example.store)
    try:
        with pytest.raises(StorageError, match="cannot open history database"):
            write_all_then(example.evaluation, store, out, recorder)
    finally:
        store.close()
    assert sorted(p.name for p in out.iterdir()) == sorted(fmt.value for fmt in Format)


def _refuse(*_: object, **__: object) -> None:
    raise OSError("no more processes")
