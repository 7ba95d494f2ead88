"""Rating: thresholds per category and the verdict rule, on facts and on real evaluations."""

from __future__ import annotations

from pathlib import Path

import pytest

from assay.assess.rating import INTEGRITY, Facts, Grade, Verdict, assess, rate
from support import run_evaluation, write_tree

VULN = ("vulnerabilities", "vulnerabilities/known-cve")


def _facts(counts: dict[tuple[str, str, str], int], **sections: dict[str, object]) -> Facts:
    base: dict[str, dict[str, object]] = {"vulnerabilities": {}, "components": {}}
    base.update({k.replace("_", "-"): v for k, v in sections.items()})
    return Facts(base, counts)


@pytest.mark.parametrize(
    ("severity", "grade", "verdict"),
    [
        ("critical", Grade.FAIL, Verdict.NONE),
        ("high", Grade.FAIL, Verdict.NONE),
        ("medium", Grade.LIMITED, Verdict.LIMITED),
        ("low", Grade.LIMITED, Verdict.LIMITED),
    ],
)
def test_cve_severity_sets_the_vulnerabilities_grade(
    severity: str, grade: Grade, verdict: Verdict
) -> None:
    rating = rate(_facts({(*VULN, severity): 1}))
    graded = {c.category: c for c in rating.categories}
    assert graded["vulnerabilities"].grade is grade
    assert rating.verdict is verdict
    assert "vulnerabilities" in rating.why


def test_end_of_life_fails_even_at_medium_severity() -> None:
    rating = rate(_facts({("vulnerabilities", "vulnerabilities/end-of-life", "medium"): 1}))
    assert {c.category: c.grade for c in rating.categories}["vulnerabilities"] is Grade.FAIL
    assert rating.verdict is Verdict.NONE


def test_absent_sections_are_not_evaluated_and_do_not_count() -> None:
    rating = rate(_facts({}))
    grades = {c.category: c.grade for c in rating.categories}
    assert grades["secrets"] is Grade.NOT_EVALUATED
    assert grades["equivalence"] is Grade.NOT_EVALUATED
    assert grades["vulnerabilities"] is Grade.PASS
    assert rating.verdict is Verdict.ASSURANCE
    assert [c.category for c in rating.categories][: len(INTEGRITY)] == sorted(INTEGRITY)


def test_a_new_category_is_rated_generically_from_its_findings() -> None:
    rating = rate(_facts({("secrets", "secrets/private-key", "critical"): 1,
                          ("endpoints", "endpoints/ip", "medium"): 2}))  # fmt: skip
    grades = {c.category: c.grade for c in rating.categories}
    assert grades["secrets"] is Grade.FAIL
    assert grades["endpoints"] is Grade.LIMITED
    assert rating.verdict is Verdict.NONE


def test_non_integrity_categories_do_not_change_the_verdict() -> None:
    families = {"strcpy-like": {"calls_unbounded": 90, "calls_bounded": 10}}
    rating = rate(_facts({}, unsafe_calls={"families": families}))
    grades = {c.category: c for c in rating.categories}
    assert grades["unsafe-calls"].grade is Grade.FAIL
    assert "90.0%" in grades["unsafe-calls"].reasons[0]
    assert rating.verdict is Verdict.ASSURANCE


def test_a_library_in_two_versions_limits_components() -> None:
    libraries = {"zlib": {"distinct_versions": 2, "unversioned": 0}}
    rating = rate(_facts({}, components={"libraries": libraries}))
    assert rating.verdict is Verdict.LIMITED
    assert rating.why.endswith("(components)")


def test_defeated_macro_fails_a_real_evaluation(tmp_path: Path) -> None:
    code = "#define strncpy(d, s, n) strcpy(d, s)\nvoid f(char *d, char *s) { strncpy(d, s, 4); }\n"
    tree = write_tree(tmp_path / "t", {"a.c": code})
    rating = run_evaluation(tree, tmp_path / "out").json()["rating"]
    assert rating["categories"]["safe-defeated"]["grade"] == "fail"
    assert rating["verdict"] == "no assurance"
    clean = write_tree(tmp_path / "c", {"a.c": "int f(int a) { return a + 1; }\n"})
    assert run_evaluation(clean, tmp_path / "out2").json()["rating"]["verdict"] == "assurance"


def test_suppressed_findings_leave_the_rating(tmp_path: Path) -> None:
    from dataclasses import replace

    from assay.storage.findings import FindingStore, store_path

    tree = write_tree(tmp_path / "t", {"a.c": "#define strncpy(d, s, n) strcpy(d, s)\n"})
    run = run_evaluation(tree, tmp_path / "out")
    marks = {f["fingerprint"]: {"status": "accepted", "reason": "r"} for f in run.findings()}
    store = FindingStore(store_path(run.out))
    try:
        before = assess(run.evaluation, store.findings())
        after = assess(replace(run.evaluation, suppressions=marks), store.findings())
    finally:
        store.close()
    assert before.verdict is Verdict.NONE
    assert after.verdict is Verdict.ASSURANCE
    assert after.max_severity is None


def test_a_cve_in_a_shipped_binary_fails_vulnerabilities() -> None:
    rating = rate(_facts({("binaries", "binaries/known-cve", "critical"): 1}, binaries={}))
    grades = {c.category: c.grade for c in rating.categories}
    assert grades["vulnerabilities"] is Grade.FAIL
    assert rating.verdict is Verdict.NONE


def test_secrets_in_test_context_are_info_and_do_not_limit() -> None:
    rating = rate(_facts({("secrets", "secrets/credential-literal", "info"): 3}, secrets={}))
    assert {c.category: c.grade for c in rating.categories}["secrets"] is Grade.PASS
    assert rating.verdict is Verdict.ASSURANCE


def test_docs_list_every_threshold_row() -> None:
    from assay.assess.rating import describe

    docs = (Path(__file__).parents[1] / "docs" / "report.md").read_text(encoding="utf-8")
    for row in describe():
        assert f"| {row['category']} | {row['grade']} | {row['condition']} |" in docs


def test_store_counts_equal_a_pass_over_the_findings(tmp_path: Path) -> None:
    """``assess_store`` counts in SQLite unless findings are suppressed; both ways agree with
    ``assess`` over the findings, on the built-in example (many categories and rules)."""
    from dataclasses import replace

    from assay import examples
    from assay.assess.rating import assess_store, count_findings
    from assay.storage.findings import FindingStore, store_path

    tree = examples.materialise(tmp_path / "example")
    run = run_evaluation(tree, tmp_path / "out")
    store = FindingStore(store_path(run.out))
    try:
        tally = store.tally()
        assert tally == count_findings(store.findings(), {})
        assert len({category for category, _, _ in tally}) >= 5
        assert assess_store(run.evaluation, store) == assess(run.evaluation, store.findings())
        first = next(store.findings())
        marked = replace(run.evaluation, suppressions={first.fingerprint: {"status": "accepted"}})
        assert assess_store(marked, store) == assess(marked, store.findings())
    finally:
        store.close()
