"""Content-addressed result cache: the per-file ``Outcome`` of one unique content, on disk.

A result depends on the content (its sha256), its kind and base name, the analyzers that want
it (id, version, rule rows) and everything that configures them (the settings tables, which
hold user wrappers and thresholds), the parse limits, the grammar, the tool version and the
knowledge-base snapshots. All of these go into the key, so a key names exactly one result and
an entry is never stale: changing any of them simply misses. Entries live in one SQLite file
(``results-2.sqlite``), their last use in a table of its own; the cache is trimmed to its size
limit, least recently used first, when it is closed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import sqlite3
import time
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import fields
from pathlib import Path
from types import TracebackType
from typing import Any

import platformdirs

from assay import __version__
from assay.analyze.interface import FileAnalyzer
from assay.engine.worker import CHANGED, CRASHED, TIMEOUT, Outcome, Task
from assay.parse import GRAMMAR_VERSION, ParseLimits

FILE_NAME = "results-2.sqlite"
"""The cache file (2: last use kept apart from the results; a ``results.sqlite`` of an older
assay is not read)."""
DEFAULT_LIMIT = 2 << 30
"""Default size limit: 2 GiB of results (a 3-million-line tree takes about 160 MB)."""
_COMMIT_EVERY = 512
_LOOKUP_CHUNK = 500
"""Keys per batched lookup (well below SQLite's limit of bound parameters)."""
_SCHEMA = """
CREATE TABLE IF NOT EXISTS outcome (
    key BLOB PRIMARY KEY,
    value BLOB NOT NULL,
    size INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS recency (key BLOB PRIMARY KEY, used REAL NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS recency_used ON recency (used);
"""
"""Last use lives in its own small table: marking a hit as used then rewrites a 40-byte row,
not the row holding the result (a warm run marks every unchanged file). Hits are marked with
the next write of results, or when the cache is closed, in one transaction."""
log = logging.getLogger("assay")
ENTRY_FORMAT = 6
"""Version of what an entry holds, part of every key (3: rows encoded apart from results; 4:
rows as evaluation.json writes them, with where their path goes; 5: findings encoded apart;
6: the pickled result classes moved from ``assay.analyzers`` to ``assay.analyze``)."""
_PICKLE = b"\x80"
"""First byte of a pickle of protocol 2 or later (a zlib stream starts with 0x78)."""
_UNCACHED = frozenset({"unreadable", CRASHED[0], TIMEOUT, CHANGED})
"""Skip and failure reasons that may depend on the machine, not the content: never stored."""
_NOT_IN_KEY = frozenset({"step_timeout"})
"""Parse limits left out of the key: they decide only outcomes that are never stored."""


def open_cache(directory: Path, limit: int = DEFAULT_LIMIT) -> ResultCache | None:
    """The cache in ``directory``, or ``None`` (with a warning) when it cannot be opened: a
    read-only or broken cache slows the run down but never stops it."""
    try:
        return ResultCache(directory, limit)
    except (OSError, sqlite3.Error) as exc:
        log.warning("result cache not used (%s): %s", directory, exc)
        return None


def default_dir() -> Path:
    """``$ASSAY_CACHE_DIR``, else the user's result cache (``~/.cache/assay/results``)."""
    chosen = os.environ.get("ASSAY_CACHE_DIR")
    return Path(chosen) if chosen else Path(platformdirs.user_cache_dir("assay")) / "results"


def context_key(
    analyzers: tuple[FileAnalyzer, ...],
    settings: Mapping[str, Mapping[str, Any]],
    limits: ParseLimits,
    snapshots: Mapping[str, Any],
) -> str:
    """Fingerprint of everything, beside the file itself, that decides a per-file result.

    Derived generically for every analyzer: its id, version and rule rows, plus the whole
    settings table (an analyzer may read another's table, as ``safe-defeated`` reads the
    wrappers declared under ``[unsafe-calls]``), so no analyzer has to implement anything.
    """
    doc = {
        "format": ENTRY_FORMAT,
        "tool": __version__,
        "grammar": GRAMMAR_VERSION,
        "limits": {
            f.name: getattr(limits, f.name) for f in fields(limits) if f.name not in _NOT_IN_KEY
        },
        "settings": {k: settings[k] for k in sorted(settings)},
        "analyzers": [[a.id, a.version, _rules_digest(a)] for a in analyzers],
        "snapshots": {k: snapshots[k] for k in sorted(snapshots)},
    }
    text = json.dumps(doc, sort_keys=True, default=repr, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _rules_digest(analyzer: FileAnalyzer) -> str:
    rows = sorted(repr(rule) for rule in analyzer.rules())
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()


def task_key(context: str, sha256: str, task: Task) -> bytes:
    """Key of one unit of work: the context, the content hash, kind, name and analyzers."""
    wanted = ",".join(str(i) for i in task.analyzers)
    text = f"{context}\0{sha256}\0{task.kind.value}\0{task.name}\0{wanted}"
    return hashlib.sha256(text.encode()).digest()


def cacheable(outcome: Outcome) -> bool:
    """Whether an outcome is a function of the content alone (worth storing): not when it,
    or one of its analyzers, was stopped by something of the machine (unreadable, a crashed
    worker, a time budget)."""
    if outcome.skip is not None:
        return outcome.skip[0] not in _UNCACHED
    return not any(reason in _UNCACHED for reason, _ in outcome.failures.values())


def encode(outcome: Outcome) -> bytes:
    """An outcome without its task key, pickled, not compressed: most of its bytes are clone
    token streams and hashes, which zlib shrinks about 2.3 times at a cost (compressing in the
    cold run, decompressing in every warm one) that a disk cache does not repay."""
    body = (outcome.skip, outcome.lines, outcome.labels, outcome.results, outcome.failures,
            outcome.rows, outcome.findings)  # fmt: skip
    return pickle.dumps(body, protocol=pickle.HIGHEST_PROTOCOL)


def decode(key: int, blob: bytes) -> Outcome:
    """The outcome stored as ``blob``, for the task ``key`` of this evaluation (a pickle, or
    a zlib-compressed one as earlier versions of this file format stored)."""
    raw = blob if blob[:1] == _PICKLE else zlib.decompress(blob)
    skip, lines, labels, results, failures, rows, findings = pickle.loads(raw)
    return Outcome(key, skip, lines, labels, results, failures, rows, findings)


class ResultCache:
    """One SQLite file of encoded outcomes, trimmed to ``limit`` bytes on close.

    Reads and writes happen in the main process only (which keys are present is looked up
    before work is submitted, the stored outcomes are read in batches while it runs, new
    ones are stored as they arrive). Reads run outside transactions; writes are buffered and
    committed in short ``BEGIN IMMEDIATE`` transactions of up to 512, so other assay
    processes can use the same file at the same time (WAL, busy timeout).
    """

    def __init__(self, directory: Path, limit: int = DEFAULT_LIMIT) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / FILE_NAME
        self.limit = limit
        self.hits = 0
        # one thread at a time, not always the one that opened it (the engine closes the cache
        # on a side thread while its main thread goes on)
        self._db = sqlite3.connect(
            self.path, timeout=60, isolation_level=None, check_same_thread=False
        )
        self._db.execute("PRAGMA auto_vacuum = INCREMENTAL")
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = NORMAL")
        self._db.executescript(_SCHEMA)
        self._used: list[bytes] = []
        self._puts: list[tuple[bytes, bytes, int, float]] = []

    def __enter__(self) -> ResultCache:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def get(self, key: bytes) -> bytes | None:
        """The encoded outcome stored under ``key``, or ``None`` (also when the read fails)."""
        return self.get_many([key]).get(key)

    def present(self, keys: Sequence[bytes]) -> set[bytes]:
        """Which of ``keys`` have a stored outcome (none, with a warning, when the read fails:
        every unit is then computed)."""
        return {bytes(key) for (key,) in self._select("key", keys)}

    def get_many(self, keys: Sequence[bytes]) -> dict[bytes, bytes]:
        """The encoded outcomes stored under ``keys``, by key; a key without one is absent
        (all are, when the read fails). Those found are marked as used."""
        found = {bytes(key): bytes(value) for key, value in self._select("key, value", keys)}
        self.hits += len(found)
        self._used.extend(found)
        return found

    def _select(self, columns: str, keys: Sequence[bytes]) -> list[tuple[Any, ...]]:
        """``columns`` of the stored outcomes of ``keys``, ``_LOOKUP_CHUNK`` keys per query;
        no rows, with a warning, when the read fails."""
        rows: list[tuple[Any, ...]] = []
        try:
            for chunk in _chunks(keys):
                marks = ",".join("?" * len(chunk))
                query = f"SELECT {columns} FROM outcome WHERE key IN ({marks})"
                rows.extend(self._db.execute(query, chunk))
        except sqlite3.Error as exc:
            log.warning("result cache %s: cannot read: %s", self.path, exc)
            return []
        return rows

    def put(self, key: bytes, value: bytes) -> None:
        """Store an encoded outcome under ``key`` (written with the next batch)."""
        self._puts.append((key, value, len(value), time.time()))
        if len(self._puts) >= _COMMIT_EVERY:
            self._flush()

    def size(self) -> int:
        """Bytes of stored results."""
        return int(self._db.execute("SELECT COALESCE(SUM(size), 0) FROM outcome").fetchone()[0])

    def close(self) -> None:
        """Write what is pending, trim to the size limit and close the file."""
        self._flush()
        try:
            self.trim(self.limit)
        except sqlite3.Error as exc:
            log.warning("result cache %s: not trimmed: %s", self.path, exc)
        finally:
            self._db.close()

    def trim(self, limit: int) -> int:
        """Drop the least recently used results until at most ``limit`` bytes remain."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            excess = self.size() - limit
            doomed: list[tuple[bytes]] = []
            rows = self._db.execute(
                "SELECT outcome.key, size FROM outcome LEFT JOIN recency USING (key)"
                " ORDER BY COALESCE(used, 0), outcome.key"
            )
            for key, size in rows:
                if excess <= 0:
                    break
                doomed.append((key,))
                excess -= size
            rows.close()
            self._db.executemany("DELETE FROM outcome WHERE key = ?", doomed)
            self._db.executemany("DELETE FROM recency WHERE key = ?", doomed)
        finally:
            self._db.execute("COMMIT")
        if doomed:
            self._db.execute("PRAGMA incremental_vacuum")
        return len(doomed)

    def _flush(self) -> None:
        """Write the buffered results and mark those read since the last flush as just used.
        A write that fails (disk full, locked too long) is a warning; the run goes on."""
        if not self._puts and not self._used:
            return
        now = time.time()
        try:
            with self._db:  # BEGIN ... COMMIT, or ROLLBACK on error
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany(
                    "INSERT OR REPLACE INTO outcome (key, value, size) VALUES (?,?,?)",
                    ((key, value, size) for key, value, size, _ in self._puts),
                )
                self._db.executemany(
                    "INSERT OR REPLACE INTO recency (key, used) VALUES (?,?)",
                    ((key, used) for key, _, _, used in self._puts),
                )
                for chunk in _chunks(self._used):
                    marks = ",".join("?" * len(chunk))
                    query = f"UPDATE recency SET used = ? WHERE key IN ({marks})"
                    self._db.execute(query, (now, *chunk))
        except sqlite3.Error as exc:
            log.warning("result cache %s: results not stored: %s", self.path, exc)
        self._puts.clear()
        self._used.clear()


def _chunks(keys: Sequence[bytes]) -> Iterator[Sequence[bytes]]:
    """``keys`` in slices of at most ``_LOOKUP_CHUNK``."""
    for start in range(0, len(keys), _LOOKUP_CHUNK):
        yield keys[start : start + _LOOKUP_CHUNK]
