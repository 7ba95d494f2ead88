"""``assay diff``: what changed between two evaluations of a product.

Either side is a stored evaluation (``History.load``) or an ``evaluation.json`` file
(``from_json``). Findings are matched by fingerprint, which is a multiset (two copies of one
library give the same fingerprint at two paths): equal fingerprints pair on the same path first,
then in path order; what stays unpaired is new or fixed. Findings the newer side's baseline
suppresses are listed apart, not as new or persisting. Every headline figure is listed with its
old and new value.
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
from assay.storage.history import FindingRef, Snapshot, headline, unsuppressed_counts

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

    def to_json(self) -> dict[str, Any]:
        """The diff as JSON."""

        def refs(items: Iterable[FindingRef]) -> list[dict[str, str]]:
            return [
                {"fingerprint": r.fingerprint, "rule_id": r.rule_id, "category": r.category,
                 "severity": r.severity, "path": r.path, "status": r.status, "reason": r.reason}
                for r in items
            ]  # fmt: skip

        return {
            "old": self.old, "new": self.new, "new_findings": refs(self.introduced),
            "fixed": refs(self.fixed), "persisting": refs(self.persisting),
            "suppressed": refs(self.suppressed),
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
    return Diff(
        old.label, new.label, tuple(sorted(introduced, key=order)), tuple(sorted(fixed, key=order)),
        tuple(sorted(persisting, key=order)), tuple(sorted(suppressed, key=order)),
        tuple(_figures(old.headline, new.headline)),
    )  # fmt: skip


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
    before, after = dict(_flatten(old)), dict(_flatten(new))
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
    mark = finding.get("suppression") or {}
    return FindingRef(
        finding["fingerprint"], finding["rule_id"], finding["category"], finding["severity"],
        finding["path"], mark.get("status", ""), mark.get("reason", ""),
    )  # fmt: skip


def render_text(diff: Diff, *, all_figures: bool = False) -> Iterator[str]:
    """The diff as lines for a terminal: figures, then findings new, fixed, suppressed."""
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
    for title, refs in (("new", diff.introduced), ("fixed", diff.fixed)):
        yield f"{title} findings:"
        for r in refs:
            yield f"  {r.severity:<8} {r.rule_id}  {r.path}  {r.fingerprint[:16]}"
    yield "suppressed by the baseline:"
    for r in diff.suppressed:
        yield f"  {r.status:<14} {r.rule_id}  {r.path}  {r.fingerprint[:16]}  {r.reason}"


def _show(value: Any) -> str:
    return "-" if value is None else json.dumps(value, sort_keys=True)
