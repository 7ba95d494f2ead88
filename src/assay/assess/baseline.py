"""Baseline: the findings an evaluator accepted or judged false, carried by fingerprint.

A baseline is a TOML file of ``[[finding]]`` tables (fingerprint, rule, path, status, reason).
``assay baseline init OUTDIR`` writes one with every finding ``open``; the evaluator sets
``status = "accepted"`` or ``"false-positive"`` and a ``reason``. Evaluating with
``--baseline FILE`` suppresses the findings whose fingerprint matches an accepted or false
entry: SARIF marks them with ``suppressions``, evaluation.json lists them, the rating leaves
them out, and ``assay diff`` shows them apart. Entries whose fingerprint no longer occurs are
reported as stale. docs/report.md describes the format.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from assay.errors import ConfigError
from assay.model import Evaluation, Finding

FORMAT_VERSION = 1


class Status(StrEnum):
    """What the evaluator decided about a finding."""

    OPEN = "open"
    ACCEPTED = "accepted"
    FALSE_POSITIVE = "false-positive"

    @property
    def suppresses(self) -> bool:
        """Whether the finding leaves the rating and is marked suppressed."""
        return self is not Status.OPEN


@dataclass(frozen=True, slots=True)
class Entry:
    """One finding in the baseline."""

    fingerprint: str
    """The finding's stable fingerprint: the key that carries it to the next release."""
    rule_id: str
    """Rule that fired (for the reader; matching uses the fingerprint)."""
    path: str
    """Where it was (for the reader)."""
    status: Status
    """The evaluator's decision."""
    reason: str
    """Why; required for accepted and false-positive entries."""


@dataclass(frozen=True, slots=True)
class Baseline:
    """A parsed baseline file."""

    source: str
    """The file it was read from."""
    entries: tuple[Entry, ...]
    """Every entry, in file order."""

    def decided(self) -> dict[str, Entry]:
        """Entries that suppress, by fingerprint."""
        return {e.fingerprint: e for e in self.entries if e.status.suppresses}


def load(path: Path) -> Baseline:
    """Read and validate a baseline file."""
    try:
        return load_text(path.read_text(encoding="utf-8"), path)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read baseline {path}: {exc}") from exc


def load_text(text: str, path: Path = Path("<baseline>")) -> Baseline:
    """Parse and validate the text of a baseline file read from ``path``."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"cannot read baseline {path}: {exc}") from exc
    except RecursionError:
        raise ConfigError(f"cannot read baseline {path}: nested too deeply") from None
    if doc.get("version", FORMAT_VERSION) != FORMAT_VERSION:
        raise ConfigError(f"{path}: unsupported baseline version {doc.get('version')!r}")
    return Baseline(
        str(path), tuple(_entry(path, i, t) for i, t in enumerate(doc.get("finding", [])))
    )


def _entry(path: Path, index: int, table: dict[str, Any]) -> Entry:
    where = f"{path}: finding #{index + 1}"
    fingerprint = table.get("fingerprint")
    if not isinstance(fingerprint, str) or not fingerprint:
        raise ConfigError(f"{where}: missing fingerprint")
    try:
        status = Status(table.get("status", "open"))
    except ValueError:
        choices = ", ".join(s.value for s in Status)
        raise ConfigError(f"{where}: status must be one of {choices}") from None
    reason = str(table.get("reason", "")).strip()
    if status.suppresses and not reason:
        raise ConfigError(f"{where}: status {status.value} needs a reason")
    return Entry(
        fingerprint, str(table.get("rule", "")), str(table.get("path", "")), status, reason
    )


def apply(evaluation: Evaluation, baseline: Baseline, findings: Iterable[Finding]) -> Evaluation:
    """The evaluation with the baseline's decisions: suppressions and a summary of the match."""
    decided = baseline.decided()
    present = {f.fingerprint for f in findings}
    suppressions = {
        fp: {"status": e.status.value, "reason": e.reason}
        for fp, e in sorted(decided.items())
        if fp in present
    }
    stale = sorted(e.fingerprint for e in baseline.entries if e.fingerprint not in present)
    info = {
        "file": Path(baseline.source).name,
        "entries": len(baseline.entries),
        "suppressed": len(suppressions),
        "by_status": {s.value: sum(1 for v in suppressions.values() if v["status"] == s.value)
                      for s in Status if s.suppresses},
        "stale": stale,
    }  # fmt: skip
    return replace(evaluation, suppressions=suppressions, baseline=info)


def render(findings: Iterable[Finding], previous: Baseline | None = None) -> Iterator[str]:
    """A baseline file for ``findings`` (lines), keeping the decisions of ``previous``."""
    known = {e.fingerprint: e for e in previous.entries} if previous else {}
    yield "# assay baseline: set status to accepted or false-positive and give a reason.\n"
    yield "# Entries are matched by fingerprint; see docs/report.md.\n"
    yield f"version = {FORMAT_VERSION}\n"
    for finding in findings:
        old = known.get(finding.fingerprint)
        yield "\n[[finding]]\n"
        yield f"fingerprint = {toml_string(finding.fingerprint)}\n"
        yield f"rule = {toml_string(finding.rule_id)}\n"
        yield f"path = {toml_string(finding.location.path)}\n"
        yield f"line = {finding.location.start_line}\n"
        yield f"message = {toml_string(finding.message)}\n"
        yield f"status = {toml_string(old.status.value if old else Status.OPEN.value)}\n"
        yield f"reason = {toml_string(old.reason if old else '')}\n"


def toml_string(text: str) -> str:
    """A TOML basic string: JSON's escapes are valid TOML escapes, except for surrogates (so
    non-ASCII stays literal, lone surrogates become "?") and DEL, which TOML wants escaped."""
    clean = text.encode("utf-8", "replace").decode("utf-8")
    return json.dumps(clean, ensure_ascii=False).replace("\x7f", "\\u007f")
