"""Rating: Pass / Limited / Fail per category and the overall assurance verdict.

The thresholds are data (``THRESHOLDS``): each row names a category, the grade it gives, a metric
and the value the metric must exceed. A category is graded by the worst row that applies; a
category whose section is absent and that has no findings is "not evaluated" and does not count.
The verdict (``VERDICT_RULE``) reads only the integrity categories. Suppressed findings (baseline)
are left out of every count. docs/report.md documents both tables; ``describe()`` prints them
into the report.

Longer than 300 lines: the threshold table and the verdict rule are data read top to bottom beside
the few functions that apply them, as docs/report.md documents them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from assay.model import Evaluation, Finding, Severity, Skipped


class Grade(StrEnum):
    """A category's grade, ordered from best to worst by ``RANK``."""

    PASS = "pass"
    LIMITED = "limited"
    FAIL = "fail"
    NOT_EVALUATED = "not-evaluated"


class Verdict(StrEnum):
    """The evaluation centre's overall answer."""

    ASSURANCE = "assurance"
    LIMITED = "limited assurance"
    NONE = "no assurance"


RANK = {Grade.NOT_EVALUATED: -1, Grade.PASS: 0, Grade.LIMITED: 1, Grade.FAIL: 2}
INTEGRITY = ("components", "vulnerabilities", "safe-defeated", "secrets", "equivalence")
"""Categories that bear on integrity: the only ones the verdict reads."""
GENERIC = "*"
"""Threshold rows for any category without rows of its own."""


NOT_UNPACKED = frozenset(
    {
        "unsupported-container", "missing-tool", "image-unsupported", "image-errors",
        "image-rejected", "image-timeout", "sandbox-unavailable", "corrupt-archive",
        "trailing-data", "bomb-total-size", "bomb-ratio", "bomb-file-count", "nesting-depth",
    }
)  # fmt: skip
"""Ingest reasons that mean part of a container (archive, image, firmware) was not unpacked,
so part of the release was not evaluated (docs/ingest.md)."""


def not_unpacked(skipped: Iterable[Skipped]) -> list[Skipped]:
    """The skipped records of containers not fully unpacked."""
    return [s for s in skipped if s.stage == "ingest" and s.reason in NOT_UNPACKED]


@dataclass(frozen=True, slots=True)
class Facts:
    """What the rating reads: section summaries and unsuppressed finding counts."""

    sections: Mapping[str, Mapping[str, Any]]
    """Section summaries keyed by category."""
    counts: Mapping[tuple[str, str, str], int]
    """Unsuppressed findings per (category, rule id, severity label)."""
    not_unpacked: int = 0
    """Containers of the input not fully unpacked (``NOT_UNPACKED`` skipped records)."""

    def count(
        self, category: str, rule: str | None = None, at_least: Severity = Severity.INFO
    ) -> int:
        """Unsuppressed findings of ``category`` (and ``rule``) at or above ``at_least``."""
        return sum(
            n for (cat, rid, sev), n in self.counts.items()
            if cat == category and (rule is None or rid == rule)
            and Severity.parse(sev) >= at_least
        )  # fmt: skip


Metric = Callable[[Facts, str], float]


def _at_least(severity: Severity) -> Metric:
    return lambda facts, cat: facts.count(cat, at_least=severity)


def _rule(rule: str, category: str | None = None, at_least: Severity = Severity.INFO) -> Metric:
    """Findings of one rule, in the graded category or in ``category`` (binaries feed
    vulnerabilities: a component found inside a shipped binary)."""
    return lambda facts, cat: facts.count(category or cat, rule=rule, at_least=at_least)


def _worst_family_share(facts: Facts, cat: str) -> float:
    """Highest unbounded share among families with at least 10 calls."""
    families = facts.sections.get(cat, {}).get("families", {})
    shares = [
        f["calls_unbounded"] / (f["calls_unbounded"] + f["calls_bounded"])
        for f in families.values()
        if f.get("calls_unbounded", 0) + f.get("calls_bounded", 0) >= 10
    ]
    return max(shares, default=0.0)


def _complex_share(facts: Facts, cat: str) -> float:
    """Share of functions above the cyclomatic-complexity threshold."""
    totals = facts.sections.get(cat, {}).get("totals", {})
    functions = totals.get("functions", 0)
    return totals.get("over_threshold", {}).get("ccn", 0) / functions if functions else 0.0


def _multi_version(facts: Facts, cat: str) -> float:
    libraries = facts.sections.get(cat, {}).get("libraries", {})
    return sum(1 for row in libraries.values() if row.get("distinct_versions", 0) > 1)


def _unversioned(facts: Facts, cat: str) -> float:
    libraries = facts.sections.get(cat, {}).get("libraries", {})
    return float(sum(int(row.get("unversioned", 0)) for row in libraries.values()))


@dataclass(frozen=True, slots=True)
class Threshold:
    """One row of the rating table: ``grade`` applies when ``metric > above``."""

    category: str
    """Category id, or ``GENERIC``."""
    grade: Grade
    """``LIMITED`` or ``FAIL``."""
    metric: Metric
    """Reads the facts of the category."""
    above: float
    """The grade applies when the metric exceeds this value."""
    text: str
    """The documented condition, shown in the report."""


OS_END_OF_LIFE = "the operating system (kernel, C library or distribution) is past its end of life"
TOOLCHAIN_END_OF_LIFE = "the binaries were built with a compiler past its end of life"
SINGLED_OUT = (OS_END_OF_LIFE, TOOLCHAIN_END_OF_LIFE)
"""Conditions the verdict names on their own, as the evaluators did: an end-of-life operating
system (or toolchain) outweighs every single component finding."""

THRESHOLDS: tuple[Threshold, ...] = (
    Threshold("components", Grade.LIMITED, _multi_version, 0,
              "a library ships in more than one version"),
    Threshold("components", Grade.LIMITED, _unversioned, 0, "a copy's version is unknown"),
    Threshold("vulnerabilities", Grade.FAIL, _rule("binaries/os-end-of-life", "binaries"), 0,
              OS_END_OF_LIFE),
    Threshold("vulnerabilities", Grade.LIMITED,
              _rule("binaries/toolchain-end-of-life", "binaries"), 0, TOOLCHAIN_END_OF_LIFE),
    Threshold("vulnerabilities", Grade.FAIL, _at_least(Severity.HIGH), 0,
              "a high or critical CVE (or one exploited in the wild) in a component"),
    Threshold("vulnerabilities", Grade.FAIL, _rule("vulnerabilities/end-of-life"), 0,
              "a component past its end of life"),
    Threshold("vulnerabilities", Grade.FAIL,
              _rule("binaries/known-cve", "binaries", Severity.HIGH), 0,
              "a high or critical CVE in a component found inside a shipped binary"),
    Threshold("vulnerabilities", Grade.FAIL, _rule("binaries/end-of-life", "binaries"), 0,
              "a component found inside a shipped binary is past its end of life"),
    Threshold("vulnerabilities", Grade.LIMITED, _at_least(Severity.INFO), 0,
              "a medium or low CVE, or a component on paid support only"),
    Threshold("safe-defeated", Grade.FAIL, _at_least(Severity.INFO), 0,
              "a safe function is defeated (macro or wrapper that ignores the bound)"),
    Threshold("secrets", Grade.FAIL, _at_least(Severity.HIGH), 0,
              "a high or critical secret or backdoor indicator (private key, hidden command)"),
    Threshold("secrets", Grade.LIMITED, _at_least(Severity.LOW), 0,
              "a medium or low secret finding (test-context findings are info: not counted)"),
    Threshold("equivalence", Grade.FAIL, _at_least(Severity.HIGH), 0,
              "a high finding: a shipped binary differs from the rebuild, or the rebuild failed"),
    Threshold("equivalence", Grade.LIMITED, _at_least(Severity.INFO), 0,
              "equivalent only after normalisation, not reproducible, or shipped file missing"),
    Threshold("unsafe-calls", Grade.FAIL, _worst_family_share, 0.5,
              "over 50% of a family's calls (families with 10+ calls) are unbounded"),
    Threshold("unsafe-calls", Grade.LIMITED, _worst_family_share, 0.2,
              "over 20% of a family's calls (families with 10+ calls) are unbounded"),
    Threshold("complexity", Grade.FAIL, _complex_share, 0.15,
              "over 15% of functions exceed the cyclomatic complexity threshold"),
    Threshold("complexity", Grade.LIMITED, _complex_share, 0.05,
              "over 5% of functions exceed the cyclomatic complexity threshold"),
    Threshold(GENERIC, Grade.FAIL, _at_least(Severity.HIGH), 0, "a high or critical finding"),
    Threshold(GENERIC, Grade.LIMITED, _at_least(Severity.MEDIUM), 0, "a medium finding"),
)  # fmt: skip

VERDICT_RULE: tuple[tuple[Grade, Verdict, str], ...] = (
    (Grade.FAIL, Verdict.NONE, "no assurance: an integrity category fails"),
    (Grade.LIMITED, Verdict.LIMITED, "limited assurance: an integrity category is limited"),
    (Grade.PASS, Verdict.ASSURANCE, "assurance: every evaluated integrity category passes"),
)
"""First row whose grade equals the worst evaluated integrity grade decides (none evaluated:
limited assurance, nothing supports more)."""


@dataclass(frozen=True, slots=True)
class CategoryRating:
    """The grade of one category and the conditions that gave it."""

    category: str
    """Category id."""
    grade: Grade
    """Worst applicable grade."""
    reasons: tuple[str, ...]
    """The conditions met, with the measured value."""
    integrity: bool
    """Whether the verdict reads this category."""
    also: tuple[str, ...] = ()
    """Singled-out conditions met below the category's grade (named in the verdict too)."""


@dataclass(frozen=True, slots=True)
class Rating:
    """Every category's grade and the verdict."""

    verdict: Verdict
    """The overall answer."""
    why: str
    """The verdict rule that decided, and the categories that made it."""
    categories: tuple[CategoryRating, ...]
    """Integrity categories first, then the others, each sorted by id."""
    max_severity: Severity | None = None
    """Highest severity among the unsuppressed findings (what ``--fail-on`` reads)."""

    def to_json(self) -> dict[str, Any]:
        """The rating as JSON (``evaluation.json`` key ``rating``)."""
        return {
            "verdict": self.verdict.value,
            "why": self.why,
            "max_severity": self.max_severity.label if self.max_severity is not None else None,
            "categories": {
                c.category: {"grade": c.grade.value, "reasons": list(c.reasons),
                             "integrity": c.integrity}
                for c in self.categories
            },
        }  # fmt: skip


def count_findings(
    findings: Iterable[Finding], suppressed: Mapping[str, Any]
) -> Counter[tuple[str, str, str]]:
    """Findings per (category, rule, severity), leaving out suppressed fingerprints."""
    return Counter(
        (f.category, f.rule_id, f.severity.label)
        for f in findings
        if f.fingerprint not in suppressed
    )


def rate(facts: Facts) -> Rating:
    """Grade every category present (section or findings) and derive the verdict."""
    present = set(facts.sections) | {cat for cat, _, _ in facts.counts}
    names = sorted(present | set(INTEGRITY), key=lambda c: (c not in INTEGRITY, c))
    graded = tuple(_grade(facts, name, name in present) for name in names)
    evaluated = [c for c in graded if c.integrity and c.grade is not Grade.NOT_EVALUATED]
    top = max((Severity.parse(sev) for (_, _, sev), n in facts.counts.items() if n), default=None)
    if not evaluated:
        why = "limited assurance: no integrity category evaluated"
        return Rating(Verdict.LIMITED, why, graded, top)
    worst = max((c.grade for c in evaluated), key=RANK.__getitem__)
    for grade, verdict, text in VERDICT_RULE:
        if grade is worst:
            culprits = [c.category for c in evaluated if c.grade is worst]
            why = text if worst is Grade.PASS else f"{text} ({', '.join(culprits)})"
            return _partial(
                Rating(verdict, why + _singled_out(graded), graded, top), facts.not_unpacked
            )
    raise AssertionError(worst)  # pragma: no cover - VERDICT_RULE covers every grade


def _singled_out(graded: Iterable[CategoryRating]) -> str:
    """``; <condition>`` for every singled-out condition met (``SINGLED_OUT``)."""
    met = [r for c in graded for r in _all_reasons(c) if r.startswith(SINGLED_OUT)]
    return "".join(f"; {reason}" for reason in met)


def _all_reasons(category: CategoryRating) -> tuple[str, ...]:
    return category.reasons + category.also


def _partial(rating: Rating, not_unpacked: int) -> Rating:
    """A rating that says part of the release was not evaluated: assurance cannot be more than
    limited when containers of the input were not fully unpacked."""
    if not not_unpacked:
        return rating
    plural = "s" if not_unpacked > 1 else ""
    why = (
        f"{rating.why}; part of the release was not evaluated: {not_unpacked} container{plural} "
        "not fully unpacked (see Skipped)"
    )
    verdict = Verdict.LIMITED if rating.verdict is Verdict.ASSURANCE else rating.verdict
    return Rating(verdict, why, rating.categories, rating.max_severity)


def _grade(facts: Facts, category: str, present: bool) -> CategoryRating:
    integrity = category in INTEGRITY
    if not present:
        return CategoryRating(category, Grade.NOT_EVALUATED, (), integrity)
    own = [t for t in THRESHOLDS if t.category == category]
    rows = own or [t for t in THRESHOLDS if t.category == GENERIC]
    met: list[tuple[Threshold, float]] = []
    for row in rows:
        value = row.metric(facts, category)
        if value > row.above:
            met.append((row, value))
    if not met:
        return CategoryRating(category, Grade.PASS, (), integrity)
    grade = max((row.grade for row, _ in met), key=RANK.__getitem__)
    reasons = tuple(f"{row.text} (measured {_show(row, value)})" for row, value in met
                    if row.grade is grade)  # fmt: skip
    also = tuple(f"{row.text} (measured {_show(row, value)})" for row, value in met
                 if row.grade is not grade and row.text in SINGLED_OUT)  # fmt: skip
    return CategoryRating(category, grade, reasons, integrity, also)


def _show(row: Threshold, value: float) -> str:
    return f"{value:.1%}" if 0 < row.above < 1 else f"{value:.0f}"


def assess(evaluation: Evaluation, findings: Iterable[Finding]) -> Rating:
    """Rate an evaluation from its sections and its unsuppressed ``findings`` (all of them)."""
    counts = count_findings(findings, evaluation.suppressions)
    return rate(Facts(evaluation.sections, counts, len(not_unpacked(evaluation.skipped))))


class CountedStore(Protocol):
    """A finding store that can count its findings itself (``FindingStore``)."""

    def tally(self) -> Counter[tuple[str, str, str]]:
        """Findings per (category, rule id, severity label)."""
        ...

    def findings(self) -> Iterator[Finding]:
        """Every finding."""
        ...


def assess_store(evaluation: Evaluation, store: CountedStore) -> Rating:
    """``assess`` over a store's findings: counted by the store unless some are suppressed
    (suppressions are keyed by fingerprint, so those runs read the findings)."""
    if evaluation.suppressions:
        return assess(evaluation, store.findings())
    lost = len(not_unpacked(evaluation.skipped))
    return rate(Facts(evaluation.sections, store.tally(), lost))


def rating_json(
    evaluation: Evaluation, findings: Callable[[], Iterable[Finding]]
) -> dict[str, Any]:
    """The evaluation's rating as JSON: the one recorded on it, else computed from
    ``findings()`` (called only then)."""
    return recorded_or_rated(
        evaluation.rating,
        lambda: Facts(
            evaluation.sections,
            count_findings(findings(), evaluation.suppressions),
            len(not_unpacked(evaluation.skipped)),
        ),
    )


def recorded_or_rated(recorded: Mapping[str, Any], facts: Callable[[], Facts]) -> dict[str, Any]:
    """A rating as JSON: ``recorded`` (an evaluation's, rated once by ``assay.pipeline``) when
    present, else rated from ``facts()`` (called only then); every reader of a rating uses it."""
    return dict(recorded) if recorded else rate(facts()).to_json()


def describe() -> list[dict[str, str]]:
    """The threshold table as rows for the report and the docs."""
    return [
        {"category": "any other" if t.category == GENERIC else t.category,
         "grade": t.grade.value,
         "condition": t.text}
        for t in THRESHOLDS
    ]  # fmt: skip
