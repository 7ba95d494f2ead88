"""``assay evaluate`` end to end on a real release, through the process pool.

OpenSSL 1.1.1 (bullseye) holds ``test/drbg_cavs_data.c``, an 8 MB C file of test vectors: real
large sources are evaluated, never dropped, and the figures add up across sections.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from support import Run

pytestmark = pytest.mark.realworld

# C and C++ by name, the way a reviewer would list them (``.H`` is a C++ header on Unix).
C_SUFFIXES = {".c", ".h", ".cc", ".cpp", ".cxx", ".hh", ".hpp", ".H"}


def _c_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix in C_SUFFIXES and p.is_file())


@pytest.fixture(scope="module")
def openssl_run(
    upstream: Callable[[str], Any], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Any, Run]:
    from support import run_evaluation

    release = upstream("openssl/bullseye")
    out = tmp_path_factory.mktemp("openssl-eval")
    return release, run_evaluation(release.path, out, jobs=2)


def test_every_c_file_of_the_release_is_evaluated(openssl_run: tuple[Any, Run]) -> None:
    release, run = openssl_run
    doc = run.json()
    assert doc["input"]["name"] == release.path.name
    assert [s for s in doc["skipped"] if s["stage"] != "ingest"] == []
    expected = _c_files(release.path)
    assert doc["inventory"]["analyzed"]["paths"] == len(expected)
    lines = sum(p.read_bytes().count(b"\n") for p in expected)
    assert abs(doc["inventory"]["analyzed"]["lines"] - lines) <= len(expected)


def test_the_real_evaluation_validates_with_every_key_typed(openssl_run: tuple[Any, Run]) -> None:
    from schema_sections import check

    _, run = openssl_run
    doc = run.json()
    check(doc)
    assert doc["components"]["copies"] and doc["unsafe-calls"]["functions"]


def test_the_largest_real_file_is_evaluated(
    upstream: Callable[[str], Any], tmp_path: Path, evaluate: Callable[..., Run]
) -> None:
    release = upstream("openssl/bullseye")
    largest = max(_c_files(release.path), key=lambda p: p.stat().st_size)
    assert largest.stat().st_size > 4 * 1024**2, "the release should hold a multi-MB C file"
    tree = tmp_path / "big"
    tree.mkdir()
    shutil.copy(largest, tree / largest.name)
    run = evaluate(tree, jobs=2)
    assert run.evaluation.skipped == ()
    lines = largest.read_bytes().count(b"\n")
    assert run.evaluation.inventory["analyzed"] == {
        "paths": 1, "unique_contents": 1, "lines": lines, "unique_lines": lines,
    }  # fmt: skip


def test_census_totals_match_the_findings(openssl_run: tuple[Any, Run]) -> None:
    _, run = openssl_run
    doc = run.json()
    totals = doc["unsafe-calls"]["totals"]
    findings = [f for f in doc["findings"] if f["category"] == "unsafe-calls"]
    assert totals["calls_unbounded"] == len(findings) > 100
    assert totals["calls_bounded"] > 0
    per_family = sum(f["calls_unbounded"] for f in doc["unsafe-calls"]["families"].values())
    assert per_family == totals["calls_unbounded"]


def test_pool_and_in_process_runs_agree(
    upstream: Callable[[str], Any], tmp_path: Path, evaluate: Callable[..., Run]
) -> None:
    release = upstream("zlib/bookworm")
    tree = tmp_path / release.path.name
    shutil.copytree(release.path, tree)
    one, two = evaluate(tree, jobs=1), evaluate(tree, jobs=2)
    assert (one.out / "evaluation.json").read_bytes() == (two.out / "evaluation.json").read_bytes()
