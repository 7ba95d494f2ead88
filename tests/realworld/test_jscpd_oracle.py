"""jscpd 5.3.3 as an oracle for the ``clones`` analyzer on real releases.

Both tools see the same tree: the release's UTF-8 ``.c`` files (jscpd silently skips files
that are not UTF-8, and checks ``.h`` files as another format it does not compare with
``.c``). jscpd runs with assay's minimums (50 tokens, 5 lines), comments skipped
(``--mode weak``), no size cap, in exact mode; assay runs in exact mode. The figure compared
is the number of lines some clone covers, every place of every clone counted once (from
jscpd's clone list: its own ``duplicatedLines`` statistic sums the first place of each pair
and counts overlaps twice). docs/clones.md explains the remaining difference. Renamed clones
(``--ignore-identifiers --ignore-literals`` against assay's normalised mode) are compared
beside, with a looser bound, as the two tools fold different token sets.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from assay import engine
from assay.config import Options

JSCPD = "5.3.3"
TOOLS = Path.home() / ".cache" / "assay" / "tools" / f"jscpd-{JSCPD}"
pytestmark = pytest.mark.realworld


def _jscpd() -> Path:
    """The jscpd binary, installed with npm into the cache once."""
    binary = TOOLS / "node_modules" / "jscpd-linux-x64-gnu" / "bin" / "jscpd"
    if binary.exists():
        return binary
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is needed to install the jscpd oracle (apt package: npm)")
    TOOLS.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [npm, "install", "--prefix", str(TOOLS), f"jscpd@{JSCPD}", "--no-audit", "--no-fund"],
        check=True,
        capture_output=True,
    )
    assert binary.exists(), f"npm did not install the Linux binary of jscpd {JSCPD}"
    return binary


def _utf8_c_tree(release: Path, dest: Path) -> Path:
    for path in sorted(release.rglob("*.c")):
        if not path.is_file() or path.is_symlink():
            continue
        data = path.read_bytes()
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        target = dest / path.relative_to(release)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return dest


def _jscpd_lines(tree: Path, out: Path, renamed: bool) -> tuple[int, int]:
    """(lines covered by some clone place, lines jscpd read)."""
    command = [str(_jscpd()), "--format", "c", "--mode", "weak", "--min-tokens", "50",
               "--min-lines", "5", "--max-size", "1000mb", "--no-gitignore", "--silent",
               "--reporters", "json", "-o", str(out), str(tree)]  # fmt: skip
    if renamed:
        command[1:1] = ["--ignore-identifiers", "--ignore-literals"]
    subprocess.run(command, check=True, capture_output=True)
    report = json.loads((out / "jscpd-report.json").read_text(encoding="utf-8"))
    covered: dict[str, set[int]] = {}
    for clone in report["duplicates"]:
        for side in (clone["firstFile"], clone["secondFile"]):
            covered.setdefault(side["name"], set()).update(range(side["start"], side["end"] + 1))
    return sum(map(len, covered.values())), report["statistics"]["total"]["lines"]


def _assay_lines(tree: Path, out: Path, mode: str) -> tuple[int, int]:
    """(lines covered by some clone place, component copies included; lines read)."""
    options = replace(
        Options.default(tree, out),
        jobs=2,
        settings={"clones": {"mode": mode, "library_internal": True}},
    )
    section: Any = engine.evaluate(options).sections["clones"]
    covered = section["totals"]["duplicated_lines"]
    return covered + section["component_copies"]["duplicated_lines"], section["totals"]["lines"]


@pytest.mark.parametrize("spec", ["zlib/bookworm", "curl/bookworm", "lwip/bookworm"])
def test_duplicated_lines_match_jscpd(
    spec: str, upstream: Callable[[str], Any], tmp_path: Path
) -> None:
    release = upstream(spec)
    tree = _utf8_c_tree(Path(release.path), tmp_path / "tree")
    theirs, their_lines = _jscpd_lines(tree, tmp_path / "jscpd", renamed=False)
    ours, our_lines = _assay_lines(tree, tmp_path / "assay", "exact")
    print(f"{release.name} {release.version}: assay {ours}, jscpd {theirs} of {our_lines} lines")
    assert abs(our_lines - their_lines) <= 0.01 * their_lines
    assert theirs > 0
    assert abs(ours - theirs) <= 0.10 * theirs
    renamed_theirs, _ = _jscpd_lines(tree, tmp_path / "jscpd-renamed", renamed=True)
    renamed_ours, _ = _assay_lines(tree, tmp_path / "assay-renamed", "normalised")
    print(f"  renamed: assay {renamed_ours}, jscpd {renamed_theirs}")
    assert renamed_ours >= ours
    assert abs(renamed_ours - renamed_theirs) <= 0.20 * renamed_theirs
