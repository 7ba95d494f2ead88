"""The engine end to end on small trees: attribution, determinism, fingerprints, skips."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

from support import Run, write_tree

STRCPY_TWICE = "void f(char *a, const char *b)\n{\n    strcpy(a, b);\n    strcpy(a, b);\n}\n"


def test_identical_files_are_analysed_once_and_counted_per_path(
    tmp_path: Path, evaluate: Callable[..., Run]
) -> None:
    tree = write_tree(tmp_path / "t", {"a/x.c": STRCPY_TWICE, "b/x.c": STRCPY_TWICE})
    run = evaluate(tree)
    analyzed = run.evaluation.inventory["analyzed"]
    assert analyzed == {"paths": 2, "unique_contents": 1, "lines": 10, "unique_lines": 5}
    found = run.findings("unsafe-calls")
    assert [(f["path"], f["start_line"]) for f in found] == [
        ("a/x.c", 3), ("a/x.c", 4), ("b/x.c", 3), ("b/x.c", 4),
    ]  # fmt: skip


def test_equal_fingerprints_in_one_file_get_ordinals(
    tmp_path: Path, evaluate: Callable[..., Run]
) -> None:
    tree = write_tree(tmp_path / "t", {"a/x.c": STRCPY_TWICE, "b/x.c": STRCPY_TWICE})
    prints = [f["fingerprint"] for f in evaluate(tree).findings("unsafe-calls")]
    bases = [p.split(":")[0] for p in prints]
    assert [p.split(":")[1] for p in prints] == ["1", "2", "1", "2"]
    assert bases[0] == bases[1] and bases[2] == bases[3]
    assert bases[0] != bases[2], "the path is part of the fingerprint"
    assert len(set(prints)) == 4


def test_fingerprints_survive_a_line_shift(tmp_path: Path, evaluate: Callable[..., Run]) -> None:
    before = evaluate(write_tree(tmp_path / "v1", {"x.c": STRCPY_TWICE}))
    after = evaluate(write_tree(tmp_path / "v2", {"x.c": "/* new header */\n\n" + STRCPY_TWICE}))
    assert [f["fingerprint"] for f in before.findings()] == [
        f["fingerprint"] for f in after.findings()
    ]
    assert [f["start_line"] for f in after.findings("unsafe-calls")] == [5, 6]


def test_output_is_deterministic_across_runs_and_job_counts(
    example_tree: Path, evaluate: Callable[..., Run]
) -> None:
    one = evaluate(example_tree, jobs=1)
    two = evaluate(example_tree, jobs=2)
    for name in ("evaluation.json", "results.sarif", "report.html"):
        assert (one.out / name).read_bytes() == (two.out / name).read_bytes(), name


def test_directories_are_grouped_below_a_lone_release_folder(
    tmp_path: Path, evaluate: Callable[..., Run]
) -> None:
    tree = write_tree(
        tmp_path / "t",
        {"rel-1.0/src/a.c": STRCPY_TWICE, "rel-1.0/lib/b.c": STRCPY_TWICE, "rel-1.0/c.c": ""},
    )
    section = evaluate(tree).json()["unsafe-calls"]
    assert set(section["directories"]) == {".", "src", "lib"}


def test_files_out_of_scope_are_counted_by_kind(
    tmp_path: Path, evaluate: Callable[..., Run]
) -> None:
    tree = write_tree(
        tmp_path / "t",
        {"x.c": STRCPY_TWICE, "README": "hello\n", "blob.bin": b"\0\1\2", "y.py": "print(1)\n"},
    )
    inventory = evaluate(tree).evaluation.inventory
    # Text files are in scope of the secrets analyzer (keys hide in .txt test vectors too);
    # a binary blob of no known format is wanted by nobody.
    assert inventory["out_of_scope_by_kind"] == {"other": 1}
    assert inventory["by_kind"] == {"c": 1, "other": 1, "text": 2}


def test_hostile_files_become_skipped_records_and_the_run_goes_on(
    tmp_path: Path, evaluate: Callable[..., Run]
) -> None:
    tree = write_tree(
        tmp_path / "t",
        {
            "garbage.c": bytes(range(256)) * 64,
            "minified.c": "int a;" * 20000,
            "deep.c": "void f(void)\n" + "{\n" * 50_000 + "}\n" * 50_000,
            "latin1.c": b'/* caf\xe9 */\nvoid g(char *a) { strcpy(a, "x"); }\n',
            "ok.c": STRCPY_TWICE,
        },
    )
    run = evaluate(tree)
    reasons = {(s.path, s.stage, s.reason) for s in run.evaluation.skipped}
    assert ("garbage.c", "parse", "binary") in reasons
    assert ("minified.c", "parse", "minified") in reasons
    assert Counter(f["path"] for f in run.findings("unsafe-calls")) == {"ok.c": 2, "latin1.c": 1}
    assert run.evaluation.inventory["labels"]["non-utf8"] == 1
    assert "deep.c" not in {s.path for s in run.evaluation.skipped}
    deep = [f for f in run.json()["complexity"]["functions"] if f["path"] == "deep.c"]
    assert [(f["name"], f["line"]) for f in deep] == [("f", 1)]
