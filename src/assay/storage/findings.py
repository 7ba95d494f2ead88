"""The on-disk finding store: findings and per-item rows stream into SQLite as they are produced.

No stage holds every finding in memory. Reporters read findings back sorted by
(path, line, rule id). The ordinal that makes equal fingerprints in one file distinct is
assigned as findings arrive, within each batch (``add_all``: the findings of one path from one
analyzer, ordered by line, end line and message); producers never need to remember what they
already wrote. Closing the store checks that no two findings of a file share a fingerprint (a
producer that gave one file's findings of one rule in several batches) and then renumbers them
all with a window function, so the fingerprints never depend on how findings were batched.

Longer than 300 lines: the store, its schema, the fingerprint and the row and finding encodings it
stores are one on-disk format; the encoders run in the worker processes that feed it.
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

WORK_DIR = ".assay"
"""The work area inside an output directory (finding store, extracted archives)."""
STORE_NAME = "findings.sqlite"


def store_path(output_dir: Path) -> Path:
    """Where the finding store of an evaluation written to ``output_dir`` lives."""
    return output_dir / WORK_DIR / STORE_NAME


_SCHEMA = """
CREATE TABLE findings (
    path TEXT NOT NULL, start_line INTEGER NOT NULL, end_line INTEGER NOT NULL,
    rule_id TEXT NOT NULL, category TEXT NOT NULL, severity INTEGER NOT NULL,
    component TEXT, message TEXT NOT NULL, evidence TEXT NOT NULL,
    base_fp TEXT NOT NULL, fp TEXT NOT NULL, properties TEXT NOT NULL
);
CREATE TABLE rows (
    section TEXT NOT NULL, path TEXT NOT NULL, line INTEGER NOT NULL, body TEXT NOT NULL,
    split INTEGER NOT NULL
);
"""
_VERSION = 2
"""Schema version (``PRAGMA user_version``): 2 keeps each finding's numbered fingerprint."""
_WS = re.compile(r"\s+")
EncodedRows = tuple[tuple[int, str, int], ...]
"""Per-item records as the store keeps them: (line, JSON body with sorted keys, the offset in
the body where the record's ``path`` key goes)."""
_ROW_ENCODER = json.JSONEncoder(sort_keys=True, ensure_ascii=False)
"""Rows as evaluation.json writes them, so a stored body is spliced into it unchanged."""


def encode_rows(rows: Iterable[Mapping[str, Any]]) -> EncodedRows:
    """Records (without ``path``: the store adds it) as ``(line, JSON, split)``, the form
    they are stored in; ``split`` is where ``"path"`` sorts among the record's keys."""
    encoded = []
    for row in rows:
        if "path" in row:
            raise ValueError("a row's path is the store's to add")
        body = _ROW_ENCODER.encode(dict(row))
        before = {k: v for k, v in row.items() if k < "path"}
        split = len(_ROW_ENCODER.encode(before)) - 1 if before else 1
        encoded.append((int(row.get("line", 0)), body, split))
    return tuple(encoded)


EncodedFinding = tuple[str, int, int, int | None, str, str, str | None, str]
"""A finding as the pool workers hand it over: (rule id, start line, end line, its own severity
or ``None``, message, evidence, the whitespace-normalised evidence when it differs, properties
as sorted JSON); the store adds the path, the component and the fingerprint."""


def encode_findings(raws: Iterable[RawFinding]) -> tuple[EncodedFinding, ...]:
    """Findings in the form the store inserts (the path-independent part of its rows)."""
    encoded = []
    for raw in raws:
        normal = _WS.sub(" ", raw.evidence).strip()
        properties = json.dumps(dict(raw.properties), sort_keys=True) if raw.properties else _EMPTY
        encoded.append((
            raw.rule_id, raw.start_line, raw.end_line,
            None if raw.severity is None else int(raw.severity), raw.message, raw.evidence,
            None if normal == raw.evidence else normal, properties,
        ))  # fmt: skip
    return tuple(encoded)


def row_json(path: str, body: str, split: int) -> str:
    """A stored row as JSON with its ``path`` in sorted place (the bytes ``json.dumps`` of
    the record with its path gives, keys sorted, non-ASCII kept)."""
    if not (body[:1] == "{" and body[-1:] == "}" and 1 <= split < len(body)):
        raise StorageError(f"corrupt row of {path}: {body[:40]!r}")
    entry = f'"path": {_ROW_ENCODER.encode(path)}'
    if split > 1:
        return f"{body[:split]}, {entry}{body[split:]}"
    return f"{{{entry}{', ' if len(body) > 2 else ''}{body[1:]}"


def findings_query(table: str = "findings") -> str:
    """Every finding of ``table`` in report order, its fingerprint suffixed with its ordinal
    among equal ones in its file (columns as ``_finding`` reads them; the last is ``fp``)."""
    return (
        "SELECT path, start_line, end_line, rule_id, category, severity, component, message,"
        f" evidence, properties, fp FROM {table} ORDER BY path, start_line, rule_id, end_line, fp"
    )


_RENUMBER = (
    "UPDATE findings SET fp = n.base_fp || ':' || n.k FROM (SELECT rowid AS id, base_fp,"
    " ROW_NUMBER() OVER (PARTITION BY path, base_fp ORDER BY start_line, end_line, message)"
    " AS k FROM findings) AS n WHERE findings.rowid = n.id"
)
"""Number every finding among the equal ones of its file (what ``add_all`` does per batch)."""
_SHARED_FP = "SELECT 1 FROM findings GROUP BY path, fp HAVING COUNT(*) > 1 LIMIT 1"


FINDINGS_QUERY = findings_query()
_EMPTY = "{}"
"""The stored ``properties`` of a finding without any (most of them): no JSON to parse."""
_decode = json.JSONDecoder().decode
"""``json.loads`` without its per-call checks (the store only holds what ``json.dumps`` wrote)."""


def base_fingerprint(rule_id: str, path: str, evidence: str) -> str:
    """``sha256(rule-id:path:whitespace-normalised evidence)`` as hex (DESIGN.md)."""
    return _fingerprint(rule_id, path, _WS.sub(" ", evidence).strip())


def _fingerprint(rule_id: str, path: str, normal: str) -> str:
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
            else:
                if create:
                    path.unlink(missing_ok=True)
                self._db = sqlite3.connect(path)
                self._db.execute("PRAGMA journal_mode=OFF")
                self._db.execute("PRAGMA synchronous=OFF")
                if create:
                    self._db.executescript(_SCHEMA)
                    self._db.execute(f"PRAGMA user_version = {_VERSION}")
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open finding store {path}: {exc}") from exc
        if version != _VERSION:
            self._db.close()
            raise StorageError(
                f"finding store {path} has schema {version}, this assay reads {_VERSION}:"
                " evaluate again into this output directory"
            )

    def add(
        self,
        category: str,
        severity: Severity,
        path: str,
        raw: RawFinding,
        component: str | None = None,
        fingerprint_path: str | None = None,
    ) -> None:
        """Store one finding of ``path`` (``severity`` unless the finding has its own); see
        ``add_all``."""
        self.add_all(category, path, [(raw, severity)], component, fingerprint_path)

    def add_all(
        self,
        category: str,
        path: str,
        findings: Iterable[tuple[RawFinding, Severity]],
        component: str | None = None,
        fingerprint_path: str | None = None,
    ) -> None:
        """Store findings of ``path``, each with its rule's severity (unless it has its own);
        see ``add_encoded``."""
        pairs = list(findings)
        severities: dict[str, Severity] = {raw.rule_id: severity for raw, severity in pairs}
        encoded = encode_findings(raw for raw, _ in pairs)
        self.add_encoded(category, path, severities, encoded, component, fingerprint_path)

    def add_encoded(
        self,
        category: str,
        path: str,
        severities: Mapping[str, Severity],
        findings: Iterable[EncodedFinding],
        component: str | None = None,
        fingerprint_path: str | None = None,
    ) -> None:
        """Store findings of ``path`` encoded by ``encode_findings`` (the pool workers encode
        them), each with its rule's severity from ``severities`` unless it has its own; their
        fingerprints use ``fingerprint_path`` when given (the path relative to its component's
        root, so a moved copy keeps its fingerprints). Equal fingerprints in the batch are
        numbered by (line, end line, message); give every finding of one rule in a file in
        one batch (closing the store renumbers them otherwise)."""
        fp_path = path if fingerprint_path is None else fingerprint_path
        rows = [
            [path, start, end, rule, category, int(severities[rule]) if own is None else own,
             component, message, evidence,
             _fingerprint(rule, fp_path, evidence if normal is None else normal), "", props]
            for rule, start, end, own, message, evidence, normal, props in findings
        ]  # fmt: skip
        if not rows:
            return
        _number(rows)
        self._db.executemany("INSERT INTO findings VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)

    def add_rows(self, section: str, path: str, rows: Iterable[Mapping[str, Any]]) -> None:
        """Store per-item records (e.g. functions) of ``path`` for ``section``."""
        self.add_encoded_rows(section, path, encode_rows(rows))

    def add_encoded_rows(self, section: str, path: str, rows: EncodedRows) -> None:
        """Store records already encoded by ``encode_rows`` (the pool workers encode them)."""
        self._db.executemany(
            "INSERT INTO rows VALUES (?,?,?,?,?)",
            ((section, path, line, body, split) for line, body, split in rows),
        )

    def close_writing(self) -> None:
        """Renumber equal fingerprints if batches shared some, index the rows and commit; call
        once when the producers are done."""
        if self._db.execute(_SHARED_FP).fetchone() is not None:
            self._db.execute(_RENUMBER)
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

    def rows_json(self, section: str) -> Iterator[str]:
        """The records of ``section`` as ``rows`` gives them, each already as JSON (sorted
        keys, non-ASCII kept): the stored text with its path spliced in, nothing parsed."""
        for path, body, split in self._db.execute(
            "SELECT path, body, split FROM rows WHERE section = ? ORDER BY path, line, body",
            (section,),
        ):
            yield row_json(path, body, split)

    @property
    def shared(self) -> bool:
        """Whether another connection (e.g. a reporter's child process) reads what this one
        does: the store is a file and nothing written here is left uncommitted."""
        return self.path.is_file() and not self._db.in_transaction

    def close(self) -> None:
        """Close the database."""
        self._db.close()


_BASE, _FP = 9, 10
"""Where a stored finding's base fingerprint and numbered fingerprint are (``add_all``)."""


def _number(rows: list[list[Any]]) -> None:
    """Set each row's fingerprint: its base suffixed with its ordinal among the rows of equal
    base, ordered by (start line, end line, message)."""
    seen: dict[str, int] = {}
    for row in rows:
        seen[row[_BASE]] = seen.get(row[_BASE], 0) + 1
        row[_FP] = f"{row[_BASE]}:1"
    if len(seen) == len(rows):
        return
    for base, count in seen.items():
        if count > 1:
            equal = sorted((r for r in rows if r[_BASE] == base), key=lambda r: (r[1], r[2], r[7]))
            for ordinal, row in enumerate(equal, start=1):
                row[_FP] = f"{base}:{ordinal}"


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
