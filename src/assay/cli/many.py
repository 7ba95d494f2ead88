"""``assay evaluate-many MANIFEST``: evaluate a fleet of products and releases in one command.

The manifest is TOML: an optional ``[defaults]`` table and one ``[[release]]`` table per
evaluation, each with ``product``, ``release`` and ``input`` (relative to the manifest) and
optionally ``config``, ``kb``, ``compile_db`` and ``baseline``. Each release is written to
``OUTPUT/<product>/<release>/``, rated and recorded in the history database exactly as
``assay evaluate --product P --release R`` does; a release that fails is
reported and the others go on (exit code 1 at the end).
"""

from __future__ import annotations

import argparse
import logging
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from assay import pipeline
from assay.cli import exits, flags
from assay.cli.progress import RichProgress
from assay.cli.terminal import printable
from assay.config import load, read_config
from assay.errors import AssayError, ConfigError

log = logging.getLogger("assay")
_KEYS = frozenset({"product", "release", "input", "config", "kb", "compile_db", "baseline"})
_PATH_KEYS = ("input", "config", "kb", "compile_db", "baseline")
_NAME = re.compile(r"^(?!\.\.?$)[^/\\\x00]+$")


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
    except RecursionError:
        raise ConfigError(f"cannot read manifest {path}: nested too deeply") from None
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


def register(sub: flags.Subparsers) -> None:
    """Add ``evaluate-many``."""
    p = sub.add_parser("evaluate-many", help="evaluate every release of a TOML manifest")
    p.add_argument("manifest", type=Path, help="TOML file of [[release]] tables")
    flags.output(p, "output root: one OUTPUT/<product>/<release>/ per release")
    flags.jobs(p)
    flags.db(p, "history database (default: the user's)")
    flags.quiet(p, "no progress, no table")
    flags.execution(p)
    p.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    overrides: dict[str, Any] = {"jobs": flags.jobs_of(args)}
    entries = read_manifest(args.manifest)
    overrides.update(flags.execution_of(args))
    console = Console(stderr=True, quiet=args.quiet, soft_wrap=True)
    outcomes: list[ReleaseResult] = []
    for number, entry in enumerate(entries, 1):
        title = f"{_shown(entry.product)} {_shown(entry.release)}"
        console.rule(f"[{number}/{len(entries)}] {title}")
        outcome = evaluate_one(entry, args.output, overrides, args.db, args.quiet)
        outcomes.append(outcome)
        console.print(_line(outcome))
    console.print(_table(outcomes))
    return exits.FAILED if any(o.error for o in outcomes) else exits.OK


def evaluate_one(
    entry: Entry, root: Path, overrides: Mapping[str, Any], db: Path | None, quiet: bool
) -> ReleaseResult:
    """Evaluate one release into ``root/<product>/<release>``, rate and record it in the
    history ``db`` (``None``: the user's); errors are data."""
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
        result = pipeline.run(
            options,
            baseline=paths["baseline"],
            recording=pipeline.Recording(db, entry.product, entry.release),
            progress=RichProgress(enabled=not quiet),
        )
    except Exception as exc:  # one bad release is reported; the fleet goes on
        detail = str(exc) if isinstance(exc, AssayError) else f"{type(exc).__name__}: {exc}"
        return ReleaseResult(entry, detail)
    for warning in result.warnings:
        log.warning("%s", warning)
    counts = result.evaluation.finding_counts
    findings = sum(sum(c.values()) for c in counts.values())
    return ReleaseResult(entry, None, findings, result.history_id)


def _shown(text: str) -> str:
    """``text`` from the manifest or the input, as Rich prints it: control and bidi
    characters escaped (``terminal.printable``), and no markup."""
    return escape(printable(text))


def _line(outcome: ReleaseResult) -> str:
    if outcome.error is not None:
        return f"[red]failed[/red]: {_shown(outcome.error)}"
    return f"[green]recorded[/green] as #{outcome.evaluation_id}: {outcome.findings} findings"


def _table(outcomes: list[ReleaseResult]) -> Table:
    table = Table(title="evaluate-many")
    for column in ("product", "release", "status", "findings", "history id"):
        table.add_column(column)
    for o in outcomes:
        failed = f"[red]failed[/red]: {_shown(o.error)}" if o.error is not None else ""
        status = failed or "[green]ok[/green]"
        ident = "" if o.evaluation_id is None else str(o.evaluation_id)
        table.add_row(_shown(o.entry.product), _shown(o.entry.release), status, str(o.findings),
                      ident)  # fmt: skip
    return table
