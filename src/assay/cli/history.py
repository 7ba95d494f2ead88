"""``assay history``, ``assay diff``, ``assay baseline`` and the evaluate flags that feed them.

``evaluate`` and ``example`` take ``--baseline FILE`` (suppress the findings an evaluator
decided on), ``--db PATH``, ``--product NAME``, ``--release LABEL`` and ``--no-history``: the
evaluation is rated, recorded in the history database, and its report shows the product's trend.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from assay.assess import baseline
from assay.assess.rating import assess_store
from assay.errors import AssayError, StorageError
from assay.model import Evaluation, Severity
from assay.report import diff
from assay.storage.findings import FindingStore, store_path
from assay.storage.history import History, Snapshot, default_path

EXIT_OK = 0
log = logging.getLogger("assay")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``history``, ``diff`` and ``baseline``."""
    hist = sub.add_parser("history", help="list the recorded evaluations of a product")
    hist.add_argument("product", nargs="?", help="product name (omitted: list the products)")
    _db_option(hist)
    hist.add_argument("--json", action="store_true", help="print JSON")
    hist.set_defaults(run=_history)
    dif = sub.add_parser("diff", help="compare two evaluations: findings and headline figures")
    for side in ("old", "new"):
        dif.add_argument(side, help="evaluation.json, an output directory, a history id "
                         "or PRODUCT@RELEASE")  # fmt: skip
    _db_option(dif)
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


def _db_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", type=Path, help=f"history database (default: {default_path()})")


def add_record_options(p: argparse.ArgumentParser) -> None:
    """The flags of ``evaluate`` and ``example`` that baseline, rate and record."""
    _db_option(p)
    p.add_argument("--product", help="product name in the history (default: the input's name)")
    p.add_argument("--release", help="release label (default: the input's hash, 12 digits)")
    p.add_argument("--baseline", type=Path, help="baseline file: suppress decided findings")
    p.add_argument("--no-history", action="store_true", help="do not record the evaluation")


def prepare(evaluation: Evaluation, store: FindingStore, args: argparse.Namespace) -> Evaluation:
    """Apply the baseline, rate, and attach the product's earlier evaluations (trend)."""
    if args.baseline is not None:
        evaluation = baseline.apply(evaluation, baseline.load(args.baseline), store.findings())
    rating = assess_store(evaluation, store).to_json()
    evaluation = replace(evaluation, rating=rating)
    if args.no_history:
        return evaluation
    try:
        with History(args.db or default_path()) as history:
            return replace(evaluation, trend=history.trend(_product(evaluation, args)))
    except StorageError as exc:
        if args.db is not None:
            raise
        log.warning("history not used: %s", exc)
        return evaluation


@dataclass(frozen=True, slots=True)
class Recorded:
    """What recording an evaluation gave: its history id, or why the default database was
    not used (a warning)."""

    ident: int | None
    warning: str | None = None


@dataclass(frozen=True, slots=True)
class Recorder:
    """Records an evaluation in the history; a picklable task, so the reporters' child can run
    it while the parent writes its reports (``write_all_then``). Everything it depends on is
    resolved when it is made (a child process may have started with another environment)."""

    db: Path
    product: str | None
    release: str | None
    output_dir: Path
    explicit: bool = True
    """Whether ``db`` was given (``--db``): failing to use it is an error, not a warning."""
    disabled: bool = False

    @classmethod
    def of(cls, args: argparse.Namespace, output_dir: Path) -> Recorder:
        """The recorder ``args`` (``--db``, ``--product``, ``--release``, ``--no-history``)
        ask for; ``output_dir`` holds the evaluation's finding store."""
        db = args.db or default_path()
        return cls(db.resolve(), args.product, args.release, output_dir.resolve(),
                   args.db is not None, args.no_history)  # fmt: skip

    def __call__(self, evaluation: Evaluation) -> Recorded:
        """Record ``evaluation`` (unless disabled). The default database failing (read-only
        home, say) is a warning; a ``--db`` failing, an error."""
        if self.disabled:
            return Recorded(None)
        product = self.product or evaluation.input.name
        release = self.release or evaluation.input.sha256[:12]
        try:
            with History(self.db) as history:
                return Recorded(history.record(evaluation, product=product, release=release,
                                               output_dir=self.output_dir))  # fmt: skip
        except StorageError as exc:
            if self.explicit:
                raise
            return Recorded(None, f"evaluation not recorded in the history: {exc}")


def recorded(result: Recorded | None) -> int | None:
    """The history id of a recording; its warning, if any, is logged."""
    if result is None:
        return None
    if result.warning is not None:
        log.warning("%s", result.warning)
    return result.ident


def record(evaluation: Evaluation, args: argparse.Namespace, output_dir: Path) -> int | None:
    """Record the evaluation in the history (unless ``--no-history``) in this process;
    returns its id (see ``Recorder``)."""
    return recorded(Recorder.of(args, output_dir)(evaluation))


def max_severity(evaluation: Evaluation) -> Severity | None:
    """Highest severity among the findings the baseline does not suppress."""
    if not evaluation.rating:
        return evaluation.max_severity()
    top = evaluation.rating.get("max_severity")
    return Severity.parse(top) if top else None


def _product(evaluation: Evaluation, args: argparse.Namespace) -> str:
    return str(args.product or evaluation.input.name)


def _history(args: argparse.Namespace) -> int:
    with History(args.db or default_path()) as history:
        if args.product is None:
            for product in history.products():
                print(product)
            return EXIT_OK
        rows = history.releases(args.product)
    if args.json:
        print(json.dumps([{"id": r.id, "release": r.release, "recorded_at": r.recorded_at,
                           "tool_version": r.tool_version, "input_sha256": r.input_sha256,
                           "verdict": r.verdict, "headline": r.headline} for r in rows],
                         indent=2, sort_keys=True))  # fmt: skip
        return EXIT_OK
    if not rows:
        raise AssayError(f"no evaluation of {args.product!r} recorded")
    for line in history_lines(rows):
        print(line)
    return EXIT_OK


def history_lines(rows: list[Any]) -> list[str]:
    """The table ``assay history`` prints: one release a line with its headline figures."""
    lines = [f"{'id':>4}  {'release':<16}{'recorded (UTC)':<27}{'verdict':<19}{'CVEs':>5}"
             f"{'defeated':>9}{'secrets':>8}{'findings':>9}  copies"]  # fmt: skip
    for r in rows:
        h = r.headline
        copies = ", ".join(f"{name} {row['copies']}x {'/'.join(row['versions']) or '?'}"
                           for name, row in h.get("copies", {}).items())  # fmt: skip
        lines.append(
            f"{r.id:>4}  {r.release:<16}{r.recorded_at:<27}{r.verdict:<19}"
            f"{_cell(h.get('cves')):>5}{_cell(h.get('defeated_functions')):>9}"
            f"{_cell(h.get('secrets')):>8}{sum(h.get('findings', {}).values()):>9}  {copies}"
        )
    return lines


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
            print(line)
    return EXIT_OK


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
    return EXIT_OK
