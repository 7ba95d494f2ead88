"""``assay history``, ``assay diff`` and ``assay baseline``: read the history database,
compare two evaluations, write a baseline file.

The evaluations they read are recorded by ``evaluate``, ``example`` and ``evaluate-many``
(``--db``, ``--product``, ``--release``, ``--no-history``; ``assay.pipeline``), which also apply a
baseline file (``--baseline``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from assay.assess import baseline
from assay.cli import exits, flags
from assay.cli.terminal import printable
from assay.errors import AssayError
from assay.report import diff
from assay.storage.findings import FindingStore, store_path
from assay.storage.history import History, ReleaseRow, Snapshot, default_path


def register(sub: flags.Subparsers) -> None:
    """Add ``history``, ``diff`` and ``baseline``."""
    hist = sub.add_parser("history", help="list the recorded evaluations of a product")
    hist.add_argument("product", nargs="?", help="product name (omitted: list the products)")
    flags.db(hist)
    hist.add_argument("--json", action="store_true", help="print JSON")
    hist.add_argument("--changes", action="store_true",
                      help="after each release, the findings that changed from the one before: "
                      "copies whose version changed grouped, the others with message and "
                      "evidence")  # fmt: skip
    hist.set_defaults(run=_history)
    dif = sub.add_parser("diff", help="compare two evaluations: findings and headline figures")
    for side in ("old", "new"):
        dif.add_argument(side, help="evaluation.json, an output directory, a history id "
                         "or PRODUCT@RELEASE")  # fmt: skip
    flags.db(dif)
    dif.add_argument("--json", action="store_true", help="print JSON")
    dif.add_argument("--all", action="store_true", help="list unchanged figures too")
    dif.set_defaults(run=_diff)
    base = sub.add_parser("baseline", help="write a baseline file from an evaluation")
    base_sub = base.add_subparsers(dest="baseline_command", required=True)
    init = base_sub.add_parser("init", help="print a baseline of every finding of OUTDIR")
    init.add_argument("outdir", type=Path, help="output directory of an evaluation")
    init.add_argument("--from", dest="previous", type=Path,
                      help="an earlier baseline whose decisions are carried over")  # fmt: skip
    init.set_defaults(run=_baseline_init)


def _history(args: argparse.Namespace) -> int:
    with History(args.db or default_path()) as history:
        if args.product is None:
            for product in history.products():
                print(printable(product))
            return exits.OK
        rows = history.releases(args.product)
        changes = _changes(history, rows) if args.changes else {}
    if args.json:
        print(json.dumps([{"id": r.id, "release": r.release, "recorded_at": r.recorded_at,
                           "tool_version": r.tool_version, "input_sha256": r.input_sha256,
                           "verdict": r.verdict, "headline": r.headline,
                           **({"changes": _changes_json(changes[r.id])} if r.id in changes
                              else {})} for r in rows],
                         indent=2, sort_keys=True))  # fmt: skip
        return exits.OK
    if not rows:
        raise AssayError(f"no evaluation of {args.product!r} recorded")
    for line in history_lines(rows):
        print(printable(line))
    for row in rows:
        if row.id in changes:
            found = changes[row.id]
            print(printable(f"changes {found.old} -> {found.new}:"))
            for line in diff.changes_text(found):
                print(printable(f"  {line}"))
    return exits.OK


def _changes(history: History, rows: list[ReleaseRow]) -> dict[int, diff.Diff]:
    """Each release after the first compared with the one recorded before it, by id."""
    out: dict[int, diff.Diff] = {}
    before: Snapshot | None = None
    for row in rows:
        now = history.load(row.id)
        if before is not None:
            out[row.id] = diff.compare(before, now)
        before = now
    return out


def _changes_json(found: diff.Diff) -> dict[str, Any]:
    """The changed findings of one release as ``assay diff --json`` gives them."""
    doc = found.to_json()
    return {key: doc[key] for key in ("old", "new", "component_changes", "listed")}


def history_lines(rows: list[Any]) -> list[str]:
    """The table ``assay history`` prints: one release a line with its headline figures."""
    lines = [f"{'id':>4}  {'release':<16}{'recorded (UTC)':<27}{'verdict':<19}{'CVEs':>5}"
             f"{'defeated':>9}{'secrets':>8}{'findings':>9}  "
             "copies in source; products in binaries"]  # fmt: skip
    for r in rows:
        h = r.headline
        copies = ", ".join(f"{name} {row['copies']}x {'/'.join(row['versions']) or '?'}"
                           for name, row in h.get("copies", {}).items())  # fmt: skip
        lines.append(
            f"{r.id:>4}  {r.release:<16}{r.recorded_at:<27}{r.verdict:<19}"
            f"{_cell(h.get('cves')):>5}{_cell(h.get('defeated_functions')):>9}"
            f"{_cell(h.get('secrets')):>8}{sum(h.get('findings', {}).values()):>9}  "
            f"{copies or '-'}; {_shipped(h.get('shipped', {}))}"
        )
    return lines


_SHIPPED_SHOWN = 8
"""Products named in binaries that one line of ``assay history`` lists (``--json``: all)."""


def _shipped(shipped: Any) -> str:
    """The products named in a release's binaries, for a line of the table: a firmware image
    has no source copies, and its libraries' versions are what changes between releases.
    Records made before the figure existed have none: ``-``."""
    if not isinstance(shipped, dict) or not shipped:
        return "-"
    names = [f"{name} {'/'.join(row.get('versions', ())) or '?'}" for name, row in shipped.items()]
    more = len(names) - _SHIPPED_SHOWN
    return ", ".join(names[:_SHIPPED_SHOWN]) + (f" (+{more} more)" if more > 0 else "")


def _cell(value: Any) -> str:
    return "-" if value is None else str(value)


def _side(ref: str, args: argparse.Namespace) -> Snapshot:
    path = Path(ref)
    if path.is_dir():
        path = path / "evaluation.json"
    if path.is_file():
        return diff.from_json(path)
    with History(args.db or default_path()) as history:
        return history.load(ref)


def _diff(args: argparse.Namespace) -> int:
    result = diff.compare(_side(args.old, args), _side(args.new, args))
    if args.json:
        json.dump(result.to_json(), sys.stdout, indent=2, sort_keys=True)
        print()
    else:
        for line in diff.render_text(result, all_figures=args.all):
            print(printable(line))
    return exits.OK


def _baseline_init(args: argparse.Namespace) -> int:
    path = store_path(args.outdir)
    if not path.is_file():
        raise AssayError(f"{args.outdir}: no finding store (evaluate with this output directory)")
    previous = baseline.load(args.previous) if args.previous else None
    store = FindingStore(path)
    try:
        sys.stdout.writelines(baseline.render(store.findings(), previous))
    finally:
        store.close()
    return exits.OK
