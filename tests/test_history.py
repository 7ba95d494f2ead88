"""The history database: record evaluations, list a product's releases, load one back."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from assay.errors import StorageError
from assay.storage.history import (
    EVIDENCE_CHARS,
    MESSAGE_CHARS,
    FindingRef,
    History,
    default_path,
    one_line,
)
from support import run_evaluation, write_tree

SAFE = "#include <string.h>\nvoid f(char *d, const char *s) { strncpy(d, s, 4); }\n"
DEFEATED = "#define strncpy(d, s, n) strcpy(d, s)\n" + SAFE
UNSAFE = "void g(char *d, const char *s) { strcpy(d, s); strcat(d, s); }\n"


def _release(tmp_path: Path, name: str, files: dict[str, str | bytes]) -> tuple[Path, Path]:
    src = write_tree(tmp_path / name / "src", files)
    return src, tmp_path / name / "out"


def test_record_lists_and_loads_every_finding(tmp_path: Path) -> None:
    src1, out1 = _release(tmp_path, "r1", {"a.c": DEFEATED, "b.c": UNSAFE})
    src2, out2 = _release(tmp_path, "r2", {"a.c": SAFE, "b.c": UNSAFE})
    run1, run2 = run_evaluation(src1, out1), run_evaluation(src2, out2)
    with History(tmp_path / "h.sqlite") as history:
        id1 = history.record(run1.evaluation, product="router", release="1.0", output_dir=out1)
        id2 = history.record(run2.evaluation, product="router", release="1.1", output_dir=out2)
        history.record(run2.evaluation, product="other", release="9", output_dir=out2)
        rows = history.releases("router")
        assert [(r.id, r.release) for r in rows] == [(id1, "1.0"), (id2, "1.1")]
        assert rows[0].headline["defeated_functions"] == 1
        assert rows[1].headline["defeated_functions"] == 0
        assert rows[0].verdict == "no assurance"
        defeated = [f for f in run1.findings() if f["category"] == "safe-defeated"]
        assert rows[0].headline["findings"]["safe-defeated"] == len(defeated) == 1
        assert "strcpy-like" in rows[1].headline["unsafe_share"]
        snap = history.load("router@1.0")
        assert snap.label == "router@1.0"
        assert sorted(f.fingerprint for f in snap.findings) == sorted(
            f["fingerprint"] for f in run1.findings()
        )
        assert {(f.rule_id, f.path) for f in snap.findings} == {
            (f["rule_id"], f["path"]) for f in run1.findings()
        }
        assert history.load(id2).findings == history.load(f"#{id2}").findings
        assert history.previous("router", id2) == rows[0]
        assert history.products() == ["other", "router"]


def test_suppressed_findings_keep_their_status_and_leave_the_counts(tmp_path: Path) -> None:
    src, out = _release(tmp_path, "r", {"a.c": DEFEATED})
    run = run_evaluation(src, out)
    defeated = [f["fingerprint"] for f in run.findings("safe-defeated")]
    marks = {fp: {"status": "accepted", "reason": "test macro"} for fp in defeated}
    # suppressed by hand: the rating the run recorded no longer holds, so it is dropped
    evaluation = replace(run.evaluation, suppressions=marks, rating={})
    with History(tmp_path / "h.sqlite") as history:
        ident = history.record(evaluation, product="p", release="1", output_dir=out)
        [row] = history.releases("p")
        stored = {f.fingerprint: (f.status, f.reason) for f in history.load(ident).findings}
    assert {stored[fp] for fp in defeated} == {("accepted", "test macro")}
    assert "safe-defeated" not in row.headline["findings"]
    assert row.headline["suppressed"] == len(defeated)
    assert row.headline["grades"]["safe-defeated"] == "pass"


def test_unknown_reference_and_newer_schema_are_storage_errors(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    with History(path) as history:
        with pytest.raises(StorageError, match="no evaluation"):
            history.load("router@2.0")
        with pytest.raises(StorageError, match="PRODUCT@RELEASE"):
            history.load("router")
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version=99")
    db.commit()
    db.close()
    with pytest.raises(StorageError, match="newer"):
        History(path)


def test_default_path_is_in_the_user_data_directory() -> None:
    assert default_path().parts[-2:] == ("assay", "history.sqlite")


def test_an_unusable_default_database_is_a_warning_not_a_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from assay import cli

    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    monkeypatch.setenv("XDG_DATA_HOME", str(blocker))
    src = write_tree(tmp_path / "src", {"a.c": UNSAFE})
    quiet = ["-q", "-j", "1", "--no-cache"]  # the shared result cache is not under test
    assert cli.main(["evaluate", str(src), "-o", str(tmp_path / "out"), *quiet]) == 0
    assert "not recorded in the history" in caplog.text
    assert (tmp_path / "out" / "report.html").is_file()
    code = cli.main(["evaluate", str(src), "-o", str(tmp_path / "o2"), *quiet,
                     "--db", str(blocker / "h.sqlite")])  # fmt: skip
    assert code == 2


def test_the_recorder_fixes_the_default_database_when_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reporters' child runs the recorder; a child started earlier may have another
    environment, so the default database is resolved in the process that makes it."""
    from assay.pipeline import Recorder, Recording

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    recorder = Recorder.of(Recording(), tmp_path / "out")
    assert recorder.db == (tmp_path / "data" / "assay" / "history.sqlite").resolve()
    assert not recorder.explicit
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "elsewhere"))
    assert recorder.db.is_relative_to(tmp_path / "data")


SCHEMA_1 = """
CREATE TABLE evaluations (
    id INTEGER PRIMARY KEY, product TEXT NOT NULL, release TEXT NOT NULL,
    recorded_at TEXT NOT NULL, tool_version TEXT NOT NULL, input_name TEXT NOT NULL,
    input_sha256 TEXT NOT NULL, verdict TEXT NOT NULL, headline TEXT NOT NULL
);
CREATE INDEX e_product ON evaluations(product, id);
CREATE TABLE findings (
    evaluation_id INTEGER NOT NULL REFERENCES evaluations(id), fingerprint TEXT NOT NULL,
    rule_id TEXT NOT NULL, category TEXT NOT NULL, severity TEXT NOT NULL, path TEXT NOT NULL,
    status TEXT NOT NULL, reason TEXT NOT NULL
);
CREATE INDEX f_eval ON findings(evaluation_id, fingerprint);
INSERT INTO evaluations VALUES (1, 'router', '0.9', '2026-01-01T00:00:00+00:00', '0.1', 'r',
    'ab', 'assurance', '{}');
INSERT INTO findings VALUES (1, 'f:1', 'unsafe-calls/strcpy', 'unsafe-calls', 'high', 'a.c',
    '', '');
PRAGMA user_version=1;
"""
"""A history database as schema 1 wrote it (no line, component, message or evidence)."""


def test_a_schema_1_database_is_migrated_and_keeps_its_evaluations(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    db = sqlite3.connect(path)
    db.executescript(SCHEMA_1)
    db.close()
    src, out = _release(tmp_path, "r", {"b.c": UNSAFE})
    run = run_evaluation(src, out)
    with History(path) as history:
        old = history.load("router@0.9")
        assert old.findings == (
            FindingRef("f:1", "unsafe-calls/strcpy", "unsafe-calls", "high", "a.c"),
        )
        history.record(run.evaluation, product="router", release="1.0", output_dir=out)
        new = history.load("router@1.0")
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == 2
    [strcpy] = [f for f in new.findings if f.rule_id == "unsafe-calls/strcpy"]
    assert (strcpy.line, strcpy.component, strcpy.evidence) == (1, "", UNSAFE.strip())
    assert strcpy.message.startswith("strcpy is an unbounded")
    with History(path) as history:  # opened again: already schema 2
        assert history.load("router@0.9") == old


def test_message_and_evidence_are_kept_as_one_short_line() -> None:
    assert one_line("\n  \n  first line  \nsecond", 120) == "first line"
    assert one_line("", 120) == ""
    cut = one_line("x" * 500, 120)
    assert len(cut) == 120 and cut.endswith("\u2026")
    assert one_line("y" * 120, 120) == "y" * 120


def test_recorded_findings_carry_line_component_message_and_evidence(tmp_path: Path) -> None:
    zlib_h = '#define ZLIB_VERSION "1.2.13"\n'
    long_call = "strcpy(d, s" + " " * 10 + ", " + "x" * 300 + ");"
    src, out = _release(
        tmp_path,
        "r",
        {
            "zlib/zlib.h": zlib_h,
            "zlib/a.c": UNSAFE,
            "b.c": f"void h(char *d, char *s) {{\n{long_call}\n}}\n",
        },
    )
    run = run_evaluation(src, out)
    with History(tmp_path / "h.sqlite") as history:
        history.record(run.evaluation, product="p", release="1", output_dir=out)
        stored = history.load("p@1").findings
    by_place = {(f.path, f.rule_id): f for f in stored}
    copy = by_place[("zlib/a.c", "unsafe-calls/strcpy")]
    assert (copy.component, copy.line) == ("zlib@1.2.13:zlib", 1)
    long = by_place[("b.c", "unsafe-calls/strcpy")]
    assert (long.line, long.component) == (2, "")
    assert len(long.evidence) == EVIDENCE_CHARS and long.evidence.endswith("\u2026")
    assert long.evidence.startswith("strcpy(d, s")
    assert all(len(f.message) <= MESSAGE_CHARS for f in stored)
