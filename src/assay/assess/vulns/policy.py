"""Support policies: whether the release of a product that ships still gets fixes.

Every product assay names has one policy row (``data/vulns/products.toml``, pinned into the
vulnerability data), each citing where the project states it:

- ``branches``: release branches with end dates (endoflife.date pages, Mbed TLS's
  BRANCHES.md, Zephyr's release tables); a version older than the oldest branch listed is end
  of life as well, and so is one with no branch of its own that is older than the oldest
  non-LTS branch listed (the list keeps long-term branches longer: Zephyr 3.4 between LTS 2.7
  and 3.5), its end date unknown;
- ``newest``: only the newest ``branches`` release series get fixes; an older series ended
  when the series that pushed it out was first released;
- ``latest``: only the newest release gets fixes; an older one is unsupported since the first
  newer release the data knows (its name and date are reported);
- long-term lines beside a ``latest`` or ``newest`` main line (NSS's ESR lines, which Firefox ESR
  ships): a product's LTS release cycles, each with its own end date. A version in such a line is
  judged by the line alone: end of life after the line's end date, before it superseded only by
  a newer release of the same line; every other version follows the main policy;
- ``stopped``: the project stopped; end of life since its last release;
- ``unknown``: no published policy.

Release dates come from endoflife.date's release data and, for the other products, from the
date Debian first packaged each upstream release (an upper bound of the release date).
Dates are compared with the data's snapshot date, never today's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from assay.assess.vulns.model import OPEN, Cycle
from assay.versions import key


class Support(StrEnum):
    """Support status of a copy's release."""

    SUPPORTED = "supported"
    END_OF_LIFE = "end-of-life"
    PAID_ONLY = "paid-support-only"
    UNKNOWN = "unknown-policy"


@dataclass(frozen=True, slots=True)
class Policy:
    """How one product supports its releases, and where it says so."""

    product: str
    """Canonical product name."""
    kind: str
    """``branches``, ``newest``, ``latest``, ``stopped`` or ``unknown``."""
    source: str
    """URL of the project's statement (or of the data the branches come from)."""
    note: str = ""
    """The policy in a few words."""
    branches: int | None = None
    """``newest``: how many release series get fixes."""
    last: str | None = None
    """``stopped``: the last release."""
    last_date: str | None = None
    """``stopped``: the date of the last release."""
    verified: str = ""
    """Where a stored public copy of the statement was read that confirms the policy (URL of
    the copy, and which copy), empty when nothing confirmed it."""
    unverified: str = ""
    """Why nothing confirms the policy (no statement found in the stored copies, or the policy
    is inferred from the release history), empty when it was confirmed."""


@dataclass(frozen=True, slots=True)
class Release:
    """One release of a product and its date."""

    version: str
    date: str | None
    source: str = ""
    """Where the date comes from (``endoflife.date release-data``, ``debian-changelog``)."""


@dataclass(frozen=True, slots=True)
class Status:
    """The support status of one version of one product."""

    support: Support
    cycle: str | None = None
    """The branch the version belongs to, when the policy has branches."""
    since: str | None = None
    """ISO date from which the release is unsupported (or paid support only)."""
    superseded_by: str | None = None
    """``latest``/``newest``: the release that superseded the version."""
    reason: str = ""
    """One sentence: why, with the policy's source."""
    source: str = ""
    """The policy's source."""


def _key(product: str, version: str) -> tuple[tuple[int, ...], str, int, int] | None:
    try:
        return key(product, version)
    except ValueError:
        return None


def cycle_of(version: str, cycles: Sequence[Cycle]) -> Cycle | None:
    """The cycle whose name is the longest dotted prefix of ``version``."""
    fitting = [
        c for c in cycles
        if version == c.cycle or version.startswith(c.cycle + ".")
        or (version.startswith(c.cycle) and version[len(c.cycle):].isalpha())
    ]  # fmt: skip
    return max(fitting, key=lambda c: len(c.cycle)) if fitting else None


def _branches(policy: Policy, version: str, cycles: Sequence[Cycle], today: str) -> Status:
    cycle = cycle_of(version, cycles)
    if cycle is not None:
        if cycle.eol is None or cycle.eol > today:
            return Status(Support.SUPPORTED, cycle.cycle, reason=f"branch {cycle.cycle} is "
                          "supported", source=policy.source)  # fmt: skip
        paid = cycle.extended_support
        if paid is not None and (paid == OPEN or paid > today):
            return Status(Support.PAID_ONLY, cycle.cycle, cycle.eol,
                          reason=f"branch {cycle.cycle} ended publicly on {cycle.eol}; fixes "
                          "only with paid support", source=policy.source)  # fmt: skip
        return Status(Support.END_OF_LIFE, cycle.cycle, cycle.eol,
                      reason=f"branch {cycle.cycle} ended on {cycle.eol}",
                      source=policy.source)  # fmt: skip
    at = _key(policy.product, version)
    known = [(k, c) for c in cycles if (k := _key(policy.product, c.cycle)) is not None]
    if at is None or not known:
        return Status(Support.UNKNOWN, reason="no branch data", source=policy.source)
    oldest_key, oldest = min(known, key=lambda kc: kc[0])
    if at < oldest_key:
        since = oldest.released if oldest.released and oldest.released <= today else None
        return Status(Support.END_OF_LIFE, None, since,
                      reason=f"older than {oldest.cycle}, the oldest branch the data lists "
                      f"(released {oldest.released or 'date unknown'})",
                      source=policy.source)  # fmt: skip
    regular = [(k, c) for k, c in known if not c.lts]
    if regular and at < min(regular, key=lambda kc: kc[0])[0]:
        # between listed branches: only long-term branches are older, so the publisher's list
        # (which keeps every supported branch) dropped this regular one: it has ended
        first = min(regular, key=lambda kc: kc[0])[1]
        return Status(Support.END_OF_LIFE, None, None,
                      reason=f"no branch of {version} in the data, and it is older than "
                      f"{first.cycle}, the oldest non-LTS branch listed (released "
                      f"{first.released or 'date unknown'}): its end date is not in the data",
                      source=policy.source)  # fmt: skip
    return Status(Support.UNKNOWN, reason=f"no branch of {version} in the data",
                  source=policy.source)  # fmt: skip


def series(product: str, version: str) -> str:
    """The release series of a version: ``major.minor`` (GCC from 5 on: ``major``)."""
    parts = version.split(".")
    if product == "gcc" and parts[0].isdigit() and int(parts[0]) >= 5:
        return parts[0]
    return ".".join(parts[:2])


def _first_of_series(product: str, releases: Sequence[Release]) -> dict[str, Release]:
    first: dict[str, Release] = {}
    for release in sorted(releases, key=lambda r: key(product, r.version)):
        first.setdefault(series(product, release.version), release)
    return first


UPPER_BOUND = "debian-changelog"
"""The release-date source that only bounds the date: the day Debian first packaged it."""


def when(release: Release) -> str:
    """The release's date as a reason states it; a date from Debian's changelog is labelled as
    the upper bound it is."""
    if not release.date:
        return "date unknown"
    if release.source == UPPER_BOUND:
        return f"released by {release.date} at the latest: Debian packaged it then"
    return release.date


def _newest(policy: Policy, version: str, releases: Sequence[Release]) -> Status:
    product = policy.product
    own = series(product, version)
    first = _first_of_series(product, releases)
    newer = sorted(
        (s for s in first if key(product, s) > key(product, own)), key=lambda s: key(product, s)
    )
    count = policy.branches or 1
    if len(newer) < count:
        return Status(Support.SUPPORTED, own, reason=f"series {own} is among the newest "
                      f"{count}", source=policy.source)  # fmt: skip
    pushed = first[newer[count - 1]]
    return Status(Support.END_OF_LIFE, own, pushed.date, pushed.version,
                  reason=f"only the newest {count} series get fixes; {own} fell out when "
                  f"{pushed.version} was released ({when(pushed)})",
                  source=policy.source)  # fmt: skip


def _latest(policy: Policy, version: str, releases: Sequence[Release]) -> Status:
    product = policy.product
    at = key(product, version)
    newer = sorted(
        (r for r in releases if key(product, r.version) > at), key=lambda r: key(product, r.version)
    )
    if not newer:
        return Status(Support.SUPPORTED, reason="the newest release the data knows",
                      source=policy.source)  # fmt: skip
    nxt = newer[0]
    return Status(Support.END_OF_LIFE, None, nxt.date, nxt.version,
                  reason=f"only the newest release gets fixes; superseded by {nxt.version} "
                  f"({when(nxt)}); newest known {newer[-1].version}",
                  source=policy.source)  # fmt: skip


def _long_term(
    policy: Policy, version: str, line: Cycle, releases: Sequence[Release], today: str
) -> Status:
    """A version in a long-term line beside the main line: the line's end date decides, and only
    a newer release of the same line supersedes it."""
    estimate = " (the source's estimate of its end)" if line.eol_estimated else ""
    if line.eol is not None and line.eol <= today:
        return Status(Support.END_OF_LIFE, line.cycle, line.eol,
                      reason=f"long-term line {line.cycle} ended on {line.eol}{estimate}",
                      source=policy.source)  # fmt: skip
    product = policy.product
    at = key(product, version)
    nxt = min(
        (r for r in releases
         if cycle_of(r.version, [line]) is line and key(product, r.version) > at),
        key=lambda r: key(product, r.version), default=None,
    )  # fmt: skip
    until = f"{line.eol}{estimate}" if line.eol else "a date the data does not give"
    if nxt is not None:
        return Status(Support.END_OF_LIFE, line.cycle, nxt.date, nxt.version,
                      reason=f"long-term line {line.cycle} gets fixes until {until}, in "
                      f"its newest release only; superseded by {nxt.version} ({when(nxt)})",
                      source=policy.source)  # fmt: skip
    return Status(Support.SUPPORTED, line.cycle,
                  reason=f"long-term line {line.cycle}, supported until {until}; the "
                  "newest release of the line the data knows", source=policy.source)  # fmt: skip


def status(
    policy: Policy | None,
    version: str | None,
    cycles: Sequence[Cycle],
    releases: Sequence[Release],
    today: str,
) -> Status:
    """Support status on ``today`` (the snapshot date) of ``version`` under ``policy``."""
    if policy is None:
        return Status(Support.UNKNOWN, reason="no policy data for this product")
    if policy.kind == "stopped":
        return Status(Support.END_OF_LIFE, None, policy.last_date,
                      reason=f"the project stopped; last release {policy.last} "
                      f"({policy.last_date})", source=policy.source)  # fmt: skip
    if policy.kind == "unknown" or not version or _key(policy.product, version) is None:
        why = policy.note or "no published support policy"
        return Status(Support.UNKNOWN, reason=why, source=policy.source)
    if policy.kind == "branches":
        return _branches(policy, version, cycles, today)
    dated = [r for r in releases if _key(policy.product, r.version) is not None]
    line = cycle_of(version, [c for c in cycles if c.lts])
    if line is not None:
        return _long_term(policy, version, line, dated, today)
    if not dated:
        return Status(Support.UNKNOWN, reason=f"policy '{policy.kind}' but no release dates in "
                      "the data", source=policy.source)  # fmt: skip
    if policy.kind == "newest":
        return _newest(policy, version, dated)
    return _latest(policy, version, dated)
