"""``report.html``: one self-contained page for the evaluator and the board.

The page holds the verdict and why, the rating table with its thresholds, provenance, every
section (charts as inline SVG), the trend over earlier releases, and every finding with its
evidence. The findings are embedded as compact JSON (rows of indexes into a string table) and
paged by an inline script, so the page opens fast with 100,000 findings. One pass over the
store both counts (rating, per-rule tables) and writes the finding rows to a spool file (memory
up to a bound, then disk); the rows are copied into the page once the template is rendered from
the counts, so no list of findings is held. A Content-Security-Policy forbids
every network request; Jinja2 autoescapes everything from the input, and the JSON blocks escape
``<`` so that no input can close their script element. Bidirectional controls in the input's
text are shown as marked tokens (``mark_bidi``; the page's script does the same for the rows it
renders), never applied. The snippet shown for a finding is the
evidence the analyzer stored (secrets already redacted): the input may be gone when the report is
written, and evidence is what the finding is judged on.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Mapping
from typing import IO, Any, TextIO

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from assay.assess.rating import (
    INTEGRITY,
    VERDICT_RULE,
    Facts,
    describe,
    not_unpacked,
    recorded_or_rated,
)
from assay.model import Evaluation, Finding, Severity
from assay.report.interface import Streams
from assay.report.json import finding_json, head, skipped_json

KNOWN = ("components", "vulnerabilities", "unsafe-calls", "safe-defeated", "complexity", "clones",
         "secrets", "endpoints", "suppressions", "binaries", "equivalence")  # fmt: skip
"""Categories with a place of their own in the page (others follow, rendered generically)."""
_MARK = "<!--assay-findings-data-->"
_NOT_UNPACKED_SHOWN = 50
"""Containers not fully unpacked listed in the verdict box (all are under Skipped)."""
PAGE = 100
"""Findings per page; the first page is also rendered as HTML, before any script runs."""
_SEVERITIES = [s.label for s in sorted(Severity, reverse=True)]


_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
"""Bidirectional marks, embeddings, overrides and isolates: they reorder the text that follows
them on screen, so a file name or evidence could show something else than it is."""


def _bidi_token(match: re.Match[str]) -> str:
    code = f"U+{ord(match.group()):04X}"
    # unquoted attributes: the token stays harmless text inside a quoted attribute value
    return f"<span class=bidi title={code}>\u27e8{code}\u27e9</span>"


def mark_bidi(value: Any) -> Any:
    """What every ``{{ ... }}`` of the templates outputs (Jinja's ``finalize``): a string
    with bidirectional controls is escaped and each control replaced by a visible marked token
    (``<span class=bidi title=U+202E>⟨U+202E⟩</span>``); other values, strings without such
    controls and ``Markup`` the templates made are unchanged."""
    if isinstance(value, Markup) or not isinstance(value, str) or not _BIDI.search(value):
        return value
    return Markup(_BIDI.sub(_bidi_token, str(escape(value))))


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("assay", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        finalize=mark_bidi,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pretty"] = lambda value: json.dumps(value, indent=2, sort_keys=True)
    env.filters["blob"] = _blob
    env.filters["shape"] = _shape
    env.filters["pct"] = lambda v: "-" if v is None else f"{100 * float(v):.1f}%"
    return env


def _shape(value: Any) -> str:
    """How the generic renderer shows a value: empty, flat, matrix, records, list, nested or
    scalar."""
    if isinstance(value, Mapping | list) and not value:
        return "empty"
    if isinstance(value, Mapping):
        inner = list(value.values())
        if all(not isinstance(v, Mapping | list) for v in inner):
            return "flat"
        if all(isinstance(v, Mapping) and _shape(v) == "flat" for v in inner):
            return "matrix"
        return "nested"
    if isinstance(value, list):
        if value and all(isinstance(v, Mapping) for v in value):
            return "records"
        return "list"
    return "scalar"


_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
"""What ``json.dumps(value, ensure_ascii=False, separators=(",", ":"))`` builds per call, once."""


def _blob(value: Any) -> str:
    """JSON safe inside a ``<script type="application/json">`` element."""
    return _COMPACT.encode(value).replace("<", "\\u003c")


class _Strings:
    """A table of distinct strings, referenced by index from the finding rows."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}

    def __call__(self, text: str | None) -> int:
        if text is None:
            return -1
        return self.index.setdefault(text, len(self.index))


class _Tally:
    """Per (category, rule, severity): all findings and unsuppressed ones; the first page."""

    def __init__(self, marks: Mapping[str, Any]) -> None:
        self.marks = marks
        self.every: Counter[tuple[str, str, str]] = Counter()
        self.open: Counter[tuple[str, str, str]] = Counter()
        self.first: list[dict[str, Any]] = []

    def add(self, f: Finding) -> None:
        """Count one finding (and keep it when it is on the first page)."""
        key = (f.category, f.rule_id, f.severity.label)
        self.every[key] += 1
        if f.fingerprint not in self.marks:
            self.open[key] += 1
        if len(self.first) < PAGE:
            self.first.append({**finding_json(f), "suppression": self.marks.get(f.fingerprint)})

    def counts(self) -> dict[str, Any]:
        """What ``_context`` reads: ``every``, ``open`` and ``first``."""
        return {"every": self.every, "open": self.open, "first": self.first}


def _by_rule(counts: Counter[tuple[str, str, str]]) -> dict[str, list[dict[str, Any]]]:
    """Per category, each rule with its findings per severity, most findings first."""
    table: dict[str, dict[str, Counter[str]]] = {}
    for (cat, rule, sev), n in counts.items():
        table.setdefault(cat, {}).setdefault(rule, Counter())[sev] += n
    return {
        cat: sorted(({"rule": r, "total": sum(c.values()), **c} for r, c in rules.items()),
                    key=lambda row: (-row["total"], row["rule"]))
        for cat, rules in sorted(table.items())
    }  # fmt: skip


def _hotspots(sections: Mapping[str, Mapping[str, Any]], limit: int = 15) -> list[dict[str, Any]]:
    """Directories with the most unbounded calls, with their complexity beside."""
    unsafe = sections.get("unsafe-calls", {}).get("directories", {})
    complexity = sections.get("complexity", {}).get("directories", {})
    rows = []
    for name in set(unsafe) | set(complexity):
        totals = unsafe.get(name, {}).get("totals", {})
        comp = complexity.get(name, {})
        rows.append({
            "directory": name, "unbounded": totals.get("calls_unbounded", 0),
            "bounded": totals.get("calls_bounded", 0), "share": totals.get("share_unbounded"),
            "functions": comp.get("functions", 0), "ccn_max": comp.get("ccn_max", 0),
            "over": comp.get("over_threshold", {}).get("ccn", 0),
        })  # fmt: skip
    rows.sort(key=lambda r: (-r["unbounded"], -r["over"], r["directory"]))
    return rows[:limit]


def _context(evaluation: Evaluation, counts: dict[str, Any]) -> dict[str, Any]:
    sections = {k: evaluation.sections[k] for k in sorted(evaluation.sections)}
    rating = recorded_or_rated(
        evaluation.rating,
        lambda: Facts(sections, counts["open"], len(not_unpacked(evaluation.skipped))),
    )
    categories = list(rating["categories"])
    fired = {rule for _, rule, _ in counts["every"]}
    return {
        "head": head(evaluation),
        "rating": rating,
        "thresholds": describe(),
        "verdict_rule": [text for _, _, text in VERDICT_RULE],
        "integrity": INTEGRITY,
        "sections": sections,
        "order": [*KNOWN, *[k for k in categories if k not in KNOWN]],
        "by_rule": _by_rule(counts["every"]),
        "suppressed": sum(counts["every"].values()) - sum(counts["open"].values()),
        "hotspots": _hotspots(sections),
        "skipped_count": len(evaluation.skipped),
        "not_unpacked": not_unpacked(evaluation.skipped)[:_NOT_UNPACKED_SHOWN],
        "not_unpacked_count": len(not_unpacked(evaluation.skipped)),
        "skipped_blob": _blob([list(skipped_json(s).values()) for s in evaluation.skipped]),
        "baseline": dict(evaluation.baseline),
        "trend": list(evaluation.trend),
        "severities": _SEVERITIES,
        "rules": [r for r in evaluation.rules if r.id in fired],
        "first": counts["first"],
        "rules_blob": _blob([[r.id, r.category, r.name, r.summary] for r in evaluation.rules]),
        "total": sum(counts["every"].values()),
        "mark": _MARK,
    }


_SPOOL = 8 << 20
"""Characters of finding rows held in memory before they spill to a temporary file."""


class Page:
    """report.html written around one pass over the findings: each ``add``ed finding is counted
    and its compact row goes to a spool file; ``finish`` renders the page from the counts and
    copies the rows into it (so one pass over the findings can feed several reports)."""

    def __init__(self, evaluation: Evaluation, out: TextIO) -> None:
        self.evaluation = evaluation
        self.out = out
        self.tally = _Tally(evaluation.suppressions)
        self.strings = _Strings()
        self.rule_index = {r.id: i for i, r in enumerate(evaluation.rules)}
        self.marks = evaluation.suppressions
        self.sep = ""
        self.spool: IO[str] = tempfile.SpooledTemporaryFile(  # noqa: SIM115 (closed on __exit__)
            max_size=_SPOOL, mode="w+", encoding="utf-8", newline="\n"
        )

    def __enter__(self) -> Page:
        """The writer itself."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Drop the spool file."""
        self.spool.close()

    def add(self, f: Finding) -> None:
        """Count one finding and spool its row."""
        self.tally.add(f)
        strings = self.strings
        loc = f.location
        mark = self.marks.get(f.fingerprint, {})
        row = [self.rule_index.get(f.rule_id, -1), int(f.severity), strings(loc.path),
               loc.start_line, loc.end_line, strings(f.message), strings(f.evidence),
               f.fingerprint, strings(loc.component), strings(mark.get("status")),
               strings(mark.get("reason")), strings(f.category)]  # fmt: skip
        self.spool.write(self.sep + _blob(row))
        self.sep = ",\n"

    def finish(self) -> None:
        """Render the page from the counts and write it with the spooled rows inside."""
        context = _context(self.evaluation, self.tally.counts())
        page = _environment().get_template("report.html.j2").render(**context)
        before, after = page.split(_MARK, 1)
        out = self.out
        out.write(before)
        out.write('<script type="application/json" id="assay-findings">[')
        self.spool.seek(0)
        shutil.copyfileobj(self.spool, out)
        out.write(']</script>\n<script type="application/json" id="assay-strings">')
        out.write(_blob(list(self.strings.index)))
        out.write("</script>\n")
        out.write(after)


def write(evaluation: Evaluation, streams: Streams, out: TextIO) -> None:
    """Render the page, reading the findings once (``Page``)."""
    with Page(evaluation, out) as page:
        for f in streams.findings():
            page.add(f)
        page.finish()
