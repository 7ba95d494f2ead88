"""``assay kb import`` of an end-of-life file: release cycles of one product, as the user's
overlay, replacing the pinned cycles and policy of that product.

Two shapes are read: an endoflife.date product page (``NAME.md``, YAML front matter with a
``releases:`` list, read by :mod:`assay.assess.vulns.endoflife`) and the endoflife.date API's
JSON (``NAME.json``: a list of objects with ``cycle``, ``releaseDate``, ``eol``, ``latest``,
``lts``, optionally ``extendedSupport``). The product is the file's stem (``linux-kernel`` and
``alpine-linux`` map to assay's ``linux`` and ``alpine``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from assay.assess.vulns import db
from assay.assess.vulns.endoflife import UNKNOWN, parse
from assay.assess.vulns.model import OPEN, Cycle
from assay.assess.vulns.policy import Policy
from assay.errors import IngestError

MAX_BYTES = 4 * 1024 * 1024
"""Largest end-of-life file read."""
RENAMED = {"linux-kernel": "linux", "alpine-linux": "alpine"}
SUFFIXES = (".md", ".json")


@dataclass(frozen=True, slots=True)
class EolImport:
    """What one end-of-life import added."""

    product: str
    cycles: int


def _date(value: Any) -> str | None:
    if value is True:
        return UNKNOWN
    return value if isinstance(value, str) else None


def _from_api(product: str, doc: Any, name: str) -> list[Cycle]:
    if not isinstance(doc, list) or not all(isinstance(i, dict) and "cycle" in i for i in doc):
        raise IngestError(f"{name}: not an endoflife.date list of cycles (objects with 'cycle')")
    out = []
    for item in doc:
        paid = item.get("extendedSupport")
        out.append(Cycle(
            library=product, cycle=str(item["cycle"]), released=_date(item.get("releaseDate")),
            eol=_date(item.get("eol")) if item.get("eol") is not False else None,
            extended_support=paid if isinstance(paid, str) else (OPEN if paid is True else None),
            lts=item.get("lts") is True, latest=str(item["latest"]) if item.get("latest") else None,
            source=f"import {name}",
        ))  # fmt: skip
    return out


def read(path: Path) -> tuple[str, list[Cycle]]:
    """The product and the cycles of one end-of-life file."""
    if path.suffix.lower() not in SUFFIXES or not path.is_file():
        raise IngestError(f"{path}: not an endoflife.date page (.md) or cycle list (.json)")
    if path.stat().st_size > MAX_BYTES:
        raise IngestError(f"{path}: larger than {MAX_BYTES} bytes")
    product = RENAMED.get(path.stem.lower(), path.stem.lower())
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix.lower() == ".md":
            cycles = [replace(c, library=product, source=f"import {path.name}")
                      for c in parse(product, text)]  # fmt: skip
        else:
            cycles = _from_api(product, json.loads(text), path.name)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise IngestError(f"{path}: {exc}") from exc
    if not cycles:
        raise IngestError(f"{path}: no release cycles found")
    return product, cycles


def import_into(path: Path, overlay: Path) -> EolImport:
    """Add the cycles of ``path`` to the overlay as the product's ``branches`` policy."""
    product, cycles = read(path)
    current = db.read(overlay) if overlay.is_file() else db.VulnDB((), (), frozenset(), "")
    policy = Policy(product, "branches", f"imported from {path.name}", "user-provided cycles")
    label = f"eol-import {path.name} ({product}, {len(cycles)} cycles)"
    db.write(replace(
        current,
        cycles=tuple(c for c in current.cycles if c.library != product) + tuple(cycles),
        policies=(*(p for p in current.policies if p.product != product), policy),
        sources=tuple(sorted({*current.sources, label})),
    ), overlay)  # fmt: skip
    return EolImport(product, len(cycles))
