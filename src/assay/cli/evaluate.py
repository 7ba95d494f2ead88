"""``assay evaluate`` and ``assay example``: evaluate a release, write the reports, print the
summary."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from assay import examples, pipeline
from assay.cli import exits, flags
from assay.cli.progress import RichProgress
from assay.config import Options, load, read_config
from assay.model import Evaluation

log = logging.getLogger("assay")


def register(sub: flags.Subparsers) -> None:
    """Add ``evaluate`` and ``example``."""
    ev = sub.add_parser("evaluate", help="evaluate a release: source, binaries or firmware")
    ev.add_argument("input", type=Path, help="directory, archive (tar, zip, cpio), firmware "
                    "image (squashfs, cramfs, ext2/3/4) or one ELF file")  # fmt: skip
    flags.common(ev)
    ev.set_defaults(run=_evaluate)
    ex = sub.add_parser("example", help="evaluate the built-in example release")
    flags.common(ex)
    ex.set_defaults(run=_example)


def _example(args: argparse.Namespace) -> int:
    return _run(args, examples.materialise(args.output / "example-input"))


def _evaluate(args: argparse.Namespace) -> int:
    return _run(args, args.input)


def _run(args: argparse.Namespace, input: Path) -> int:
    """Evaluate ``input`` as the flags say, print the summary; the exit code."""
    result = pipeline.run(
        _options(args, input),
        baseline=args.baseline,
        recording=flags.recording_of(args),
        progress=RichProgress(enabled=not args.quiet),
    )
    for warning in result.warnings:
        log.warning("%s", warning)
    if not args.quiet:
        summary(result.evaluation, result.written)
    return exits.FAILED if result.fails(flags.fail_on_of(args)) else exits.OK


def _options(args: argparse.Namespace, input: Path) -> Options:
    jobs = flags.jobs_of(args)
    return load(
        input, args.output, read_config(args.config), jobs=jobs,
        fail_on=flags.fail_on_of(args), keep_work=args.keep_work, compile_db=args.compile_db,
        kb=args.kb, categories=args.only, **flags.execution_of(args),
    )  # fmt: skip


def _inventory_table(evaluation: Evaluation) -> None:
    """The evaluation centre's table: copies per library by kind, versions, oldest, newest."""
    libraries = evaluation.sections.get("components", {}).get("libraries", {})
    if not libraries:
        return
    print(f"  components: {len(evaluation.components)} copies of {len(libraries)} libraries")
    print(f"    {'library':<12}{'full':>6}{'partial':>9}{'fragment':>10}{'unknown':>9}"
          f"{'versions':>10}  oldest .. newest")  # fmt: skip
    for name, row in libraries.items():
        span = f"{row['oldest']} .. {row['newest']}" if row["oldest"] else "unversioned"
        print(f"    {name:<12}{row['full']:>6}{row['partial']:>9}{row['fragment']:>10}"
              f"{row['unknown']:>9}{row['distinct_versions']:>10}  {span}")  # fmt: skip


def summary(evaluation: Evaluation, written: tuple[Path, ...]) -> None:
    """The summary ``evaluate`` prints: input, inventory, findings, verdict, files written."""
    inv = evaluation.inventory
    analyzed = inv["analyzed"]
    print(f"assay {evaluation.tool_version}: {evaluation.input.name} ({evaluation.input.kind})")
    print(f"  files {inv['files']}, analysed {analyzed['paths']} paths "
          f"({analyzed['unique_contents']} unique), {analyzed['lines']} C/C++ lines "
          f"({analyzed['unique_lines']} unique)")  # fmt: skip
    _inventory_table(evaluation)
    known = evaluation.sections.get("vulnerabilities", {}).get("summary")
    if known:
        print(f"  vulnerabilities: {known['distinct_cves']} known CVEs in "
              f"{known['copies_with_cves']} copies ({known['exploited']} exploited in the wild), "
              f"{known['end_of_life']} copies end of life, "
              f"{known['paid_support_only']} on paid support only")  # fmt: skip
    for category, counts in evaluation.finding_counts.items():
        detail = ", ".join(f"{n} {sev}" for sev, n in counts.items())
        print(f"  {category}: {sum(counts.values())} findings ({detail})")
    if evaluation.skipped:
        print(f"  skipped: {len(evaluation.skipped)} (reasons in evaluation.json)")
    print(f"  verdict: {evaluation.rating.get('why') or evaluation.rating.get('verdict')}")
    for path in written:
        print(f"  wrote {path}")
