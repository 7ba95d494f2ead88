"""``report.html``: one self-contained page (inline CSS, no scripts or fonts from elsewhere).

A first report: the headline figures, each section's summary, what was skipped, and the first
findings with their evidence. Jinja2 autoescapes everything that comes from the input.
"""

from __future__ import annotations

import itertools
import json
from typing import Any, TextIO

from jinja2 import Environment, PackageLoader, select_autoescape

from assay.model import Evaluation
from assay.reporters.interface import Streams
from assay.reporters.json import finding_json, head

MAX_FINDINGS = 2000
"""Findings listed in the page; evaluation.json and results.sarif hold all of them."""


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("assay", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pretty"] = lambda value: json.dumps(value, indent=2, sort_keys=True)
    return env


def write(evaluation: Evaluation, streams: Streams, out: TextIO) -> None:
    """Render the page, listing at most ``MAX_FINDINGS`` findings."""
    findings = [finding_json(f) for f in itertools.islice(streams.findings(), MAX_FINDINGS)]
    context: dict[str, Any] = {
        "head": head(evaluation),
        "sections": {k: evaluation.sections[k] for k in sorted(evaluation.sections)},
        "skipped": evaluation.skipped,
        "findings": findings,
        "shown": len(findings),
        "total": evaluation.total_findings,
        "rules": {r.id: r for r in evaluation.rules},
    }
    out.write(_environment().get_template("report.html.j2").render(**context))
