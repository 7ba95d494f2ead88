"""Command-line flags shared by several sub-commands, each defined once, and their reading
into the library's typed values (``Options`` overrides, ``Recording``, a severity)."""

from __future__ import annotations

import argparse
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from assay.config import capped_jobs
from assay.engine import cache
from assay.errors import AssayError
from assay.model import Severity
from assay.pipeline import Recording
from assay.storage.history import default_path

log = logging.getLogger("assay")
Parser = argparse.ArgumentParser
if TYPE_CHECKING:
    Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]
    """What a command module's ``register`` adds its sub-commands to."""

_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
_SIZE = re.compile(r"\s*(\d+)\s*([KMGT]?)(?:I?B)?\s*", re.IGNORECASE)


def parse_size(text: str) -> int:
    """A size such as ``2G``, ``500MiB`` or ``1048576`` in bytes."""
    match = _SIZE.fullmatch(text)
    if match is None:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 2G, 500M)")
    return int(match.group(1)) * _UNITS[match.group(2).upper()]


def categories(text: str) -> tuple[str, ...]:
    """``--only``'s comma-separated list, blanks dropped, in the order given."""
    ids = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    if not ids:
        raise argparse.ArgumentTypeError("expected at least one category")
    return ids


def output(p: Parser, help: str = "output directory") -> None:
    """``-o/--output``, required."""
    p.add_argument("-o", "--output", type=Path, required=True, help=help)


def jobs(p: Parser) -> None:
    """``-j/--jobs``."""
    p.add_argument("-j", "--jobs", type=int, help="worker processes (default: all cores)")


def fail_on(p: Parser) -> None:
    """``--fail-on``."""
    p.add_argument("--fail-on", choices=[s.label for s in Severity],
                   help="exit 1 when a finding at or above this severity exists")  # fmt: skip


def quiet(p: Parser, help: str) -> None:
    """``-q/--quiet`` (what it silences differs per command)."""
    p.add_argument("-q", "--quiet", action="store_true", help=help)


def config(p: Parser, help: str) -> None:
    """``--config``."""
    p.add_argument("--config", type=Path, help=help)


def db(p: Parser, help: str | None = None) -> None:
    """``--db``: the history database."""
    p.add_argument("--db", type=Path, help=help or f"history database (default: {default_path()})")


def common(p: Parser) -> None:
    """The flags of ``evaluate`` and ``example``."""
    output(p)
    jobs(p)
    fail_on(p)
    config(p, "TOML config file (default: ./assay.toml)")
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
        type=categories,
        help="run only these analyzer categories, comma-separated (e.g. unsafe-calls,"
        "complexity); components and vulnerabilities always run",
    )
    quiet(p, "no progress bar, no summary")
    execution(p)
    record(p)


def execution(p: Parser) -> None:
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


def record(p: Parser) -> None:
    """The flags that baseline, rate and record an evaluation."""
    db(p)
    p.add_argument("--product", help="product name in the history (default: the input's name)")
    p.add_argument("--release", help="release label (default: the input's hash, 12 digits)")
    p.add_argument("--baseline", type=Path, help="baseline file: suppress decided findings")
    p.add_argument("--no-history", action="store_true", help="do not record the evaluation")


def jobs_of(args: argparse.Namespace) -> int | None:
    """``--jobs``, checked, and capped at ``config.max_jobs()`` with one warning."""
    if args.jobs is None:
        return None
    if args.jobs < 1:
        raise AssayError("--jobs must be at least 1")
    jobs, warning = capped_jobs(int(args.jobs))
    if warning is not None:
        log.warning("--%s", warning)
    return jobs


def fail_on_of(args: argparse.Namespace) -> Severity | None:
    """``--fail-on`` as a severity."""
    return Severity.parse(args.fail_on) if args.fail_on else None


def execution_of(args: argparse.Namespace) -> dict[str, Any]:
    """``Options`` overrides for the execution flags (``execution``)."""
    if args.shared_path and not args.scheduler:
        raise AssayError("--shared-path needs --scheduler")
    return {
        "cache_dir": args.cache_dir or cache.default_dir(),
        "cache_limit": args.cache_limit,
        "no_cache": args.no_cache,
        "scheduler": args.scheduler,
        "shared_path": args.shared_path,
    }


def recording_of(args: argparse.Namespace) -> Recording:
    """The history settings of the record flags (``record``)."""
    return Recording(args.db, args.product, args.release, enabled=not args.no_history)
