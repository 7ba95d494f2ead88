"""One Hyperscan pass per file that tells which binary signature rows may match it.

Each row of ``rules/binary_signatures.toml`` is a Python regex with literals beside it
(``requires``, ``unless``, ``near``); run one by one, the 149 regexes over every file were
almost all of an evaluation's CPU time on a firmware file system (regexes that start with a
NUL byte or a class try at nearly every offset of a binary). Hyperscan (Intel's multi-pattern
regex engine, in its Vectorscan fork, through the ``hyperscan`` bindings) compiles all of them,
once per process, into block-mode databases and reports in one scan which ones occur.

Per file there are two scans, each over the bytes the row reads: the *view* (the string
sections; the whole file for ``anywhere`` rows) for the patterns and the ``near`` anchors, the
whole file for the ``requires`` and ``unless`` literals. A row is a candidate when its pattern
(rewritten by :mod:`.hsregex` to match a superset of the Python regex), its ``requires`` and
its ``near`` were all reported and its ``unless`` was not; only candidates run the exact
Python path (``signatures._matches``), so the hits are the same as running every row. Literals
are matched exactly, so leaving out a row whose ``requires`` is absent or whose ``unless`` is
present drops nothing the exact path would keep.

A row whose pattern cannot be rewritten or that Hyperscan refuses (it matches the empty
buffer, too large) keeps only its literal gates (none: it runs on every file). When the
``hyperscan`` package cannot be imported (no wheel for the platform) or its engine does not
run here, every row runs on every file, as before, and a log line says so.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from assay.analyze.binaries import hsregex

_MISSING = ""
try:
    import hyperscan
except ImportError as exc:  # pragma: no cover - depends on the platform's wheels
    hyperscan = None  # type: ignore[assignment]
    _MISSING = str(exc)

log = logging.getLogger("assay")


@dataclass(frozen=True, slots=True)
class Gate:
    """What one row needs of a file before its regex is worth running."""

    pattern: re.Pattern[bytes] | None = None
    """The row's regex over its view, or ``None`` (a file-name row: no gate at all)."""
    anywhere: bool = False
    """The view is the whole file, not the string sections."""
    requires: bytes | None = None
    """A literal the whole file must contain."""
    unless: bytes | None = None
    """A literal the whole file must not contain."""
    near: bytes | None = None
    """A literal the view must contain."""


@dataclass(frozen=True, slots=True)
class _Need:
    present: tuple[int, ...]
    """Expression ids that must all be reported (the pattern, ``near``, ``requires``)."""
    unless: int | None
    """The id of ``unless``, which must not be reported."""


class Prefilter:
    """The candidate rows of a file, for a fixed sequence of gates (one per row)."""

    def __init__(self, gates: Sequence[Gate], use_hyperscan: bool = True) -> None:
        """``use_hyperscan=False`` builds the table as it is without Hyperscan (every row runs
        on every file), the reference the tests compare with."""
        self.size = len(gates)
        self.active = False
        """Whether Hyperscan runs; when not, every row is a candidate."""
        self.ungated: frozenset[int] = frozenset()
        """Rows with a pattern that is not in the database (they keep their literal gates)."""
        self._needs: dict[int | None, list[tuple[int, _Need]]] = {}
        """Gated rows by the first id they need (``None``: only an ``unless``)."""
        self._always: tuple[int, ...] = tuple(range(self.size))
        self._local = threading.local()
        if not use_hyperscan:
            return
        if hyperscan is None:
            log.warning("hyperscan is not importable (%s): binary signature rows run one by "
                        "one on every file", _MISSING)  # fmt: skip
            return
        try:
            self._build(gates)
        except hyperscan.error as exc:
            log.warning("hyperscan does not run here (%s): binary signature rows run one by "
                        "one on every file", exc)  # fmt: skip
            return
        self.active = True

    def _build(self, gates: Sequence[Gate]) -> None:
        view: dict[bytes, int] = {}
        whole: dict[bytes, int] = {}

        def add(table: dict[bytes, int], expression: bytes) -> int:
            # ids are unique over both databases: one set collects the hits of both scans
            return table.setdefault(expression, len(view) + len(whole))

        wanted: list[tuple[int | None, list[int], int | None]] = []
        for gate in gates:
            pattern: int | None = None
            unless: int | None = None
            needed: list[int] = []
            if gate.pattern is not None:
                own = whole if gate.anywhere else view
                try:
                    pattern = add(own, hsregex.translate(gate.pattern))
                    needed.append(pattern)
                except (hsregex.Untranslatable, re.error):
                    pass
                if gate.near:
                    needed.append(add(own, hsregex.literal(gate.near)))
                if gate.requires:
                    needed.append(add(whole, hsregex.literal(gate.requires)))
                if gate.unless:
                    unless = add(whole, hsregex.literal(gate.unless))
            wanted.append((pattern, needed, unless))
        self._view, self._whole = _compile(view), _compile(whole)
        refused = self._view.refused | self._whole.refused
        always: list[int] = []
        ungated: list[int] = []
        for index, (pattern, needed, unless) in enumerate(wanted):
            need = _Need(
                tuple(i for i in needed if i not in refused),
                None if unless in refused else unless,
            )
            if gates[index].pattern is not None and (pattern is None or pattern in refused):
                ungated.append(index)
            if need.present or need.unless is not None:
                first = need.present[0] if need.present else None
                self._needs.setdefault(first, []).append((index, need))
            else:
                always.append(index)
        self.ungated = frozenset(ungated)
        self._always = tuple(always)

    def candidates(self, data: bytes, view: bytes) -> list[int]:
        """The rows (indices, ascending) that may match a file: ``data`` is its whole content,
        ``view`` the bytes its patterns read (its string sections, or ``data``)."""
        if not self.active:
            return list(range(self.size))
        seen: set[int] = set()

        def found(ident: int, start: int, end: int, flags: int, context: Any) -> None:
            seen.add(ident)

        scratch = self._scratches()
        for database, text in ((self._view, view), (self._whole, data)):
            if database.db is not None:
                database.db.scan(text, match_event_handler=found, scratch=scratch[database.db])
        chosen = [*self._always]
        for first in (None, *seen):
            for index, need in self._needs.get(first, ()):
                if all(i in seen for i in need.present) and need.unless not in seen:
                    chosen.append(index)
        return sorted(chosen)

    def _scratches(self) -> dict[Any, Any]:
        """Hyperscan's scratch space is per thread."""
        scratches: dict[Any, Any] | None = getattr(self._local, "scratches", None)
        if scratches is None:
            scratches = {
                database.db: hyperscan.Scratch(database.db)
                for database in (self._view, self._whole)
                if database.db is not None
            }
            self._local.scratches = scratches
        return scratches


@dataclass(frozen=True, slots=True)
class _Database:
    db: Any
    """The compiled database, ``None`` when it holds no expression."""
    refused: frozenset[int]
    """Ids Hyperscan would not compile (left out)."""


def _compile(expressions: dict[bytes, int]) -> _Database:
    """One block-mode database of ``expressions`` (expression -> id); an expression Hyperscan
    refuses is left out (found by compiling each alone, only when the whole set fails)."""
    flags = hyperscan.HS_FLAG_SINGLEMATCH
    kept = dict(expressions)
    refused: set[int] = set()
    try:
        return _Database(_database(kept, flags), frozenset())
    except hyperscan.error:
        for expression, ident in expressions.items():
            try:
                _database({expression: ident}, flags)
            except hyperscan.error:
                refused.add(ident)
                del kept[expression]
    return _Database(_database(kept, flags), frozenset(refused))


def _database(expressions: dict[bytes, int], flags: int) -> Any:
    if not expressions:
        return None
    database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    database.compile(
        expressions=list(expressions),
        ids=list(expressions.values()),
        elements=len(expressions),
        flags=flags,
    )
    return database
