"""Members of static archives (``ar`` format, ``.a``), bounded against hostile input."""

from __future__ import annotations

from collections.abc import Iterator

AR_MAGIC = b"!<arch>\n"
"""The first bytes of every ``ar`` archive."""
MAX_MEMBERS = 4096
"""Members read from one archive at most."""
_HEADER = 60


class BadArchive(Exception):
    """The bytes are not a readable ``ar`` archive."""


def members(data: bytes) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of each regular member; symbol tables and name tables are left out."""
    if not data.startswith(AR_MAGIC):
        raise BadArchive("no !<arch> magic")
    names = b""
    offset = len(AR_MAGIC)
    for _ in range(MAX_MEMBERS):
        if offset + _HEADER > len(data):
            return
        header = data[offset : offset + _HEADER]
        if header[58:60] != b"`\n":
            raise BadArchive(f"bad member header at {offset}")
        try:
            size = int(header[48:58].decode("ascii").strip() or "0")
        except ValueError as exc:
            raise BadArchive(f"bad member size at {offset}") from exc
        start = offset + _HEADER
        body = data[start : start + size]
        offset = start + size + (size & 1)
        raw = header[:16].decode("latin-1").rstrip()
        if raw == "//":
            names = body
        elif raw not in ("/", "/SYM64/", "__.SYMDEF", "__.SYMDEF SORTED"):
            yield _name(raw, names), body


def _name(raw: str, names: bytes) -> str:
    """A member's name: GNU long names (``/123``) are looked up in the ``//`` table."""
    if raw.startswith("/") and raw[1:].isdigit():
        start = int(raw[1:])
        end = names.find(b"/\n", start)
        return names[start : end if end >= 0 else None].decode("latin-1")
    return raw.rstrip("/")
