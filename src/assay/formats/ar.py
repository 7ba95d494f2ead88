"""Members of ``ar`` archives (static libraries, ``.a``), bounded against hostile input.

The one ``ar`` reader: the binaries analyzer reads the ELF members of shipped archives, the
rebuild compares archives member by member (with their metadata). Every cap is checked while
the bytes are read: the member count before each header, a long name's length while its
terminator is searched for. Malformed input raises :class:`BadArchive`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from assay.errors import FormatError

AR_MAGIC = b"!<arch>\n"
"""The first bytes of every ``ar`` archive."""
MAX_MEMBERS = 4096
"""Members read from one archive at most (index and name tables included)."""
MAX_NAME = 4096
"""Bytes of one GNU long name at most."""
INDEXES = frozenset({"/", "/SYM64", "__.SYMDEF", "__.SYMDEF SORTED"})
"""Names of the symbol index members (not object files)."""
_HEADER = 60


class BadArchive(FormatError, ValueError):
    """The bytes are not a readable ``ar`` archive."""


class TooManyMembers(BadArchive):
    """The archive holds more than :data:`MAX_MEMBERS` members."""


@dataclass(frozen=True, slots=True)
class Member:
    """One archive member."""

    name: str
    """Member name (GNU long names resolved; ``/`` is the symbol index)."""
    mtime: str
    """Modification time field, as stored."""
    owner: str
    """``uid/gid`` fields, as stored."""
    mode: str
    """Mode field (octal), as stored."""
    data: bytes
    """Contents."""

    @property
    def is_index(self) -> bool:
        """The symbol index, not a file."""
        return self.name in INDEXES


def is_ar(data: bytes) -> bool:
    """The bytes start with the ``ar`` magic."""
    return data.startswith(AR_MAGIC)


def members(data: bytes) -> list[Member]:
    """Every member in archive order (see :func:`iter_members`)."""
    return list(iter_members(data))


def iter_members(data: bytes) -> Iterator[Member]:
    """Each member in archive order (the ``//`` name table is not one); raises
    :class:`BadArchive` on a malformed or truncated archive and :class:`TooManyMembers` at the
    first header past the cap."""
    if not is_ar(data):
        raise BadArchive("no !<arch> magic")
    names = b""
    offset = len(AR_MAGIC)
    count = 0
    while offset + _HEADER <= len(data):
        count += 1
        if count > MAX_MEMBERS:
            raise TooManyMembers(f"more than {MAX_MEMBERS} members")
        header = data[offset : offset + _HEADER]
        if header[58:60] != b"`\n":
            raise BadArchive(f"bad member header at {offset}")
        size = _size(header[48:58], offset)
        start = offset + _HEADER
        body = data[start : start + size]
        if len(body) != size:
            raise BadArchive(f"truncated member at {offset}")
        raw = header[:16].decode("ascii", "replace").rstrip()
        if raw == "//":
            names = body
        else:
            yield Member(_name(raw, names, offset), _field(header[16:28]),
                         f"{_field(header[28:34])}/{_field(header[34:40])}",
                         _field(header[40:48]), body)  # fmt: skip
        offset = start + size + (size & 1)


def _size(field: bytes, offset: int) -> int:
    """The decimal size field (digits only: a sign would move the reader backwards)."""
    text = field.strip()
    if text and not text.isdigit():
        raise BadArchive(f"bad member size at {offset}")
    return int(text or b"0")


def _field(raw: bytes) -> str:
    """A text header field, as stored."""
    return raw.decode("ascii", "replace").strip()


def _name(raw: str, names: bytes, offset: int) -> str:
    """A member's name: GNU long names (``/123``) are looked up in the ``//`` table, with the
    terminator searched for in :data:`MAX_NAME` bytes at most; a short name loses its ``/``."""
    if raw.startswith("/") and raw[1:].isdigit():
        start = int(raw[1:])
        end = names.find(b"/\n", start, start + MAX_NAME + 2)
        if end < 0 and len(names) - start > MAX_NAME:
            raise BadArchive(f"long name longer than {MAX_NAME} bytes at {offset}")
        return names[start : end if end >= 0 else len(names)].decode("utf-8", "replace")
    return raw[:-1] if raw.endswith("/") and raw != "/" else raw
