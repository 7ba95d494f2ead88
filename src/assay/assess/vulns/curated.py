"""Curated advisories for libraries that publish no structured CVE data (zlib, ...) and ranges
the Debian changelogs get wrong (a CVE introduced late, a `+really` downgrade).

Rows live in ``data/vulns/curated/<library>.toml``; each cites where its range comes from: the
Debian changelog entry and upstream change log copied under ``data/vulns/``, or the
publisher's advisory (URL). A row without a reference is refused.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from assay.assess.vulns.model import Advisory, Range
from assay.errors import StorageError

DATA = Path(__file__).resolve().parents[4] / "data" / "vulns"
SOURCE = "curated"


def _advisory(library: str, row: dict[str, Any]) -> Advisory:
    if not row.get("reference"):
        raise StorageError(f"curated {library} {row.get('id')}: a row needs a reference")
    return Advisory(
        id=row["id"],
        library=library,
        ranges=(Range(introduced=row.get("introduced"), fixed=row.get("fixed")),),
        source=f"{SOURCE}/{library}",
        reference=row["reference"],
        severity=row.get("severity"),
        summary=row.get("summary", ""),
    )


def load(root: Path | None = None) -> list[Advisory]:
    """Every curated advisory, sorted by (library, id)."""
    folder = (root if root is not None else DATA) / "curated"
    found = []
    for path in sorted(folder.glob("*.toml")):
        rows = tomllib.loads(path.read_text(encoding="utf-8")).get("advisories", [])
        found += [_advisory(path.stem, row) for row in rows]
    return sorted(found, key=lambda a: (a.library, a.id))
