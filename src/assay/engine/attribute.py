"""Attribute: credit each unit's outcome to every path holding its content.

Each path's findings go to the finding store with the copy of third-party code it belongs
to (fingerprinted below that copy's root), each analyzer's aggregator sees every path (each
shipped copy counts) and every unique content once, and what could not be evaluated becomes
``Skipped`` records. The state here is private to one evaluation.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from assay.analyze.interface import Aggregator, FileAnalyzer, PathContext
from assay.correlate.components.copies import Ownership, relative_to_root
from assay.engine.plan import Plan, Unit
from assay.engine.worker import Outcome
from assay.ingest.interface import SourceFile
from assay.model import SOURCE_KINDS, Component, JSONValue, RawFinding, Rule, Severity, Skipped
from assay.storage.findings import FindingStore

Finished = tuple[Mapping[str, JSONValue], Iterable[tuple[str, RawFinding]]]
"""What an aggregator's ``finish`` gives: its section and corpus-level findings."""


@dataclass(slots=True)
class Attribution:
    """The per-path bookkeeping of one evaluation."""

    analyzers: tuple[FileAnalyzer, ...]
    store: FindingStore
    directories: Mapping[str, str]
    """Each path's top-level directory (figures per directory)."""
    ownership: Ownership
    severities: Mapping[str, Severity]
    """Default severity of every rule id of the evaluation."""
    aggregators: list[Aggregator] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    lines: Counter[str] = field(default_factory=Counter)
    labels: Counter[str] = field(default_factory=Counter)

    @classmethod
    def start(
        cls,
        analyzers: tuple[FileAnalyzer, ...],
        store: FindingStore,
        files: Sequence[SourceFile],
        components: Sequence[Component],
        rules: Iterable[Rule],
    ) -> Attribution:
        """Fresh bookkeeping: one aggregator per analyzer."""
        return cls(
            analyzers, store, directories([f.path for f in files]), Ownership.of(components),
            {r.id: r.severity for r in rules}, [a.aggregator() for a in analyzers],
        )  # fmt: skip

    def add(self, unit: Unit, outcome: Outcome) -> None:
        """Attribute one content's results to every path that holds it."""
        if outcome.skip is not None:
            reason, detail = outcome.skip
            self.skipped.extend(Skipped(p, "parse", reason, detail) for p in unit.paths)
            return
        self.labels.update({label: len(unit.paths) for label in outcome.labels})
        self.lines["total"] += outcome.lines * len(unit.paths)
        self.lines["unique"] += outcome.lines
        for index, result in outcome.results.items():
            self.aggregators[index].add_unique(result)
        for path in unit.paths:
            self._add_path(path, outcome)
        for index, (reason, detail) in outcome.failures.items():
            stage = self.analyzers[index].id
            self.skipped.extend(Skipped(p, stage, reason, detail) for p in unit.paths)

    def _place(self, path: str) -> tuple[str | None, str]:
        """The key of the copy ``path`` belongs to (``None``: vendor code), and ``path`` below
        that copy's root (what its findings are fingerprinted with)."""
        owner = self.ownership.owner(path)
        return (owner.key if owner else None), relative_to_root(path, owner)

    def _add_path(self, path: str, outcome: Outcome) -> None:
        key, below = self._place(path)
        ctx = PathContext(path, self.directories[path], key)
        for index, result in outcome.results.items():
            analyzer = self.analyzers[index]
            self.aggregators[index].add(ctx, result)
            if encoded := outcome.findings.get(index):
                self.store.add_encoded(analyzer.id, path, self.severities, encoded, key, below)
            rows = outcome.rows.get(index)
            if analyzer.rows_key and rows:
                self.store.add_encoded_rows(analyzer.id, path, rows)

    def store_findings(self, category: str, pairs: Iterable[tuple[str, RawFinding]]) -> None:
        """Store corpus-level findings given as (path, finding), with their copy's key; each
        path's findings in one batch (the store numbers equal fingerprints per batch)."""
        by_path: dict[str, list[RawFinding]] = {}
        for path, raw in pairs:
            by_path.setdefault(path, []).append(raw)
        for path, raws in by_path.items():
            key, below = self._place(path)
            batch = [(r, self.severities[r.rule_id]) for r in raws]
            self.store.add_all(category, path, batch, key, below)

    def finish(self, side: ThreadPoolExecutor | None = None) -> dict[str, Mapping[str, JSONValue]]:
        """Close every aggregator: their sections, and their corpus-level findings stored.

        Aggregators that say ``finish_beside`` (mostly numpy, which releases the GIL: the clone
        matching's sorts) finish on ``side`` while this thread closes the others."""
        beside: dict[int, Future[Finished]] = {}
        if side is not None:
            beside = {
                index: side.submit(aggregator.finish)
                for index, aggregator in enumerate(self.aggregators)
                if getattr(aggregator, "finish_beside", False)
            }
        finished = {i: a.finish() for i, a in enumerate(self.aggregators) if i not in beside}
        finished.update({i: future.result() for i, future in beside.items()})
        sections: dict[str, Mapping[str, JSONValue]] = {}
        for index, analyzer in enumerate(self.analyzers):
            summary, findings = finished[index]
            self.store_findings(analyzer.id, findings)
            sections[analyzer.id] = dict(summary)
        return sections


def directories(paths: Sequence[str]) -> dict[str, str]:
    """Top-level directory of each path below the release root (a lone top folder is skipped)."""
    split = [p.split("/") for p in paths]
    tops = {parts[0] for parts in split}
    depth = 1 if len(tops) == 1 and all(len(parts) > 1 for parts in split) else 0
    return {
        path: parts[depth] if len(parts) > depth + 1 else "."
        for path, parts in zip(paths, split, strict=True)
    }


def inventory(
    files: Sequence[SourceFile], work: Plan, done: Attribution, links: int, skipped: int
) -> dict[str, object]:
    """Files by kind, bytes, lines (every path and unique content), labels."""
    source = [u for u in work.units if u.task.kind in SOURCE_KINDS]
    other = [u for u in work.units if u.task.kind not in SOURCE_KINDS]
    kinds = Counter(f.kind.value for f in files)
    return {
        "files": len(files),
        "bytes": sum(f.size for f in files),
        "unique_contents": len({f.sha256 for f in files}),
        "by_kind": dict(sorted(kinds.items())),
        "out_of_scope_by_kind": dict(sorted(work.out_of_scope.items())),
        "analyzed": {
            "paths": sum(len(u.paths) for u in source),
            "unique_contents": len(source),
            "lines": done.lines["total"],
            "unique_lines": done.lines["unique"],
        },
        "analyzed_other": {  # text, build files, binaries read by the non-C analyzers
            "paths": sum(len(u.paths) for u in other),
            "unique_contents": len(other),
        },
        "labels": dict(sorted(done.labels.items())),
        "symlinks": links,
        "skipped": skipped,
    }
