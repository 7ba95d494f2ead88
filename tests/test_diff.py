"""``assay diff``: findings matched by fingerprint, every headline figure, both kinds of input."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from assay import cli
from assay.report.diff import compare, from_json
from assay.storage.history import FindingRef, History, Snapshot
from support import run_evaluation, write_tree

DEFEATED = "#define strncpy(d, s, n) strcpy(d, s)\nvoid f(char *d, char *s) { strncpy(d, s, 4); }\n"
UNSAFE = "void g(char *d, const char *s) { strcpy(d, s); }\n"
MORE = "void h(char *d, const char *s) { sprintf(d, s); strcat(d, s); }\n"


def _fps(doc: dict[str, object]) -> Counter[str]:
    return Counter(f["fingerprint"] for f in doc["findings"])  # type: ignore[attr-defined]


def test_diff_of_two_evaluation_files(tmp_path: Path) -> None:
    r1 = run_evaluation(write_tree(tmp_path / "s1", {"a.c": DEFEATED, "b.c": UNSAFE}),
                        tmp_path / "o1")  # fmt: skip
    r2 = run_evaluation(write_tree(tmp_path / "s2", {"a.c": "int a;\n", "b.c": UNSAFE,
                                                     "c.c": MORE}), tmp_path / "o2")  # fmt: skip
    result = compare(from_json(r1.out / "evaluation.json"), from_json(r2.out / "evaluation.json"))
    old, new = _fps(r1.json()), _fps(r2.json())
    assert Counter(r.fingerprint for r in result.introduced) == new - old
    assert Counter(r.fingerprint for r in result.fixed) == old - new
    assert Counter(r.fingerprint for r in result.persisting) == old & new
    assert result.introduced and result.fixed and result.persisting
    figures = {c.figure: (c.old, c.new) for c in result.figures}
    assert figures["defeated_functions"] == (1, 0)
    assert figures["verdict"] == ("no assurance", "assurance")
    assert figures["grades.safe-defeated"] == ("fail", "pass")
    assert figures["unsafe_share.sprintf-like"] == (None, 1.0)


def test_history_and_files_give_the_same_diff(tmp_path: Path) -> None:
    r1 = run_evaluation(write_tree(tmp_path / "s1", {"a.c": DEFEATED}), tmp_path / "o1")
    r2 = run_evaluation(write_tree(tmp_path / "s2", {"a.c": UNSAFE}), tmp_path / "o2")
    with History(tmp_path / "h.sqlite") as history:
        history.record(r1.evaluation, product="p", release="1", output_dir=r1.out)
        history.record(r2.evaluation, product="p", release="2", output_dir=r2.out)
        stored = compare(history.load("p@1"), history.load("p@2"))
    files = compare(from_json(r1.out / "evaluation.json"), from_json(r2.out / "evaluation.json"))
    assert stored.introduced == files.introduced
    assert stored.fixed == files.fixed
    assert stored.persisting == files.persisting
    assert [(c.figure, c.old, c.new) for c in stored.figures] == [
        (c.figure, c.old, c.new) for c in files.figures
    ]


def _ref(fp: str, path: str, status: str = "") -> FindingRef:
    return FindingRef(fp, "unsafe-calls/strcpy", "unsafe-calls", "high", path, status, "r")


def test_equal_fingerprints_pair_on_the_same_path_first() -> None:
    old = Snapshot("a", {}, (_ref("x:1", "lib1/zlib/a.c"), _ref("x:1", "lib2/zlib/a.c")))
    new = Snapshot("b", {}, (_ref("x:1", "lib2/zlib/a.c"), _ref("y:1", "n.c", "accepted")))
    result = compare(old, new)
    assert [r.path for r in result.fixed] == ["lib1/zlib/a.c"]
    assert [r.path for r in result.persisting] == ["lib2/zlib/a.c"]
    assert result.introduced == ()
    assert [r.fingerprint for r in result.suppressed] == ["y:1"]


def test_cli_diff_reads_history_refs_and_directories(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "h.sqlite")
    for n, files in ((1, {"a.c": DEFEATED}), (2, {"a.c": UNSAFE})):
        src = write_tree(tmp_path / f"s{n}", files)
        args = ["-o", str(tmp_path / f"o{n}"), "-q", "-j", "1", "--no-cache", "--db", db]
        args += ["--product", "p"]
        assert cli.main(["evaluate", str(src), *args, "--release", f"{n}.0"]) == 0
    capsys.readouterr()
    assert cli.main(["diff", "p@1.0", str(tmp_path / "o2"), "--db", db, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["old"] == "p@1.0"
    assert {f["rule_id"] for f in doc["fixed"]} >= {"safe-defeated/macro-drops-bound"}
    changed = {c["figure"]: c["new"] for c in doc["figures"] if c["changed"]}
    assert changed["defeated_functions"] == 0
    assert cli.main(["history", "p", "--db", db]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[1] for line in lines[1:]] == ["1.0", "2.0"]
    assert "no assurance" in lines[1]
    html = (tmp_path / "o2" / "report.html").read_text(encoding="utf-8")
    assert 'id="trend"' in html
