"""The pinned vulnerability and end-of-life data shipped with the package.

``scripts/build_vulndb.py`` parses the public data under ``data/vulns/`` (each folder names its
source and licence) into ``src/assay/data/vulndb.json``; this module reads it back. The file
carries its snapshot date, which every evaluation states and compares end-of-life dates with.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from importlib import resources
from pathlib import Path
from typing import Any

import platformdirs

from assay.assess.vulns.model import Advisory, Cycle, Range
from assay.errors import StorageError

FORMAT = 1


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
    """Data sets the records come from."""

    def to_json(self) -> dict[str, Any]:
        """The database as a JSON document (sorted, deterministic)."""
        return {
            "format": FORMAT,
            "snapshot": self.snapshot,
            "sources": sorted(self.sources),
            "exploited": sorted(self.exploited),
            "cycles": [asdict(c) for c in self.cycles],
            "advisories": [asdict(a) for a in self.advisories],
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> VulnDB:
        """Read a document written by ``to_json``."""
        if doc.get("format") != FORMAT:
            raise StorageError(f"vulnerability data format {doc.get('format')} is not {FORMAT}")
        return cls(
            advisories=tuple(_advisory(a) for a in doc["advisories"]),
            cycles=tuple(Cycle(**c) for c in doc["cycles"]),
            exploited=frozenset(doc["exploited"]),
            snapshot=doc["snapshot"],
            sources=tuple(doc["sources"]),
        )


def _advisory(raw: dict[str, Any]) -> Advisory:
    names = {f.name for f in fields(Advisory)}
    values = {k: v for k, v in raw.items() if k in names}
    values["ranges"] = tuple(Range(**r) for r in raw["ranges"])
    return Advisory(**values)


def default_path() -> Path:
    """The pinned database in the package."""
    return Path(str(resources.files("assay") / "data" / "vulndb.json"))


def overlay_path() -> Path:
    """The user's additions (``assay kb import``), never written into the package."""
    return Path(platformdirs.user_data_dir("assay")) / "vulndb-overlay.json"


def read(target: Path) -> VulnDB:
    """Read one database file."""
    try:
        return VulnDB.from_json(json.loads(target.read_text(encoding="utf-8")))
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
    return replace(
        pinned,
        advisories=pinned.advisories + extra.advisories,
        exploited=pinned.exploited | extra.exploited,
        sources=pinned.sources + extra.sources,
    )


def write(db: VulnDB, target: Path) -> None:
    """Write ``db`` to ``target`` (deterministic JSON)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(db.to_json(), sort_keys=True, separators=(",", ":"))
    target.write_text(text + "\n", encoding="utf-8")
