"""CISA's Known Exploited Vulnerabilities catalog (``cisagov/kev-data``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DATA = Path(__file__).parents[4] / "data" / "vulns"
FILE = Path("cisa-kev") / "known_exploited_vulnerabilities.json"


@dataclass(frozen=True, slots=True)
class Catalog:
    """The CVE ids CISA lists as exploited in the wild, and which catalog says so."""

    cves: frozenset[str]
    version: str
    """``catalogVersion`` (``2025.08.25``)."""
    released: str
    """ISO date of ``dateReleased``."""


def _read(root: Path | None) -> dict[str, Any]:
    path = (root if root is not None else DATA) / FILE
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def load(root: Path | None = None) -> Catalog:
    """The catalog copy under ``data/vulns/cisa-kev``."""
    data = _read(root)
    return Catalog(
        cves=frozenset(str(v["cveID"]).strip().upper() for v in data["vulnerabilities"]),
        version=str(data.get("catalogVersion", "")),
        released=str(data.get("dateReleased", ""))[:10],
    )


def exploited(root: Path | None = None) -> frozenset[str]:
    """CVE ids known to be exploited in the wild."""
    return load(root).cves
