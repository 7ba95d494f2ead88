"""Command line: parse arguments, build ``Options``, call the library, write files, exit code.

Exit codes: 0 evaluated (no finding at or above ``--fail-on``), 1 a finding at or above
``--fail-on`` exists, 2 usage error or an error that stopped the evaluation.
"""

from __future__ import annotations

import argparse
import gc
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from assay import __version__, engine, examples
from assay import analyze as analyzers
from assay.assess.vulns import db as vulndb
from assay.assess.vulns import osv
from assay.cli import history as cli_report
from assay.cli import many as cli_many
from assay.cli import rebuild as cli_rebuild
from assay.cli.progress import RichProgress
from assay.config import Options, load, read_config
from assay.correlate.components import kb
from assay.engine.worker import GC_THRESHOLDS
from assay.errors import AssayError
from assay.model import Evaluation, Severity
from assay.report import rules_md, write_all_then
from assay.storage.findings import FindingStore, store_path

log = logging.getLogger("assay")
EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class _Command(Protocol):
    """A module that adds sub-commands: each parser sets ``run=handler(args) -> exit code``.

    Handlers raise ``AssayError`` for errors that stop the command (exit code 2).
    """

    def register(self, sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
        """Add the module's sub-command parsers to ``sub``."""


_EXTENSIONS: tuple[_Command, ...] = (cli_many, cli_report, cli_rebuild)
"""Command modules beside the built-in ones (``assay.cli_*``)."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="assay", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"assay {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    ev = sub.add_parser("evaluate", help="evaluate a release: source, binaries or firmware")
    ev.add_argument("input", type=Path, help="directory, archive (tar, zip, cpio), firmware "
                    "image (squashfs, cramfs, ext2/3/4) or one ELF file")  # fmt: skip
    _common(ev)
    ex = sub.add_parser("example", help="evaluate the built-in example release")
    _common(ex)
    kb = sub.add_parser("kb", help="the release knowledge base")
    kb_sub = kb.add_subparsers(dest="kb_command", required=True)
    add = kb_sub.add_parser("add", help="record an upstream release (archive or directory)")
    add.add_argument("release", type=Path)
    add.add_argument("--name", help="library name (detected from version evidence if omitted)")
    add.add_argument("--version", dest="release_version", help="release version (detected)")
    add.add_argument("--kb", type=Path, help="KB file to write (default: the user's overlay)")
    imp = kb_sub.add_parser("import", help="add OSV vulnerability records (directory or zip)")
    imp.add_argument("records", type=Path)
    info = kb_sub.add_parser("info", help="what the knowledge base holds")
    info.add_argument("--kb", type=Path, help="KB file to read instead of the default ones")
    rl = sub.add_parser("rules", help="print the rule reference (Markdown)")
    rl.add_argument("--config", type=Path, help="TOML config file (user wrappers add rules)")
    for module in _EXTENSIONS:
        module.register(sub)
    return parser


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("-o", "--output", type=Path, required=True, help="output directory")
    p.add_argument("-j", "--jobs", type=int, help="worker processes (default: all cores)")
    p.add_argument("--fail-on", choices=[s.label for s in Severity],
                   help="exit 1 when a finding at or above this severity exists")  # fmt: skip
    p.add_argument("--config", type=Path, help="TOML config file (default: ./assay.toml)")
    p.add_argument("--kb", type=Path, help="release knowledge base to use instead of the default")
    p.add_argument(
        "--compile-db",
        type=Path,
        help="the vendor's compile_commands.json: label files built or not built",
    )
    p.add_argument("--keep-work", action="store_true", help="keep extracted archives")
    p.add_argument(
        "--only",
        metavar="CATEGORIES",
        type=_categories,
        help="run only these analyzer categories, comma-separated (e.g. unsafe-calls,"
        "complexity); components and vulnerabilities always run",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar, no summary")
    cli_many.add_run_options(p)
    cli_report.add_record_options(p)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = _parser().parse_args(argv)
    gc.set_threshold(*GC_THRESHOLDS)
    logging.basicConfig(level=logging.WARNING, format="assay: %(message)s", stream=sys.stderr)
    try:
        if getattr(args, "run", None) is not None:
            return int(args.run(args))
        if args.command == "rules":
            return _rules(args)
        if args.command == "kb":
            return _kb(args)
        if args.command == "example":
            args.input = examples.materialise(args.output / "example-input")
        options = _options(args)
        evaluation = engine.evaluate(options, RichProgress(enabled=not args.quiet))
        store = FindingStore(store_path(options.output_dir))
        try:
            evaluation = cli_report.prepare(evaluation, store, args)
            # recorded in the history by the reporters' child while this process writes
            written, recorded = write_all_then(
                evaluation, store, options.output_dir,
                cli_report.Recorder.of(args, options.output_dir),
            )  # fmt: skip
        finally:
            store.close()
        cli_report.recorded(recorded)
    except AssayError as exc:
        log.error("%s", exc)
        return EXIT_ERROR
    if not args.quiet:
        _summary(evaluation, written)
    return _exit_code(evaluation, options.fail_on)


def _rules(args: argparse.Namespace) -> int:
    from assay.assess.vulns import findings as vuln_findings
    from assay.rebuild import report as rebuild_report

    settings = load(Path("."), Path("."), read_config(args.config)).settings
    rows = [r for a in analyzers.build(settings) for r in a.rules()]
    rows += [*vuln_findings.rules(), *rebuild_report.rules()]
    print(rules_md.render(rows), end="")
    return EXIT_OK


def _kb(args: argparse.Namespace) -> int:
    if args.kb_command == "import":
        report = osv.import_into(args.records, vulndb.overlay_path())
        print(f"imported {len(report.advisories)} advisories from {report.matched} records "
              f"({report.files} files) into {vulndb.overlay_path()}")  # fmt: skip
        print(f"  kept without version ranges (GIT commit ranges only): {len(report.git_only)}")
        print(f"  skipped, package not mapped to a library: {len(report.unknown_packages)}")
        for error in report.errors:
            print(f"  error: {error}")
        return EXIT_OK
    if args.kb_command == "add":
        added = kb.add_command(args.release, args.name, args.release_version, args.kb)
        print(f"recorded {added.name} {added.version}: {added.files} files ({added.source})")
        return EXIT_OK
    with kb.KnowledgeBase.open([args.kb]) if args.kb else kb.open_default() as base:
        snap = base.snapshot()
        print(f"knowledge base: {snap.releases} releases, built {snap.built or 'never'}")
        for path in snap.paths:
            print(f"  read {path}")
        for release in base.releases():
            print(f"  {release.name} {release.version}: {release.files} files ({release.source})")
    known = vulndb.load()
    print(f"vulnerability data: snapshot {known.snapshot}, {len(known.advisories)} advisories, "
          f"{len(known.cycles)} release cycles, {len(known.exploited)} exploited CVEs")  # fmt: skip
    print(f"  read {vulndb.default_path()}")
    if vulndb.overlay_path().is_file():
        print(f"  read {vulndb.overlay_path()}")
    for source in known.sources:
        print(f"  source: {source}")
    return EXIT_OK


def _options(args: argparse.Namespace) -> Options:
    if args.jobs is not None and args.jobs < 1:
        raise AssayError("--jobs must be at least 1")
    return load(
        args.input, args.output, read_config(args.config), jobs=args.jobs,
        fail_on=Severity.parse(args.fail_on) if args.fail_on else None, keep_work=args.keep_work,
        compile_db=args.compile_db, kb=args.kb, categories=args.only,
        **cli_many.run_overrides(args),
    )  # fmt: skip


def _categories(text: str) -> tuple[str, ...]:
    """``--only``'s comma-separated list, blanks dropped, in the order given."""
    ids = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    if not ids:
        raise argparse.ArgumentTypeError("expected at least one category")
    return ids


def _exit_code(evaluation: Evaluation, fail_on: Severity | None) -> int:
    top = cli_report.max_severity(evaluation)
    if fail_on is not None and top is not None and top >= fail_on:
        return EXIT_FINDINGS
    return EXIT_OK


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


def _summary(evaluation: Evaluation, written: list[Path]) -> None:
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
    if evaluation.rating:
        print(f"  verdict: {evaluation.rating.get('why') or evaluation.rating.get('verdict')}")
    for path in written:
        print(f"  wrote {path}")
