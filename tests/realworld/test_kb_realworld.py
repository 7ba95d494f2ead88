"""The knowledge base on real zlib releases: exact lookups across versions, edited files."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from assay.correlate.components.fingerprint import SIMILAR, normalised_hash, similarity, winnow
from assay.correlate.components.kb import KnowledgeBase, add_release

pytestmark = pytest.mark.realworld


@pytest.fixture(scope="module")
def zlib_kb(upstream: Callable[[str], Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A KB holding zlib from bookworm (1.2.13) and trixie (1.3.1)."""
    db = tmp_path_factory.mktemp("kb") / "kb.sqlite"
    for spec in ("zlib/bookworm", "zlib/trixie"):
        found = upstream(spec)
        add_release(db, found.path, found.name, found.version, spec)
    return db


def test_every_file_is_found_with_its_version(
    zlib_kb: Path, upstream: Callable[[str], Any]
) -> None:
    found = upstream("zlib/trixie")
    root: Path = found.path
    with KnowledgeBase.open([zlib_kb]) as base:
        files = base.release_files("zlib", found.version)
        assert len(files) > 40
        for path in files:
            refs = base.by_hash(normalised_hash((root / path).read_bytes()))
            assert ("zlib", found.version, path) in [(r.name, r.version, r.path) for r in refs]


def test_identical_files_map_to_both_versions(zlib_kb: Path) -> None:
    with KnowledgeBase.open([zlib_kb]) as base:
        old = base.release_files("zlib", "1.2.13")
        new = base.release_files("zlib", "1.3.1")
        same = [p for p in old if p in new and old[p].nhash == new[p].nhash]
        changed = [p for p in old if p in new and old[p].nhash != new[p].nhash]
        assert len(same) > 10 and "deflate.c" in changed
        for path in same:
            versions = {r.version for r in base.by_hash(old[path].nhash) if r.path == path}
            assert versions == {"1.2.13", "1.3.1"}


def test_an_edited_file_is_closest_to_its_original(
    zlib_kb: Path, upstream: Callable[[str], Any]
) -> None:
    root: Path = upstream("zlib/trixie").path
    lines = (root / "inflate.c").read_bytes().split(b"\n")
    for index in (300, 700, 1100):
        lines[index] = b"    vendor_hook(strm); /* added by the vendor */"
    edited = b"\n".join(lines)
    with KnowledgeBase.open([zlib_kb]) as base:
        assert base.by_hash(normalised_hash(edited)) == []
        scores = {
            (release.version, path): similarity(
                winnow(edited), base.grams("zlib", release.version, path)
            )
            for release in base.releases()
            for path in base.release_files("zlib", release.version)
        }
    best = max(scores, key=lambda key: scores[key])
    assert best == ("1.3.1", "inflate.c")
    assert scores[best] >= SIMILAR
    assert sorted(scores.values())[-3] < SIMILAR


VERSION_TEXT = re.compile(rb"ZLIB_VERSION|deflate [0-9]|inflate [0-9]")
"""What names a zlib version inside its files: the header's macros and the copyright strings."""


@pytest.mark.parametrize("spec", ["zlib/bookworm", "zlib/trixie"])
def test_the_shipped_kb_names_a_copy_without_its_version_header(
    spec: str, upstream: Callable[[str], Any], tmp_path: Path
) -> None:
    """zlib's C files without ``zlib.h`` and without any file that spells the version are
    vendored in a tree; the knowledge base shipped in the package (no ``--kb``) names the copy
    and its version from the files' fingerprints alone."""
    from support import run_evaluation

    release = upstream(spec)
    copy = tmp_path / "fw" / "third_party" / "z"
    copy.mkdir(parents=True)
    kept = []
    for path in sorted(Path(release.path).iterdir()):
        if path.suffix in (".c", ".h") and not VERSION_TEXT.search(path.read_bytes()):
            shutil.copy(path, copy / path.name)
            kept.append(f"third_party/z/{path.name}")
    assert "third_party/z/zlib.h" not in kept and len(kept) >= 15
    (tmp_path / "fw" / "main.c").write_text("int main(void) { return 0; }\n")
    doc = run_evaluation(tmp_path / "fw", tmp_path / "out").json()
    (found,) = doc["components"]["copies"]
    assert (found["name"], found["version"], found["root"]) == (
        "zlib",
        release.version,
        "third_party/z",
    )
    assert found["candidates"] == [] and found["kind"] == "fragment"
    assert found["files"]["unchanged"] == found["files"]["total"] == len(kept)
    assert found["evidence"] == kept[: len(found["evidence"])]  # the matched files themselves
    assert doc["components"]["knowledge_base"]["releases"] > 0  # the shipped one was read
