"""One frozen ``Options`` for an evaluation, merged once: CLI flags > config file > defaults.

The config file is TOML (``--config FILE``, else ``assay.toml`` in the current directory when it
exists). Its ``[ingest]`` and ``[parse]`` tables set limits; every other table is handed, as is, to
the analyzer whose id it names (e.g. ``[unsafe-calls]``), which validates its own settings.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, TypeVar

from assay.errors import ConfigError
from assay.ingest.interface import ArchiveLimits
from assay.model import Severity
from assay.parse import ParseLimits

_L = TypeVar("_L", ArchiveLimits, ParseLimits)


@dataclass(frozen=True, slots=True)
class Options:
    """Everything that decides what one evaluation does."""

    input: Path
    """Directory or archive to evaluate."""
    output_dir: Path
    """Where evaluation.json, results.sarif and report.html are written."""
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    """Worker processes for per-file analysis (1 runs in-process); ``engine.evaluate`` caps it
    at ``max_jobs()`` with a warning (the command line caps ``--jobs`` the same way)."""
    fail_on: Severity | None = None
    """Exit 1 when a finding at or above this severity exists."""
    archive: ArchiveLimits = field(default_factory=ArchiveLimits)
    """Caps against archive bombs."""
    parse: ParseLimits = field(default_factory=ParseLimits)
    """Thresholds above which a source file is skipped."""
    settings: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Per-analyzer settings tables from the config file, keyed by analyzer id."""
    kb: Path | None = None
    """A release knowledge base to use instead of the shipped one and the user's overlay."""
    vulndb: Path | None = None
    """Vulnerability data to use instead of the pinned copy (``scripts/build_vulndb.py``)."""
    compile_db: Path | None = None
    """The vendor's ``compile_commands.json``: label translation units built or not built."""
    keep_work: bool = False
    """Keep the work area (extracted archives, finding store) after the run."""
    cache_dir: Path | None = None
    """Directory of the result cache (``assay.engine.cache``); ``None`` runs without one. The CLI
    passes the user's cache directory unless ``--no-cache`` is given."""
    cache_limit: int = 2 << 30
    """Size limit of the result cache in bytes; the least recently used results go first."""
    no_cache: bool = False
    """Neither read nor write the result cache, even when ``cache_dir`` is set."""
    scheduler: str | None = None
    """Address of a Dask distributed scheduler that runs the per-file work instead of the
    local process pool (``tcp://host:8786``)."""
    shared_path: bool = False
    """With ``scheduler``: the Dask workers see the input at the same path, so batches carry
    paths instead of file contents."""
    categories: tuple[str, ...] = ()
    """Analyzer categories to run (``--only``); empty runs every one. Components and
    vulnerabilities always run: they need no per-file pass."""

    @classmethod
    def default(cls, input: Path, output_dir: Path) -> Options:
        """Defaults for tests and library callers."""
        return cls(input=input, output_dir=output_dir)

    def effective(self) -> dict[str, Any]:
        """The options that change results, as JSON (paths, jobs, cache and scheduler left out:
        they do not; nor the parse step budget, which decides only whether a slow step is
        skipped, and each such skipped record names the budget)."""
        chosen = {"categories": list(self.categories)} if self.categories else {}
        parse = {k: v for k, v in _as_dict(self.parse).items() if k != "step_timeout"}
        return {
            "archive": _as_dict(self.archive),
            "parse": parse,
            "settings": {k: dict(v) for k, v in sorted(self.settings.items())},
            **chosen,
        }


def _as_dict(value: ArchiveLimits | ParseLimits) -> dict[str, Any]:
    return {f.name: getattr(value, f.name) for f in fields(value)}


def _limits(base: _L, table: object, name: str) -> _L:
    """``base`` with the caps of the config table ``[name]``; every cap must be finite and
    positive, and an integer where the default is one (a byte, file or depth count)."""
    if not isinstance(table, dict):
        raise ConfigError(f"[{name}]: expected a table, got {table!r}")
    known = {f.name for f in fields(base)}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(f"[{name}]: unknown keys {', '.join(unknown)}")
    for key, value in table.items():
        _check_cap(f"[{name}] {key}", value, integer=isinstance(getattr(base, key), int))
    return replace(base, **table)


def _check_cap(where: str, value: object, integer: bool) -> None:
    """``ConfigError`` naming ``where`` unless ``value`` is a finite positive number (an
    integer when ``integer``); booleans are not numbers here."""
    kind = "a positive integer" if integer else "a finite positive number"
    allowed = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, allowed):
        raise ConfigError(f"{where}: expected {kind}, got {value!r}")
    assert isinstance(value, int | float)
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(f"{where}: expected {kind}, got {value!r}")


JOBS_PER_CPU = 4
"""``jobs`` above this many per CPU are capped: each job is a worker process, and more of them
than this only adds memory and start-up time."""


def max_jobs() -> int:
    """The most worker processes an evaluation starts: ``JOBS_PER_CPU`` per CPU."""
    return (os.cpu_count() or 1) * JOBS_PER_CPU


def capped_jobs(jobs: int) -> tuple[int, str | None]:
    """``jobs`` capped at ``max_jobs()``, and the warning to give when it was capped."""
    cap = max_jobs()
    if jobs <= cap:
        return jobs, None
    return cap, f"jobs {jobs} capped at {cap} ({JOBS_PER_CPU} per CPU, {cap // JOBS_PER_CPU} CPUs)"


def read_config(path: Path | None) -> dict[str, Any]:
    """Read the TOML config file; ``None`` looks for ``assay.toml`` in the current directory."""
    if path is None:
        path = Path("assay.toml")
        if not path.is_file():
            return {}
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from exc
    except RecursionError:
        raise ConfigError(f"cannot read config file {path}: nested too deeply") from None


def load(input: Path, output_dir: Path, config: Mapping[str, Any], **overrides: Any) -> Options:
    """Merge a config table and CLI overrides (``None`` values are ignored) into ``Options``."""
    table = dict(config)
    archive = _limits(ArchiveLimits(), table.pop("ingest", {}), "ingest")
    parse = _limits(ParseLimits(), table.pop("parse", {}), "parse")
    for key, value in table.items():
        if not isinstance(value, dict):
            raise ConfigError(f"config: top-level key {key!r} must be a table")
    opts = Options(input=input, output_dir=output_dir, archive=archive, parse=parse, settings=table)
    given = {k: v for k, v in overrides.items() if v is not None}
    return replace(opts, **given)
