"""The component inventory on trees built from real upstream releases.

Each test tree mixes real releases the way vendor trees do: a full copy with a few files
edited, an older version of the same library side by side, a partial copy of OpenSSL (two
subdirectories, renamed root, no version file), and a fragment (four files in a renamed
directory, no header). The knowledge base is built by the test from the same downloads with
``add_release`` (the path ``assay kb add`` takes), so expected versions come from the
download's manifest, never from literals.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from assay.correlate.components.kb import add_release
from support import Run, run_evaluation

pytestmark = pytest.mark.realworld

FRAGMENT = ("adler32.c", "inftrees.c", "inftrees.h", "uncompr.c")


@pytest.fixture(scope="module")
def releases(upstream: Callable[[str], Any]) -> dict[str, Any]:
    return {
        "zlib-new": upstream("zlib/bookworm"),
        "zlib-old": upstream("zlib/bullseye"),
        "openssl": upstream("openssl/bookworm"),
    }


@pytest.fixture(scope="module")
def kb(releases: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("kb") / "kb.sqlite"
    for release in releases.values():
        add_release(path, release.path, release.name, release.version, "test download")
    return path


@pytest.fixture(scope="module")
def run(releases: dict[str, Any], kb: Path, tmp_path_factory: pytest.TempPathFactory) -> Run:
    root = tmp_path_factory.mktemp("vendor") / "fw"
    shutil.copytree(releases["zlib-new"].path, root / "vendor/zlib")
    for name in ("inflate.c", "deflate.c"):
        edited = root / "vendor/zlib" / name
        edited.write_bytes(edited.read_bytes() + b"\n/* vendor patch */\n")
    shutil.copytree(releases["zlib-old"].path, root / "ext/zlib-old")
    ssl = releases["openssl"].path
    for sub in ("crypto", "ssl"):
        shutil.copytree(ssl / sub, root / "third_party/tls" / sub)
    for name in FRAGMENT:
        (root / "src/compress").mkdir(parents=True, exist_ok=True)
        shutil.copy(releases["zlib-new"].path / name, root / "src/compress" / name)
    (root / "src/main.c").write_text("int main(void) { return 0; }\n")
    return run_evaluation(root, tmp_path_factory.mktemp("out"), kb=kb, jobs=2)


def _copies(run: Run) -> dict[str, dict[str, Any]]:
    return {c["root"]: c for c in run.json()["components"]["copies"]}


def test_full_copy_with_edited_files(run: Run, releases: dict[str, Any]) -> None:
    copy = _copies(run)["vendor/zlib"]
    assert (copy["name"], copy["version"], copy["kind"]) == (
        "zlib", releases["zlib-new"].version, "full",
    )  # fmt: skip
    assert copy["files"]["modified"] == 2
    assert copy["files"]["missing"] == 0
    assert copy["files"]["unchanged"] == copy["files"]["release"] - 2


def test_two_versions_side_by_side(run: Run, releases: dict[str, Any]) -> None:
    copies = _copies(run)
    assert copies["ext/zlib-old"]["version"] == releases["zlib-old"].version
    assert copies["ext/zlib-old"]["kind"] == "full"
    table = run.json()["components"]["libraries"]["zlib"]
    versions = {releases["zlib-old"].version, releases["zlib-new"].version}
    assert set(table["versions"]) >= versions
    assert table["full"] == 2


def test_partial_copy_found_by_its_files(run: Run, releases: dict[str, Any]) -> None:
    copy = _copies(run)["third_party/tls"]
    assert copy["name"] == "openssl"
    assert copy["kind"] == "partial"
    # the only OpenSSL release in this test's KB, so the files name it exactly
    assert (copy["version"], copy["candidates"]) == (releases["openssl"].version, [])
    assert copy["files"]["missing"] > 0 and copy["files"]["modified"] == 0


def test_fragment_in_a_renamed_directory(run: Run, releases: dict[str, Any]) -> None:
    copy = _copies(run)["src/compress"]
    assert (copy["name"], copy["kind"]) == ("zlib", "fragment")
    # Expected versions, computed from the downloads alone: the zlib releases in the KB whose
    # tree holds all four files byte for byte.
    source = releases["zlib-new"].path
    holding = sorted(
        r.version
        for r in (releases["zlib-new"], releases["zlib-old"])
        if all((r.path / n).read_bytes() == (source / n).read_bytes() for n in FRAGMENT)
    )
    if len(holding) == 1:
        assert (copy["version"], copy["candidates"]) == (holding[0], [])
    else:
        assert (copy["version"], sorted(copy["candidates"])) == (None, holding)
    assert copy["files"]["unchanged"] == len(FRAGMENT)


def test_vendor_code_is_no_component(run: Run) -> None:
    roots = set(_copies(run))
    assert roots == {"vendor/zlib", "ext/zlib-old", "third_party/tls", "src/compress"}


def test_sbom_lists_each_copy(run: Run) -> None:
    import json

    bom = json.loads((run.out / "sbom.cdx.json").read_text(encoding="utf-8"))
    assert len(bom["components"]) == 4
