"""The ``equivalence`` section of evaluation.json and the category's findings."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

from assay import sandbox
from assay.model import RawFinding, Rule, RuleId
from assay.rebuild.build import NOT_VARIED, VARIATIONS
from assay.rebuild.interface import Build, Comparison, Verdict
from assay.rules import rule_from_row, rule_table

CATEGORY = "equivalence"
#: What a failed build's log says when the sandbox refused something, and what it refused.
REFUSALS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            r"Network is unreachable|Could not resolve|name resolution|connect.*refused", re.I
        ),
        "network access (the sandbox has no network)",
    ),
    (re.compile(r"Read-only file system"), "a write outside the build copy (read-only there)"),
    (
        re.compile(r"(/root|/home)\S*: No such file or directory"),
        "the user's home directory (empty in the sandbox)",
    ),
)


@dataclass(frozen=True, slots=True)
class Pair:
    """One artefact: its comparison between the rebuilds and with the shipped file."""

    path: str
    """Artefact path relative to the source root."""
    rebuilds: Comparison | None
    """rebuild-1 vs rebuild-2 (None when a build failed)."""
    shipped: Comparison | None
    """rebuild vs shipped (None without ``--shipped``)."""


@cache
def rules() -> tuple[Rule, ...]:
    """The category's rules, from ``rules/equivalence.toml``."""
    rows = sorted(rule_table("equivalence.toml").items())
    return tuple(rule_from_row(CATEGORY, key, row) for key, row in rows)


def refusals(log: str) -> list[str]:
    """What the sandbox refused, as far as the build's log shows."""
    return [what for pattern, what in REFUSALS if pattern.search(log)]


def section(
    command: str, timeout: float, builds: Sequence[Build], pairs: Sequence[Pair]
) -> dict[str, Any]:
    """The ``equivalence`` section: sandbox, variations, builds, artefacts and percentages."""
    return {
        "verdicts": _verdicts(pairs),
        "command": command,
        "timeout_s": timeout,
        "sandbox": dict(sandbox.ISOLATION),
        "variations": {"applied": _variations(), "not_applied": dict(NOT_VARIED)},
        "builds": [_build(b) for b in builds],
        "artefacts": [
            {"path": p.path, "rebuilds": _comparison(p.rebuilds), "shipped": _comparison(p.shipped)}
            for p in pairs
        ],
        "reproducibility": _share([p.rebuilds for p in pairs]),
        "shipped_equivalence": _share([p.shipped for p in pairs]),
    }


def _verdicts(pairs: Sequence[Pair]) -> list[dict[str, str]]:
    """One row per compared pair and cause: the table a reader sees first."""
    rows = []
    for pair in pairs:
        for c in (pair.rebuilds, pair.shipped):
            if c is None:
                continue
            head = {"artefact": pair.path, "pair": f"{c.left} vs {c.right}", "verdict": c.verdict}
            causes = c.causes or ()
            if not causes:
                rows.append({**head, "cause": "", "evidence": ""})
            rows += [{**head, "cause": k.kind, "evidence": "; ".join(k.evidence)} for k in causes]
    return rows


def _variations() -> list[dict[str, str]]:
    one, two = VARIATIONS
    rows = [
        ("build path", f".../{one.label}/{one.directory}", f".../{two.label}/{two.directory}"),
        ("time", "now", "at least 1 s later"),
        (
            "SOURCE_DATE_EPOCH",
            str(one.source_date_epoch or "unset"),
            str(two.source_date_epoch or "unset"),
        ),
        ("TZ", one.tz, two.tz),
        ("LC_ALL, LANG", one.locale, two.locale),
        ("umask", one.umask, two.umask),
        ("environment order", "as listed", "reversed"),
        ("host name", one.hostname, two.hostname),
        ("uid, gid, USER", str(one.uid), str(two.uid)),
    ]
    return [{"name": n, one.label: a, two.label: b} for n, a, b in rows]


def _build(build: Build) -> dict[str, Any]:
    return {
        "label": build.variation.label,
        "status": build.status,
        "returncode": build.returncode,
        "duration_s": round(build.duration, 1),
        "sandbox_refused": refusals(build.log_tail) if not build.ok else [],
        "log_tail": "" if build.ok else build.log_tail,
    }


def _comparison(c: Comparison | None) -> dict[str, Any] | None:
    if c is None:
        return None
    return {
        "left": c.left, "right": c.right, "verdict": c.verdict.value, "format": c.format,
        "sha256": list(c.sha256), "ignored": list(c.ignored), "differences": list(c.differences),
        "functions": list(c.functions),
        "causes": [{"kind": k.kind, "evidence": list(k.evidence)} for k in c.causes],
        "diffoscope": c.diffoscope,
    }  # fmt: skip


def _share(comparisons: Sequence[Comparison | None]) -> dict[str, Any]:
    done = [c for c in comparisons if c is not None]
    good = sum(c.equivalent for c in done)
    identical = sum(c.verdict is Verdict.IDENTICAL for c in done)
    percent = round(100.0 * good / len(done), 1) if done else None
    return {"compared": len(done), "identical": identical, "equivalent": good, "percent": percent}


def findings(builds: Sequence[Build], pairs: Sequence[Pair], patterns: Sequence[str]
             ) -> Iterator[tuple[str, RawFinding]]:  # fmt: skip
    """(path, finding) for each failed build, missing artefact and non-identical pair."""
    for build in builds:
        if not build.ok:
            yield ".", _failed(build)
    if all(b.ok for b in builds) and not pairs:
        yield ".", _raw("no-artefacts", f"no file matches {', '.join(patterns)}",
                        " ".join(patterns))  # fmt: skip
    figures = {
        "reproducibility_percent": _share([p.rebuilds for p in pairs])["percent"],
        "shipped_equivalence_percent": _share([p.shipped for p in pairs])["percent"],
    }
    for pair in pairs:
        for comparison in (pair.rebuilds, pair.shipped):
            if comparison is not None and comparison.verdict is not Verdict.IDENTICAL:
                path, raw = pair.path, _pair(comparison)
                yield path, replace(raw, properties={**raw.properties, **figures})


def _failed(build: Build) -> RawFinding:
    label = build.variation.label
    what = "timed out (sandbox time limit)" if build.status == "timed-out" else (
        f"failed with exit status {build.returncode}")  # fmt: skip
    refused = refusals(build.log_tail)
    also = f"; the sandbox refused {', '.join(refused)}" if refused else ""
    tail = "\n".join(build.log_tail.splitlines()[-5:])
    return _raw("build-failed", f"{label} {what}{also}", f"{label} {build.status}\n{tail}",
                {"status": build.status, "sandbox_refused": refused})  # fmt: skip


def _pair(c: Comparison) -> RawFinding:
    kinds = sorted({k.kind for k in c.causes})
    if c.verdict is Verdict.EQUIVALENT:
        rule, what = "equivalent-after-normalisation", "equivalent after normalisation"
    elif c.right == "shipped":
        rule = "shipped-missing" if c.verdict is Verdict.MISSING else "differs-from-shipped"
        what = "has no shipped counterpart" if c.verdict is Verdict.MISSING else "differs"
    else:
        rule = "not-reproducible"
        what = "built by one build only" if c.verdict is Verdict.MISSING else "differs"
    because = f"; causes: {', '.join(kinds)}" if kinds else ""
    message = f"{c.left} vs {c.right}: {what}{because}"
    evidence = "\n".join([*c.differences[:10], *(f"ignored {i}" for i in c.ignored[:10])])
    props = {"verdict": c.verdict.value, "causes": {k.kind: list(k.evidence) for k in c.causes},
             "functions": list(c.functions)}  # fmt: skip
    return _raw(rule, message, evidence or what, props)


def _raw(rule: str, message: str, evidence: str, props: Mapping[str, Any] | None = None
         ) -> RawFinding:  # fmt: skip
    return RawFinding(RuleId(f"{CATEGORY}/{rule}"), 1, 1, message, evidence,
                      properties=dict(props or {}))  # fmt: skip
