"""Redaction of secret values: findings never carry the value, only a token that correlates it.

A token keeps a short prefix (none for short values), the length and the first eight hex digits
of the value's sha256, so that two findings of the same secret in different files can be matched
without either of them revealing it.
"""

from __future__ import annotations

import hashlib

_DIGEST_CHARS = 8


def digest(value: str | bytes) -> str:
    """The first hex digits of the sha256 of ``value`` (UTF-8 for text)."""
    raw = value.encode("utf-8", "surrogateescape") if isinstance(value, str) else value
    return hashlib.sha256(raw).hexdigest()[:_DIGEST_CHARS]


def _shown(value: str) -> str:
    """How much of the value's start is shown: two characters of long values, one of short ones."""
    if len(value) >= 12:
        return value[:2]
    if len(value) >= 6:
        return value[:1]
    return ""


def token(value: str) -> str:
    """The redacted stand-in for ``value``: ``<ab…, 12 chars, sha256:1a2b3c4d>``."""
    return f"<{_shown(value)}…, {len(value)} chars, sha256:{digest(value)}>"


def redact(text: str, values: tuple[str, ...] | list[str]) -> str:
    """``text`` with every occurrence of each non-empty value replaced by its token."""
    for value in sorted({v for v in values if v}, key=len, reverse=True):
        text = text.replace(value, token(value))
    return text
