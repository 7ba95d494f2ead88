"""What a file refers to that may be key material: names of key and certificate files
(``"/etc/ssl/server.pem"``, ``rootfs/etc/ssl/server.pem`` in a Makefile) and the symbols of known
test-material tables (``mbedtls_test_cas_pem``).

The facts are path-free; the ``secrets`` step later decides which referring files are product
code or build files, and which material a reference names. Found from the cheap anchor of the
file extension (or the symbol prefix), then read backwards, so the cost is one scan of the bytes.
"""

from __future__ import annotations

import re
from functools import cache

from assay.rules import rule_table

MAX_REFERENCES = 64
"""References kept per file (a file naming more key files is a list, not one product use)."""
SYMBOL = "symbol:"
"""Prefix of a symbol reference (file references are plain paths)."""
_EXTENSION = re.compile(rb"\.(?:pem|key|crt|cer|der|p12|pfx|ppk|csr)(?![\w.])")
_LONGEST = 256
"""Bytes read backwards from an extension (each byte is read at most this often)."""
_WORD_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_NAME_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./+-")


@cache
def test_material() -> tuple[dict[str, object], ...]:
    """The ``[[test_material]]`` rows of ``rules/secrets.toml``."""
    return tuple(rule_table("secrets.toml").get("test_material", ()))


@cache
def _symbols() -> re.Pattern[bytes] | None:
    prefixes = sorted({str(row["symbols"]) for row in test_material() if row.get("symbols")})
    if not prefixes:
        return None
    # A literal start (no leading \b): the previous byte is checked by the caller.
    return re.compile(rb"(?:" + b"|".join(re.escape(p.encode()) for p in prefixes) + rb")\w+")


def normalise(reference: str) -> str:
    """A file reference without leading ``/``, ``.`` and ``..`` components."""
    parts = [p for p in reference.split("/") if p not in ("", ".", "..")]
    return "/".join(parts)


def references(source: bytes) -> tuple[str, ...]:
    """Key-file names and test-material symbols ``source`` mentions, sorted, at most
    ``MAX_REFERENCES``."""
    found: set[str] = set()
    for match in _EXTENSION.finditer(source):
        start, limit = match.start(), max(0, match.start() - _LONGEST)
        while start > limit and source[start - 1] in _NAME_BYTES:
            start -= 1
        name = normalise(source[start : match.end()].decode("ascii", "replace"))
        if name and not name.startswith("."):
            found.add(name)
        if len(found) >= MAX_REFERENCES:
            break
    symbols = _symbols()
    if symbols is not None:
        for match in symbols.finditer(source):
            if match.start() and source[match.start() - 1] in _WORD_BYTES:
                continue
            found.add(SYMBOL + match.group(0).decode("ascii"))
            if len(found) >= 2 * MAX_REFERENCES:
                break
    return tuple(sorted(found))
