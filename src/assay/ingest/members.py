"""One archive entry as every reader yields it (tar, zip, cpio), before the safety rules apply.

The readers only describe entries; ``archive`` alone decides what is written, refused or
recorded, so that the rules (names, links, caps) are the same whatever the format.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from enum import Enum
from typing import Protocol


class Readable(Protocol):
    """What extraction reads a member's bytes from."""

    def read(self, size: int = -1, /) -> bytes:
        """Up to ``size`` bytes; ``b""`` at the end."""
        ...


Opener = Callable[[], AbstractContextManager[Readable]]
"""Opens a member's bytes; called at most once, while the reader is on that member."""


class MemberType(Enum):
    """What an entry is."""

    FILE = "file"
    DIR = "dir"
    SYMLINK = "symlink"
    HARDLINK = "hard link"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class Member:
    """One archive entry, the same for every format."""

    name: str
    """The name exactly as stored (not yet checked)."""
    type: MemberType
    """What the entry is."""
    detail: str = ""
    """Link target, or what a refused member is."""
    reason: str = ""
    """Why a refused member is refused."""
    passed: int = 0
    """Bytes the reader decompresses to step over the member without writing them."""


Entries = Iterator[tuple[Member, Opener | None]]
"""What a reader yields: each entry, with an opener for the bytes of regular files."""
