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

from assay.analyze.binaries import nearby, prefilter
from assay.errors import AnalyzerError

_IDS = "binary_version_ids.toml"


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
    unless: bytes | None = None
    """A literal that, when it occurs in the content, turns the row off (a fork's own mark)."""
    supersedes: frozenset[str] = frozenset()
    """Ids of rows of the same library whose hits this row's hits replace in one file."""
    lookup: str | None = None
    """A table of ``binary_version_ids.toml`` mapping the group ``key`` to the version."""
    near: bytes | None = None
    """An anchor literal: only the match closest to it counts (see :mod:`.nearby`)."""
    window: int = 0
    """With ``near``: bytes either side of the anchor searched for the pattern."""
    anywhere: bool = False
    """Search the whole file, not only its string sections (symbol versions, DT_NEEDED names)."""
    unless_imported: frozenset[str] = frozenset()
    """Symbols that turn the row off when the file imports one of them: the version text is
    then the library's header, compiled into a program that calls the shared library (hostapd
    holds "OpenSSL 3.0.16 11 Feb 2025" and imports ``OpenSSL_version`` of libcrypto.so.3)."""


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
    unless = row.get("unless")
    lookup = row.get("lookup")
    if lookup is not None and lookup not in version_ids():
        raise TypeError(f"{library}/{row.get('id')}: no table {lookup!r} in {_IDS}")
    near = row.get("near")
    return Signature(
        library=library,
        id=row["id"],
        pattern=re.compile(pattern.encode("latin-1")) if pattern else None,
        file=re.compile(file) if file else None,
        requires=requires.encode("latin-1") if requires else None,
        unless=unless.encode("latin-1") if unless else None,
        supersedes=frozenset(row.get("supersedes", ())),
        lookup=lookup,
        near=near.encode("latin-1") if near else None,
        window=int(row.get("window", 128)),
        anywhere=bool(row.get("anywhere", False)),
        unless_imported=frozenset(row.get("unless_imported", ())),
    )


@cache
def version_ids() -> dict[str, dict[str, str]]:
    """The tables of ``rules/binary_version_ids.toml``: an identifier a build carries (SQLite's
    source id) to the release version it belongs to."""
    text = (resources.files("assay") / "rules" / _IDS).read_text("utf-8")
    return {name: dict(table) for name, table in tomllib.loads(text).items()}


def detect(
    data: bytes, name: str, strings: bytes | None = None, imports: frozenset[str] = frozenset()
) -> tuple[Hit, ...]:
    """Every distinct (library, version) the rows find in a file or in its name ``name``.

    Patterns search ``strings`` (the parts of ``data`` that hold strings) when given, else
    ``data``; ``requires`` literals are looked up in the whole of ``data`` (they are often
    symbol names, in ``.dynstr``). A ``requires`` literal that is one of ``imports`` (the
    file's undefined symbols) ties nothing to the file: a program that calls
    ``nghttp2_version()`` of a shared libnghttp2 does not contain nghttp2, and the bare version
    strings it holds are other libraries' (libcurl's "1.2.13" is the zlib it was built with).
    Only the rows :func:`rows_filter` names for the file run; the others cannot match it.
    """
    view = data if strings is None else strings
    rows = signatures()
    matched: list[tuple[Signature, Hit]] = []
    for index in rows_filter().candidates(data, view):
        row = rows[index]
        for hit in _matches(row, data, name, view, imports):
            matched.append((row, hit))
    replaced = {(row.library, old) for row, _ in matched for old in row.supersedes}
    found: dict[tuple[str, str | None], Hit] = {}
    for row, hit in matched:
        if (row.library, row.id) not in replaced:
            found.setdefault((hit.library, hit.version), hit)
    versioned = {lib for lib, version in found if version is not None}
    hits = [
        h
        for (lib, v), h in found.items()
        if (v is None and lib not in versioned) or (v is not None and not _extended(lib, v, found))
    ]
    return tuple(sorted(hits, key=lambda h: (h.library, h.version or "")))


@cache
def rows_filter() -> prefilter.Prefilter:
    """The pre-filter of :func:`signatures` (built once per process): only the rows it names
    for a file run their regex on it."""
    return prefilter.Prefilter([
        prefilter.Gate(row.pattern, row.anywhere, row.requires, row.unless, row.near)
        if row.pattern is not None else prefilter.Gate()
        for row in signatures()
    ])  # fmt: skip


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


def _matches(
    row: Signature, data: bytes, name: str, strings: bytes, imports: frozenset[str]
) -> list[Hit]:
    if row.file is not None:
        named = row.file.match(name)
        if named is None:
            return []
        version = named.groupdict().get("version")
        return [Hit(row.library, version, name, f"{row.library}/{row.id}")]
    assert row.pattern is not None
    if row.requires is not None and (
        row.requires not in data or row.requires.decode("latin-1") in imports
    ):
        return []
    if row.unless is not None and row.unless in data:
        return []
    if not row.unless_imported.isdisjoint(imports):
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
        key = _version(row, match)
        if key not in hits:
            text = match.group(0).strip(b"\0 ").decode("latin-1")
            hits[key] = Hit(row.library, key, text, f"{row.library}/{row.id}")
        if len(hits) >= 4:
            break
    return list(hits.values())


def _version(row: Signature, match: re.Match[bytes]) -> str | None:
    """The version a match names: its ``version`` group, or its ``key`` group looked up in the
    row's table (``None`` when the table does not know it: present, version unknown)."""
    groups = match.groupdict()
    if row.lookup is not None:
        key = groups.get("key")
        return version_ids()[row.lookup].get(key.decode("latin-1")) if key else None
    raw: bytes | None = groups.get("version")
    return raw.decode("latin-1") if raw else None


def row_hits(
    row: Signature,
    data: bytes,
    name: str,
    strings: bytes | None = None,
    imports: frozenset[str] = frozenset(),
) -> list[Hit]:
    """What one row alone finds in a file (to check rows one by one; :func:`detect` keeps one
    hit per library and version)."""
    return _matches(row, data, name, data if strings is None else strings, imports)
