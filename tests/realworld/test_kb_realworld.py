"""The knowledge base on real releases: exact lookups across versions, edited files, and the
shipped KB naming vendored copies (headerless, re-rooted, fragments, nested, disagreeing)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import upstream as upstream_tool  # type: ignore[import-not-found]  # tools/, via conftest

from assay.correlate.components.copies import Ownership, identify_all
from assay.correlate.components.fingerprint import SIMILAR, normalised_hash, similarity, winnow
from assay.correlate.components.kb import KnowledgeBase, add_release, open_default
from assay.correlate.components.matching import correlate
from assay.ingest import ArchiveLimits, ingest
from assay.model import Component

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


# --- the shipped knowledge base on vendored copies built from real releases ------------------
#
# Each tree below is built in the test from a real upstream release (Debian source package):
# files re-rooted, renamed or left out as vendors do. The expected versions come from the
# download's manifest, and every release used is one the shipped KB must hold (it records
# every release the Debian archive offers of these products).

VENDOR_SPECS = (
    "zstd/trixie", "xz-utils/bookworm", "sqlite3/bookworm", "sqlite3/forky", "zlib/trixie",
    "libpng1.6/bookworm", "dropbear/bookworm", "pcre2/bookworm",
)  # fmt: skip


@pytest.fixture(scope="module")
def releases() -> dict[str, Any]:
    """Every release these tests use, fetched at once (in parallel on a cold cache)."""
    found = upstream_tool.fetch(VENDOR_SPECS)
    assert len(found) == len(VENDOR_SPECS), "a release could not be downloaded (see stderr)"
    return dict(zip(VENDOR_SPECS, found, strict=True))


def _copy(release: Path, tree: Path, moves: dict[str, str], keep: Callable[[str], bool]) -> None:
    """Copy the files of ``release`` below each ``moves`` key to ``tree`` / its value."""
    for source, target in moves.items():
        for file in sorted((release / source).rglob("*")):
            relative = file.relative_to(release / source).as_posix()
            if file.is_file() and not file.is_symlink() and keep(relative):
                destination = tree / target / relative
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(file, destination)


def _copies(tree: Path, work: Path, kb: Path | None = None) -> dict[tuple[str, str], Component]:
    """The copies assay names in ``tree``, by (name, root), with the shipped KB (or ``kb``)."""
    files = ingest(tree, work, ArchiveLimits()).files
    found, confirming, _ = identify_all(files)
    with KnowledgeBase.open([kb]) if kb else open_default() as base:
        copies = correlate(found, files, base, confirming)
    return {(c.name, c.root): c for c in copies}


def _names(copy: Component, version: str) -> bool:
    return copy.version == version or (copy.version is None and version in copy.candidates)


def test_a_copy_without_its_version_header_is_named_by_its_files(
    releases: dict[str, Any], tmp_path: Path
) -> None:
    # U-Boot keeps zstd's decompressor below lib/zstd/ without zstd.h
    release = releases["zstd/trixie"]
    tree = tmp_path / "u-boot"
    moves = {"lib/common": "lib/zstd/common", "lib/decompress": "lib/zstd/decompress"}
    _copy(release.path, tree, moves, lambda p: p != "zstd.h")
    assert not (tree / "lib" / "zstd" / "zstd.h").exists()
    copy = _copies(tree, tmp_path / "work")[("zstd", "lib/zstd")]
    assert _names(copy, release.version), copy
    assert copy.files["unchanged"] >= 10 and copy.kind.value in ("partial", "fragment")


def test_a_re_rooted_copy_is_named_as_well_as_one_in_its_upstream_layout(
    releases: dict[str, Any], tmp_path: Path
) -> None:
    # CMake keeps xz's src/liblzma and src/common as Utilities/cmliblzma/{liblzma,common}
    release = releases["xz-utils/bookworm"]
    vendor, upstream_layout = tmp_path / "cmake", tmp_path / "plain"
    moves = {
        "src/liblzma": "Utilities/cmliblzma/liblzma",
        "src/common": "Utilities/cmliblzma/common",
    }
    _copy(release.path, vendor, moves, lambda p: True)
    _copy(release.path, upstream_layout, {f"src/{d}": f"xz/src/{d}" for d in ("liblzma", "common")},
          lambda p: True)  # fmt: skip
    assert (vendor / "Utilities/cmliblzma/liblzma/api/lzma/version.h").is_file()
    moved = _copies(vendor, tmp_path / "w1")[("xz", "Utilities/cmliblzma")]
    plain = _copies(upstream_layout, tmp_path / "w2")[("xz", "xz")]
    assert moved.version == plain.version == release.version
    assert moved.files["unchanged"] == plain.files["unchanged"] > 100
    # the re-rooted copy is measured against the release folder it holds (src/): full there
    assert (moved.kind.value, plain.kind.value) == ("full", "partial")
    assert moved.files["modified"] == 0


def test_the_copys_own_version_wins_over_a_partial_overlap_and_both_are_reported(
    releases: dict[str, Any], tmp_path: Path
) -> None:
    # a KB holding only the older release: the newer copy shares files with it
    old, new = releases["sqlite3/bookworm"], releases["sqlite3/forky"]
    kb = tmp_path / "old.sqlite"
    add_release(kb, old.path, old.name, old.version, "test", grams=False)
    tree = tmp_path / "fw"
    _copy(new.path, tree, {"": "third_party/sqlite"}, lambda p: True)
    assert (tree / "third_party/sqlite/VERSION").read_text().strip() == new.version
    copy = _copies(tree, tmp_path / "w1", kb)[("sqlite", "third_party/sqlite")]
    assert (copy.version, copy.files_version) == (new.version, old.version)
    assert copy.files["unchanged"] >= 3
    # the shipped KB holds the copy's own release: no disagreement, a full copy
    shipped = _copies(tree, tmp_path / "w2")[("sqlite", "third_party/sqlite")]
    assert (shipped.version, shipped.files_version, shipped.kind.value) == (
        new.version, None, "full",
    )  # fmt: skip


def test_fragments_that_state_their_version_are_reported(
    releases: dict[str, Any], tmp_path: Path
) -> None:
    zlib, png = releases["zlib/trixie"], releases["libpng1.6/bookworm"]
    tree = tmp_path / "fw"
    inflate = {"inflate.c", "inftrees.c", "inftrees.h", "inffast.c", "inffast.h", "inflate.h",
               "inffixed.h", "zutil.h", "adler32.c"}  # fmt: skip
    _copy(zlib.path, tree, {"": "boot/inflate"}, lambda p: p in inflate)
    reader = {"png.c", "pngread.c", "pngrutil.c", "pngrtran.c", "pngget.c", "pngmem.c",
              "pngerror.c", "pngpriv.h", "pngstruct.h", "pnginfo.h"}  # fmt: skip
    _copy(png.path, tree, {"": "ui/png"}, lambda p: p in reader)
    found = _copies(tree, tmp_path / "work")
    assert found[("zlib", "boot/inflate")].version == zlib.version
    assert found[("libpng", "ui/png")].version == png.version
    for key in (("zlib", "boot/inflate"), ("libpng", "ui/png")):
        assert found[key].kind.value == "fragment" and found[key].files["unchanged"] >= 5


@pytest.mark.parametrize(
    ("spec", "bundled", "root"),
    [("dropbear/bookworm", "libtomcrypt", "libtomcrypt"), ("pcre2/bookworm", "sljit", "src/sljit")],
)
def test_bundled_sub_libraries_are_copies_of_their_own(
    releases: dict[str, Any], tmp_path: Path, spec: str, bundled: str, root: str
) -> None:
    release = releases[spec]
    tree = tmp_path / "fw"
    _copy(release.path, tree, {"": "vendor/pkg"}, lambda p: True)
    found = _copies(tree, tmp_path / "work")
    outer = found[(release.name, "vendor/pkg")]
    inner = found[(bundled, f"vendor/pkg/{root}")]
    assert outer.version == release.version and outer.kind.value == "full"
    assert outer.files["missing"] == 0  # the nested copy's files count for its parent too
    assert inner.version
    owners = Ownership.of(found.values())
    nested = [p for p in (tree / "vendor/pkg" / root).rglob("*.[ch]") if p.is_file()]
    assert len(nested) >= 5
    for path in nested:
        assert owners.owner(path.relative_to(tree).as_posix()) is inner


def test_a_release_holding_corrupt_zstd_test_files_is_read(
    releases: dict[str, Any], tmp_path: Path
) -> None:
    # zstd ships deliberately damaged frames among its tests: each is a skipped record
    release = releases["zstd/trixie"]
    result = ingest(release.path, tmp_path / "work", ArchiveLimits())
    corrupt = {s.path for s in result.skipped if s.reason == "corrupt-archive"}
    damaged = {
        p.relative_to(release.path).as_posix()
        for p in (release.path / "tests" / "golden-decompression-errors").glob("*.zst")
    }
    assert corrupt & damaged
    assert any(f.path == "lib/zstd.h" for f in result.files)


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
