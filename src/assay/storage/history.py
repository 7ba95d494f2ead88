"""The history database: every evaluation of a product, its headline figures and fingerprints.

One SQLite file (``default_path()``, or ``--db``) holds, per recorded evaluation, the product and
release label, the envelope (tool version, input hash, time), the headline figures (``headline``)
and one row per finding: fingerprint, rule, category, severity, path, line, the key of the
component copy that owns it, baseline status, and its message and evidence cut to one line each
(``one_line``), so that ``assay diff`` can say what changed without the output directory. The
full evidence stays in the evaluation's own output directory.

Schema 2 added the line, component, message and evidence; a schema 1 database is migrated in
place when opened (its findings keep empty texts and no component).

Longer than 300 lines: the schema, its migration, recording and reading back are one on-disk
format, kept together.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import platformdirs

from assay.assess.rating import Facts, recorded_or_rated
from assay.errors import StorageError
from assay.model import Evaluation, Severity
from assay.storage.findings import findings_query, store_path

_VERSION = 2
"""Schema version (``PRAGMA user_version``): 2 keeps each finding's line, component, message
and evidence."""
MESSAGE_CHARS = 200
"""Longest message the history keeps (cut with an ellipsis)."""
EVIDENCE_CHARS = 120
"""Longest evidence line the history keeps (cut with an ellipsis)."""
_LABELS = " ".join(f"WHEN {int(s)} THEN '{s.label}'" for s in Severity)
"""SQL ``CASE`` arms from a stored severity number to its label."""
_SCHEMA = """
CREATE TABLE IF NOT EXISTS evaluations (
    id INTEGER PRIMARY KEY, product TEXT NOT NULL, release TEXT NOT NULL,
    recorded_at TEXT NOT NULL, tool_version TEXT NOT NULL, input_name TEXT NOT NULL,
    input_sha256 TEXT NOT NULL, verdict TEXT NOT NULL, headline TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS e_product ON evaluations(product, id);
CREATE TABLE IF NOT EXISTS findings (
    evaluation_id INTEGER NOT NULL REFERENCES evaluations(id), fingerprint TEXT NOT NULL,
    rule_id TEXT NOT NULL, category TEXT NOT NULL, severity TEXT NOT NULL, path TEXT NOT NULL,
    status TEXT NOT NULL, reason TEXT NOT NULL, line INTEGER NOT NULL DEFAULT 0,
    component TEXT NOT NULL DEFAULT '', message TEXT NOT NULL DEFAULT '',
    evidence TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS f_eval ON findings(evaluation_id, fingerprint);
"""
_MIGRATE_1 = (
    "ALTER TABLE findings ADD COLUMN line INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE findings ADD COLUMN component TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE findings ADD COLUMN message TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE findings ADD COLUMN evidence TEXT NOT NULL DEFAULT ''",
)
"""Schema 1 to 2: the columns schema 2 added, empty for the findings already recorded."""
_COLUMNS = (
    "fingerprint, rule_id, category, severity, path, status, reason, line, component, message,"
    " evidence"
)
"""The columns ``FindingRef`` is built from, in its field order."""


def one_line(text: str, limit: int) -> str:
    """The first non-blank line of ``text``, stripped and cut to ``limit`` characters (the
    last one an ellipsis when cut)."""
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    return line if len(line) <= limit else line[: limit - 1] + "\u2026"


def default_path() -> Path:
    """The history database in the user's data directory."""
    return Path(platformdirs.user_data_dir("assay")) / "history.sqlite"


@dataclass(frozen=True, slots=True)
class FindingRef:
    """What the history keeps of one finding."""

    fingerprint: str
    """Stable fingerprint (DESIGN.md)."""
    rule_id: str
    """The rule that fired."""
    category: str
    """Category id."""
    severity: str
    """Severity label."""
    path: str
    """Path relative to the evaluated root."""
    status: str = ""
    """Baseline status (``accepted`` or ``false-positive``), empty when not suppressed."""
    reason: str = ""
    """The evaluator's reason for the status."""
    line: int = 0
    """First line of the finding (0 when recorded before history schema 2)."""
    component: str = ""
    """Key of the component copy that owns the finding (``zlib@1.2.11:third_party/zlib``),
    empty for the vendor's own code."""
    message: str = ""
    """The finding's message, one line of at most ``MESSAGE_CHARS`` characters."""
    evidence: str = ""
    """The first line of its evidence, at most ``EVIDENCE_CHARS`` characters."""


@dataclass(frozen=True, slots=True)
class ReleaseRow:
    """One recorded evaluation as ``assay history`` lists it."""

    id: int
    """Evaluation id in the database."""
    product: str
    """Product name."""
    release: str
    """Release label."""
    recorded_at: str
    """UTC time of recording (ISO 8601)."""
    tool_version: str
    """assay version that evaluated it."""
    input_sha256: str
    """Archive sha256 or tree hash."""
    verdict: str
    """Overall verdict."""
    headline: Mapping[str, Any]
    """Headline figures (``headline()``)."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A recorded evaluation with its findings: one side of a diff."""

    label: str
    """``product@release`` or the file it was read from."""
    headline: Mapping[str, Any]
    """Headline figures."""
    findings: tuple[FindingRef, ...]
    """Every finding, sorted by fingerprint."""


def headline(
    sections: Mapping[str, Mapping[str, Any]],
    rating: Mapping[str, Any],
    counts: Mapping[tuple[str, str, str], int],
    suppressed: int,
) -> dict[str, Any]:
    """The headline figures of an evaluation, from its sections, rating and unsuppressed counts."""
    libraries = sections.get("components", {}).get("libraries", {})
    families = sections.get("unsafe-calls", {}).get("families", {})
    defeated = sections.get("safe-defeated")
    by_category: Counter[str] = Counter()
    for (category, _, _), n in counts.items():
        by_category[category] += n
    return {
        "verdict": rating.get("verdict"),
        "grades": {k: v["grade"] for k, v in rating.get("categories", {}).items()},
        "copies": {name: {"copies": row.get("copies", 0), "versions": row.get("versions", [])}
                   for name, row in sorted(libraries.items())},
        "shipped": _shipped(sections.get("binaries", {}).get("components", [])),
        "unsafe_share": {name: row.get("share_unbounded")
                         for name, row in sorted(families.items())},
        "defeated_functions": len(defeated.get("names", [])) if defeated is not None else None,
        "secrets": by_category["secrets"] if "secrets" in sections or by_category["secrets"]
        else None,
        "cves": sections.get("vulnerabilities", {}).get("summary", {}).get("distinct_cves"),
        "findings": dict(sorted(by_category.items())),
        "suppressed": suppressed,
    }  # fmt: skip


def _shipped(rows: Any) -> dict[str, dict[str, Any]]:
    """Products named in the shipped binaries: name -> ``files`` (how many files name it) and
    ``versions`` (sorted; an unversioned product has none), so that a diff shows a binary
    library upgraded, added or removed as ``shipped.zlib.versions``."""
    found: dict[str, dict[str, Any]] = {}
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, Mapping) or not isinstance(row.get("name"), str):
            continue
        entry = found.setdefault(row["name"], {"files": 0, "versions": set()})
        entry["files"] += int(row.get("count") or 0)
        if isinstance(row.get("version"), str):
            entry["versions"].add(row["version"])
    return {name: {"files": entry["files"], "versions": sorted(entry["versions"])}
            for name, entry in sorted(found.items())}  # fmt: skip


def unsuppressed_counts(refs: Iterable[FindingRef]) -> Counter[tuple[str, str, str]]:
    """Findings per (category, rule, severity label), leaving out suppressed ones."""
    return Counter((r.category, r.rule_id, r.severity) for r in refs if not r.status)


class History:
    """The history database; a context manager that closes it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, timeout=30)
            self._db.execute("PRAGMA foreign_keys=ON")
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > _VERSION:
                raise StorageError(f"{path}: history schema {version} is newer than assay's")
            if version == 1:
                self._migrate()
            self._db.executescript(_SCHEMA)
            self._db.execute(f"PRAGMA user_version={_VERSION}")
        except (sqlite3.Error, OSError) as exc:
            raise StorageError(f"cannot open history database {path}: {exc}") from exc

    def _migrate(self) -> None:
        """Schema 1 to 2 in one write transaction; a process that migrated the database in
        the meantime leaves nothing to do."""
        self._db.commit()
        self._db.execute("BEGIN IMMEDIATE")
        try:
            if self._db.execute("PRAGMA user_version").fetchone()[0] == 1:
                for statement in _MIGRATE_1:
                    self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version={_VERSION}")
            self._db.commit()
        except BaseException:
            self._db.rollback()
            raise

    def __enter__(self) -> History:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def record(
        self, evaluation: Evaluation, *, product: str, release: str, output_dir: Path
    ) -> int:
        """Store one evaluation written to ``output_dir``; returns its id. Findings stream from
        the store into the database (one pass, nothing held), the headline follows them."""
        store = store_path(output_dir)
        if not store.is_file():
            raise StorageError(f"cannot record: no finding store at {store}")
        try:
            self._db.execute("ATTACH DATABASE ? AS run", (str(store),))
            try:
                with self._db:
                    ident = self._insert(evaluation, product, release)
                    counts = self._copy_findings(ident, evaluation.suppressions)
                    suppressed = self._db.execute(
                        "SELECT COUNT(*) FROM findings WHERE evaluation_id = ? AND status != ''",
                        (ident,),
                    ).fetchone()[0]
                    rating = recorded_or_rated(
                        evaluation.rating, lambda: Facts(evaluation.sections, counts)
                    )
                    figures = headline(evaluation.sections, rating, counts, suppressed)
                    self._db.execute(
                        "UPDATE evaluations SET verdict = ?, headline = ? WHERE id = ?",
                        (rating["verdict"], json.dumps(figures, sort_keys=True), ident),
                    )
            finally:
                self._db.execute("DETACH DATABASE run")
        except sqlite3.Error as exc:
            raise StorageError(f"cannot record into {self.path}: {exc}") from exc
        return ident

    def _copy_findings(
        self, ident: int, marks: Mapping[str, Mapping[str, str]]
    ) -> Counter[tuple[str, str, str]]:
        """Copy the attached store's findings (in report order) inside SQLite, mark the
        suppressed ones, and count the others per (category, rule, severity label)."""
        self._db.create_function("one_line", 2, one_line, deterministic=True)
        self._db.execute(
            f"INSERT INTO findings (evaluation_id, {_COLUMNS}) SELECT ?, fp, rule_id, category,"
            f" CASE severity {_LABELS} END, path, '', '', start_line, coalesce(component, ''),"
            f" one_line(message, {MESSAGE_CHARS}), one_line(evidence, {EVIDENCE_CHARS})"
            f" FROM ({findings_query('run.findings')})",
            (ident,),
        )
        self._db.executemany(
            "UPDATE findings SET status = ?, reason = ?"
            " WHERE evaluation_id = ? AND fingerprint = ?",
            ((m.get("status", ""), m.get("reason", ""), ident, fp) for fp, m in marks.items()),
        )
        rows = self._db.execute(
            "SELECT category, rule_id, severity, COUNT(*) FROM findings"
            " WHERE evaluation_id = ? AND status = '' GROUP BY category, rule_id, severity",
            (ident,),
        )
        return Counter({(cat, rule, sev): n for cat, rule, sev, n in rows})

    def _insert(self, evaluation: Evaluation, product: str, release: str) -> int:
        cursor = self._db.execute(
            "INSERT INTO evaluations (product, release, recorded_at, tool_version,"
            " input_name, input_sha256, verdict, headline) VALUES (?,?,?,?,?,?,'','{}')",
            (product, release, datetime.now(UTC).isoformat(timespec="seconds"),
             evaluation.tool_version, evaluation.input.name, evaluation.input.sha256),
        )  # fmt: skip
        return int(cursor.lastrowid or 0)

    def releases(self, product: str) -> list[ReleaseRow]:
        """Every recorded evaluation of ``product``, oldest first."""
        return list(self._rows("WHERE product = ? ORDER BY id", (product,)))

    def trend(self, product: str) -> tuple[dict[str, Any], ...]:
        """The product's recorded evaluations as ``Evaluation.trend`` wants them (for the
        report's trend: release, time, verdict, headline), oldest first."""
        return tuple({"release": r.release, "recorded_at": r.recorded_at, "verdict": r.verdict,
                      "headline": dict(r.headline)} for r in self.releases(product))  # fmt: skip

    def products(self) -> list[str]:
        """Every product recorded, sorted."""
        return [
            p for (p,) in self._db.execute("SELECT DISTINCT product FROM evaluations ORDER BY 1")
        ]

    def find(self, ref: int | str) -> ReleaseRow:
        """The evaluation ``ref`` names: an id (``12``, ``#12``) or ``product@release`` (latest
        evaluation of that release)."""
        text = str(ref).removeprefix("#")
        if text.isdigit():
            rows = list(self._rows("WHERE id = ?", (int(text),)))
        else:
            product, at, release = text.rpartition("@")
            if not at:
                raise StorageError(f"not an evaluation id or PRODUCT@RELEASE: {ref!r}")
            rows = list(self._rows("WHERE product = ? AND release = ? ORDER BY id DESC LIMIT 1",
                                   (product, release)))  # fmt: skip
        if not rows:
            raise StorageError(f"no evaluation {ref!r} in {self.path}")
        return rows[0]

    def load(self, ref: int | str) -> Snapshot:
        """The evaluation ``ref`` names (see ``find``) with its findings."""
        row = self.find(ref)
        query = f"SELECT {_COLUMNS} FROM findings WHERE evaluation_id = ? ORDER BY fingerprint"
        found = tuple(FindingRef(*r) for r in self._db.execute(query, (row.id,)))
        return Snapshot(f"{row.product}@{row.release}", row.headline, found)

    def previous(self, product: str, before: int) -> ReleaseRow | None:
        """The evaluation of ``product`` recorded just before id ``before``, if any."""
        rows = list(self._rows("WHERE product = ? AND id < ? ORDER BY id DESC LIMIT 1",
                               (product, before)))  # fmt: skip
        return rows[0] if rows else None

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def _rows(self, where: str, params: tuple[Any, ...]) -> Iterator[ReleaseRow]:
        query = (
            "SELECT id, product, release, recorded_at, tool_version, input_sha256, verdict,"
            f" headline FROM evaluations {where}"
        )
        for ident, product, release, at, tool, sha, verdict, figures in self._db.execute(
            query, params
        ):
            yield ReleaseRow(ident, product, release, at, tool, sha, verdict, json.loads(figures))
