"""The pinned vulnerability and end-of-life data shipped with the package.

``scripts/build_vulndb.py`` parses the public data under ``data/vulns/`` (each folder names its
source and licence) into ``src/assay/data/vulndb.json.gz`` (gzip: 0.2 MB instead of 2.9 MB of
JSON); this module reads it back. The file
carries its snapshot date, which every evaluation states and compares end-of-life dates with.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import asdict, dataclass, field, fields, replace
from importlib import resources
from pathlib import Path
from typing import Any

import platformdirs

from assay.assess.vulns.model import Advisory, Cycle, Range
from assay.assess.vulns.policy import Policy, Release
from assay.errors import StorageError

FORMAT = 2


@dataclass(frozen=True, slots=True)
class VulnDB:
    """Advisories, release cycles and the known-exploited list, as of ``snapshot``."""

    advisories: tuple[Advisory, ...]
    """Every advisory, withdrawn ones included (they suppress false alarms)."""
    cycles: tuple[Cycle, ...]
    """Release cycles with their support dates."""
    exploited: frozenset[str]
    """CVE ids known to be exploited in the wild."""
    snapshot: str
    """ISO date of the newest source."""
    sources: tuple[str, ...] = ()
    """Data sets the records come from, each with its date (``name @ YYYY-MM-DD``)."""
    policies: tuple[Policy, ...] = ()
    """The support policy of every product, each citing its source."""
    releases: tuple[Release, ...] = ()
    """Release dates, for the ``latest`` and ``newest`` policies (``Release.version`` is
    ``product version``)."""
    backports: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    """(product, CVE id, Debian versions whose changelog entry closes it): a copy whose
    version carries a Debian revision at or after one of them on the same upstream version
    is patched."""

    _index: dict[str, Any] = field(init=False, repr=False, compare=False, default_factory=dict)
    """Lookups by product, built once."""

    def __post_init__(self) -> None:
        index: dict[str, Any] = {
            "policy": {p.product: p for p in self.policies},
            "releases": _by_product(self.releases),
            "cycles": {},
            "advisories": {},
            "backports": {(p, c): v for p, c, v in self.backports},
        }
        for cycle in self.cycles:
            index["cycles"].setdefault(cycle.library, []).append(cycle)
        index["severity"] = {}
        for advisory in self.advisories:
            index["advisories"].setdefault(advisory.library, []).append(advisory)
            if advisory.severity and not advisory.withdrawn:
                index["severity"].setdefault(advisory.id, advisory.severity)
        object.__setattr__(self, "_index", index)

    def policy(self, product: str) -> Policy | None:
        """The support policy of ``product``."""
        found: Policy | None = self._index["policy"].get(product)
        return found

    def releases_of(self, product: str) -> tuple[Release, ...]:
        """Known releases of ``product`` (versions without the product prefix)."""
        return tuple(self._index["releases"].get(product, ()))

    def cycles_of(self, product: str) -> tuple[Cycle, ...]:
        """Release cycles of ``product``."""
        return tuple(self._index["cycles"].get(product, ()))

    def advisories_of(self, product: str) -> tuple[Advisory, ...]:
        """Advisories of ``product``, withdrawn ones included."""
        return tuple(self._index["advisories"].get(product, ()))

    def severity(self, cve: str) -> str | None:
        """A publisher's severity of ``cve`` from any product's advisory (a CVE rated once is
        rated wherever it appears)."""
        found: str | None = self._index["severity"].get(cve)
        return found

    def debian_fixes(self, product: str, cve: str) -> tuple[str, ...]:
        """Debian versions that close ``cve`` in ``product``."""
        return tuple(self._index["backports"].get((product, cve), ()))

    def to_json(self) -> dict[str, Any]:
        """The database as a JSON document (sorted, deterministic)."""
        return {
            "format": FORMAT,
            "snapshot": self.snapshot,
            "sources": sorted(self.sources),
            "exploited": sorted(self.exploited),
            "cycles": [asdict(c) for c in self.cycles],
            "advisories": [_compact(asdict(a)) for a in self.advisories],
            "policies": [asdict(p) for p in self.policies],
            "releases": [[r.version, r.date, r.source] for r in self.releases],
            "backports": [[p, c, list(v)] for p, c, v in self.backports],
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> VulnDB:
        """Read a document written by ``to_json``."""
        if doc.get("format") not in (1, FORMAT):
            raise StorageError(f"vulnerability data format {doc.get('format')} is not {FORMAT}")
        return cls(
            advisories=tuple(_advisory(a) for a in doc["advisories"]),
            cycles=tuple(Cycle(**c) for c in doc["cycles"]),
            exploited=frozenset(doc["exploited"]),
            snapshot=doc["snapshot"],
            sources=tuple(doc["sources"]),
            policies=tuple(Policy(**p) for p in doc.get("policies", ())),
            releases=tuple(Release(*r) for r in doc.get("releases", ())),
            backports=tuple((p, c, tuple(v)) for p, c, v in doc.get("backports", ())),
        )


_OPTIONAL = frozenset({"severity", "cwe", "summary", "withdrawn", "date"})


def _compact(raw: dict[str, Any]) -> dict[str, Any]:
    """An advisory without its default-valued fields (smaller file)."""
    out = {k: v for k, v in raw.items() if k not in _OPTIONAL or v not in (None, "", False)}
    out["ranges"] = [{k: v for k, v in r.items() if v is not None} for r in raw["ranges"]]
    return out


def _by_product(releases: tuple[Release, ...]) -> dict[str, list[Release]]:
    out: dict[str, list[Release]] = {}
    for release in releases:
        product, _, version = release.version.partition(" ")
        out.setdefault(product, []).append(Release(version, release.date, release.source))
    return out


def _advisory(raw: dict[str, Any]) -> Advisory:
    names = {f.name for f in fields(Advisory)}
    values = {k: v for k, v in raw.items() if k in names}
    values["ranges"] = tuple(Range(**r) for r in raw["ranges"])
    return Advisory(**values)


def default_path() -> Path:
    """The pinned database in the package."""
    return Path(str(resources.files("assay") / "data" / "vulndb.json.gz"))


def overlay_path() -> Path:
    """The user's additions (``assay kb import``), never written into the package."""
    return Path(platformdirs.user_data_dir("assay")) / "vulndb-overlay.json"


def read(target: Path) -> VulnDB:
    """Read one database file."""
    try:
        raw = target.read_bytes()
        if target.suffix == ".gz":
            raw = gzip.decompress(raw)
        return VulnDB.from_json(json.loads(raw.decode("utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise StorageError(f"cannot read vulnerability data {target}: {exc}") from exc


def load(path: Path | None = None) -> VulnDB:
    """``path`` alone, else the pinned database with the user's overlay on top."""
    if path is not None:
        return read(path)
    pinned = read(default_path())
    if not overlay_path().is_file():
        return pinned
    extra = read(overlay_path())
    return merge(pinned, extra)


def merge(pinned: VulnDB, extra: VulnDB) -> VulnDB:
    """``pinned`` with a user's additions: advisories, exploited ids and releases are added;
    a product's policy and a product's release cycles in ``extra`` replace the pinned ones."""
    replaced = {c.library for c in extra.cycles}
    ruled = {p.product for p in extra.policies}
    return replace(
        pinned,
        advisories=pinned.advisories + extra.advisories,
        exploited=pinned.exploited | extra.exploited,
        sources=pinned.sources + extra.sources,
        cycles=tuple(c for c in pinned.cycles if c.library not in replaced) + extra.cycles,
        policies=tuple(p for p in pinned.policies if p.product not in ruled) + extra.policies,
        releases=pinned.releases + extra.releases,
        backports=pinned.backports + extra.backports,
    )


def write(db: VulnDB, target: Path) -> None:
    """Write ``db`` to ``target`` (deterministic JSON)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(db.to_json(), sort_keys=True, separators=(",", ":")) + "\n"
    if target.suffix == ".gz":
        target.write_bytes(gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0))
    else:
        target.write_text(text, encoding="utf-8")
