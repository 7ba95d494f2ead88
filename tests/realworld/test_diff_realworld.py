"""Two releases of a product built from real upstream sources, recorded and diffed (issue #8).

Release 1 ships zlib (Debian bullseye), expat (bullseye) and a vendor file whose macro defeats
``strncpy``; release 2 upgrades zlib (bookworm), drops expat and fixes the macro. The diff is
asserted exactly against what the two evaluation.json files say; versions come from the
downloads. A tree holding only the current zlib (trixie) rates assurance.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from assay.report.diff import compare, from_json, render_text
from assay.storage.history import History
from support import Run, run_evaluation, write_tree

pytestmark = pytest.mark.realworld

DEFEATED = "#define strncpy(d, s, n) strcpy(d, s)\n"
VENDOR = """#include <string.h>
{macro}
void copy_name(char *dst, const char *src)
{{
    strncpy(dst, src, 32);
}}
"""


def _release(root: Path, libs: dict[str, Any], macro: str) -> Path:
    for name, release in libs.items():
        shutil.copytree(release.path, root / "vendor" / name)
    return write_tree(root, {"src/name.c": VENDOR.format(macro=macro)})


@pytest.fixture(scope="module")
def releases(
    upstream: Callable[[str], Any], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    return {spec: upstream(spec) for spec in ("zlib/bullseye", "zlib/bookworm", "expat/bullseye")}


@pytest.fixture(scope="module")
def runs(releases: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, Run]:
    root = tmp_path_factory.mktemp("product")
    old = _release(root / "r1", {"zlib": releases["zlib/bullseye"],
                                 "expat": releases["expat/bullseye"]}, DEFEATED)  # fmt: skip
    new = _release(root / "r2", {"zlib": releases["zlib/bookworm"]}, "")
    return run_evaluation(old, root / "o1", jobs=2), run_evaluation(new, root / "o2", jobs=2)


def test_diff_of_two_real_releases_is_exact(
    runs: tuple[Run, Run], releases: dict[str, Any], tmp_path: Path
) -> None:
    r1, r2 = runs
    with History(tmp_path / "history.sqlite") as history:
        history.record(r1.evaluation, product="gateway", release="1", output_dir=r1.out)
        history.record(r2.evaluation, product="gateway", release="2", output_dir=r2.out)
        assert [r.release for r in history.releases("gateway")] == ["1", "2"]
        result = compare(history.load("gateway@1"), history.load("gateway@2"))
    old = Counter(f["fingerprint"] for f in r1.findings())
    new = Counter(f["fingerprint"] for f in r2.findings())
    assert Counter(r.fingerprint for r in result.introduced) == new - old
    assert Counter(r.fingerprint for r in result.fixed) == old - new
    assert Counter(r.fingerprint for r in result.persisting) == old & new
    assert result.suppressed == ()
    assert {r.path.split("/")[1] for r in result.fixed if r.path.startswith("vendor/")} >= {"expat"}
    assert any(r.rule_id.startswith("safe-defeated/") for r in result.fixed)

    figures = {c.figure: (c.old, c.new) for c in result.figures}
    zlib_old, zlib_new = releases["zlib/bullseye"].version, releases["zlib/bookworm"].version
    assert figures["copies.zlib.versions"] == ([zlib_old], [zlib_new])
    assert figures["copies.zlib.copies"] == (1, 1)
    assert figures["copies.expat.versions"] == ([releases["expat/bullseye"].version], None)
    assert figures["copies.expat.copies"] == (1, None)
    assert figures["defeated_functions"] == (1, 0)
    verdicts = (r1.json()["rating"]["verdict"], r2.json()["rating"]["verdict"])
    assert figures["verdict"] == verdicts
    assert figures["grades.safe-defeated"] == ("fail", "pass")
    changed = {c.figure for c in result.figures if c.changed}
    assert {"copies.zlib.versions", "copies.expat.copies", "defeated_functions"} <= changed


def test_diff_groups_the_upgrade_and_lists_the_vendor_fix(
    runs: tuple[Run, Run], releases: dict[str, Any]
) -> None:
    r1, r2 = runs
    result = compare(from_json(r1.out / "evaluation.json"), from_json(r2.out / "evaluation.json"))
    zlib_old, zlib_new = releases["zlib/bullseye"].version, releases["zlib/bookworm"].version
    groups = {c.name: c for c in result.components}
    assert sorted(groups) == ["expat", "zlib"]
    zlib, expat = groups["zlib"], groups["expat"]
    assert (zlib.root, zlib.old_version, zlib.new_version, zlib.change) == (
        "vendor/zlib", zlib_old, zlib_new, "replaced")  # fmt: skip
    # the Debian source keeps the library below expat/; its CI files and test data stay outside
    assert (expat.root, expat.old_version, expat.new_version, expat.change) == (
        "vendor/expat/expat", releases["expat/bullseye"].version, None, "removed")  # fmt: skip
    assert expat.added == () and len(expat.removed) == sum(
        1 for f in r1.findings() if (f["component"] or "").startswith("expat@"))  # fmt: skip
    assert len(zlib.removed) + len(zlib.added) > 0
    # what no group holds is owned by no copy: the vendor's macro fix in src/name.c, and the
    # expat package's files outside the library's root
    listed = (*result.listed_new, *result.listed_fixed)
    assert {r.component for r in listed} == {""}
    assert {r.path for r in listed} - {"src/name.c"} <= {
        f["path"] for f in r1.findings() if f["path"].startswith("vendor/expat/")}  # fmt: skip
    fixed = {(r.rule_id, r.evidence) for r in result.listed_fixed}
    assert ("safe-defeated/macro-drops-bound", DEFEATED.strip()) in fixed
    assert all(r.message for r in result.listed_fixed)
    text = list(render_text(result))
    assert any(line.startswith(f"  zlib {zlib_old} -> {zlib_new} (vendor/zlib): ")
               for line in text)  # fmt: skip
    assert f"           > {DEFEATED.strip()}" in text


def test_first_release_does_not_rate_assurance(runs: tuple[Run, Run]) -> None:
    rating = runs[0].json()["rating"]
    assert rating["verdict"] == "no assurance"  # an integrity category fails (below)
    assert rating["categories"]["safe-defeated"]["grade"] == "fail"
    assert rating["categories"]["vulnerabilities"]["grade"] == "fail"  # zlib 1.2.11: critical CVE


def test_current_zlib_alone_rates_assurance(upstream: Callable[[str], Any], tmp_path: Path) -> None:
    release = upstream("zlib/trixie")
    tree = tmp_path / "product"
    shutil.copytree(release.path, tree / "third_party" / "zlib")
    doc = run_evaluation(tree, tmp_path / "out", jobs=2).json()
    [copy] = doc["components"]["copies"]
    assert (copy["name"], copy["version"]) == ("zlib", release.version)
    assert doc["vulnerabilities"]["copies"][copy["key"]]["cves"] == []
    high = [f for f in doc["findings"] if f["severity"] in ("high", "critical")
            and f["category"] in doc["rating"]["categories"]
            and doc["rating"]["categories"][f["category"]]["integrity"]]  # fmt: skip
    assert high == []
    # zlib supports only its newest release: the suite's copy is current unless a newer zlib
    # release came out before the data's snapshot (then the report names it, and the copy's
    # end of life is the one reason against assurance)
    support = doc["vulnerabilities"]["copies"][copy["key"]]
    if support["support"] == "supported":
        assert doc["rating"]["verdict"] == "assurance", doc["rating"]["why"]
    else:
        assert support["support"] == "end-of-life" and support["superseded_by"]
        assert doc["rating"]["categories"]["vulnerabilities"]["reasons"] == [
            "a component past its end of life (measured 1)"]  # fmt: skip
