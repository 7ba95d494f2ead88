"""Version ordering and range membership for the C libraries assay names (used by the
component inventory and the vulnerability matching alike).

A key has four parts, compared in order:

1. the dotted numbers, trailing zeros dropped (``7.7 == 7.7.0``);
2. OpenSSL's letter release written right after the last number (``1.1.1 < 1.1.1a < 1.1.1z <
   1.1.1za``); plain string order gives exactly OpenSSL's sequence because every letter release
   after ``z`` is ``z`` followed by more letters;
3. a pre-release rank (``alpha < beta < rc``, all before the final release);
4. the pre-release number (``beta1 < beta2``).

Anything else after the version (``-fips``, ``-DEV``, ``-cvs``, Debian/Ubuntu/Yocto tags such as
``-1ubuntu1.3`` or ``+deb11u5``, a ``.dfsg`` repack marker) does not change the order: a packaged
``1.1.1n-0+deb11u5`` is compared as upstream ``1.1.1n``. Distribution backports therefore look
vulnerable here; the caller decides how to treat them.

Why not ``univers`` (``/work/.library/env/packages/pypi.tsv`` lists 32.0.1): it is neither installed
nor a dependency of this project, it would pull several more packages into an offline tool for one
comparison, and its generic schemes do not ignore the distribution suffixes above. The rules these
sources need are small enough to state and test here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Range:
    """One affected range of versions of one library, in that library's version order."""

    introduced: str | None = None
    """First affected version (inclusive); ``None`` means from the beginning."""
    fixed: str | None = None
    """First version that is no longer affected (exclusive); ``None`` if unknown or unfixed."""
    last_affected: str | None = None
    """Last affected version (inclusive), for sources that state it instead of ``fixed``."""


VersionKey = tuple[tuple[int, ...], str, int, int]
"""(numbers without trailing zeros, letter release, pre-release rank, pre-release number)."""

_FINAL = 9
"""Pre-release rank of a final release: after every ``alpha``/``beta``/``rc``."""

_PRE_RANK = {"alpha": 0, "beta": 1, "pre": 2, "rc": 2}

_NUMBERS = re.compile(r"\d+(?:\.\d+)*")
_PRE = re.compile(r"[-._~]?(alpha|beta|pre|rc)\.?(\d*)(?![a-z])")
_IGNORED = re.compile(r"(dev|cvs|git|snapshot|fips)(?![a-z])")
_LETTER = re.compile(r"([a-z]{1,3})(?![a-z])")
_LEVEL = re.compile(r"\d{1,8}")


def _strip(library: str, version: str) -> str:
    """Lower-case ``version`` and drop an epoch, a ``v`` and a ``<library>-`` prefix."""
    text = version.strip().lower()
    text = re.sub(r"^\d+:", "", text)
    for prefix in (f"{library.lower()}-", f"{library.lower()}_", "v"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    if library.lower() == "curl" and "_" in text and "." not in text:
        text = text.replace("_", ".")  # git tags: curl-7_88_1
    return text


def _pre_release(rest: str) -> tuple[int, int]:
    """Rank and number of a pre-release suffix at the start of ``rest``; final if none."""
    match = _PRE.match(rest)
    if match is None:
        return _FINAL, 0
    number = int(match.group(2)) if match.group(2) else 0
    return _PRE_RANK[match.group(1)], number


def _letter(rest: str) -> tuple[str, int]:
    """OpenSSL-style letter release written right after the last number, or ``""``; a
    patch level written after it (OpenSSH ``9.7p1``, ntp ``4.2.8p15``) is kept, zero-padded,
    so that ``p9 < p15``. Returns the key text and how many characters of ``rest`` it used."""
    if _PRE.match(rest) or _IGNORED.match(rest):
        return "", 0
    match = _LETTER.match(rest)
    if match is None:
        return "", 0
    level = _LEVEL.match(rest, match.end())
    if level is None:
        return match.group(1), match.end()
    return match.group(1) + f"{int(level.group(0)):08d}", level.end()


def key(library: str, version: str) -> VersionKey:
    """Sort key of ``version`` in ``library``'s release order.

    Raises ``ValueError`` when the text holds no version number.
    """
    text = _strip(library, version)
    match = _NUMBERS.match(text)
    if match is None:
        raise ValueError(f"not a {library} version: {version!r}")
    numbers = [int(part) for part in match.group(0).split(".")]
    while len(numbers) > 1 and numbers[-1] == 0:
        numbers.pop()
    rest = text[match.end() :]
    letter, used = _letter(rest)
    rank, number = _pre_release(rest[used:])
    return tuple(numbers), letter, rank, number


def in_range(library: str, version: str, bounds: Range) -> bool:
    """True when ``version`` lies in ``bounds`` (introduced and last_affected inclusive, fixed
    exclusive; a missing bound is open)."""
    at = key(library, version)
    if bounds.introduced is not None and at < key(library, bounds.introduced):
        return False
    if bounds.fixed is not None and at >= key(library, bounds.fixed):
        return False
    return bounds.last_affected is None or at <= key(library, bounds.last_affected)


def affected(library: str, version: str, ranges: Iterable[Range]) -> bool:
    """True when ``version`` of ``library`` falls in any of ``ranges``."""
    return any(in_range(library, version, bounds) for bounds in ranges)
