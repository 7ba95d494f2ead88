"""``assay kb``: add an upstream release, import vulnerability records, show what is known."""

from __future__ import annotations

import argparse
from pathlib import Path

from assay.assess.vulns import db as vulndb
from assay.assess.vulns import eol_import, osv
from assay.cli import exits, flags
from assay.cli.terminal import say
from assay.correlate.components import kb
from assay.errors import IngestError


def register(sub: flags.Subparsers) -> None:
    """Add ``kb add``, ``kb import`` and ``kb info``."""
    parser = sub.add_parser("kb", help="the release knowledge base")
    kb_sub = parser.add_subparsers(dest="kb_command", required=True)
    add = kb_sub.add_parser("add", help="record an upstream release (archive or directory)")
    add.add_argument("release", type=Path)
    add.add_argument("--name", help="library name (detected from version evidence if omitted)")
    add.add_argument("--version", dest="release_version", help="release version (detected)")
    add.add_argument("--kb", type=Path, help="KB file to write (default: the user's overlay)")
    add.set_defaults(run=_add)
    imp = kb_sub.add_parser(
        "import",
        help="add a file you provide: OSV records (directory, .zip or .json) or an end-of-life "
        "file (endoflife.date page .md or cycle list .json)",
    )
    imp.add_argument("records", type=Path)
    imp.set_defaults(run=_import)
    info = kb_sub.add_parser("info", help="what the knowledge base holds")
    info.add_argument("--kb", type=Path, help="KB file to read instead of the default ones")
    info.set_defaults(run=_info)


def _import(args: argparse.Namespace) -> int:
    path: Path = args.records
    if not path.exists():
        raise IngestError(f"{path}: no such file or directory")
    if path.suffix.lower() == ".md" or (path.suffix.lower() == ".json" and _is_cycle_list(path)):
        done = eol_import.import_into(path, vulndb.overlay_path())
        say(
            f"imported {done.cycles} release cycles of {done.product} into "
            f"{vulndb.overlay_path()} (replacing the pinned policy of {done.product})"
        )
        return exits.OK
    report = osv.import_into(path, vulndb.overlay_path())
    say(f"imported {len(report.advisories)} advisories from {report.matched} records "
          f"({report.files} files) into {vulndb.overlay_path()}")  # fmt: skip
    say(f"  kept without version ranges (GIT commit ranges only): {len(report.git_only)}")
    say(f"  skipped, package not mapped to a library: {len(report.unknown_packages)}")
    for error in report.errors:
        say(f"  error: {error}")
    return exits.OK


def _is_cycle_list(path: Path) -> bool:
    """True when a .json file is a list (endoflife.date cycles), not an OSV record object."""
    with path.open("rb") as handle:
        head = handle.read(64).lstrip()
    return head.startswith(b"[")


def _add(args: argparse.Namespace) -> int:
    added = kb.add_command(args.release, args.name, args.release_version, args.kb)
    say(f"recorded {added.name} {added.version}: {added.files} files ({added.source})")
    return exits.OK


def _info(args: argparse.Namespace) -> int:
    with kb.KnowledgeBase.open([args.kb]) if args.kb else kb.open_default() as base:
        snap = base.snapshot()
        say(f"knowledge base: {snap.releases} releases, built {snap.built or 'never'}")
        for path in snap.paths:
            say(f"  read {path}")
        for release in base.releases():
            say(f"  {release.name} {release.version}: {release.files} files ({release.source})")
    known = vulndb.load()
    products = {a.library for a in known.advisories if not a.withdrawn and a.ranges}
    ruled = [p for p in known.policies if p.kind != "unknown"]
    say(f"vulnerability data: snapshot {known.snapshot}, {len(known.advisories)} advisories "
        f"for {len(products)} products, {len(known.cycles)} release cycles, "
        f"{len(known.exploited)} exploited CVEs, support policies for {len(ruled)} of "
        f"{len(known.policies)} products")  # fmt: skip
    say(f"  read {vulndb.default_path()}")
    if vulndb.overlay_path().is_file():
        say(f"  read {vulndb.overlay_path()}")
    for source in known.sources:
        say(f"  source {source}")
    return exits.OK
