"""``assay rebuild``: build the source twice in a sandbox and compare the artefacts.

Exit codes as ``assay evaluate``: 0 done (no finding at or above ``--fail-on``), 1 a finding
at or above ``--fail-on``, 2 usage error or no sandbox.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from assay.assess.rating import assess_store
from assay.model import Severity
from assay.rebuild.engine import RebuildOptions, rebuild
from assay.report import write_all
from assay.storage.findings import FindingStore, store_path

EXIT_OK, EXIT_FINDINGS = 0, 1


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``assay rebuild``."""
    p = sub.add_parser("rebuild", help="rebuild from source in a sandbox; prove equivalence")
    p.add_argument("source", type=Path, help="source tree (directory)")
    p.add_argument("--build", required=True, help="build command, run with sh -c in the tree")
    p.add_argument("--artifacts", nargs="+", required=True, metavar="GLOB",
                   help="artefact patterns relative to the source root")  # fmt: skip
    p.add_argument("--shipped", type=Path, help="directory of the shipped files to compare")
    p.add_argument("--debian", type=Path,
                   help="debian/ directory of the package the shipped files come from")  # fmt: skip
    p.add_argument("--timeout", type=float, default=1800.0, help="seconds per build (1800)")
    p.add_argument("-o", "--output", type=Path, required=True, help="output directory")
    p.add_argument("--fail-on", choices=[s.label for s in Severity],
                   help="exit 1 when a finding at or above this severity exists")  # fmt: skip
    p.add_argument("-q", "--quiet", action="store_true", help="no summary")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Rebuild, write evaluation.json, results.sarif and report.html, print a summary."""
    options = RebuildOptions(
        source=args.source, command=args.build, artefacts=tuple(args.artifacts),
        output_dir=args.output, shipped=args.shipped, debian=args.debian, timeout=args.timeout,
    )  # fmt: skip
    evaluation = rebuild(options)
    store = FindingStore(store_path(args.output))
    try:
        evaluation = replace(evaluation, rating=assess_store(evaluation, store).to_json())
        written = write_all(evaluation, store, args.output)
    finally:
        store.close()
    if not args.quiet:
        section = evaluation.sections["equivalence"]
        for build in section["builds"]:
            print(f"  {build['label']}: {build['status']} ({build['duration_s']} s)")
        for item in section["artefacts"]:
            verdicts = [c["verdict"] for c in (item["rebuilds"], item["shipped"]) if c]
            print(f"  {item['path']}: {' / '.join(verdicts)}")
        print(f"  reproducibility: {section['reproducibility']['percent']} %")
        print(f"  verdict: {evaluation.rating['verdict']} ({evaluation.rating['why']})")
        for path in written:
            print(f"  wrote {path}")
    top = evaluation.max_severity()
    fail_on = Severity.parse(args.fail_on) if args.fail_on else None
    return EXIT_FINDINGS if fail_on is not None and top is not None and top >= fail_on else EXIT_OK
