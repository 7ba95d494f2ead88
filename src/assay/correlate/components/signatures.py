"""Version evidence of third-party libraries, read from header macros by data-driven rows.

The rows live in ``rules/signatures.toml`` (see its header for the format); users add their own
with ``load_signatures(extra)``. ``wanted(path)`` is the engine's cheap filter and
``detect(path, text)`` the pure core: which library, which version, where its copy starts.

Longer than 300 lines: the row format, its loader and the matcher that interprets the rows change
together (a new row field is read and applied here).
"""

from __future__ import annotations

import fnmatch
import functools
import re
import string
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from assay.rules import rule_table

_WILDCARDS = frozenset("*?[")
_STRIP = "-+._ "
_FORMATTER = string.Formatter()


@dataclass(frozen=True, slots=True)
class Library:
    """A library the signatures can name."""

    name: str
    """Lower-case package name, as in ``pkg:generic/<name>@<version>``."""
    cpe: str | None
    """NVD ``vendor:product``, or ``None`` when the CPE dictionary has none."""
    cpe_part: str = "a"
    """CPE part: ``a`` application, ``o`` operating system, ``h`` hardware."""
    purl_type: str = "generic"
    """Package-URL type of a vendored copy."""


@dataclass(frozen=True, slots=True)
class Signature:
    """One row: where a library states its version and how to read it."""

    library: str
    """Name of the library the row identifies."""
    id: str
    """Row id, unique within its library."""
    file: str
    """File name or path suffix (``zlib.h``, ``lwip/init.h``); may hold fnmatch wildcards."""
    roots: tuple[str, ...]
    """The file's paths relative to the library's root; the longest one ending a path wins."""
    pattern: re.Pattern[str]
    """Regex over the Latin-1 text, with named groups used by the templates."""
    templates: tuple[str, ...]
    """Version templates, the first whose fields all matched is used."""
    qualifiers: tuple[str, ...] = ()
    """Qualifier templates, each kept when its fields all matched."""
    requires: re.Pattern[str] | None = None
    """A regex that must also match somewhere in the file."""
    unless: re.Pattern[str] | None = None
    """A regex that disables the row when it matches anywhere in the file (fork precedence)."""
    confirms: bool = False
    """Evidence too generic to name a copy alone (SQLite's ``VERSION`` file): it only states
    the version of a copy of its library that the knowledge base finds by its files at the
    same root."""
    fallback: bool = False
    """Evidence kept only when no other row of its library found any at the same root (libpng's
    ``png.c`` names a fragment without ``png.h``; beside ``png.h`` it adds nothing, and the
    copy's first evidence, where its findings are anchored, stays the header)."""
    code: str = ""
    """Where the copy's code lies relative to the root ``roots`` give, when the header stating
    the version lives apart from it: the Linux kernel's and U-Boot's zstd state it in
    ``include/linux/zstd_lib.h`` and keep the code in ``lib/zstd`` (``""``: at the root)."""

    @property
    def rule(self) -> str:
        """The evidence's rule name, ``<library>/<id>``."""
        return f"{self.library}/{self.id}"


@dataclass(frozen=True, slots=True)
class VersionEvidence:
    """A library's version read from one file of the evaluated tree."""

    library: str
    """Library name (``openssl``, ``boringssl``...)."""
    version: str
    """Version as the library writes it; ``""`` when the library states none (BoringSSL)."""
    qualifiers: tuple[str, ...]
    """Sorted lower-case qualifiers: ``fips``, ``dev``, ``alpha17``, ``rc1``..."""
    path: str
    """POSIX path of the file, relative to the evaluated root."""
    line: int
    """1-based line where the match starts."""
    root: str
    """The copy's root directory (POSIX, ``""`` for the evaluated root)."""
    rule: str
    """The row that matched, ``<library>/<id>``."""
    text: str
    """The matched lines, stripped (several lines for multi-macro rows)."""
    confirms: bool = False
    """From a row that only confirms a copy found by its files (``Signature.confirms``)."""
    fallback: bool = False
    """From a row used only when its library has no other evidence there (``Signature``)."""


@dataclass(frozen=True, slots=True)
class SignatureSet:
    """Every row, indexed by file name for the cheap ``wanted`` test."""

    libraries: Mapping[str, Library]
    """Libraries by name."""
    by_name: Mapping[str, tuple[Signature, ...]]
    """Rows whose ``file`` has no wildcard, by the file's base name."""
    globbed: tuple[Signature, ...]
    """Rows whose ``file`` has wildcards (few)."""
    globs: tuple[tuple[int, re.Pattern[str]], ...] = ()
    """The ``file`` patterns of ``globbed`` as one regular expression per depth (components
    of the path's tail they match), for ``wanted``'s test of every file of the tree."""

    @classmethod
    def of(cls, libraries: Iterable[Library], rows: Iterable[Signature]) -> SignatureSet:
        """Index ``rows``."""
        by_name: dict[str, list[Signature]] = {}
        globbed: list[Signature] = []
        for row in rows:
            base = row.file.rsplit("/", 1)[-1]
            if _WILDCARDS.isdisjoint(base):
                by_name.setdefault(base, []).append(row)
            else:
                globbed.append(row)
        by_depth: dict[int, list[str]] = {}
        for row in globbed:
            by_depth.setdefault(row.file.count("/") + 1, []).append(fnmatch.translate(row.file))
        return cls(
            {lib.name: lib for lib in libraries},
            {name: tuple(found) for name, found in by_name.items()},
            tuple(globbed),
            tuple((depth, re.compile("|".join(f"(?:{p})" for p in patterns)))
                  for depth, patterns in sorted(by_depth.items())),
        )  # fmt: skip

    def rows_for(self, path: str) -> list[Signature]:
        """The rows whose ``file`` matches ``path``."""
        base = path.rsplit("/", 1)[-1]
        rows = [r for r in self.by_name.get(base, ()) if _suffix_matches(path, r.file)]
        rows.extend(r for r in self.globbed if glob_matches(path, r.file))
        return rows


def _suffix_matches(path: str, file: str) -> bool:
    return path == file or path.endswith("/" + file)


def glob_matches(path: str, file: str) -> bool:
    depth = file.count("/") + 1
    return fnmatch.fnmatchcase("/".join(path.split("/")[-depth:]), file)


# --- loading ------------------------------------------------------------------------------


def _strings(value: str | Sequence[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def _optional(pattern: str | None) -> re.Pattern[str] | None:
    return re.compile(pattern, re.MULTILINE) if pattern else None


def _signature(library: str, row: Mapping[str, Any]) -> Signature:
    return Signature(
        library=library,
        id=row["id"],
        file=row["file"],
        roots=_strings(row.get("root", "*")),
        pattern=re.compile(row["pattern"], re.MULTILINE),
        templates=_strings(row.get("template", "{version}")),
        qualifiers=_strings(row.get("qualifiers", ())),
        requires=_optional(row.get("requires")),
        unless=_optional(row.get("unless")),
        confirms=bool(row.get("confirms", False)),
        fallback=bool(row.get("fallback", False)),
        code=row.get("code", ""),
    )


def _parse(document: Mapping[str, Any]) -> tuple[list[Library], list[Signature]]:
    libraries: list[Library] = []
    rows: list[Signature] = []
    for table in document.values():
        library = Library(table["name"], table.get("cpe"), table.get("cpe_part", "a"))
        libraries.append(library)
        rows.extend(_signature(library.name, row) for row in table.get("signatures", ()))
    return libraries, rows


def load_signatures(extra: Path | None = None) -> SignatureSet:
    """The built-in rows, plus those of the user's TOML file ``extra`` (same format)."""
    libraries, rows = _parse(rule_table("signatures.toml"))
    if extra is not None:
        more_libraries, more_rows = _parse(tomllib.loads(extra.read_text(encoding="utf-8")))
        known = {lib.name for lib in libraries}
        libraries.extend(lib for lib in more_libraries if lib.name not in known)
        rows.extend(more_rows)
    return SignatureSet.of(libraries, rows)


@functools.cache
def builtin() -> SignatureSet:
    """The built-in rows, loaded once per process."""
    return load_signatures()


# --- detection ----------------------------------------------------------------------------


def wanted(path: str, signatures: SignatureSet | None = None) -> bool:
    """Whether any row reads a file at ``path`` (cheap: a base-name lookup, a few globs)."""
    found = signatures or builtin()
    base = path.rsplit("/", 1)[-1]
    if any(_suffix_matches(path, r.file) for r in found.by_name.get(base, ())):
        return True
    for depth, pattern in found.globs:
        tail = base if depth == 1 else "/".join(path.split("/")[-depth:])
        if pattern.match(tail):
            return True
    return False


def detect(path: str, text: bytes, signatures: SignatureSet | None = None) -> list[VersionEvidence]:
    """The version evidence in the file at ``path`` with contents ``text``, sorted."""
    rows = (signatures or builtin()).rows_for(path)
    if not rows:
        return []
    decoded = text.decode("latin-1")
    found = [e for row in rows if _applies(row, decoded) for e in _matches(row, path, decoded)]
    return sorted(_merge_alternatives(found), key=_order)


def _applies(row: Signature, text: str) -> bool:
    if row.unless is not None and row.unless.search(text):
        return False
    return row.requires is None or row.requires.search(text) is not None


def _matches(row: Signature, path: str, text: str) -> Iterable[VersionEvidence]:
    for match in row.pattern.finditer(text):
        groups = {k: v for k, v in match.groupdict().items() if v}
        version = next((v for t in row.templates if (v := _fill(t, groups)) is not None), None)
        if version is None:
            continue
        qualifiers = (_fill(t, groups) for t in row.qualifiers)
        yield VersionEvidence(
            library=row.library,
            version=version,
            qualifiers=tuple(sorted({q.lower().lstrip(_STRIP) for q in qualifiers if q})),
            path=path,
            line=_line_of(text, match.start(), match.end()),
            root="/".join(p for p in (copy_root(path, row.roots), row.code) if p),
            rule=row.rule,
            text=_lines_of(text, match.start(), match.end()),
            confirms=row.confirms,
            fallback=row.fallback,
        )


def _line_of(text: str, start: int, end: int) -> int:
    """1-based line of the first non-blank character of the match (a pattern's leading
    ``\\s*`` may start on an earlier, blank line)."""
    span = text[start:end]
    offset = len(span) - len(span.lstrip())
    return text.count("\n", 0, start + offset) + 1


def _fill(template: str, groups: Mapping[str, str]) -> str | None:
    """``template`` with ``groups`` filled in, or ``None`` when one of its fields is missing."""
    fields = [name for _, name, _, _ in _FORMATTER.parse(template) if name is not None]
    if any(name not in groups for name in fields):
        return None
    return template.format_map(groups)


def _lines_of(text: str, start: int, end: int) -> str:
    first = text.rfind("\n", 0, start) + 1
    last = text.find("\n", max(end - 1, start))
    lines = text[first : last if last >= 0 else len(text)].splitlines()
    return "\n".join(line.strip() for line in lines if line.strip())


def copy_root(path: str, roots: Sequence[str]) -> str:
    """The copy's root: ``path`` minus the longest of ``roots`` that ends it; else, for a copy
    re-rooted by its vendor, ``path`` minus the longest tail of three or more components
    it shares with a root (two, ``openssl/opensslv.h``, are too common a layout of copied
    headers to move the root above their folder): CMake keeps xz's
    ``src/liblzma/api/lzma/version.h`` as ``Utilities/cmliblzma/liblzma/api/lzma/version.h``.
    Else the file's directory.

    >>> copy_root("vendor/ssl/include/openssl/opensslv.h", ["include/openssl/opensslv.h"])
    'vendor/ssl'
    >>> copy_root("cmliblzma/liblzma/api/lzma/version.h", ["src/liblzma/api/lzma/version.h"])
    'cmliblzma'
    """
    ending = [r for r in roots if r != "*" and _suffix_matches(path, r)]
    if ending:
        longest = max(ending, key=len)
        return path[: len(path) - len(longest)].rstrip("/")
    parts = path.split("/")
    shared = max((_shared_tail(parts, r.split("/")) for r in roots if r != "*"), default=0)
    if shared >= 3:
        return "/".join(parts[: len(parts) - shared])
    return path.rpartition("/")[0]


def _shared_tail(a: Sequence[str], b: Sequence[str]) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[-1 - n] == b[-1 - n]:
        n += 1
    return n


def _merge_alternatives(found: list[VersionEvidence]) -> list[VersionEvidence]:
    """One item per (library, version, root): qualifiers shared by all, at the first line.

    A qualifier seen in only some matches of one version in one file is an ``#ifdef``
    alternative (OpenSSL 1.0.x writes "1.0.2k-fips" and "1.0.2k"), not a fact of the copy.
    """
    groups: dict[tuple[str, str, str], list[VersionEvidence]] = {}
    for item in found:
        groups.setdefault((item.library, item.version, item.root), []).append(item)
    merged = []
    for items in groups.values():
        first = min(items, key=_order)
        common = set(first.qualifiers).intersection(*(i.qualifiers for i in items))
        merged.append(replace(first, qualifiers=tuple(sorted(common))))
    return merged


def _order(item: VersionEvidence) -> tuple[str, int, str, str, str]:
    return (item.path, item.line, item.library, item.version, item.rule)


def cpe(name: str, version: str | None, signatures: SignatureSet | None = None) -> str | None:
    """The CPE 2.3 name of ``name`` at ``version`` (``*`` when unknown), or ``None``."""
    library = (signatures or builtin()).libraries.get(name)
    if library is None or library.cpe is None:
        return None
    vendor, _, product = library.cpe.partition(":")
    return f"cpe:2.3:{library.cpe_part}:{vendor}:{product}:{version or '*'}:*:*:*:*:*:*:*"
