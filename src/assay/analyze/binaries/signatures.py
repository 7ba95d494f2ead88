"""Components inside binaries: version strings and file names matched by data rows.

The rows live in ``rules/binary_signatures.toml``; :func:`detect` is a pure function of a
file's bytes and base name.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from assay.analyze.binaries import nearby
from assay.errors import AnalyzerError


@dataclass(frozen=True, slots=True)
class Signature:
    """One row of evidence for one library."""

    library: str
    """Library name, as in the source signatures."""
    id: str
    """Row id, unique within the library."""
    pattern: re.Pattern[bytes] | None
    """Regex over the content, or ``None`` for a file-name row."""
    file: re.Pattern[str] | None
    """Regex over the base name, or ``None`` for a content row."""
    requires: bytes | None
    """A literal that must also occur in the content."""
    near: bytes | None = None
    """An anchor literal: only the match closest to it counts (see :mod:`.nearby`)."""
    window: int = 0
    """With ``near``: bytes either side of the anchor searched for the pattern."""
    anywhere: bool = False
    """Search the whole file, not only its string sections (symbol versions, DT_NEEDED names)."""


@dataclass(frozen=True, slots=True)
class Hit:
    """One library version found in one binary."""

    library: str
    """Library name."""
    version: str | None
    """Version, or ``None`` when the evidence names none."""
    evidence: str
    """The matched text (or file name)."""
    signature: str
    """``library/row-id`` of the row that matched."""


@cache
def toolchain_libraries() -> frozenset[str]:
    """Libraries that come with the compiler (not expected among source copies)."""
    return frozenset(table["name"] for table in _document().values() if table.get("toolchain"))


@cache
def signatures() -> tuple[Signature, ...]:
    """Every row of ``rules/binary_signatures.toml``."""
    try:
        return tuple(
            _signature(table["name"], row)
            for table in _document().values()
            for row in table["signatures"]
        )
    except (KeyError, TypeError, re.error) as exc:
        raise AnalyzerError(f"rules/binary_signatures.toml: invalid row: {exc}") from exc


@cache
def digest() -> str:
    """A short hash of the signature table: part of the analyzer's version (result cache)."""
    return hashlib.sha256(_text().encode("utf-8")).hexdigest()[:12]


def _text() -> str:
    return (resources.files("assay") / "rules" / "binary_signatures.toml").read_text("utf-8")


def _document() -> dict[str, Any]:
    return tomllib.loads(_text())


def _signature(library: str, row: dict[str, Any]) -> Signature:
    pattern = row.get("pattern")
    file = row.get("file")
    if (pattern is None) == (file is None):
        raise TypeError(f"{library}/{row.get('id')}: exactly one of pattern and file")
    requires = row.get("requires")
    near = row.get("near")
    return Signature(
        library=library,
        id=row["id"],
        pattern=re.compile(pattern.encode("latin-1")) if pattern else None,
        file=re.compile(file) if file else None,
        requires=requires.encode("latin-1") if requires else None,
        near=near.encode("latin-1") if near else None,
        window=int(row.get("window", 128)),
        anywhere=bool(row.get("anywhere", False)),
    )


def detect(data: bytes, name: str, strings: bytes | None = None) -> tuple[Hit, ...]:
    """Every distinct (library, version) the rows find in a file or in its name ``name``.

    Patterns search ``strings`` (the parts of ``data`` that hold strings) when given, else
    ``data``; ``requires`` literals are looked up in the whole of ``data`` (they are often
    symbol names, in ``.dynstr``).
    """
    found: dict[tuple[str, str | None], Hit] = {}
    for row in signatures():
        for hit in _matches(row, data, name, data if strings is None else strings):
            found.setdefault((hit.library, hit.version), hit)
    versioned = {lib for lib, version in found if version is not None}
    hits = [
        h
        for (lib, v), h in found.items()
        if (v is None and lib not in versioned) or (v is not None and not _extended(lib, v, found))
    ]
    return tuple(sorted(hits, key=lambda h: (h.library, h.version or "")))


def _extended(library: str, version: str, found: Mapping[tuple[str, str | None], Hit]) -> bool:
    """Whether another version found for the library extends this one past a component
    boundary: ``9.2`` beside ``9.2p1`` (ssh-keyscan's ident without the portable suffix) is the
    same release read less precisely; ``2.1`` beside ``2.10`` is not."""
    return any(
        lib == library
        and other is not None
        and other.startswith(version)
        and len(other) > len(version)
        and not other[len(version)].isdigit()
        for lib, other in found
    )


def _matches(row: Signature, data: bytes, name: str, strings: bytes) -> list[Hit]:
    if row.file is not None:
        named = row.file.match(name)
        if named is None:
            return []
        version = named.groupdict().get("version")
        return [Hit(row.library, version, name, f"{row.library}/{row.id}")]
    assert row.pattern is not None
    if row.requires is not None and row.requires not in data:
        return []
    if row.anywhere:
        strings = data
    if row.near is not None:
        found = nearby.nearest(row.pattern, row.near, strings, row.window)
        matches: Iterable[re.Match[bytes]] = () if found is None else (found,)
    else:
        matches = row.pattern.finditer(strings)
    hits: dict[str | None, Hit] = {}
    for match in matches:
        raw: bytes | None = match.groupdict().get("version")
        key = raw.decode("latin-1") if raw else None
        if key not in hits:
            text = match.group(0).strip(b"\0 ").decode("latin-1")
            hits[key] = Hit(row.library, key, text, f"{row.library}/{row.id}")
        if len(hits) >= 4:
            break
    return list(hits.values())


def row_hits(row: Signature, data: bytes, name: str, strings: bytes | None = None) -> list[Hit]:
    """What one row alone finds in a file (to check rows one by one; :func:`detect` keeps one
    hit per library and version)."""
    return _matches(row, data, name, data if strings is None else strings)
