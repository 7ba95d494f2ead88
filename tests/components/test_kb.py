"""The release knowledge base on small hand-made releases: add, replace, look up, overlay."""

from __future__ import annotations

import hashlib
import io
import sqlite3
import tarfile
from contextlib import closing
from pathlib import Path

import pytest

from assay.correlate.components import kb
from assay.correlate.components.fingerprint import normalised_hash, winnow
from assay.correlate.components.kb import (
    FileRef,
    KnowledgeBase,
    ReleaseInfo,
    add_command,
    add_release,
)
from assay.errors import ConfigError, IngestError, StorageError

DEFLATE = b"int deflate(int level)\n{\n    return level * 2;\n}\n"
ZLIB_H = b'#define ZLIB_VERSION "1.3.1"\nint deflate(int level);\n'


def write_tree(root: Path, files: dict[str, bytes]) -> Path:
    """Write ``files`` (relative path -> content) below ``root``; returns ``root``."""
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return root


def release(tmp_path: Path, version: str = "1.3.1", deflate: bytes = DEFLATE) -> Path:
    """A miniature zlib release directory holding its lone top-level ``zlib-VERSION/``."""
    files = {"zlib.h": ZLIB_H, "deflate.c": deflate, "README": b"zlib", "doc/x.txt": b"x"}
    top = write_tree(tmp_path / f"rel-{version}" / f"zlib-{version}", files)
    return top.parent


def test_add_records_source_files_below_the_lone_top_directory(tmp_path: Path) -> None:
    db = tmp_path / "kb.sqlite"
    info = add_release(db, release(tmp_path), "zlib", "1.3.1", "test")
    assert info == ReleaseInfo("zlib", "1.3.1", 2, "test")
    with KnowledgeBase.open([db]) as base:
        assert base.releases() == [info]
        files = base.release_files("zlib", "1.3.1")
        assert sorted(files) == ["deflate.c", "zlib.h"]
        assert kb.same_digest(files["deflate.c"].nhash, normalised_hash(DEFLATE))
        assert len(files["deflate.c"].sha256) == 2 * kb.DIGEST_BYTES
        assert files["deflate.c"].lines == 4
        assert base.by_hash(normalised_hash(b"int deflate(int level){return level*2;}")) == [
            FileRef("zlib", "1.3.1", "deflate.c")
        ]
        assert base.by_sha256(files["zlib.h"].sha256) == [FileRef("zlib", "1.3.1", "zlib.h")]
        assert base.grams("zlib", "1.3.1", "deflate.c") == winnow(DEFLATE)
        assert base.grams("zlib", "9", "deflate.c") == ()
        assert base.release_files("zlib", "9") == {}
        assert base.snapshot().releases == 1


def test_identical_files_map_to_every_release(tmp_path: Path) -> None:
    db = tmp_path / "kb.sqlite"
    add_release(db, release(tmp_path, "1.3.0"), "zlib", "1.3.0", "a")
    add_release(db, release(tmp_path, "1.3.1"), "zlib", "1.3.1", "b")
    with KnowledgeBase.open([db]) as base:
        found = base.by_hash(normalised_hash(DEFLATE))
    assert [(r.version, r.path) for r in found] == [("1.3.0", "deflate.c"), ("1.3.1", "deflate.c")]


def test_adding_again_replaces_the_release(tmp_path: Path) -> None:
    db = tmp_path / "kb.sqlite"
    add_release(db, release(tmp_path), "zlib", "1.3.1", "first")
    changed = b"int deflate(int level) { return level; }"
    add_release(db, release(tmp_path / "again", deflate=changed), "zlib", "1.3.1", "second")
    with KnowledgeBase.open([db]) as base:
        assert [r.source for r in base.releases()] == ["second"]
        assert base.by_hash(normalised_hash(DEFLATE)) == []
        assert base.grams("zlib", "1.3.1", "deflate.c") == winnow(changed)
    with sqlite3.connect(db) as raw:
        assert raw.execute("SELECT count(*) FROM grams").fetchone() == (2,)


def test_a_content_and_a_path_shared_by_releases_are_stored_once(tmp_path: Path) -> None:
    db = tmp_path / "kb.sqlite"
    add_release(db, release(tmp_path, "1.3.0"), "zlib", "1.3.0", "a", grams=False)
    add_release(db, release(tmp_path, "1.3.1"), "zlib", "1.3.1", "b", grams=False)
    with sqlite3.connect(db) as raw:
        assert raw.execute("SELECT count(*) FROM files").fetchone() == (4,)
        assert raw.execute("SELECT count(*) FROM contents").fetchone() == (2,)
        assert raw.execute("SELECT count(*) FROM paths").fetchone() == (2,)
        assert raw.execute("SELECT count(*) FROM grams").fetchone() == (0,)
    raw.close()
    with KnowledgeBase.open([db]) as base:
        assert base.grams("zlib", "1.3.1", "deflate.c") == ()
        assert len(base.by_hash(normalised_hash(DEFLATE))) == 2


def test_archives_are_read_and_their_top_directory_stripped(tmp_path: Path) -> None:
    archive = tmp_path / "zlib-1.3.1.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(release(tmp_path) / "zlib-1.3.1", arcname="zlib-1.3.1")
    info = add_release(tmp_path / "kb.sqlite", archive, "zlib", "1.3.1", "tarball")
    with KnowledgeBase.open([tmp_path / "kb.sqlite"]) as base:
        assert sorted(base.release_files("zlib", "1.3.1")) == ["deflate.c", "zlib.h"]
    assert info.files == 2


def _member(
    tar: tarfile.TarFile, name: str, data: bytes = b"", kind: bytes = tarfile.REGTYPE
) -> None:
    entry = tarfile.TarInfo(name)
    entry.type, entry.size = kind, len(data)
    if kind == tarfile.SYMTYPE:
        entry.linkname = "/etc/passwd"
    tar.addfile(entry, io.BytesIO(data))


def test_hostile_archive_members_are_refused(tmp_path: Path) -> None:
    archive = tmp_path / "evil.tar"
    with tarfile.open(archive, "w") as tar:
        _member(tar, "../escape.c", b"int escape;")
        _member(tar, "/abs/path.c", b"int absolute;")
        _member(tar, "pkg/link.c", kind=tarfile.SYMTYPE)
        _member(tar, "pkg/good.c", b"int good;")
    add_release(tmp_path / "kb.sqlite", archive, "evil", "1", "test")
    assert not (tmp_path.parent / "escape.c").exists()
    assert not Path("/abs/path.c").exists()
    with KnowledgeBase.open([tmp_path / "kb.sqlite"]) as base:
        assert sorted(base.release_files("evil", "1")) == ["good.c"]


def test_a_release_without_source_files_is_an_error(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "docs", {"README": b"nothing here"})
    with pytest.raises(IngestError, match="no C/C\\+\\+ source files"):
        add_release(tmp_path / "kb.sqlite", root, "docs", "1", "test")


def test_overlay_adds_releases_and_overrides_equal_ones(tmp_path: Path) -> None:
    shipped, overlay = tmp_path / "shipped.sqlite", tmp_path / "overlay.sqlite"
    add_release(shipped, release(tmp_path, "1.3.0"), "zlib", "1.3.0", "shipped")
    add_release(shipped, release(tmp_path, "1.3.1"), "zlib", "1.3.1", "shipped")
    changed = b"int deflate(int level) { return 0; }"
    add_release(overlay, release(tmp_path / "o", "1.3.1", changed), "zlib", "1.3.1", "user")
    add_release(overlay, release(tmp_path / "o", "1.4"), "zlib", "1.4", "user")
    with KnowledgeBase.open([shipped, overlay, tmp_path / "missing.sqlite"]) as base:
        assert [(r.version, r.source) for r in base.releases()] == [
            ("1.3.0", "shipped"),
            ("1.3.1", "user"),
            ("1.4", "user"),
        ]
        assert [r.version for r in base.by_hash(normalised_hash(DEFLATE))] == ["1.3.0", "1.4"]
        assert base.grams("zlib", "1.3.1", "deflate.c") == winnow(changed)
        assert base.snapshot().paths == (str(shipped), str(overlay))


def test_no_kb_file_is_an_empty_kb(tmp_path: Path) -> None:
    with KnowledgeBase.open([tmp_path / "none.sqlite"]) as base:
        assert base.releases() == []
        assert base.by_hash("00" * 32) == []
        assert base.snapshot() == kb.Snapshot("", 0, ())


def test_a_kb_of_another_schema_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "kb.sqlite"
    with sqlite3.connect(db) as raw:
        raw.execute("PRAGMA user_version = 99")
    with pytest.raises(StorageError, match="schema version 99"):
        KnowledgeBase.open([db])
    with pytest.raises(StorageError, match="schema version 99"):
        add_release(db, release(tmp_path), "zlib", "1.3.1", "test")


def test_add_command_detects_name_and_version(tmp_path: Path) -> None:
    db = tmp_path / "user" / "kb.sqlite"
    info = add_command(release(tmp_path), None, None, db)
    assert (info.name, info.version, info.files) == ("zlib", "1.3.1", 2)
    assert info.source.startswith("rel-1.3.1 sha256:")


def test_add_command_takes_explicit_names(tmp_path: Path) -> None:
    db = tmp_path / "kb.sqlite"
    info = add_command(release(tmp_path), "myzlib", "7", db)
    assert (info.name, info.version) == ("myzlib", "7")


def test_add_command_without_evidence_asks_for_names(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "lib", {"a.c": b"int a;"})
    with pytest.raises(ConfigError, match="--name and --version"):
        add_command(root, None, None, tmp_path / "kb.sqlite")


def test_default_paths_keep_user_additions_out_of_the_package(tmp_path: Path) -> None:
    shipped, overlay = kb.default_paths()
    assert shipped.parts[-3:] == ("assay", "data", "kb.sqlite")
    assert overlay.name == "kb.sqlite"
    assert "assay" in overlay.parts
    assert overlay.parent != shipped.parent


V1_SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE releases(
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, version TEXT NOT NULL,
    source TEXT NOT NULL, files INTEGER NOT NULL, UNIQUE (name, version));
CREATE TABLE files(
    release_id INTEGER NOT NULL REFERENCES releases(id) ON DELETE CASCADE,
    path TEXT NOT NULL, sha256 BLOB NOT NULL, nhash BLOB NOT NULL, lines INTEGER NOT NULL,
    PRIMARY KEY (release_id, path)) WITHOUT ROWID;
CREATE INDEX files_nhash ON files(nhash);
CREATE INDEX files_sha256 ON files(sha256);
CREATE TABLE grams(nhash BLOB PRIMARY KEY, fingerprints BLOB NOT NULL) WITHOUT ROWID;
PRAGMA user_version = 1;
"""
"""The schema of the first KB files (``assay kb add`` overlays written before schema 2)."""


def test_an_overlay_of_schema_1_is_upgraded_and_keeps_its_releases(tmp_path: Path) -> None:
    db = tmp_path / "kb.sqlite"
    sha = hashlib.sha256(DEFLATE).digest()
    nhash = bytes.fromhex(normalised_hash(DEFLATE))
    with closing(sqlite3.connect(db)) as raw:
        raw.executescript(V1_SCHEMA)
        raw.execute("INSERT INTO releases VALUES (1, 'zlib', '1.3.0', 'old', 1)")
        raw.execute("INSERT INTO files VALUES (1, 'deflate.c', ?, ?, 4)", (sha, nhash))
        raw.execute("INSERT INTO grams VALUES (?, ?)", (nhash, kb._pack(winnow(DEFLATE))))
        raw.commit()
    with KnowledgeBase.open([db]) as base:
        assert base.by_sha256(sha.hex()) == [FileRef("zlib", "1.3.0", "deflate.c")]
        assert base.grams("zlib", "1.3.0", "deflate.c") == winnow(DEFLATE)
    add_release(db, release(tmp_path), "zlib", "1.3.1", "new")
    with KnowledgeBase.open([db]) as base:
        assert [(r.version, r.source) for r in base.releases()] == [
            ("1.3.0", "old"),
            ("1.3.1", "new"),
        ]


KEY_PEM = (
    Path(__file__).parents[1] / "data" / "secrets_corpus" / "keys" / "throwaway-ec-sec1.key"
).read_bytes()


def test_sample_material_is_recorded_apart_from_the_source_files(tmp_path: Path) -> None:
    db = tmp_path / "kb.sqlite"
    top = write_tree(
        tmp_path / "rel" / "zlib-1.3.1",
        {"zlib.h": ZLIB_H, "deflate.c": DEFLATE, "demo/key.pem": KEY_PEM, "doc/x.txt": b"x"},
    )
    add_release(db, top.parent, "zlib", "1.3.1", "test")
    key_sha = hashlib.sha256(KEY_PEM).hexdigest()
    with KnowledgeBase.open([db]) as base:
        assert sorted(base.release_files("zlib", "1.3.1")) == ["deflate.c", "zlib.h"]
        assert base.upstream_of(key_sha) == [FileRef("zlib", "1.3.1", "demo/key.pem")]
        assert base.upstream_of(hashlib.sha256(DEFLATE).hexdigest()) == [
            FileRef("zlib", "1.3.1", "deflate.c")
        ]
        assert base.upstream_of(hashlib.sha256(b"x").hexdigest()) == []


def test_a_kb_written_before_the_samples_table_reads_and_is_upgraded(tmp_path: Path) -> None:
    db = tmp_path / "kb.sqlite"
    add_release(db, release(tmp_path), "zlib", "1.3.1", "test")
    with sqlite3.connect(db) as raw:
        raw.execute("DROP TABLE samples")
    raw.close()
    with KnowledgeBase.open([db]) as base:
        assert base.upstream_of(hashlib.sha256(KEY_PEM).hexdigest()) == []
    top = write_tree(tmp_path / "new" / "zlib-1.3.0", {"zlib.h": ZLIB_H, "k.pem": KEY_PEM})
    add_release(db, top.parent, "zlib", "1.3.0", "test")
    with KnowledgeBase.open([db]) as base:
        found = base.upstream_of(hashlib.sha256(KEY_PEM).hexdigest())
    assert found == [FileRef("zlib", "1.3.0", "k.pem")]


def test_a_schema_1_kb_with_samples_keeps_them_when_upgraded(tmp_path: Path) -> None:
    db = tmp_path / "kb.sqlite"
    key_sha = hashlib.sha256(KEY_PEM).digest()
    with closing(sqlite3.connect(db)) as raw:
        raw.executescript(V1_SCHEMA.replace("PRAGMA user_version = 1;", ""))
        raw.executescript(
            "CREATE TABLE samples(release_id INTEGER NOT NULL, path TEXT NOT NULL,"
            " sha256 BLOB NOT NULL, PRIMARY KEY (release_id, path)) WITHOUT ROWID;"
            " CREATE INDEX samples_sha256 ON samples(sha256); PRAGMA user_version = 1;"
        )
        raw.execute("INSERT INTO releases VALUES (1, 'openssl', '3.0.0', 'old', 0)")
        raw.execute("INSERT INTO samples VALUES (1, 'apps/server.pem', ?)", (key_sha,))
        raw.commit()
    with KnowledgeBase.open([db]) as base:
        assert base.upstream_of(key_sha.hex()) == [FileRef("openssl", "3.0.0", "apps/server.pem")]
