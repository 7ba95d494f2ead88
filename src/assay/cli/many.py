"""``assay evaluate-many MANIFEST``: evaluate a fleet of products and releases in one command.

The manifest is TOML: an optional ``[defaults]`` table and one ``[[release]]`` table per
evaluation, each with ``product``, ``release`` and ``input`` (relative to the manifest) and
optionally ``config``, ``kb``, ``compile_db`` and ``baseline``. Each release is written to
``OUTPUT/<product>/<release>/``, rated and recorded in the history database exactly as
``assay evaluate --product P --release R`` does; a release that fails is
reported and the others go on (exit code 1 at the end). This module also holds the execution
flags shared with ``evaluate`` (result cache, Dask scheduler).
"""

from __future__ import annotations

import argparse
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from assay.engine import cache
from assay.errors import AssayError, ConfigError

EXIT_OK, EXIT_FAILED = 0, 1
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
_SIZE = re.compile(r"\s*(\d+)\s*([KMGT]?)(?:I?B)?\s*", re.IGNORECASE)
_KEYS = frozenset({"product", "release", "input", "config", "kb", "compile_db", "baseline"})
_PATH_KEYS = ("input", "config", "kb", "compile_db", "baseline")
_NAME = re.compile(r"^(?!\.\.?$)[^/\\\x00]+$")


def parse_size(text: str) -> int:
    """A size such as ``2G``, ``500MiB`` or ``1048576`` in bytes."""
    match = _SIZE.fullmatch(text)
    if match is None:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 2G, 500M)")
    return int(match.group(1)) * _UNITS[match.group(2).upper()]


def add_run_options(p: argparse.ArgumentParser) -> None:
    """The execution flags: result cache and Dask scheduler (they never change results)."""
    p.add_argument("--no-cache", action="store_true", help="do not use the result cache")
    p.add_argument(
        "--cache-dir", type=Path, help=f"result cache directory (default: {cache.default_dir()})"
    )
    p.add_argument(
        "--cache-limit",
        type=parse_size,
        help="result cache size limit, e.g. 500M (default: 2G; least recently used go first)",
    )
    p.add_argument(
        "--scheduler", metavar="ADDRESS", help="run per-file work on this Dask scheduler"
    )
    p.add_argument(
        "--shared-path",
        action="store_true",
        help="with --scheduler: workers read the input at its path instead of receiving it",
    )


def run_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """``Options`` overrides for the execution flags of ``add_run_options``."""
    if args.shared_path and not args.scheduler:
        raise AssayError("--shared-path needs --scheduler")
    return {
        "cache_dir": args.cache_dir or cache.default_dir(),
        "cache_limit": args.cache_limit,
        "no_cache": args.no_cache,
        "scheduler": args.scheduler,
        "shared_path": args.shared_path,
    }


@dataclass(frozen=True, slots=True)
class Entry:
    """One release of the manifest."""

    product: str
    """Product name (a directory name below the output)."""
    release: str
    """Release label (a directory name below the product)."""
    paths: Mapping[str, Path | None]
    """``input``, ``config``, ``kb``, ``compile_db``, ``baseline``, resolved against the
    manifest."""


@dataclass(frozen=True, slots=True)
class ReleaseResult:
    """How one release went."""

    entry: Entry
    """The release."""
    error: str | None
    """Why it failed, ``None`` when it was evaluated and recorded."""
    findings: int = 0
    """Findings stored."""
    evaluation_id: int | None = None
    """Its id in the history database."""


def read_manifest(path: Path) -> list[Entry]:
    """The releases of a manifest, validated before anything runs."""
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read manifest {path}: {exc}") from exc
    defaults = doc.get("defaults", {})
    rows = doc.get("release", [])
    if not isinstance(defaults, dict) or not isinstance(rows, list) or not rows:
        raise ConfigError(f"{path}: expected [[release]] tables (and an optional [defaults])")
    entries = [_entry(path.parent, {**defaults, **row}, n) for n, row in enumerate(rows, 1)]
    seen = {(e.product, e.release) for e in entries}
    if len(seen) != len(entries):
        raise ConfigError(f"{path}: a product and release appear twice")
    return entries


def _entry(base: Path, row: dict[str, Any], number: int) -> Entry:
    unknown = sorted(set(row) - _KEYS)
    if unknown:
        raise ConfigError(f"release {number}: unknown keys {', '.join(unknown)}")
    for key in ("product", "release", "input"):
        if not isinstance(row.get(key), str) or not row[key]:
            raise ConfigError(f"release {number}: {key!r} must be a non-empty string")
    for key in ("product", "release"):
        if not _NAME.match(row[key]):
            raise ConfigError(f"release {number}: {key} {row[key]!r} is not a directory name")
    paths = {k: (base / row[k]) if isinstance(row.get(k), str) else None for k in _PATH_KEYS}
    return Entry(row["product"], row["release"], paths)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``evaluate-many``."""
    p = sub.add_parser("evaluate-many", help="evaluate every release of a TOML manifest")
    p.add_argument("manifest", type=Path, help="TOML file of [[release]] tables")
    p.add_argument("-o", "--output", type=Path, required=True,
                   help="output root: one OUTPUT/<product>/<release>/ per release")  # fmt: skip
    p.add_argument("-j", "--jobs", type=int, help="worker processes (default: all cores)")
    p.add_argument("--db", type=Path, help="history database (default: the user's)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress, no table")
    add_run_options(p)
    p.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    if args.jobs is not None and args.jobs < 1:
        raise AssayError("--jobs must be at least 1")
    entries = read_manifest(args.manifest)
    overrides = {"jobs": args.jobs, **run_overrides(args)}
    console = Console(stderr=True, quiet=args.quiet, soft_wrap=True)
    outcomes: list[ReleaseResult] = []
    for number, entry in enumerate(entries, 1):
        console.rule(f"[{number}/{len(entries)}] {entry.product} {entry.release}")
        outcome = evaluate_one(entry, args.output, overrides, args.db, args.quiet)
        outcomes.append(outcome)
        console.print(_line(outcome))
    console.print(_table(outcomes))
    return EXIT_FAILED if any(o.error for o in outcomes) else EXIT_OK


def evaluate_one(
    entry: Entry, root: Path, overrides: Mapping[str, Any], db: Path | None, quiet: bool
) -> ReleaseResult:
    """Evaluate one release into ``root/<product>/<release>``, rate and record it in the
    history ``db`` (``None``: the user's); errors are data."""
    from assay import engine
    from assay.cli import history as cli_report
    from assay.cli.progress import RichProgress
    from assay.config import load, read_config
    from assay.report import write_all_then
    from assay.storage.findings import FindingStore, store_path

    out = root / entry.product / entry.release
    paths = entry.paths
    try:
        input_path = paths["input"]
        assert input_path is not None  # validated by read_manifest
        if not input_path.exists():
            raise AssayError(f"input {input_path} does not exist")
        config = read_config(paths["config"]) if paths["config"] else {}
        options = load(input_path, out, config, kb=paths["kb"], compile_db=paths["compile_db"],
                       **overrides)  # fmt: skip
        record = argparse.Namespace(db=db, product=entry.product, release=entry.release,
                                    baseline=paths["baseline"], no_history=False)  # fmt: skip
        evaluation = engine.evaluate(options, RichProgress(enabled=not quiet))
        store = FindingStore(store_path(out))
        try:
            evaluation = cli_report.prepare(evaluation, store, record)
            _, result = write_all_then(evaluation, store, out, cli_report.Recorder.of(record, out))
        finally:
            store.close()
        ident = cli_report.recorded(result)
    except Exception as exc:  # one bad release is reported; the fleet goes on
        detail = str(exc) if isinstance(exc, AssayError) else f"{type(exc).__name__}: {exc}"
        return ReleaseResult(entry, detail)
    counts = evaluation.finding_counts
    return ReleaseResult(entry, None, sum(sum(c.values()) for c in counts.values()), ident)


def _line(outcome: ReleaseResult) -> str:
    if outcome.error is not None:
        return f"[red]failed[/red]: {outcome.error}"
    return f"[green]recorded[/green] as #{outcome.evaluation_id}: {outcome.findings} findings"


def _table(outcomes: list[ReleaseResult]) -> Table:
    table = Table(title="evaluate-many")
    for column in ("product", "release", "status", "findings", "history id"):
        table.add_column(column)
    for o in outcomes:
        status = "[green]ok[/green]" if o.error is None else f"[red]failed[/red]: {o.error}"
        ident = "" if o.evaluation_id is None else str(o.evaluation_id)
        table.add_row(o.entry.product, o.entry.release, status, str(o.findings), ident)
    return table
