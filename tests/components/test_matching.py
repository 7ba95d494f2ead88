"""Copies against the knowledge base: kinds, counts, roots inside the upstream tree."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from assay.correlate.components.kb import add_release
from support import Run, write_tree

LIB_H = "#define XML_MAJOR_VERSION 2\n#define XML_MINOR_VERSION 5\n#define XML_MICRO_VERSION 0\n"


def _release(root: Path) -> Path:
    files: dict[str, str | bytes] = {"expat/lib/expat.h": LIB_H, "tools/t.c": "int t;\n"}
    files.update({f"expat/lib/f{i}.c": f"int f{i}(void) {{ return {i}; }}\n" for i in range(9)})
    return write_tree(root, files)


def test_a_library_in_a_folder_of_its_upstream_tree_is_a_full_copy(
    tmp_path: Path, evaluate: Callable[..., Run]
) -> None:
    release = _release(tmp_path / "expat-2.5.0")
    kb = tmp_path / "kb.sqlite"
    add_release(kb, release, "expat", "2.5.0", "test")
    vendor = tmp_path / "fw"
    files: dict[str, str | bytes] = {
        f"ext/xml/{p.relative_to(release / 'expat')}": p.read_bytes()
        for p in (release / "expat").rglob("*")
        if p.is_file()
    }
    files["ext/xml/lib/f0.c"] = b"int f0(void) { return 42; }\n"
    write_tree(vendor, files)
    [copy] = evaluate(vendor, kb=kb).json()["components"]["copies"]
    assert (copy["name"], copy["version"], copy["root"], copy["kind"]) == (
        "expat", "2.5.0", "ext/xml", "full",
    )  # fmt: skip
    assert copy["files"] == {
        "total": 10, "release": 10, "unchanged": 9, "modified": 1, "missing": 0, "added": 0,
    }  # fmt: skip


def test_a_vendored_sqlite_amalgamation_is_a_full_copy(
    tmp_path: Path, evaluate: Callable[..., Run]
) -> None:
    header = '#define SQLITE_VERSION        "3.31.1"\n#define SQLITE_VERSION_NUMBER 3031001\n'
    tree = write_tree(
        tmp_path / "fw",
        {"db/sqlite3.h": header, "db/sqlite3.c": "int sqlite3_open(void) { return 0; }\n"},
    )
    [copy] = evaluate(tree, kb=tmp_path / "empty.sqlite").json()["components"]["copies"]
    assert (copy["name"], copy["version"], copy["root"], copy["kind"]) == (
        "sqlite", "3.31.1", "db", "full",
    )  # fmt: skip


def test_a_copy_with_modified_files_is_derived(
    tmp_path: Path, evaluate: Callable[..., Run]
) -> None:
    release = _release(tmp_path / "expat-2.5.0")
    kb = tmp_path / "kb.sqlite"
    add_release(kb, release, "expat", "2.5.0", "test")
    copy_dir = tmp_path / "fw" / "xml"
    write_tree(copy_dir, {"lib/expat.h": LIB_H, "lib/f1.c": "int f1(void) { return 7; }\n"})
    [copy] = evaluate(tmp_path / "fw", kb=kb).json()["components"]["copies"]
    assert copy["qualifiers"] == ["derived"]
    assert copy["version"] == "2.5.0"


def test_files_shared_by_two_releases_give_a_candidate_set(
    tmp_path: Path, evaluate: Callable[..., Run]
) -> None:
    shared = {f"s{i}.c": f"int s{i}(void) {{ return {i}; }}\n" for i in range(3)}
    kb = tmp_path / "kb.sqlite"
    for version in ("1.0", "1.1"):
        files: dict[str, str | bytes] = {**shared, "own.c": f"int own = {version!r}[0];\n"}
        add_release(kb, write_tree(tmp_path / f"lib-{version}", files), "zlib", version, "t")
    write_tree(tmp_path / "fw" / "vendor" / "z", dict(shared))
    [copy] = evaluate(tmp_path / "fw", kb=kb).json()["components"]["copies"]
    assert (copy["name"], copy["version"], copy["candidates"]) == ("zlib", None, ["1.0", "1.1"])
    assert (copy["root"], copy["kind"]) == ("vendor/z", "fragment")
    assert copy["files"]["unchanged"] == 3 and copy["files"]["missing"] == 1


def test_files_a_release_bundles_name_their_origin_not_the_bundler(
    tmp_path: Path, evaluate: Callable[..., Run]
) -> None:
    # sudo's and rsync's releases carry zlib's files below lib/zlib/: a copy of those files is
    # zlib, and the bundler is named only for files of its own
    shared = {f"s{i}.c": f"int s{i}(void) {{ return {i}; }}\n" for i in range(4)}
    kb = tmp_path / "kb.sqlite"
    add_release(kb, write_tree(tmp_path / "zlib", dict(shared)), "zlib", "1.3", "t")
    bundler: dict[str, str | bytes] = {f"lib/zlib/{p}": c for p, c in shared.items()}
    bundler |= {f"src/t{i}.c": f"int t{i} = {i};\n" for i in range(4)}
    add_release(kb, write_tree(tmp_path / "tool", bundler), "tool", "2.0", "t")
    write_tree(tmp_path / "fw" / "vendor" / "z", dict(shared))
    [copy] = evaluate(tmp_path / "fw", kb=kb).json()["components"]["copies"]
    assert (copy["name"], copy["version"], copy["root"]) == ("zlib", "1.3", "vendor/z")
    assert copy["files"]["unchanged"] == copy["files"]["total"] == 4
    # the bundler's own files, beside the bundled ones, still name it
    write_tree(tmp_path / "fw2" / "t", {p: c for p, c in bundler.items()})
    names = {
        (c["name"], c["root"])
        for c in evaluate(tmp_path / "fw2", kb=kb).json()["components"]["copies"]
    }
    assert ("tool", "t") in names


def test_a_copys_stated_version_wins_over_the_release_its_files_match(
    tmp_path: Path, evaluate: Callable[..., Run]
) -> None:
    # the KB holds only 3.98.0; the copy's VERSION says 3.99.0 and six files equal 3.98.0's
    files: dict[str, str | bytes] = {
        f"src/f{i}.c": f"int f{i}(void) {{ return {i}; }}\n" for i in range(6)
    }
    release = write_tree(tmp_path / "sqlite-3.98.0", {**files, "VERSION": "3.98.0\n"})
    kb = tmp_path / "kb.sqlite"
    add_release(kb, release, "sqlite", "3.98.0", "test")
    tree = write_tree(
        tmp_path / "fw", {f"db/{p}": c for p, c in files.items()} | {"db/VERSION": "3.99.0\n"}
    )
    [copy] = evaluate(tree, kb=kb).json()["components"]["copies"]
    assert (copy["name"], copy["version"], copy["root"]) == ("sqlite", "3.99.0", "db")
    assert copy["files_version"] == "3.98.0"
    assert copy["files"]["unchanged"] == 6


def test_a_bare_version_file_alone_names_nothing(
    tmp_path: Path, evaluate: Callable[..., Run]
) -> None:
    tree = write_tree(tmp_path / "fw", {"db/VERSION": "3.99.0\n", "db/x.c": "int x;\n"})
    assert evaluate(tree, kb=tmp_path / "empty.sqlite").json()["components"]["copies"] == []
