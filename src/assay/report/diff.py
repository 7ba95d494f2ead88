"""``assay diff``: what changed between two evaluations of a product.

Either side is a stored evaluation (``History.load``) or an ``evaluation.json`` file
(``from_json``). Findings are matched by fingerprint, which is a multiset (two copies of one
library give the same fingerprint at two paths): equal fingerprints pair on the same path first,
then in path order; what stays unpaired is new or fixed. Findings the newer side's baseline
suppresses are listed apart, not as new or persisting. Every headline figure is listed with its
old and new value.

A component copy's findings are fingerprinted relative to the copy's root, but a new version of
the library changes their evidence and lines, so most of them come out as fixed and new at
once. The new and fixed findings of a copy whose version changed (or that came or went) are
therefore grouped per copy (``ComponentChange``: ``curl 7.74.0 -> 7.88.1: 470 removed, 464
added``); the others (the vendor's own code, and copies whose version stayed) are listed one by
one with their line, message and evidence line, so the real changes stand out.

Longer than 300 lines: the comparison, its groups, its two kinds of input and its JSON and text
forms are one command's output, kept together.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assay.assess.rating import Facts, recorded_or_rated
from assay.errors import ConfigError
from assay.storage.history import (
    EVIDENCE_CHARS,
    MESSAGE_CHARS,
    FindingRef,
    Snapshot,
    headline,
    one_line,
    unsuppressed_counts,
)

_HEAD_KEYS = {"schema_version", "tool", "input", "options", "inventory", "summary", "rules",
              "skipped", "findings", "rating", "baseline"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Change:
    """One headline figure on both sides."""

    figure: str
    """Dotted name, e.g. ``copies.zlib`` or ``unsafe_share.strcpy-like``."""
    old: Any
    """Value in the older evaluation (``None`` when absent)."""
    new: Any
    """Value in the newer evaluation (``None`` when absent)."""

    @property
    def changed(self) -> bool:
        """Whether the value differs."""
        return bool(self.old != self.new)


@dataclass(frozen=True, slots=True)
class ComponentChange:
    """The new and fixed findings of one component copy whose version changed, or that was
    added or removed: findings replaced by the upgrade, not changes of the vendor's code."""

    name: str
    """Library name (``zlib``)."""
    root: str
    """The copy's root directory (``.`` for the evaluated root)."""
    old_version: str | None
    """Version in the older evaluation (``None``: no finding of the copy there)."""
    new_version: str | None
    """Version in the newer evaluation (``None``: no finding of the copy there)."""
    removed: tuple[FindingRef, ...]
    """Its findings of the older side gone from the newer one."""
    added: tuple[FindingRef, ...]
    """Its unsuppressed findings of the newer side the older one did not have."""

    @property
    def change(self) -> str:
        """``replaced`` (the version changed), ``added`` or ``removed`` (the copy)."""
        if self.old_version is None:
            return "added"
        return "removed" if self.new_version is None else "replaced"

    @property
    def versions(self) -> str:
        """``curl 7.74.0 -> 7.88.1``, ``expat 2.2.10 removed``, ``lwip 2.1.3 added``."""
        if self.old_version is not None and self.new_version is not None:
            return f"{self.name} {self.old_version} -> {self.new_version}"
        return f"{self.name} {self.old_version or self.new_version} {self.change}"

    def to_json(self) -> dict[str, Any]:
        """The group as JSON: name, root, versions, change and counts (its findings carry the
        group's id in the diff's lists)."""
        return {
            "name": self.name, "root": self.root, "old_version": self.old_version,
            "new_version": self.new_version, "change": self.change,
            "removed": len(self.removed), "added": len(self.added),
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class Diff:
    """The comparison of two evaluations."""

    old: str
    """Label of the older side."""
    new: str
    """Label of the newer side."""
    introduced: tuple[FindingRef, ...]
    """Unsuppressed findings of the newer side that the older one did not have."""
    fixed: tuple[FindingRef, ...]
    """Findings of the older side gone from the newer one."""
    persisting: tuple[FindingRef, ...]
    """Unsuppressed findings on both sides (the newer side's record)."""
    suppressed: tuple[FindingRef, ...]
    """Findings of the newer side its baseline suppresses (with status and reason)."""
    figures: tuple[Change, ...]
    """Every headline figure, sorted by name."""
    components: tuple[ComponentChange, ...] = ()
    """The copies whose version changed (or that came or went) with their new and fixed
    findings, sorted by (name, root)."""
    listed_new: tuple[FindingRef, ...] = ()
    """The new findings no ``ComponentChange`` holds: the vendor's own code and unchanged
    copies."""
    listed_fixed: tuple[FindingRef, ...] = ()
    """The fixed findings no ``ComponentChange`` holds."""

    def to_json(self) -> dict[str, Any]:
        """The diff as JSON: every finding with its line, message, evidence line and component
        group (``null`` for the ones listed one by one), the groups, the figures."""
        groups = {(ref.path, ref.fingerprint): f"{c.name}:{c.root}"
                  for c in self.components for ref in (*c.removed, *c.added)}  # fmt: skip

        def refs(items: Iterable[FindingRef]) -> list[dict[str, Any]]:
            return [
                {"fingerprint": r.fingerprint, "rule_id": r.rule_id, "category": r.category,
                 "severity": r.severity, "path": r.path, "line": r.line,
                 "component": r.component or None, "message": r.message,
                 "evidence": r.evidence, "status": r.status, "reason": r.reason,
                 "group": groups.get((r.path, r.fingerprint))}
                for r in items
            ]  # fmt: skip

        return {
            "old": self.old, "new": self.new, "new_findings": refs(self.introduced),
            "fixed": refs(self.fixed), "persisting": refs(self.persisting),
            "suppressed": refs(self.suppressed),
            "component_changes": [
                {**c.to_json(), "group": f"{c.name}:{c.root}"} for c in self.components
            ],
            "listed": {"new_findings": refs(self.listed_new), "fixed": refs(self.listed_fixed)},
            "figures": [{"figure": c.figure, "old": c.old, "new": c.new, "changed": c.changed}
                        for c in self.figures],
        }  # fmt: skip


def compare(old: Snapshot, new: Snapshot) -> Diff:
    """Match findings by fingerprint and compare every headline figure."""
    introduced: list[FindingRef] = []
    fixed: list[FindingRef] = []
    persisting: list[FindingRef] = []
    suppressed: list[FindingRef] = []
    olds, news = _by_fingerprint(old.findings), _by_fingerprint(new.findings)
    for fp in sorted(olds.keys() | news.keys()):
        paired, gone, came = _pair(olds.get(fp, []), news.get(fp, []))
        fixed.extend(gone)
        for refs, target in ((paired, persisting), (came, introduced)):
            for ref in refs:
                (suppressed if ref.status else target).append(ref)
    order = _order
    introduced.sort(key=order)
    fixed.sort(key=order)
    groups = tuple(_component_changes(old.findings, new.findings, fixed, introduced))
    grouped = {id(ref) for group in groups for ref in (*group.removed, *group.added)}
    return Diff(
        old.label, new.label, tuple(introduced), tuple(fixed),
        tuple(sorted(persisting, key=order)), tuple(sorted(suppressed, key=order)),
        tuple(_figures(old.headline, new.headline)), groups,
        tuple(r for r in introduced if id(r) not in grouped),
        tuple(r for r in fixed if id(r) not in grouped),
    )  # fmt: skip


def _copy(key: str) -> tuple[str, str, str] | None:
    """(name, root, version) of a component key ``name@version:root``; ``None`` for none."""
    name, at, rest = key.partition("@")
    if not (key and at):
        return None
    version, _, root = rest.partition(":")
    return name, root, version


def _versions(refs: Iterable[FindingRef]) -> dict[tuple[str, str], set[str]]:
    """The versions each copy (name, root) has among ``refs``."""
    out: dict[tuple[str, str], set[str]] = defaultdict(set)
    for ref in refs:
        copy = _copy(ref.component)
        if copy is not None:
            out[copy[:2]].add(copy[2])
    return out


def _component_changes(
    old: Iterable[FindingRef],
    new: Iterable[FindingRef],
    fixed: list[FindingRef],
    introduced: list[FindingRef],
) -> Iterator[ComponentChange]:
    """One group per copy whose versions differ between the two sides, holding its fixed
    and new findings; copies of the same version on both sides make no group."""
    before, after = _versions(old), _versions(new)
    gone, came = _by_copy(fixed), _by_copy(introduced)
    for copy in sorted(gone.keys() | came.keys()):
        was, now = before.get(copy, set()), after.get(copy, set())
        if was != now:
            yield ComponentChange(
                copy[0], copy[1], "/".join(sorted(was)) or None, "/".join(sorted(now)) or None,
                tuple(gone.get(copy, ())), tuple(came.get(copy, ())),
            )  # fmt: skip


def _by_copy(refs: Iterable[FindingRef]) -> dict[tuple[str, str], list[FindingRef]]:
    out: dict[tuple[str, str], list[FindingRef]] = defaultdict(list)
    for ref in refs:
        copy = _copy(ref.component)
        if copy is not None:
            out[copy[:2]].append(ref)
    return out


def _order(ref: FindingRef) -> tuple[str, str, str]:
    return (ref.path, ref.rule_id, ref.fingerprint)


def _by_fingerprint(refs: Iterable[FindingRef]) -> dict[str, list[FindingRef]]:
    out: dict[str, list[FindingRef]] = defaultdict(list)
    for ref in refs:
        out[ref.fingerprint].append(ref)
    return out


def _pair(
    olds: list[FindingRef], news: list[FindingRef]
) -> tuple[list[FindingRef], list[FindingRef], list[FindingRef]]:
    """(newer records paired, older unpaired, newer unpaired): same path first, then in order."""
    left = sorted(olds, key=_order)
    right = sorted(news, key=_order)
    paired: list[FindingRef] = []
    for ref in list(right):
        match = next((o for o in left if o.path == ref.path), None)
        if match is not None:
            left.remove(match)
            right.remove(ref)
            paired.append(ref)
    count = min(len(left), len(right))
    paired.extend(right[:count])
    return paired, left[count:], right[count:]


def _flatten(figures: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in figures.items():
        if isinstance(value, Mapping):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def _figures(old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[Change]:
    # a group of figures one side does not have at all was recorded by an older assay: not
    # compared, else everything in it would read as added or removed
    unknown = {k for k in old.keys() ^ new.keys() if isinstance({**old, **new}[k], Mapping)}
    before = dict(_flatten({k: v for k, v in old.items() if k not in unknown}))
    after = dict(_flatten({k: v for k, v in new.items() if k not in unknown}))
    for name in sorted(before.keys() | after.keys()):
        yield Change(name, before.get(name), after.get(name))


def from_json(path: Path) -> Snapshot:
    """One side of a diff read from an ``evaluation.json`` file."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        refs = tuple(_ref(f) for f in doc["findings"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{path}: not a readable evaluation.json ({exc})") from exc
    sections = {k: v for k, v in doc.items() if k not in _HEAD_KEYS and isinstance(v, dict)}
    counts = unsuppressed_counts(refs)
    rating = recorded_or_rated(doc.get("rating") or {}, lambda: Facts(sections, counts))
    figures = headline(sections, rating, counts, sum(1 for r in refs if r.status))
    return Snapshot(str(path), figures, refs)


def _ref(finding: Mapping[str, Any]) -> FindingRef:
    """What the history would keep of one finding of evaluation.json."""
    mark = finding.get("suppression") or {}
    return FindingRef(
        finding["fingerprint"], finding["rule_id"], finding["category"], finding["severity"],
        finding["path"], mark.get("status", ""), mark.get("reason", ""),
        int(finding.get("start_line") or 0), finding.get("component") or "",
        one_line(str(finding.get("message") or ""), MESSAGE_CHARS),
        one_line(str(finding.get("evidence") or ""), EVIDENCE_CHARS),
    )  # fmt: skip


def render_text(diff: Diff, *, all_figures: bool = False) -> Iterator[str]:
    """The diff as lines for a terminal: figures, the copies whose version changed, then the
    other findings new and fixed, and the suppressed ones. The lines carry text from the
    evaluated input: a terminal gets them through ``assay.cli.terminal.printable``."""
    yield f"assay diff {diff.old} -> {diff.new}"
    yield (
        f"findings: {len(diff.introduced)} new, {len(diff.fixed)} fixed, "
        f"{len(diff.persisting)} persisting, {len(diff.suppressed)} suppressed by the baseline"
    )
    yield "figures:"
    for change in diff.figures:
        if change.changed or all_figures:
            mark = "*" if change.changed else " "
            yield f" {mark} {change.figure}: {_show(change.old)} -> {_show(change.new)}"
    yield from changes_text(diff)
    yield "suppressed by the baseline:"
    for r in diff.suppressed:
        yield f"  {r.status:<14} {r.rule_id}  {r.path}:{r.line}  {r.fingerprint[:16]}  {r.reason}"


def changes_text(diff: Diff) -> Iterator[str]:
    """The changed findings as lines: one line per copy whose version changed, then every
    other new and fixed finding with its message and evidence line."""
    yield "component versions changed (their findings replaced, not listed):"
    for c in diff.components:
        yield (f"  {c.versions} ({c.root}): {len(c.removed)} removed, {len(c.added)} added"
               f" ({len(c.removed) + len(c.added)} findings {c.change})")  # fmt: skip
    for title, refs in (("new", diff.listed_new), ("fixed", diff.listed_fixed)):
        yield f"{title} findings:"
        for r in refs:
            yield from _finding_lines(r)


def _finding_lines(ref: FindingRef) -> Iterator[str]:
    """A finding in two or three lines: rule and place, message, evidence."""
    owner = f"  [{ref.component}]" if ref.component else ""
    yield f"  {ref.severity:<8} {ref.rule_id}  {ref.path}:{ref.line}  {ref.fingerprint[:16]}{owner}"
    if ref.message:
        yield f"           {ref.message}"
    if ref.evidence:
        yield f"           > {ref.evidence}"


def _show(value: Any) -> str:
    return "-" if value is None else json.dumps(value, sort_keys=True)
