"""``assay evaluate`` and ``assay example``: evaluate a release, write the reports, print the
summary."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from assay import engine, examples, pipeline
from assay.cli import exits, flags
from assay.cli.progress import RichProgress
from assay.cli.terminal import say
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
    """The example is written to ``OUTDIR/example-input`` under the output directory's lock,
    by a producer: ``pipeline.run`` refuses an input inside the output directory from anyone
    else."""
    options = _options(args, args.output / "example-input")
    progress = RichProgress(enabled=not args.quiet)

    def produce() -> Evaluation:
        examples.materialise(options.input)
        return engine.evaluate(options, progress, preload=pipeline.PRELOAD)

    return _report(args, pipeline.run(produce, options.output_dir, baseline=args.baseline,
                                      recording=flags.recording_of(args)))  # fmt: skip


def _evaluate(args: argparse.Namespace) -> int:
    """Evaluate ``INPUT`` as the flags say, print the summary; the exit code."""
    result = pipeline.run(
        _options(args, args.input),
        baseline=args.baseline,
        recording=flags.recording_of(args),
        progress=RichProgress(enabled=not args.quiet),
    )
    return _report(args, result)


def _report(args: argparse.Namespace, result: pipeline.Result) -> int:
    """Print the warnings and the summary of ``result``; the exit code."""
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
    say(f"  components: {len(evaluation.components)} copies of {len(libraries)} libraries")
    say(f"    {'library':<12}{'full':>6}{'partial':>9}{'fragment':>10}{'unknown':>9}"
          f"{'versions':>10}  oldest .. newest")  # fmt: skip
    for name, row in libraries.items():
        span = f"{row['oldest']} .. {row['newest']}" if row["oldest"] else "unversioned"
        say(f"    {name:<12}{row['full']:>6}{row['partial']:>9}{row['fragment']:>10}"
              f"{row['unknown']:>9}{row['distinct_versions']:>10}  {span}")  # fmt: skip


def binaries_line(assessment: Mapping[str, Any] | None) -> str | None:
    """The known CVEs and end of life of the components found inside shipped binaries (the
    ``vulnerabilities:`` line counts source copies only: a firmware of binaries would read
    "0 known CVEs" above a verdict failing on its binaries' CVEs); ``None`` when none ran."""
    if not assessment:
        return None
    cves = {c["id"] for v in assessment.values() for c in v["cves"]}
    exploited = {c["id"] for v in assessment.values() for c in v["cves"] if c["exploited"]}
    with_cves = sum(1 for v in assessment.values() if v["cves"])
    ended = sum(1 for v in assessment.values() if v["support"] == "end-of-life")
    paid = sum(1 for v in assessment.values() if v["support"] == "paid-support-only")
    return (f"  vulnerabilities in binaries: {len(cves)} known CVEs in {with_cves} of "
            f"{len(assessment)} components ({len(exploited)} exploited in the wild), "
            f"{ended} components end of life, {paid} on paid support only")  # fmt: skip


def summary(evaluation: Evaluation, written: tuple[Path, ...]) -> None:
    """The summary ``evaluate`` prints: input, inventory, findings, verdict, files written."""
    inv = evaluation.inventory
    analyzed = inv["analyzed"]
    say(f"assay {evaluation.tool_version}: {evaluation.input.name} ({evaluation.input.kind})")
    say(f"  files {inv['files']}, analysed {analyzed['paths']} paths "
          f"({analyzed['unique_contents']} unique), {analyzed['lines']} C/C++ lines "
          f"({analyzed['unique_lines']} unique)")  # fmt: skip
    _inventory_table(evaluation)
    known = evaluation.sections.get("vulnerabilities", {}).get("summary")
    if known:
        say(f"  vulnerabilities: {known['distinct_cves']} known CVEs in "
              f"{known['copies_with_cves']} copies ({known['exploited']} exploited in the wild), "
              f"{known['end_of_life']} copies end of life, "
              f"{known['paid_support_only']} on paid support only")  # fmt: skip
        if known.get("unbounded_cves"):
            say(f"  vulnerabilities: {known['unbounded_cves']} kernel CVEs not bounded by the "
                "data (no introducing version for the copy's series; not findings)")  # fmt: skip
    binaries = binaries_line(evaluation.sections.get("binaries", {}).get("assessment"))
    if binaries:
        say(binaries)
    for category, counts in evaluation.finding_counts.items():
        detail = ", ".join(f"{n} {sev}" for sev, n in counts.items())
        say(f"  {category}: {sum(counts.values())} findings ({detail})")
    if evaluation.skipped:
        say(f"  skipped: {len(evaluation.skipped)} (reasons in evaluation.json)")
    say(f"  verdict: {evaluation.rating.get('why') or evaluation.rating.get('verdict')}")
    for path in written:
        say(f"  wrote {path}")
