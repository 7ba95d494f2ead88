"""The on-disk finding store: findings and per-item rows stream into SQLite as they are produced.

No stage holds every finding in memory. Reporters read findings back sorted by
(path, line, rule id); the ordinal that makes equal fingerprints in one file distinct is
assigned on the way out with a window function, so producers never need to remember what
they already wrote.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from assay.errors import StorageError
from assay.model import Finding, Location, RawFinding, RuleId, Severity

_SCHEMA = """
CREATE TABLE findings (
    path TEXT NOT NULL, start_line INTEGER NOT NULL, end_line INTEGER NOT NULL,
    rule_id TEXT NOT NULL, category TEXT NOT NULL, severity INTEGER NOT NULL,
    component TEXT, message TEXT NOT NULL, evidence TEXT NOT NULL,
    base_fp TEXT NOT NULL, properties TEXT NOT NULL
);
CREATE TABLE rows (
    section TEXT NOT NULL, path TEXT NOT NULL, line INTEGER NOT NULL, body TEXT NOT NULL
);
"""
_WS = re.compile(r"\s+")
EncodedRows = tuple[tuple[int, str], ...]
"""Per-item records as the store keeps them: (line, JSON body with sorted keys)."""


def encode_rows(rows: Iterable[Mapping[str, Any]]) -> EncodedRows:
    """Records as ``(line, JSON)``, the form they are stored in."""
    return tuple((int(r.get("line", 0)), json.dumps(dict(r), sort_keys=True)) for r in rows)


def findings_query(table: str = "findings") -> str:
    """Every finding of ``table`` in report order, its fingerprint suffixed with its ordinal
    among equal ones in its file (columns as ``_finding`` reads them; the last is ``fp``)."""
    return (
        "SELECT path, start_line, end_line, rule_id, category, severity, component, message,"
        " evidence, properties, base_fp || ':' || ROW_NUMBER() OVER ("
        "PARTITION BY path, base_fp ORDER BY start_line, end_line, message) AS fp"
        f" FROM {table} ORDER BY path, start_line, rule_id, end_line, fp"
    )


FINDINGS_QUERY = findings_query()
_EMPTY = "{}"
"""The stored ``properties`` of a finding without any (most of them): no JSON to parse."""
_decode = json.JSONDecoder().decode
"""``json.loads`` without its per-call checks (the store only holds what ``json.dumps`` wrote)."""


def base_fingerprint(rule_id: str, path: str, evidence: str) -> str:
    """``sha256(rule-id:path:whitespace-normalised evidence)`` as hex (DESIGN.md)."""
    normal = _WS.sub(" ", evidence).strip()
    return hashlib.sha256(f"{rule_id}:{path}:{normal}".encode()).hexdigest()


class FindingStore:
    """Append findings and rows during an evaluation; read them back sorted afterwards."""

    def __init__(self, path: Path, *, create: bool = False, read_only: bool = False) -> None:
        """Open the store at ``path``: ``create`` starts an empty one, ``read_only`` opens a
        finished one for reading only (e.g. from a reporter's child process)."""
        self.path = path
        try:
            if read_only:
                self._db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
                return
            if create:
                path.unlink(missing_ok=True)
            self._db = sqlite3.connect(path)
            self._db.execute("PRAGMA journal_mode=OFF")
            self._db.execute("PRAGMA synchronous=OFF")
            if create:
                self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open finding store {path}: {exc}") from exc

    def add(
        self,
        category: str,
        severity: Severity,
        path: str,
        raw: RawFinding,
        component: str | None = None,
        fingerprint_path: str | None = None,
    ) -> None:
        """Store one finding of ``path``; its fingerprint uses ``fingerprint_path`` when given
        (the path relative to its component's root, so a moved copy keeps its fingerprints)."""
        fp_path = path if fingerprint_path is None else fingerprint_path
        self._db.execute(
            "INSERT INTO findings VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (
                path, raw.start_line, raw.end_line, raw.rule_id, category,
                int(raw.severity if raw.severity is not None else severity), component,
                raw.message, raw.evidence, base_fingerprint(raw.rule_id, fp_path, raw.evidence),
                json.dumps(dict(raw.properties), sort_keys=True),
            ),
        )  # fmt: skip

    def add_rows(self, section: str, path: str, rows: Iterable[Mapping[str, Any]]) -> None:
        """Store per-item records (e.g. functions) of ``path`` for ``section``."""
        self.add_encoded_rows(section, path, encode_rows(rows))

    def add_encoded_rows(self, section: str, path: str, rows: EncodedRows) -> None:
        """Store records already encoded by ``encode_rows`` (the pool workers encode them)."""
        self._db.executemany(
            "INSERT INTO rows VALUES (?,?,?,?)",
            ((section, path, line, body) for line, body in rows),
        )

    def close_writing(self) -> None:
        """Commit and index; call once when the producers are done."""
        self._db.execute(
            "CREATE INDEX IF NOT EXISTS f_order ON findings(path, start_line, rule_id)"
        )
        self._db.execute("CREATE INDEX IF NOT EXISTS r_order ON rows(section, path, line)")
        self._db.commit()

    def counts(self) -> dict[str, dict[str, int]]:
        """Findings per category and severity label."""
        out: dict[str, dict[str, int]] = {}
        for cat, sev, n in self._db.execute(
            "SELECT category, severity, COUNT(*) FROM findings GROUP BY category, severity"
        ):
            out.setdefault(cat, {})[Severity(sev).label] = n
        return {k: dict(sorted(v.items())) for k, v in sorted(out.items())}

    def tally(self) -> Counter[tuple[str, str, str]]:
        """Findings per (category, rule id, severity label), counted by SQLite."""
        return Counter({
            (cat, rule, Severity(sev).label): n
            for cat, rule, sev, n in self._db.execute(
                "SELECT category, rule_id, severity, COUNT(*) FROM findings"
                " GROUP BY category, rule_id, severity"
            )
        })  # fmt: skip

    def findings(self) -> Iterator[Finding]:
        """Every finding, sorted by (path, line, rule id), with its ordinal-suffixed fingerprint."""
        yield from map(_finding, self._db.execute(FINDINGS_QUERY))

    def rows(self, section: str) -> Iterator[dict[str, Any]]:
        """The records of ``section`` sorted by path and line, each with its ``path``."""
        for path, body in self._db.execute(
            "SELECT path, body FROM rows WHERE section = ? ORDER BY path, line, body", (section,)
        ):
            record: dict[str, Any] = _decode(body)
            record["path"] = path
            yield record

    @property
    def shared(self) -> bool:
        """Whether another connection (e.g. a reporter's child process) reads what this one
        does: the store is a file and nothing written here is left uncommitted."""
        return self.path.is_file() and not self._db.in_transaction

    def close(self) -> None:
        """Close the database."""
        self._db.close()


def _finding(row: tuple[Any, ...]) -> Finding:
    path, start, end, rule, cat, sev, comp, msg, evidence, props, fp = row
    return Finding(
        rule_id=RuleId(rule),
        category=cat,
        severity=Severity(sev),
        location=Location(path=path, start_line=start, end_line=end, component=comp),
        message=msg,
        evidence=evidence,
        fingerprint=fp,
        properties={} if props == _EMPTY else _decode(props),
    )
