"""``assay rebuild``: build the source twice in a sandbox and compare the artefacts.

Exit codes as ``assay evaluate`` (``assay.cli.exits``); no sandbox is an error (2).
"""

from __future__ import annotations

import argparse
from functools import partial
from pathlib import Path

from assay import pipeline
from assay.cli import exits, flags
from assay.cli.terminal import say
from assay.rebuild.engine import RebuildOptions, rebuild
from assay.storage import outdir


def register(sub: flags.Subparsers) -> None:
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
    flags.output(p)
    flags.fail_on(p)
    flags.quiet(p, "no summary")
    p.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    """Rebuild, write the reports (not recorded in the history), print a summary."""
    outdir.check_apart(args.source, args.output)
    options = RebuildOptions(
        source=args.source, command=args.build, artefacts=tuple(args.artifacts),
        output_dir=args.output, shipped=args.shipped, debian=args.debian, timeout=args.timeout,
    )  # fmt: skip
    result = pipeline.run(partial(rebuild, options), args.output)
    evaluation = result.evaluation
    if not args.quiet:
        section = evaluation.sections["equivalence"]
        for build in section["builds"]:
            say(f"  {build['label']}: {build['status']} ({build['duration_s']} s)")
        for item in section["artefacts"]:
            verdicts = [c["verdict"] for c in (item["rebuilds"], item["shipped"]) if c]
            say(f"  {item['path']}: {' / '.join(verdicts)}")
        for record in evaluation.skipped:
            say(f"  not copied: {record.path} ({record.detail})")
        say(f"  reproducibility: {section['reproducibility']['percent']} %")
        say(f"  verdict: {evaluation.rating['verdict']} ({evaluation.rating['why']})")
        for path in result.written:
            say(f"  wrote {path}")
    return exits.FAILED if result.fails(flags.fail_on_of(args)) else exits.OK
