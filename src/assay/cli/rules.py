"""``assay rules``: print the rule reference (Markdown) from the rule rows themselves."""

from __future__ import annotations

import argparse
from pathlib import Path

from assay import analyze as analyzers
from assay.assess.vulns import findings as vuln_findings
from assay.cli import exits, flags
from assay.config import load, read_config
from assay.rebuild import report as rebuild_report
from assay.report import rules_md


def register(sub: flags.Subparsers) -> None:
    """Add ``rules``."""
    p = sub.add_parser("rules", help="print the rule reference (Markdown)")
    flags.config(p, "TOML config file (user wrappers add rules)")
    p.set_defaults(run=_rules)


def _rules(args: argparse.Namespace) -> int:
    settings = load(Path("."), Path("."), read_config(args.config)).settings
    rows = [r for a in analyzers.build(settings) for r in a.rules()]
    rows += [*vuln_findings.rules(), *rebuild_report.rules()]
    print(rules_md.render(rows), end="")
    return exits.OK
