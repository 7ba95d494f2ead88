"""What is known about each copy: its vulnerabilities and whether its branch is supported.

Pure functions of (component, records). Dates are compared with the knowledge snapshot's
date, never with today's, so the same input and data give the same evaluation.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from assay.assess.vulns import debian, kernel
from assay.assess.vulns.db import VulnDB
from assay.assess.vulns.model import Advisory, Cycle
from assay.assess.vulns.policy import Policy, Status, Support, cycle_of, status
from assay.model import Component
from assay.versions import affected, key

__all__ = ["Assessment", "Hit", "Support", "assess", "support", "vulnerabilities"]


UNRATED = "severity not published in the shipped data"
"""What a report says of a CVE none of the shipped sources rates (most Debian-derived ones)."""


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
    reference: str = ""
    """Where a reader can check it (the advisory's file or URL, the changelog entry)."""


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
    superseded_by: str | None = None
    """The release that superseded the copy's (``latest`` and ``newest`` policies)."""
    reason: str = ""
    """Why the support status is what it is, in one sentence."""
    policy_source: str = ""
    """Where the product's support policy is stated."""
    backported: tuple[str, ...] = ()
    """CVEs in the copy's upstream version that its Debian revision patches."""
    unbounded: tuple[str, ...] = ()
    """Kernel CVEs whose ranges hold the version but whose data gives no lower bound for the
    copy's series (:func:`assay.assess.vulns.kernel.bounded`): counted, not reported."""
    unbounded_exploited: tuple[str, ...] = ()
    """Those of ``unbounded`` in CISA's known-exploited catalogue (for the evaluator to check)."""


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


def _combine(library: str, first: Hit, second: Hit) -> Hit:
    """One hit from two sources for the same CVE: the first source's, with a severity and the
    lowest fix either gives."""
    fixes = [f for f in (first.fixed_in, second.fixed_in) if f]
    return Hit(
        first.id, first.severity or second.severity,
        min(fixes, key=lambda v: key(library, v)) if fixes else None, first.exploited,
        f"{first.source}, {second.source}", first.summary or second.summary,
        f"{first.reference}; {second.reference}",
    )  # fmt: skip


def vulnerabilities(
    component: Component, advisories: Iterable[Advisory], exploited: frozenset[str]
) -> tuple[Hit, ...]:
    """Advisories whose ranges hold the copy's version; withdrawn ids suppress the others."""
    if not component.version or not _comparable(component.name, component.version):
        return ()
    mine = [a for a in advisories if a.library == component.name]
    return _hits(component, mine, exploited)[0]


def _hits(
    component: Component, mine: Sequence[Advisory], exploited: frozenset[str]
) -> tuple[tuple[Hit, ...], tuple[str, ...]]:
    """(hits, ids of kernel CVEs not bounded for the copy)."""
    assert component.version is not None
    withdrawn = {a.id for a in mine if a.withdrawn}
    hits: dict[str, Hit] = {}
    unbounded: set[str] = set()
    for a in mine:
        if a.withdrawn or a.id in withdrawn:
            continue
        if not affected(a.library, component.version, a.ranges):
            continue
        if a.library == "linux" and not kernel.bounded(component.version, a.ranges):
            unbounded.add(a.id)
            continue
        hit = Hit(a.id, a.severity, _fixed_in(a.library, component.version, a),
                  a.id in exploited, a.source, a.summary, a.reference)  # fmt: skip
        hits[a.id] = _combine(component.name, hits[a.id], hit) if a.id in hits else hit
    return tuple(hits[i] for i in sorted(hits)), tuple(sorted(unbounded - set(hits)))


def support(
    component: Component, cycles: Iterable[Cycle], today: str
) -> tuple[Support, Cycle | None]:
    """Support status on ``today`` from release cycles alone (products with branches)."""
    mine = [c for c in cycles if c.library == component.name]
    if not mine or not component.version:
        return Support.UNKNOWN, None
    cycle = cycle_of(component.version, mine)
    found = status(Policy(component.name, "branches", ""), component.version, mine, (), today)
    return found.support, cycle if found.cycle else None


def patched(known: VulnDB, product: str, version: str, cve: str) -> bool:
    """True when ``version`` carries a Debian revision at or after a Debian version whose
    changelog closes ``cve`` on the same upstream release (a back-ported fix)."""
    if not debian.is_debian_version(version):
        return False
    base = debian.upstream(version)
    return any(
        debian.upstream(fix) == base and debian.newer_or_equal(version, fix)
        for fix in known.debian_fixes(product, cve)
    )


def product_status(known: VulnDB, name: str, version: str | None) -> Status:
    """Support status of ``name`` ``version`` under the product's policy, on the snapshot date."""
    upstream = (
        debian.upstream(version) if version and debian.is_debian_version(version) else version
    )
    cycles = known.cycles_of(name)
    policy = known.policy(name)
    if policy is None and cycles:  # data without policy rows: its cycles are the policy
        policy = Policy(name, "branches", cycles[0].source)
    return status(policy, upstream, cycles, known.releases_of(name), known.snapshot)


def assess(component: Component, known: VulnDB) -> Assessment:
    """Everything known about one copy: its CVEs (back-ported fixes recognised from its Debian
    revision) and its support status under the product's policy."""
    hits: tuple[Hit, ...] = ()
    patched_ids: list[str] = []
    unbounded: tuple[str, ...] = ()
    if component.version and _comparable(component.name, component.version):
        found, unbounded = _hits(component, known.advisories_of(component.name), known.exploited)
        patched_ids = [
            h.id for h in found if patched(known, component.name, component.version, h.id)
        ]
        hits = tuple(
            replace(h, severity=h.severity or known.severity(h.id))
            for h in found if h.id not in patched_ids
        )  # fmt: skip
    state = product_status(known, component.name, component.version)
    return Assessment(
        hits=hits, support=state.support, cycle=state.cycle,
        since=state.since if state.support is not Support.SUPPORTED else None,
        superseded_by=state.superseded_by, reason=state.reason, policy_source=state.source,
        backported=tuple(patched_ids), unbounded=unbounded,
        unbounded_exploited=tuple(i for i in unbounded if i in known.exploited),
    )  # fmt: skip
