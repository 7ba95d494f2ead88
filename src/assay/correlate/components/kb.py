"""The release knowledge base: fingerprints of every C/C++ file of known upstream releases.

One SQLite file per KB (schema version in ``PRAGMA user_version``). ``releases`` names each
release; ``files`` holds one row per source file of a release: the release, the path (an id
into ``paths``, stored once however many releases hold it) and the content (an id into
``contents``). A content is stored once however many releases hold it, because consecutive
releases share most files: its key is the first 8 bytes of its raw sha256 as an integer (the
row id, so the key costs no separate index), with the first 8 bytes of its normalised hash and
its physical lines. Eight bytes are plenty to name a file: with a million KB contents and a
million evaluated files, a chance collision is expected about once in 30 million evaluations,
and a lone matching file never names a copy (``matching.MIN_FRAGMENT_FILES``). ``grams`` holds
the winnowed fingerprints once per distinct normalised content, as one little-endian int64
blob; they are optional (the shipped KB leaves them out: nothing in an evaluation reads them,
and they were 80 % of its size), ``assay kb add`` records them. ``meta`` records when the KB
was built. ``samples`` holds the release's other text files in which the ``secrets`` byte scan
finds key, certificate or password-hash material (OpenSSL's ``apps/server.pem``), by path and
content key, so that ``upstream_of`` can tell a shipped key that is upstream sample material;
a KB file written before that table existed simply has none (it is created when the file is
next written).

Several KB files are read together: the read-only one shipped in the package, then the user's
overlay (``assay kb add`` writes there). A release present in more than one file is taken from
the last. Releases are read through ``assay.ingest``, so hostile archives are contained.

Longer than 300 lines: the KB's schema, its reader and its writer stay together, so that a change of
the file format is made and reviewed in one place.
"""

from __future__ import annotations

import logging
import posixpath
import sqlite3
import sys
import tempfile
from array import array
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Final

import platformdirs

from assay.correlate.components import fingerprint
from assay.errors import ConfigError, IngestError, StorageError
from assay.ingest import ArchiveLimits, SourceFile, ingest
from assay.model import SOURCE_KINDS, FileKind, InputInfo

log = logging.getLogger(__name__)

SCHEMA_VERSION: Final = 2
"""``PRAGMA user_version`` of the KB files this code reads and writes."""

"""Files recorded: the kinds the evaluation parses (``.inc`` is not one; see ingest.classify)."""

MAX_FILE_BYTES: Final = 64 * 1024**2
"""Larger files are not recorded (the largest real one, sqlite3.c, is under 10 MB)."""

MAX_DETECT_BYTES: Final = 16 * 1024**2
"""Larger files are not read for version evidence."""

DIGEST_BYTES: Final = 8
"""Bytes of each sha256 kept as a content's key (see the module docstring)."""

_SAMPLES: Final = """
CREATE TABLE IF NOT EXISTS samples(
    release_id INTEGER NOT NULL REFERENCES releases(id) ON DELETE CASCADE,
    path_id INTEGER NOT NULL, sha INTEGER NOT NULL,
    PRIMARY KEY (release_id, path_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS samples_sha ON samples(sha);
"""
MAX_SAMPLE_BYTES: Final = 1024**2
"""Larger text files are not read for sample material (key and certificate files are small)."""

_SCHEMA: Final = f"""
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE releases(
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, version TEXT NOT NULL,
    source TEXT NOT NULL, files INTEGER NOT NULL, UNIQUE (name, version));
CREATE TABLE paths(id INTEGER PRIMARY KEY, path TEXT NOT NULL);
CREATE TABLE contents(sha INTEGER PRIMARY KEY, nhash INTEGER NOT NULL, lines INTEGER NOT NULL);
CREATE INDEX contents_nhash ON contents(nhash);
CREATE TABLE files(
    release_id INTEGER NOT NULL REFERENCES releases(id) ON DELETE CASCADE,
    path_id INTEGER NOT NULL, sha INTEGER NOT NULL,
    PRIMARY KEY (release_id, path_id)) WITHOUT ROWID;
CREATE INDEX files_sha ON files(sha);
CREATE TABLE grams(nhash INTEGER PRIMARY KEY, fingerprints BLOB NOT NULL);
{_SAMPLES}
PRAGMA user_version = {SCHEMA_VERSION};
"""


def _key(digest: str) -> int:
    """The stored key of a hex digest (full or already shortened): its first 8 bytes."""
    return int.from_bytes(bytes.fromhex(digest[: 2 * DIGEST_BYTES]), "big", signed=True)


def _hex(key: int) -> str:
    return key.to_bytes(DIGEST_BYTES, "big", signed=True).hex()


def same_digest(a: str, b: str) -> bool:
    """Whether two hex digests name the same content, either possibly shortened to the
    KB's ``DIGEST_BYTES`` (``FileEntry.sha256`` against an evaluated file's full sha256)."""
    n = min(len(a), len(b), 2 * DIGEST_BYTES)
    return a[:n] == b[:n]


@dataclass(frozen=True, slots=True)
class ReleaseInfo:
    """One release recorded in the KB."""

    name: str
    """Library name, lower case (``openssl``)."""
    version: str
    """Upstream version (``3.0.20``)."""
    files: int
    """C/C++ files recorded."""
    source: str
    """Where the release came from (archive name and sha256, or distribution and suite)."""


@dataclass(frozen=True, slots=True)
class FileRef:
    """A release file whose content matches a looked-up hash."""

    name: str
    """Library name."""
    version: str
    """Release version."""
    path: str
    """Path relative to the release root."""


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One file of a release."""

    path: str
    """Path relative to the release root."""
    sha256: str
    """Hex sha256 of the raw content, its first ``DIGEST_BYTES`` (compare with
    ``same_digest``)."""
    nhash: str
    """Hex ``fingerprint.normalised_hash`` of the content, its first ``DIGEST_BYTES``."""
    lines: int
    """Physical lines."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the KB holds, for the report's envelope."""

    built: str
    """UTC date (ISO 8601) of the most recent change to any KB file read, '' when empty."""
    releases: int
    """Releases available."""
    paths: tuple[str, ...]
    """The KB files read, in overlay order."""


def default_paths() -> tuple[Path, Path]:
    """The shipped read-only KB (package data) and the user's overlay, in overlay order."""
    shipped = Path(str(resources.files("assay") / "data" / "kb.sqlite"))
    overlay = Path(platformdirs.user_data_dir("assay")) / "kb.sqlite"
    return shipped, overlay


class KnowledgeBase:
    """Read access to several KB files at once; later files override earlier ones."""

    def __init__(self, connections: Sequence[tuple[Path, sqlite3.Connection]]) -> None:
        """Wrap open connections (use ``open``)."""
        self._paths = tuple(str(path) for path, _ in connections)
        self._dbs = tuple(db for _, db in connections)
        self._owner: dict[tuple[str, str], int] = {}
        query = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'samples'"
        self._samples = tuple(db.execute(query).fetchone() is not None for db in self._dbs)
        for index, db in enumerate(self._dbs):
            for name, version in db.execute("SELECT name, version FROM releases"):
                self._owner[(name, version)] = index

    @classmethod
    def open(cls, paths: Sequence[Path]) -> KnowledgeBase:
        """Open the KB files that exist among ``paths`` read-only; missing ones are skipped."""
        opened: list[tuple[Path, sqlite3.Connection]] = []
        try:
            for path in paths:
                if path.is_file():
                    opened.append((path, _connect_read_only(path)))
            return cls(opened)
        except sqlite3.Error as exc:
            for _, db in opened:
                db.close()
            raise StorageError(f"cannot read knowledge base: {exc}") from exc

    def close(self) -> None:
        """Close every KB file."""
        for db in self._dbs:
            db.close()

    def __enter__(self) -> KnowledgeBase:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def releases(self) -> list[ReleaseInfo]:
        """Every release available, sorted by (name, version)."""
        found = []
        for (name, version), index in self._owner.items():
            query = "SELECT files, source FROM releases WHERE name = ? AND version = ?"
            files, source = self._dbs[index].execute(query, (name, version)).fetchone()
            found.append(ReleaseInfo(name, version, files, source))
        return sorted(found, key=lambda r: (r.name, r.version))

    def by_hash(self, nhash: str) -> list[FileRef]:
        """Release files whose normalised hash is ``nhash``, sorted."""
        return self._lookup("nhash", nhash)

    def by_sha256(self, sha256: str) -> list[FileRef]:
        """Release files whose raw content has the hex sha256 ``sha256``, sorted."""
        return self._lookup("sha256", sha256)

    def basenames(self) -> frozenset[str]:
        """The base name of every path the KB files record (a cheap first filter)."""
        query = "SELECT path FROM paths"
        return frozenset(posixpath.basename(p) for db in self._dbs for (p,) in db.execute(query))

    def upstream_of(self, sha256: str) -> list[FileRef]:
        """Release files, C/C++ or sample material, byte-identical to the content whose hex
        sha256 is ``sha256``, sorted."""
        query = (
            "SELECT r.name, r.version, p.path FROM samples s JOIN releases r"
            " ON r.id = s.release_id JOIN paths p ON p.id = s.path_id WHERE s.sha = ?"
        )
        key = _key(sha256)
        found = {
            FileRef(name, version, path)
            for index, db in enumerate(self._dbs)
            if self._samples[index]
            for name, version, path in db.execute(query, (key,))
            if self._owner.get((name, version)) == index
        }
        found.update(self.by_sha256(sha256))
        return sorted(found, key=lambda r: (r.name, r.version, r.path))

    def _lookup(self, column: str, digest: str) -> list[FileRef]:
        where = (
            "f.sha = ?"
            if column == "sha256"
            else "f.sha IN (SELECT sha FROM contents WHERE nhash = ?)"
        )
        query = (
            "SELECT r.name, r.version, p.path FROM files f JOIN releases r"
            f" ON r.id = f.release_id JOIN paths p ON p.id = f.path_id WHERE {where}"
        )
        key = _key(digest)
        found = {
            FileRef(name, version, path)
            for index, db in enumerate(self._dbs)
            for name, version, path in db.execute(query, (key,))
            if self._owner.get((name, version)) == index
        }
        return sorted(found, key=lambda r: (r.name, r.version, r.path))

    def release_files(self, name: str, version: str) -> dict[str, FileEntry]:
        """The files of one release by path; empty when the release is unknown."""
        db = self._db_of(name, version)
        if db is None:
            return {}
        query = (
            "SELECT p.path, c.sha, c.nhash, c.lines FROM files f JOIN releases r"
            " ON r.id = f.release_id JOIN paths p ON p.id = f.path_id"
            " JOIN contents c ON c.sha = f.sha WHERE r.name = ? AND r.version = ?"
        )
        rows = db.execute(query, (name, version))
        return {p: FileEntry(p, _hex(s), _hex(n), lines) for p, s, n, lines in rows}

    def grams(self, name: str, version: str, path: str) -> tuple[int, ...]:
        """The winnowed fingerprints of one release file; empty when it is unknown or its KB
        records none (the shipped one)."""
        db = self._db_of(name, version)
        if db is None:
            return ()
        query = (
            "SELECT g.fingerprints FROM files f JOIN releases r ON r.id = f.release_id"
            " JOIN paths p ON p.id = f.path_id JOIN contents c ON c.sha = f.sha"
            " JOIN grams g ON g.nhash = c.nhash"
            " WHERE r.name = ? AND r.version = ? AND p.path = ?"
        )
        row = db.execute(query, (name, version, path)).fetchone()
        return _unpack(row[0]) if row else ()

    def snapshot(self) -> Snapshot:
        """Build date, release count and the files read."""
        dates = [
            row[0]
            for db in self._dbs
            for row in db.execute("SELECT value FROM meta WHERE key = 'built'")
        ]
        return Snapshot(max(dates, default=""), len(self._owner), self._paths)

    def _db_of(self, name: str, version: str) -> sqlite3.Connection | None:
        index = self._owner.get((name, version))
        return None if index is None else self._dbs[index]


def open_default() -> KnowledgeBase:
    """The shipped KB with the user's overlay on top."""
    return KnowledgeBase.open(default_paths())


def _connect_read_only(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version == 1:
        db.close()
        _upgrade_v1(path)
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        version = db.execute("PRAGMA user_version").fetchone()[0]
    if version != SCHEMA_VERSION:
        db.close()
        raise sqlite3.DatabaseError(f"{path}: schema version {version}, need {SCHEMA_VERSION}")
    return db


def _upgrade_v1(path: Path) -> None:
    """Rewrite a KB of schema 1 (an overlay ``assay kb add`` wrote before schema 2) in place:
    the same releases, files and fingerprints in the schema 2 tables, in one transaction."""
    log.warning("%s: knowledge base of schema 1, upgraded to schema %d", path, SCHEMA_VERSION)
    with closing(sqlite3.connect(path, isolation_level=None)) as db, _transaction(db):
        db.execute("ALTER TABLE releases RENAME TO releases_v1")
        db.execute("ALTER TABLE files RENAME TO files_v1")
        db.execute("ALTER TABLE grams RENAME TO grams_v1")
        db.execute("DROP INDEX IF EXISTS files_nhash")
        db.execute("DROP INDEX IF EXISTS files_sha256")
        query = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'samples'"
        had_samples = db.execute(query).fetchone() is not None
        if had_samples:
            db.execute("ALTER TABLE samples RENAME TO samples_v1")
            db.execute("DROP INDEX IF EXISTS samples_sha256")
        for statement in _SCHEMA.split(";"):
            if statement.strip() and "meta(" not in statement:
                db.execute(statement)
        db.execute("INSERT INTO releases SELECT id, name, version, source, files FROM releases_v1")
        rows = db.execute("SELECT release_id, path, sha256, nhash, lines FROM files_v1").fetchall()
        path_ids: dict[str, int] = {}
        for release_id, name, sha, nhash, lines in rows:
            if name not in path_ids:
                cursor = db.execute("INSERT INTO paths(path) VALUES (?)", (name,))
                path_ids[name] = cursor.lastrowid or 0
            key, nkey = _key(sha.hex()), _key(nhash.hex())
            db.execute("INSERT OR IGNORE INTO contents VALUES (?, ?, ?)", (key, nkey, lines))
            db.execute("INSERT INTO files VALUES (?, ?, ?)", (release_id, path_ids[name], key))
        for nhash, blob in db.execute("SELECT nhash, fingerprints FROM grams_v1").fetchall():
            db.execute("INSERT OR IGNORE INTO grams VALUES (?, ?)", (_key(nhash.hex()), blob))
        old_samples = "SELECT release_id, path, sha256 FROM samples_v1" if had_samples else ""
        for release_id, name, sha in db.execute(old_samples).fetchall() if had_samples else ():
            if name not in path_ids:
                cursor = db.execute("INSERT INTO paths(path) VALUES (?)", (name,))
                path_ids[name] = cursor.lastrowid or 0
            db.execute(
                "INSERT OR IGNORE INTO samples VALUES (?, ?, ?)",
                (release_id, path_ids[name], _key(sha.hex())),
            )
        for table in ("files_v1", "grams_v1", "releases_v1", *(("samples_v1",) * had_samples)):
            db.execute(f"DROP TABLE {table}")


def _pack(grams: tuple[int, ...]) -> bytes:
    values = array("q", grams)
    if sys.byteorder == "big":
        values.byteswap()
    return values.tobytes()


def _unpack(blob: bytes) -> tuple[int, ...]:
    values = array("q")
    values.frombytes(blob)
    if sys.byteorder == "big":
        values.byteswap()
    return tuple(values)


# -- adding releases -------------------------------------------------------------------------


def add_release(
    kb_path: Path,
    root: Path,
    name: str,
    version: str,
    source: str,
    grams: bool = True,
    seen: dict[str, fingerprint.FileDigest] | None = None,
) -> ReleaseInfo:
    """Record every C/C++ file of the release at ``root`` (directory or archive) in ``kb_path``.

    A lone top-level directory (``name-version/``) is stripped from the paths. An existing
    release with the same name and version is replaced. ``grams=False`` records no winnowed
    fingerprints; ``seen`` (sha256 -> digest) spares a builder recording many releases from
    digesting a content twice.
    """
    with tempfile.TemporaryDirectory(prefix="assay-kb-") as work:
        _, files, samples = _release_contents(root, Path(work))
        return _record(kb_path, name, version, source, files, samples, grams, seen)


def add_command(path: Path, name: str | None, version: str | None, kb: Path | None) -> ReleaseInfo:
    """``assay kb add``: record a release, detecting its name and version when not given.

    Writes to ``kb``, by default the user's overlay (never the shipped KB). Raises
    ``ConfigError`` when the name or version cannot be detected.
    """
    target = kb if kb is not None else default_paths()[1]
    with tempfile.TemporaryDirectory(prefix="assay-kb-") as work:
        info, files, samples = _release_contents(path, Path(work))
        if name is None or version is None:
            name, version = _detect(files, name, version)
        source = f"{info.name} sha256:{info.sha256}"
        return _record(target, name, version, source, files, samples)


def release_files(root: Path, work_dir: Path) -> tuple[InputInfo, dict[str, SourceFile]]:
    """The C/C++ files of the release at ``root`` by path relative to the release root.

    Archives inside the release are not expanded: they are not part of its source.
    """
    info, files, _ = _release_contents(root, work_dir)
    return info, files


def _release_contents(
    root: Path, work_dir: Path
) -> tuple[InputInfo, dict[str, SourceFile], dict[str, str]]:
    """``release_files``, and the release's sample material: path -> hex sha256 of each other
    text file in which the ``secrets`` byte scan finds a key, a certificate or a hash, and of
    each configuration file that presets a credential."""
    from assay.analyze.secrets.config import config_credentials, is_config
    from assay.analyze.secrets.files import scan_bytes

    result = ingest(root, work_dir, ArchiveLimits(max_depth=1))
    for item in result.skipped:
        log.debug("%s: %s skipped: %s %s", root, item.path, item.reason, item.detail)
    prefix = _lone_directory([f.path for f in result.files])
    files = {
        f.path[len(prefix) :]: f
        for f in result.files
        if f.kind in SOURCE_KINDS and "!/" not in f.path
    }
    if not files:
        raise IngestError(f"{root}: no C/C++ source files")
    samples = {}
    for f in result.files:
        if f.kind is FileKind.TEXT and "!/" not in f.path and f.size <= MAX_SAMPLE_BYTES:
            data, name = f.read_bytes(), posixpath.basename(f.path)
            found = scan_bytes(data, name)
            preset = is_config(name) and next(config_credentials(data), None) is not None
            if found.findings or found.certificates or preset:
                samples[f.path[len(prefix) :]] = f.sha256
    return result.input, files, samples


def _lone_directory(paths: Sequence[str]) -> str:
    """``dir/`` when every path is below one top-level directory, else ''."""
    tops = {p.partition("/")[0] for p in paths if "/" in p}
    if len(tops) == 1 and all("/" in p for p in paths):
        return f"{tops.pop()}/"
    return ""


def _detect(files: dict[str, SourceFile], name: str | None, version: str | None) -> tuple[str, str]:
    from assay.correlate.components import signatures

    found = set()
    for path, file in files.items():
        if file.size <= MAX_DETECT_BYTES and signatures.wanted(path):
            for item in signatures.detect(path, file.read_bytes()):
                if name is None or item.library == name:
                    found.add((item.library, item.version))
    if version is not None:
        found = {(library, version) for library, _ in found}
    if len(found) == 1:
        return found.pop()
    if not found:
        raise ConfigError("cannot detect the release's name and version: give --name and --version")
    listed = ", ".join(f"{n} {v}" for n, v in sorted(found))
    raise ConfigError(f"the release names several versions ({listed}): give --name and --version")


def _record(
    kb_path: Path,
    name: str,
    version: str,
    source: str,
    files: dict[str, SourceFile],
    samples: dict[str, str],
    grams: bool = True,
    seen: dict[str, fingerprint.FileDigest] | None = None,
) -> ReleaseInfo:
    if not name.strip() or not version.strip():
        raise ConfigError("a release needs a non-empty name and version")
    rows = list(_digests(files, grams, {} if seen is None else seen))
    try:
        with closing(_connect_writable(kb_path)) as db, _transaction(db):
            _store(db, ReleaseInfo(name, version, len(rows), source), rows, samples)
    except sqlite3.Error as exc:
        raise StorageError(f"cannot write knowledge base {kb_path}: {exc}") from exc
    return ReleaseInfo(name, version, len(rows), source)


_Row = tuple[str, int, int, int, bytes | None]
"""path, content key, normalised-hash key, lines, packed fingerprints (``None``: not kept)."""


def _digests(
    files: dict[str, SourceFile], grams: bool, seen: dict[str, fingerprint.FileDigest]
) -> Iterator[_Row]:
    for path, file in sorted(files.items()):
        if file.size > MAX_FILE_BYTES:
            log.warning("%s: not recorded: %d bytes (limit %d)", path, file.size, MAX_FILE_BYTES)
            continue
        found = seen.get(file.sha256)
        if found is None or (grams and not found.grams):
            try:
                content = file.read_bytes()
            except OSError as exc:
                log.warning("%s: not recorded: %s", path, exc)
                continue
            found = fingerprint.digest(content) if grams else fingerprint.identity(content)
            seen[file.sha256] = found
        packed = _pack(found.grams) if grams else None
        yield path, _key(file.sha256), _key(found.nhash), found.lines, packed


def _connect_writable(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA foreign_keys = ON")
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version == 1:
        db.close()
        _upgrade_v1(path)
        db = sqlite3.connect(path, isolation_level=None)
        db.execute("PRAGMA foreign_keys = ON")
        version = db.execute("PRAGMA user_version").fetchone()[0]
    if version == 0 and not db.execute("SELECT 1 FROM sqlite_master").fetchone():
        db.executescript(_SCHEMA)
    elif version != SCHEMA_VERSION:
        db.close()
        raise sqlite3.DatabaseError(f"schema version {version}, need {SCHEMA_VERSION}")
    db.executescript(_SAMPLES)
    return db


@contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _store(
    db: sqlite3.Connection, release: ReleaseInfo, rows: list[_Row], samples: dict[str, str]
) -> None:
    key = (release.name, release.version)
    db.execute("DELETE FROM releases WHERE name = ? AND version = ?", key)
    cursor = db.execute(
        "INSERT INTO releases(name, version, source, files) VALUES (?, ?, ?, ?)",
        (*key, release.source, release.files),
    )
    release_id = cursor.lastrowid
    path_ids = _path_ids(db, [row[0] for row in rows] + list(samples))
    db.executemany(
        "INSERT INTO files VALUES (?, ?, ?)",
        ((release_id, path_ids[path], sha) for path, sha, _, _, _ in rows),
    )
    db.executemany(
        "INSERT OR IGNORE INTO contents VALUES (?, ?, ?)",
        ((sha, nhash, lines) for _, sha, nhash, lines, _ in rows),
    )
    db.executemany(
        "INSERT OR IGNORE INTO grams VALUES (?, ?)",
        ((r[2], r[4]) for r in rows if r[4] is not None),
    )
    db.execute("DELETE FROM contents WHERE sha NOT IN (SELECT sha FROM files)")
    db.execute("DELETE FROM grams WHERE nhash NOT IN (SELECT nhash FROM contents)")
    db.executemany(
        "INSERT INTO samples VALUES (?, ?, ?)",
        ((release_id, path_ids[path], _key(sha)) for path, sha in sorted(samples.items())),
    )
    db.execute(
        "DELETE FROM paths WHERE id NOT IN (SELECT path_id FROM files)"
        " AND id NOT IN (SELECT path_id FROM samples)"
    )
    built = datetime.now(UTC).date().isoformat()
    db.execute("INSERT OR REPLACE INTO meta VALUES ('built', ?)", (built,))


def _path_ids(db: sqlite3.Connection, paths: Sequence[str]) -> dict[str, int]:
    """Ids of ``paths`` in the ``paths`` table, adding those it lacks (the table has no index
    on the text, which would double its size: a release's paths are looked up in one read)."""
    wanted = set(paths)
    ids = {p: i for i, p in db.execute("SELECT id, path FROM paths") if p in wanted}
    for path in sorted(wanted.difference(ids)):
        ids[path] = db.execute("INSERT INTO paths(path) VALUES (?)", (path,)).lastrowid or 0
    return ids
