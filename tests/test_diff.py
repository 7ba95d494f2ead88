"""``assay diff``: findings matched by fingerprint, every headline figure, both kinds of input."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from assay import cli
from assay.cli.history import history_lines
from assay.report.diff import compare, from_json, render_text
from assay.storage.history import FindingRef, History, ReleaseRow, Snapshot, headline
from support import Run, run_evaluation, write_tree

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


# A component upgrade grouped, the vendor's own changes listed with message and evidence.

ZLIB_H = '#ifndef ZLIB_H\n#define ZLIB_H\n#define ZLIB_VERSION "{version}"\n#endif\n'
INFLATE_OLD = """#include <string.h>
void inflate_copy(char *w, const char *s, unsigned n)
{
    memcpy(w, s, n);
    strcpy(w, s);
}
"""
INFLATE_NEW = """#include <string.h>
void inflate_copy(char *win, const char *s, unsigned n)
{
    memcpy(win, s, n);
    strcat(win, s);
    memmove(win, s, n);
}
"""
NAME_OLD = """#include <string.h>
#define strncpy(d, s, n) strcpy(d, s)
void name(char *d, const char *s)
{
    strncpy(d, s, 8);
    strcpy(d, s);
}
"""
NAME_NEW = """#include <stdio.h>
#include <string.h>
void name(char *d, const char *s)
{
    strcpy(d, s);
    sprintf(d, "%s\x1b[31m", s);
}
"""
"""Release 2 fixes the macro that defeats strncpy (and the strcpy it expands to) and adds a
sprintf whose format string carries an escape character (the terminal must not get it raw)."""
SPRINTF = 'sprintf(d, "%s\x1b[31m", s);'


def _releases(tmp_path: Path) -> tuple[Path, Path]:
    old = write_tree(tmp_path / "s1", {"vendor/zlib/zlib.h": ZLIB_H.format(version="1.2.11"),
                                       "vendor/zlib/inflate.c": INFLATE_OLD,
                                       "src/name.c": NAME_OLD})  # fmt: skip
    new = write_tree(tmp_path / "s2", {"vendor/zlib/zlib.h": ZLIB_H.format(version="1.2.13"),
                                       "vendor/zlib/inflate.c": INFLATE_NEW,
                                       "src/name.c": NAME_NEW})  # fmt: skip
    return old, new


def _zlib_changes(r1: Run, r2: Run) -> tuple[int, int]:
    """(removed, added) findings of the zlib copy, counted from the two evaluation.json."""

    def of_zlib(run: Run) -> Counter[str]:
        return Counter(f["fingerprint"] for f in run.findings()
                       if (f["component"] or "").startswith("zlib@"))  # fmt: skip

    old, new = of_zlib(r1), of_zlib(r2)
    return sum((old - new).values()), sum((new - old).values())


def test_component_upgrade_is_grouped_and_vendor_changes_are_listed(tmp_path: Path) -> None:
    src1, src2 = _releases(tmp_path)
    r1, r2 = run_evaluation(src1, tmp_path / "o1"), run_evaluation(src2, tmp_path / "o2")
    result = compare(from_json(r1.out / "evaluation.json"), from_json(r2.out / "evaluation.json"))

    [group] = result.components
    assert (group.name, group.root, group.old_version, group.new_version, group.change) == (
        "zlib", "vendor/zlib", "1.2.11", "1.2.13", "replaced")  # fmt: skip
    assert (len(group.removed), len(group.added)) == _zlib_changes(r1, r2) == (6, 5)
    assert {r.rule_id for r in group.added} >= {"unsafe-calls/strcat", "unsafe-calls/memmove"}
    # each release is end of life (zlib supports only its newest release): one finding each
    eol = "vulnerabilities/end-of-life"
    assert (
        [r.rule_id for r in group.removed].count(eol)
        == [r.rule_id for r in group.added].count(eol)
        == 1
    )
    assert all(r.component.startswith("zlib@") for r in (*group.removed, *group.added))

    [added] = result.listed_new
    assert (added.rule_id, added.path, added.line) == ("unsafe-calls/sprintf", "src/name.c", 6)
    assert added.message.startswith("sprintf is an unbounded sprintf-like function")
    assert added.evidence == SPRINTF
    fixed = {(r.rule_id, r.path, r.line, r.evidence) for r in result.listed_fixed}
    macro = "#define strncpy(d, s, n) strcpy(d, s)"
    assert fixed == {("safe-defeated/macro-drops-bound", "src/name.c", 2, macro),
                     ("unsafe-calls/strcpy", "src/name.c", 2, macro)}  # fmt: skip
    assert all(r.message for r in result.listed_fixed)
    # every new and fixed finding is either grouped or listed, never both
    assert len(result.introduced) == len(group.added) + len(result.listed_new)
    assert len(result.fixed) == len(group.removed) + len(result.listed_fixed)

    text = list(render_text(result))
    assert (
        "  zlib 1.2.11 -> 1.2.13 (vendor/zlib): 6 removed, 5 added (11 findings replaced)" in text
    )
    new_at = text.index("new findings:")
    assert text[new_at + 1].startswith("  high     unsafe-calls/sprintf  src/name.c:6  ")
    assert text[new_at + 2].strip() == added.message
    assert text[new_at + 3] == f"           > {SPRINTF}"
    fixed_at = text.index("fixed findings:")
    assert f"           > {macro}" in text[fixed_at:]
    assert not any("inflate.c" in line for line in text)  # the upgrade's findings are grouped

    doc = result.to_json()
    assert doc["component_changes"] == [
        {"name": "zlib", "root": "vendor/zlib", "old_version": "1.2.11", "new_version": "1.2.13",
         "change": "replaced", "removed": 6, "added": 5, "group": "zlib:vendor/zlib"}
    ]  # fmt: skip
    [listed] = doc["listed"]["new_findings"]
    assert (listed["rule_id"], listed["line"], listed["message"], listed["evidence"]) == (
        "unsafe-calls/sprintf", 6, added.message, SPRINTF)  # fmt: skip
    assert listed["group"] is None and listed["component"] is None
    assert {f["evidence"] for f in doc["listed"]["fixed"]} == {macro}
    grouped = [f for f in doc["new_findings"] + doc["fixed"] if f["group"]]
    assert len(grouped) == 11
    assert {f["group"] for f in grouped} == {"zlib:vendor/zlib"}


def test_cli_diff_and_history_changes_through_history_refs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "h.sqlite")
    for n, src in enumerate(_releases(tmp_path), start=1):
        args = ["-o", str(tmp_path / f"o{n}"), "-q", "-j", "1", "--no-cache", "--db", db]
        assert cli.main(["evaluate", str(src), *args, "--product", "gw", "--release", f"{n}"]) == 0
    capsys.readouterr()
    assert cli.main(["diff", "gw@1", "gw@2", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out
    lines = out.splitlines()
    assert (
        "  zlib 1.2.11 -> 1.2.13 (vendor/zlib): 6 removed, 5 added (11 findings replaced)" in lines
    )
    escaped = 'sprintf(d, "%s\\x1b[31m", s);'
    assert f"           > {escaped}" in lines
    assert "           > #define strncpy(d, s, n) strcpy(d, s)" in lines
    assert any(line.startswith("  high     safe-defeated/macro-drops-bound  src/name.c:2")
               for line in lines)  # fmt: skip

    assert cli.main(["diff", "gw@1", str(tmp_path / "o2"), "--db", db, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [(c["name"], c["old_version"], c["new_version"], c["removed"], c["added"])
            for c in doc["component_changes"]] == [("zlib", "1.2.11", "1.2.13", 6, 5)]  # fmt: skip
    assert [(f["rule_id"], f["evidence"]) for f in doc["listed"]["new_findings"]] == [
        ("unsafe-calls/sprintf", SPRINTF)
    ]

    assert cli.main(["history", "gw", "--db", db, "--changes"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out
    assert "changes gw@1 -> gw@2:" in out
    assert "    zlib 1.2.11 -> 1.2.13 (vendor/zlib): 6 removed, 5 added" in out
    assert f"             > {escaped}" in out.splitlines()
    assert cli.main(["history", "gw", "--db", db, "--changes", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert "changes" not in rows[0]
    changes = rows[1]["changes"]
    assert (changes["old"], changes["new"]) == ("gw@1", "gw@2")
    assert changes["component_changes"] == doc["component_changes"]
    assert changes["listed"] == doc["listed"]


def _shipped_headline(*rows: tuple[str, str | None, int]) -> dict[str, object]:
    """The headline of an evaluation whose binaries section names ``rows`` (name, version,
    files naming it)."""
    components = [{"name": n, "version": v, "count": c, "paths": [], "evidence": ""}
                  for n, v, c in rows]  # fmt: skip
    return headline({"binaries": {"components": components}}, {}, {}, 0)


def test_diff_shows_a_shipped_library_upgraded_added_and_removed() -> None:
    """Products named in binaries (no source copy, no component group) are headline figures:
    the diff of two firmware releases says which library changed version, came or went."""
    old = _shipped_headline(
        ("zlib", "1.2.13", 1),
        ("dnsmasq", "2.90", 1),
        ("openssl", "3.0.16", 1),
        ("openssl", "3.0.20", 1),
        ("lwip", None, 2),
    )
    new = _shipped_headline(("zlib", "1.3.1", 1), ("hostapd", "2.10", 1),
                            ("openssl", "3.0.20", 1), ("lwip", None, 2))  # fmt: skip
    assert old["shipped"]["openssl"] == {"files": 2, "versions": ["3.0.16", "3.0.20"]}
    assert old["shipped"]["lwip"] == {"files": 2, "versions": []}
    result = compare(Snapshot("a", old, ()), Snapshot("b", new, ()))
    changed = {c.figure: (c.old, c.new) for c in result.figures if c.changed}
    assert changed == {
        "shipped.zlib.versions": (["1.2.13"], ["1.3.1"]),
        "shipped.dnsmasq.files": (1, None), "shipped.dnsmasq.versions": (["2.90"], None),
        "shipped.hostapd.files": (None, 1), "shipped.hostapd.versions": (None, ["2.10"]),
        "shipped.openssl.files": (2, 1),
        "shipped.openssl.versions": (["3.0.16", "3.0.20"], ["3.0.20"]),
    }  # fmt: skip
    text = list(render_text(result))
    assert ' * shipped.zlib.versions: ["1.2.13"] -> ["1.3.1"]' in text
    assert ' * shipped.dnsmasq.versions: ["2.90"] -> -' in text


def test_a_figure_group_recorded_before_it_existed_is_not_compared() -> None:
    """A headline recorded before ``shipped`` existed has no such group: its products are not
    listed as all added."""
    new = _shipped_headline(("zlib", "1.3.1", 1))
    old = {k: v for k, v in new.items() if k != "shipped"}
    result = compare(Snapshot("a", old, ()), Snapshot("b", new, ()))
    assert not [c for c in result.figures if c.figure.startswith("shipped.")]
    assert not [c for c in result.figures if c.changed]


def test_history_lines_list_source_copies_and_the_products_in_binaries() -> None:
    # a firmware image has no source copies: its binaries' products are what changes
    shipped = {f"lib{n:02}": {"files": 1, "versions": [f"1.{n}"]} for n in range(10)}
    shipped["lib00"]["versions"] = []
    rows = [
        ReleaseRow(1, "gw", "1.0", "2026-12-01T00:00:00+00:00", "0.1.0", "a" * 64,
                   "no assurance", {"copies": {"zlib": {"copies": 2, "versions": ["1.2.11"]}},
                                    "shipped": shipped, "findings": {"x": 3}}),
        ReleaseRow(2, "gw", "2.0", "2026-12-02T00:00:00+00:00", "0.1.0", "b" * 64,
                   "limited assurance", {"findings": {}}),  # recorded before 'shipped' existed
    ]  # fmt: skip
    header, first, second = history_lines(rows)
    assert header.endswith("copies in source; products in binaries")
    assert first.endswith(
        "zlib 2x 1.2.11; lib00 ?, lib01 1.1, lib02 1.2, lib03 1.3, lib04 1.4, lib05 1.5, "
        "lib06 1.6, lib07 1.7 (+2 more)"
    )
    assert second.endswith("  -; -")
