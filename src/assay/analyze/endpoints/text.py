"""Endpoints of files that are not C/C++: configuration text and ELF binaries' strings.

In text, an endpoint on a line starting with ``#``, ``;`` or ``//`` is in a comment. A binary
is read like ``strings -n 6``: every run of at least 6 printable ASCII bytes, searched as one
text (runs joined by newlines, so that no endpoint spans two runs); each endpoint keeps the
byte offset of its run.
"""

from __future__ import annotations

import bisect
import re

from assay.analyze.endpoints.match import Match, find

MIN_RUN = 6
"""Shortest printable run read from a binary (``strings -n 6``)."""
MAX_PER_FILE = 5000
"""Endpoints kept per file: a hostile file full of addresses stays bounded."""

_RUN = re.compile(rb"[\x20-\x7e]{%d,}" % MIN_RUN)
_COMMENT = ("#", ";", "//")


def in_text(text: str) -> list[tuple[int, Match, str]]:
    """(line, match, context) of every endpoint of a config file; context config or comment."""
    found: list[tuple[int, Match, str]] = []
    line, offset = 1, 0
    for match in find(text)[:MAX_PER_FILE]:
        line += text.count("\n", offset, match.start)
        offset = match.start
        start = text.rfind("\n", 0, match.start) + 1
        comment = text[start : match.start].lstrip().startswith(_COMMENT)
        found.append((line, match, "comment" if comment else "config"))
    return found


def in_binary(data: bytes) -> list[tuple[int, Match]]:
    """(byte offset of the run, match) of every endpoint in a binary's printable runs."""
    starts: list[int] = []
    joined_at: list[int] = []
    runs: list[str] = []
    position = 0
    for run in _RUN.finditer(data):
        piece = run.group()
        if b"." not in piece and b":" not in piece and b"localhost" not in piece:
            continue
        starts.append(run.start())
        joined_at.append(position)
        runs.append(piece.decode("ascii"))
        position += len(piece) + 1
    text = "\n".join(runs)
    found = []
    for match in find(text)[:MAX_PER_FILE]:
        index = bisect.bisect_right(joined_at, match.start) - 1
        found.append((starts[index] + match.start - joined_at[index], match))
    return found
