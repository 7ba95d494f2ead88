"""Read ``ar`` archives (static libraries): members with their metadata, in order."""

from __future__ import annotations

from dataclasses import dataclass

AR_MAGIC = b"!<arch>\n"
_HEADER = 60


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


def is_ar(data: bytes) -> bool:
    """The bytes start with the ``ar`` magic."""
    return data.startswith(AR_MAGIC)


def members(data: bytes) -> list[Member]:
    """Every member in archive order; a truncated or malformed archive raises ValueError."""
    out: list[Member] = []
    names = b""
    pos = len(AR_MAGIC)
    while pos + _HEADER <= len(data):
        head = data[pos : pos + _HEADER]
        if head[58:60] != b"`\n":
            raise ValueError(f"bad ar member header at offset {pos}")
        size = int(head[48:58].strip() or b"0")
        body = data[pos + _HEADER : pos + _HEADER + size]
        if len(body) != size:
            raise ValueError(f"truncated ar member at offset {pos}")
        raw = head[:16].decode("ascii", "replace").rstrip()
        if raw == "//":
            names = body
        else:
            out.append(Member(_name(raw, names), head[16:28].decode("ascii", "replace").strip(),
                              f"{head[28:34].strip().decode()}/{head[34:40].strip().decode()}",
                              head[40:48].decode("ascii", "replace").strip(), body))  # fmt: skip
        pos += _HEADER + size + (size & 1)
    return out


def _name(raw: str, names: bytes) -> str:
    """Resolve a GNU ``/offset`` long name; strip the ``/`` terminator of short names."""
    if raw.startswith("/") and raw[1:].isdigit():
        start = int(raw[1:])
        end = names.find(b"/\n", start)
        return names[start : end if end >= 0 else len(names)].decode("utf-8", "replace")
    return raw[:-1] if raw.endswith("/") and raw != "/" else raw
