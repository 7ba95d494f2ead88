"""Remembered file hashes: a directory walk hashes again only the files whose identity changed.

Re-evaluating a working tree (a vendor's CI, a lab's checkout of the next release) finds most
files as they were. Like git's index, the memo keeps, per absolute path, the file's device,
inode, size, modification and status-change times (nanoseconds) with its sha256 and kind; a
file whose five values are all unchanged is taken as unchanged and not read. ``ctime`` cannot
be set by an unprivileged writer, so rewriting a file and restoring its ``mtime`` still counts
as a change. A file modified within ``RACY_NS`` (0.1 s; 2 s when its times are whole seconds) of
being hashed is not remembered (git's "racy clean" rule: it could change again within the
timestamps' resolution). The memo is one SQLite file
beside the result cache (``digests.sqlite``); it is used whenever the result cache is, and
rows of files that are gone are dropped when their root is walked again.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from assay.model import FileKind

FILE_NAME = "digests.sqlite"
RACY_NS = 100_000_000
"""Files changed this recently before being hashed are hashed again next time: well above the
timestamp granularity of Linux file systems (a clock tick)."""
COARSE_RACY_NS = 2_000_000_000
"""The same for files whose times are whole seconds (file systems that keep seconds, or FAT's
two seconds)."""
_SCHEMA = """
CREATE TABLE IF NOT EXISTS digest (
    path TEXT PRIMARY KEY, dev INTEGER NOT NULL, ino INTEGER NOT NULL, size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL, ctime_ns INTEGER NOT NULL, sha256 TEXT NOT NULL, kind TEXT NOT NULL
) WITHOUT ROWID;
"""
log = logging.getLogger("assay")


@dataclass(frozen=True, slots=True)
class Known:
    """What the memo holds of one file."""

    size: int
    """Size in bytes."""
    sha256: str
    """Hex sha256 of the content."""
    kind: FileKind
    """Kind from name and content."""


_Identity = tuple[int, int, int, int, int]
"""(device, inode, size, mtime_ns, ctime_ns)."""


def identity(st: os.stat_result) -> _Identity:
    """The values that must all be unchanged for a file to count as unchanged."""
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class DigestMemo:
    """The memo's rows below one walked root, read at open and written back at ``close``."""

    def __init__(self, directory: Path, root: str) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / FILE_NAME
        self.root = _key(root).rstrip("/") + "/"
        self.hits = 0
        self._db = sqlite3.connect(self.path, timeout=60)
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.executescript(_SCHEMA)
        rows = self._db.execute(
            "SELECT path, dev, ino, size, mtime_ns, ctime_ns, sha256, kind FROM digest"
            " WHERE path >= ? AND path < ?",
            (self.root, self.root[:-1] + "0"),  # every path below the root: "/" < "0"
        )
        self._old: dict[str, tuple[_Identity, Known]] = {
            path: ((dev, ino, size, mtime, ctime), Known(size, sha, FileKind(kind)))
            for path, dev, ino, size, mtime, ctime, sha, kind in rows
        }
        self._new: dict[str, tuple[_Identity, Known]] = {}
        self._seen: set[str] = set()

    def known(self, disk_path: str, st: os.stat_result) -> Known | None:
        """The remembered hash and kind of ``disk_path`` when its identity is unchanged."""
        key = _key(disk_path)
        self._seen.add(key)
        entry = self._old.get(key)
        if entry is None or entry[0] != identity(st):
            return None
        self.hits += 1
        return entry[1]

    def remember(self, disk_path: str, st: os.stat_result, known: Known) -> None:
        """Keep what was just computed for ``disk_path`` (unless it was modified too recently:
        then it is hashed again next time)."""
        key = _key(disk_path)
        self._seen.add(key)
        if time.time_ns() - max(st.st_mtime_ns, st.st_ctime_ns) > racy_margin(st):
            self._new[key] = (identity(st), known)

    def close(self) -> None:
        """Write the new rows and drop those of files below the root that were not seen; a
        failure is a warning (the next run hashes more, nothing else changes)."""
        gone = [(path,) for path in self._old.keys() - self._seen]
        rows = [(path, *ident, known.sha256, known.kind.value)
                for path, (ident, known) in self._new.items()]  # fmt: skip
        try:
            with self._db:
                self._db.executemany("DELETE FROM digest WHERE path = ?", gone)
                self._db.executemany("INSERT OR REPLACE INTO digest VALUES (?,?,?,?,?,?,?,?)", rows)
        except sqlite3.Error as exc:
            log.warning("file hash memo %s: not written: %s", self.path, exc)
        finally:
            self._db.close()


def _key(path: str) -> str:
    """``path`` as the memo stores it: valid UTF-8 text, whatever bytes the name holds.

    A name that is not UTF-8 reaches Python with surrogates (``surrogateescape``), which
    SQLite cannot store; its undecodable bytes become ``\\xNN``. A real name spelled that way
    shares the key, which costs at most a hash: a hit also needs the same device and inode.
    """
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def racy_margin(st: os.stat_result) -> int:
    """How long before hashing a change makes a file "racy": ``RACY_NS``, or
    ``COARSE_RACY_NS`` when both its times are whole seconds (a coarse file system, where a
    later change could keep the same times)."""
    second = 1_000_000_000
    coarse = st.st_mtime_ns % second == 0 and st.st_ctime_ns % second == 0
    return COARSE_RACY_NS if coarse else RACY_NS


def open_memo(directory: Path, root: Path) -> DigestMemo | None:
    """The memo for walking ``root``, or ``None`` (with a warning) when it cannot be opened."""
    try:
        return DigestMemo(directory, os.path.abspath(root))
    except (OSError, sqlite3.Error) as exc:
        log.warning("file hash memo not used (%s): %s", directory, exc)
        return None
