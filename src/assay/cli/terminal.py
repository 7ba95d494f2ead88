"""Text for a terminal: names and texts from the evaluated input never reach it raw.

File names, messages and evidence come from the release under evaluation, which is written by
the party being evaluated: an escape sequence in a file name could rewrite the screen or the
window title. Every line the command line prints that carries such text goes through
``printable``.
"""

from __future__ import annotations

import re

_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
"""C0 and C1 controls, DEL, and the bidirectional marks and overrides (which reorder what
follows them on screen)."""


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with every control character (tab and newline included: a printed line stays
    one line) and every bidirectional control written as an escape (``\\x1b``, ``\\u202e``);
    printable text is unchanged."""
    return _UNPRINTABLE.sub(_escape, text)


def say(line: str) -> None:
    """Print one line to stdout, ``printable``."""
    print(printable(line))
