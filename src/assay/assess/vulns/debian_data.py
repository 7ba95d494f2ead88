"""Advisories, back-ports and release dates from the Debian changelogs of every product.

``scripts/fetch_debian_changelogs.py`` stores each source package's merged changelog under
``data/vulns/debian/<package>.changelog.gz``; ``data/vulns/products.toml`` says which packages
belong to which product. For each CVE id an entry mentions:

- an entry that packages a new upstream release (``2.78-1``) means that upstream release
  fixes it; fixes in several release series give one range per series (the first from the
  beginning, later ones from their series' first release), as OSV does for branches;
- an entry that patches a release (``2.92-5``, ``2.85-1+deb11u2``) means the upstream release
  is still vulnerable and that Debian version is patched (a back-port, recorded for
  :func:`assay.assess.vulns.match.patched`); when no new-upstream entry names the CVE, the
  first newer upstream release Debian packaged is taken as the fix, else every version up to
  the patched one is affected.

The introducing version is not in a changelog: every version before the fix counts as
affected. A (product, CVE) that a publisher's own data or a curated row already gives gets no
Debian-derived advisory: the publisher's ranges decide. Release dates are the day Debian first
packaged each upstream release (pre-releases and snapshots left out).
"""

from __future__ import annotations

import gzip
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from assay.assess.vulns.debian import Entry, entries, first_packaged, upstream
from assay.assess.vulns.model import Advisory, Range
from assay.assess.vulns.policy import Policy, Release, series
from assay.versions import key

FOLDER = "debian"
SOURCE = "debian-changelog"
_UNRELEASED = re.compile(
    r"(~|alpha|beta|rc\d|pre|git|snapshot|svn|cvs|\+really|-\d{8}|^\d{5,})", re.IGNORECASE
)
"""Pre-releases, snapshots (4.7-20111231, 970904: not wireguard-tools 1.0.20210914) and repacks."""


@dataclass(frozen=True, slots=True)
class Product:
    """One row of ``products.toml``."""

    name: str
    debian: tuple[str, ...]
    policy: Policy
    endoflife: str | None
    """The endoflife.date page of a ``branches`` product."""
    shares: tuple[str, ...] = ()
    """Products carrying the same code, whose CVEs this product may claim."""


def products(data: Path) -> list[Product]:
    """Every product row of ``data/vulns/products.toml``."""
    doc = tomllib.loads((data / "products.toml").read_text(encoding="utf-8"))
    out = []
    for name, row in sorted(doc["products"].items()):
        policy = Policy(
            product=name, kind=row["policy"], source=row["source"], note=row.get("note", ""),
            branches=row.get("branches"), last=row.get("last"), last_date=row.get("last_date"),
            verified=row.get("verified", ""), unverified=row.get("unverified", ""),
        )  # fmt: skip
        out.append(Product(name, tuple(row.get("debian", ())), policy, row.get("endoflife"),
                           tuple(row.get("shares", ()))))  # fmt: skip
    return out


def read_changelog(data: Path, package: str) -> list[Entry]:
    """The entries of one package's stored changelog (none when it was not fetched)."""
    path = data / FOLDER / f"{package}.changelog.gz"
    if not path.is_file():
        return []
    return list(entries(gzip.decompress(path.read_bytes()).decode("utf-8", "replace")))


def _ordered(product: str, versions: Iterable[str]) -> list[str]:
    valid = []
    for version in set(versions):
        try:
            key(product, version)
        except ValueError:
            continue
        valid.append(version)
    # versions whose keys tie (9.5.0 and 9.5.0.dfsg.P2) are ordered by their text, so the
    # build does not depend on the order of a set (Python's string hashing varies per run)
    return sorted(valid, key=lambda v: (key(product, v), v))


def key_or_none(product: str, version: str) -> object:
    """The version's sort key, ``None`` when it holds no version number."""
    try:
        return key(product, version)
    except ValueError:
        return None


def _ranges(product: str, fixes: Sequence[str]) -> tuple[Range, ...]:
    """One range per release series of the fixes (lowest fix of each series)."""
    lowest: dict[str, str] = {}
    for fixed in _ordered(product, fixes):
        lowest.setdefault(series(product, fixed), fixed)
    ranges = []
    for index, (first_of, fixed) in enumerate(lowest.items()):
        ranges.append(Range(introduced=None if index == 0 else first_of, fixed=fixed))
    return tuple(ranges)


def _cite(package: str, found: Sequence[Entry]) -> str:
    shown = ", ".join(f"{e.version} ({e.date})" for e in found[:3])
    more = f" and {len(found) - 3} more" if len(found) > 3 else ""
    return f"Debian changelog of {package}: {shown}{more}"


def advisories(product: Product, log: Sequence[Entry]) -> list[Advisory]:
    """Advisories of one product from its packages' changelog entries."""
    firsts = first_packaged(e for e in log if e.new_upstream)
    by_cve: dict[str, list[Entry]] = {}
    for entry in log:
        for cve in entry.cves:
            by_cve.setdefault(cve, []).append(entry)
    out = []
    for cve, found in sorted(by_cve.items()):
        fixes = [upstream(e.version) for e in found if e.new_upstream and cve not in e.patched]
        if fixes:
            ranges = _ranges(product.name, fixes)
        else:
            patched = _ordered(product.name, (upstream(e.version) for e in found))
            if not patched:
                continue
            top = key(product.name, patched[-1])
            since = min((e.date for e in found if e.date), default="")
            later = _ordered(product.name, (
                v for v, day in firsts.items()
                if key_or_none(product.name, v) is not None and key(product.name, v) > top
                and day >= since and not _UNRELEASED.search(v)
            ))  # fmt: skip
            ranges = (Range(fixed=later[0]),) if later else (Range(last_affected=patched[-1]),)
        out.append(Advisory(
            id=cve, library=product.name, ranges=ranges, source=SOURCE,
            reference=_cite(found[0].package, found),
            summary="fixed version from Debian's changelog (first packaged fix)",
            date=min((e.date for e in found if e.date), default=None),
        ))  # fmt: skip
    return out


def backports(product: Product, log: Sequence[Entry]) -> list[tuple[str, str, tuple[str, ...]]]:
    """(product, CVE, Debian versions that close it) for every CVE the changelogs name."""
    closes: dict[str, list[str]] = {}
    for entry in log:
        for cve in entry.cves:
            closes.setdefault(cve, []).append(entry.version)
    return [(product.name, cve, tuple(sorted(set(v)))) for cve, v in sorted(closes.items())]


def _renamed_newer(product: Product, log: Sequence[Entry]) -> set[str]:
    """Versions of entries written under an older package name (ntp's changelog goes back to
    ``xntp3 (5.93-...)``) that are higher than every release under the product's current names:
    another numbering, not a newer release."""
    own = _ordered(product.name, (upstream(e.version) for e in log
                                  if e.package in product.debian and e.new_upstream))  # fmt: skip
    if not own:
        return set()
    top = key(product.name, own[-1])
    older = _ordered(product.name, (upstream(e.version) for e in log
                                    if e.package not in product.debian))  # fmt: skip
    return {version for version in older if key(product.name, version) > top}


def releases(product: Product, log: Sequence[Entry]) -> list[Release]:
    """Release dates: the day Debian first packaged each upstream release (not the versions
    of an older package name's own numbering, see ``_renamed_newer``)."""
    other = _renamed_newer(product, log)
    firsts = first_packaged(e for e in log if e.new_upstream and upstream(e.version) not in other)
    return [
        Release(f"{product.name} {version}", date, SOURCE)
        for version, date in sorted(firsts.items())
        if not _UNRELEASED.search(version) and _ordered(product.name, [version])
    ]


@dataclass(frozen=True, slots=True)
class Loaded:
    """Everything the Debian changelogs give."""

    advisories: tuple[Advisory, ...]
    backports: tuple[tuple[str, str, tuple[str, ...]], ...]
    releases: tuple[Release, ...]
    policies: tuple[Policy, ...]
    newest: str
    """Date of the newest changelog entry read."""


def load(data: Path, covered: frozenset[tuple[str, str]] = frozenset()) -> Loaded:
    """Read every product's changelogs. ``covered`` (product, CVE) pairs already have an
    advisory from their publisher or a curated row: that CVE gets none from Debian, in that
    product (the publisher decides) or in another one (a changelog naming another project's
    CVE in passing, such as lighttpd's naming the xz backdoor)."""
    owners: dict[str, set[str]] = {}
    for product_name, cve in covered:
        owners.setdefault(cve, set()).add(product_name)
    found: list[Advisory] = []
    ports: list[tuple[str, str, tuple[str, ...]]] = []
    dated: list[Release] = []
    newest = ""
    rows = products(data)
    for product in rows:
        log = [e for package in product.debian for e in read_changelog(data, package)]
        newest = max([newest, *(e.date for e in log if e.date)])
        found.extend(
            a for a in advisories(product, log)
            if not owners.get(a.id) or owners[a.id] <= set(product.shares)
        )  # fmt: skip
        ports.extend(backports(product, log))
        dated.extend(releases(product, log))
    return Loaded(tuple(found), tuple(ports), tuple(dated), tuple(p.policy for p in rows), newest)
