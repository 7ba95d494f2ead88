"""Password hashes in account files (shadow, passwd, htpasswd) and in any text or C literal.

A line ``user:hash[:...]`` whose hash has a crypt(3) prefix (``$1$`` MD5, ``$5$``/``$6$`` SHA-2,
``$2a$``/``$2b$``/``$2y$`` bcrypt, ``$y$`` yescrypt, ``$apr1$`` Apache MD5, ``{SHA}``) is a
password hash wherever it appears. The 13-character DES form has no prefix and looks like any
word, so it is only taken from files named as account files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assay.analyze.secrets.keys import Lines

ACCOUNT_FILES = re.compile(
    r"(?:^|[._-])(?:shadow|gshadow|passwd|master\.passwd|htpasswd|passwords?)(?:$|[._-])"
)
"""Base names of files that hold accounts (``shadow``, ``.htpasswd``, ``etc_passwd.orig``)."""

_PREFIXED = re.compile(
    rb"(?m)(?:^|[\s\"'])([A-Za-z_][\w.-]{0,31}):"
    rb"(\$(?:1|5|6|2[aby]|y|gy|7|apr1|sha1|md5)\$[./A-Za-z0-9$=,]{8,}|\{SHA\}[A-Za-z0-9+/]{27}=)"
)
_DES = re.compile(rb"(?m)^([A-Za-z_][\w.-]{0,31}):([./A-Za-z0-9]{13})(?=:|\s*$)")
_SCHEMES = re.compile(rb"^(\$[a-z0-9]+\$|\{SHA\})")


@dataclass(frozen=True, slots=True)
class HashHit:
    """One account line with a password hash."""

    line: int
    """1-based line."""
    user: str
    """The account name (not secret)."""
    scheme: str
    """``$6$``, ``$2y$``, ``{SHA}`` or ``DES``."""
    value: str
    """The hash itself: only ever reported redacted."""


def has_hash_marker(source: bytes) -> bool:
    """Cheap pre-test for prefixed hashes."""
    return b":$" in source or b":{SHA}" in source


def password_hashes(source: bytes, account_file: bool) -> list[HashHit]:
    """Account lines with hashes; DES hashes only when ``account_file``."""
    found: list[HashHit] = []
    lines: Lines | None = None
    patterns = [_PREFIXED, _DES] if account_file else [_PREFIXED]
    for pattern in patterns:
        for match in pattern.finditer(source):
            lines = lines or Lines(source)
            value = match.group(2)
            scheme = _SCHEMES.match(value)
            found.append(
                HashHit(
                    lines.of(match.start(1)),
                    match.group(1).decode("ascii"),
                    scheme.group(1).decode("ascii") if scheme else "DES",
                    value.decode("ascii"),
                )
            )
    return sorted(found, key=lambda h: h.line)
