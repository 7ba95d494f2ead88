"""What is known about each copy: its vulnerabilities and whether its branch is supported.

Pure functions of (component, records). Dates are compared with the knowledge snapshot's
date, never with today's, so the same input and data give the same evaluation.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from assay.assess.vulns.model import OPEN, Advisory, Cycle
from assay.model import Component
from assay.versions import affected, key


class Support(StrEnum):
    """Support status of a copy's release branch."""

    SUPPORTED = "supported"
    END_OF_LIFE = "end-of-life"
    PAID_ONLY = "paid-support-only"
    UNKNOWN = "unknown-policy"


@dataclass(frozen=True, slots=True)
class Hit:
    """One known vulnerability of one copy."""

    id: str
    """CVE id."""
    severity: str | None
    """Publisher's severity."""
    fixed_in: str | None
    """Lowest fixed version above the copy's version, when the data says."""
    exploited: bool
    """Listed in CISA's known-exploited catalogue."""
    source: str
    """Data set it comes from."""
    summary: str
    """One-line description."""


@dataclass(frozen=True, slots=True)
class Assessment:
    """The vulnerabilities and support status of one copy."""

    hits: tuple[Hit, ...]
    """Known vulnerabilities, sorted by id."""
    support: Support
    """Support status of the copy's branch."""
    cycle: str | None
    """The branch the version belongs to."""
    since: str | None
    """End-of-life date (or end of public support) when not supported."""


def _comparable(library: str, version: str) -> bool:
    """Whether ``version`` can be ordered at all (BoringSSL has none: ``''``)."""
    try:
        key(library, version)
    except ValueError:
        return False
    return True


def _fixed_in(library: str, version: str, advisory: Advisory) -> str | None:
    fixes = [
        r.fixed
        for r in advisory.ranges
        if r.fixed and key(library, r.fixed) > key(library, version)
    ]
    return min(fixes, key=lambda v: key(library, v)) if fixes else None


def vulnerabilities(
    component: Component, advisories: Iterable[Advisory], exploited: frozenset[str]
) -> tuple[Hit, ...]:
    """Advisories whose ranges hold the copy's version; withdrawn ids suppress the others."""
    if not component.version or not _comparable(component.name, component.version):
        return ()
    mine = [a for a in advisories if a.library == component.name]
    withdrawn = {a.id for a in mine if a.withdrawn}
    hits = {
        a.id: Hit(a.id, a.severity, _fixed_in(a.library, component.version, a), a.id in exploited,
                  a.source, a.summary)
        for a in mine
        if not a.withdrawn and a.id not in withdrawn
        and affected(a.library, component.version, a.ranges)
    }  # fmt: skip
    return tuple(hits[i] for i in sorted(hits))


def _cycle_of(version: str, cycles: Sequence[Cycle]) -> Cycle | None:
    """The cycle whose name is the longest dotted prefix of ``version``."""
    fitting = [
        c for c in cycles
        if version == c.cycle or version.startswith(c.cycle + ".")
        or (version.startswith(c.cycle) and version[len(c.cycle):].isalpha())
    ]  # fmt: skip
    return max(fitting, key=lambda c: len(c.cycle)) if fitting else None


def support(
    component: Component, cycles: Iterable[Cycle], today: str
) -> tuple[Support, Cycle | None]:
    """Support status on ``today`` (the snapshot date, ISO) of the copy's branch."""
    mine = [c for c in cycles if c.library == component.name]
    if not mine or not component.version:
        return Support.UNKNOWN, None
    cycle = _cycle_of(component.version, mine)
    if cycle is None:
        return Support.UNKNOWN, None
    if cycle.eol is None or cycle.eol > today:
        return Support.SUPPORTED, cycle
    paid = cycle.extended_support
    if paid is not None and (paid == OPEN or paid > today):
        return Support.PAID_ONLY, cycle
    return Support.END_OF_LIFE, cycle


def assess(
    component: Component,
    advisories: Sequence[Advisory],
    cycles: Sequence[Cycle],
    exploited: frozenset[str],
    today: str,
) -> Assessment:
    """Everything known about one copy."""
    status, cycle = support(component, cycles, today)
    return Assessment(
        hits=vulnerabilities(component, advisories, exploited),
        support=status,
        cycle=cycle.cycle if cycle else None,
        since=cycle.eol if cycle and status is not Support.SUPPORTED else None,
    )
