"""Debian changelogs: which Debian version of a source package closes which CVE, and when
each upstream release was first packaged.

A ``debian/changelog`` is a list of entries, each a header line
``package (version) suites; urgency=...``, body lines, and a trailer line
`` -- Maintainer <mail>  Day, DD Mon YYYY HH:MM:SS +ZZZZ``. This reader is hand-written: the
format is three line shapes, ``debian-inspector`` (a dependency, for Debian version order)
has no changelog parser, and ``python-debian``'s is GPL-licensed.

Mapping an entry to upstream facts (``upstream`` below): the epoch and the Debian revision are
stripped, and so are repack markers (``+dfsg``, ``+ds``) and ``really`` versions
(``1.3.dfsg+really1.3.1`` is upstream 1.3.1).
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from debian_inspector.version import Version

_HEADER = re.compile(r"^(?P<package>[a-z0-9][a-z0-9.+-]+) \((?P<version>[^)\s]+)\) [^;]*;")
_TRAILER = re.compile(r"^ -- .*?>\s+(?P<date>.+?)\s*$")
_CVE = re.compile(r"CVE-\d{4}-\d{4,}")
_REPACK = re.compile(r"([.+~](dfsg|ds|repack|debian)\d*)+$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Entry:
    """One changelog entry."""

    package: str
    """Source package name."""
    version: str
    """Debian version, as written (``1:1.2.13.dfsg-1+deb12u1``)."""
    date: str | None
    """ISO date of the trailer line."""
    cves: tuple[str, ...]
    """CVE ids the entry mentions, in order, each once."""
    new_upstream: bool
    """True when the entry packages a new upstream release (Debian revision ``-1``/``-0``
    or the text says so), rather than patching the previous one."""
    text: str
    """The entry as written (header to trailer)."""
    patched: tuple[str, ...] = ()
    """CVEs a new-upstream entry names in a bullet about patches it adds on top (``Import
    patches since upstream 2.4.8``, ``cherry-pick``, ``backport``): not fixed by that release."""


def upstream(version: str) -> str:
    """The upstream version a Debian version packages."""
    text = version.split(":", 1)[-1]
    if "-" in text:
        text = text.rsplit("-", 1)[0]
    text = text.rsplit("really", 1)[-1]
    return _REPACK.sub("", text)


def revision(version: str) -> str:
    """The Debian revision (``0+deb11u5`` of ``1.1.1n-0+deb11u5``), ``""`` when native."""
    text = version.split(":", 1)[-1]
    return text.rsplit("-", 1)[1] if "-" in text else ""


def is_debian_version(version: str) -> bool:
    """True when a version string carries a Debian revision (``1.1.1n-0+deb11u5``)."""
    rev = revision(version)
    return (
        bool(rev)
        and rev[0].isdigit()
        and ("deb" in rev or "ubuntu" in rev or bool(re.fullmatch(r"[\d.~+]+", rev)))
    )


def newer_or_equal(version: str, other: str) -> bool:
    """Debian version order (dpkg's): ``version >= other``."""
    return bool(Version.from_string(version) >= Version.from_string(other))


def _iso(date: str) -> str | None:
    try:
        return email.utils.parsedate_to_datetime(date).date().isoformat()
    except (TypeError, ValueError, IndexError):
        return None


def _new_upstream(version: str, body: str) -> bool:
    """A first upload of an upstream release (``-1``, ``-0``, a backport of it such as
    ``-1~deb12u1`` or ``-1~bpo11+1``, an experimental ``-1~exp1``), or an upload whose text
    says "new upstream" (``-0+deb11u1`` security uploads of a new release); ``-1+1~exp1``,
    ``-1.1`` and ``+debNuM`` revisions patch a release."""
    rev = revision(version)
    if re.fullmatch(r"0?[01](~(exp|bpo|deb)[\w.+]*)?", rev):
        return True
    said = re.search(r"new upstream (stable |security |bugfix )?(release|version|update)", body,
                     re.IGNORECASE)  # fmt: skip
    return bool(said) and (rev.startswith("0+deb") or not re.search(r"[+~]deb\d", rev))


_NOT_AFFECTED = re.compile(
    r"not affected|(does not|doesn't|did not) affect|not vulnerable|unaffected|not applicable",
    re.IGNORECASE,
)


def _named(lines: list[str]) -> tuple[str, ...]:
    """CVE ids the entry names as closed: each once, in order, leaving out those named only on
    lines that say the package is not affected (``Not affected by CVE-2015-3197``)."""
    closed = [cve for line in lines if not _NOT_AFFECTED.search(line) for cve in _CVE.findall(line)]
    return tuple(dict.fromkeys(closed))


_ON_TOP = re.compile(
    r"cherry.?pick|back.?port|import patch|patches since|add(ed)? patch|new patch", re.IGNORECASE
)
_UPSTREAM = re.compile(r"(applied|fixed|included|merged) upstream|upstream (fix|release)", re.I)


def _patched(body: str) -> tuple[str, ...]:
    """CVEs named in top-level bullets (``  * ``) about patches added on top of the release."""
    found: list[str] = []
    for bullet in re.split(r"\n(?=  \* )", body):
        if _ON_TOP.search(bullet) and not _UPSTREAM.search(bullet):
            found.extend(_CVE.findall(bullet))
    return tuple(dict.fromkeys(found))


def entries(text: str) -> Iterator[Entry]:
    """The entries of one changelog, in file order (newest first)."""
    lines: list[str] = []
    head: re.Match[str] | None = None
    for line in text.splitlines(keepends=True):
        header = _HEADER.match(line)
        if header is not None:
            head, lines = header, [line]
            continue
        if head is None:
            continue
        lines.append(line)
        trailer = _TRAILER.match(line)
        if trailer is not None:
            body = "".join(lines)
            fresh = _new_upstream(head["version"], body)
            yield Entry(
                package=head["package"], version=head["version"], date=_iso(trailer["date"]),
                cves=_named(lines), new_upstream=fresh,
                text=body + "\n", patched=_patched(body) if fresh else (),
            )  # fmt: skip
            head, lines = None, []


def merge(found: Iterable[Entry]) -> list[Entry]:
    """Entries of several suites' changelogs, each version once, newest version first."""
    unique: dict[str, Entry] = {}
    for entry in found:
        unique.setdefault(entry.version, entry)
    try:
        return sorted(unique.values(), key=lambda e: Version.from_string(e.version), reverse=True)
    except ValueError:
        return list(unique.values())


def first_packaged(found: Iterable[Entry]) -> dict[str, str]:
    """Upstream version -> the date Debian first packaged it (the earliest entry's date); an
    upper bound of its release date."""
    dates: dict[str, str] = {}
    for entry in found:
        version = upstream(entry.version)
        if entry.date and (version not in dates or entry.date < dates[version]):
            dates[version] = entry.date
    return dates
