"""Version strings the compiler keeps apart from their text: the bare version next to an anchor.

Many programs print their version through a format, ``printf("Dropbear v%s", VERSION)``: the
binary then holds the format and a bare ``"2022.83"`` as two separate strings. OpenWrt builds
dropbear with ``IDENT_VERSION_PART ""`` so that the protocol ident ``SSH-2.0-dropbear`` carries no
version at all; the bare string handed to ``"Dropbear v%s"`` is the only evidence left. A bare
``"2.10"`` or ``"4.3"`` proves nothing on its own, but compilers emit the string literals of one
function (of one object file) together and the linker keeps their order, so the version the
program prints is the bare string that sits next to its format: in Debian's dropbear-bin on
armhf, mipsel and arm64, ``"2022.83"`` ends one byte before ``"Dropbear v%s"`` starts. (On
amd64 the linker merged it into the tail of ``"SSH-2.0-dropbear_2022.83"``, which an OpenWrt
build, whose ident has no version, cannot do.)

A row with ``near`` (the anchor literal) and ``window`` (bytes either side of the anchor) keeps
the pattern match closest to the anchor. Hand-written because no library answers "which string
is nearest to this one" over ELF string sections; it is a few lines over :mod:`re`.
"""

from __future__ import annotations

import re

MAX_ANCHORS = 8
"""Occurrences of an anchor looked at, at most (a format string is stored once per binary)."""


def nearest(
    pattern: re.Pattern[bytes], anchor: bytes, strings: bytes, window: int
) -> re.Match[bytes] | None:
    """The match of ``pattern`` within ``window`` bytes of an ``anchor`` that lies closest to it.

    Distances count the bytes between the match and the anchor (0 when they touch). Ties go to
    the match before the anchor. ``None`` when the anchor is absent or nothing matches nearby.
    """
    best: tuple[int, int, re.Match[bytes]] | None = None
    start = strings.find(anchor)
    seen = 0
    while start >= 0 and seen < MAX_ANCHORS:
        end = start + len(anchor)
        lo, hi = max(0, start - window), min(len(strings), end + window)
        for match in pattern.finditer(strings, lo, hi):
            if match.start() < end and match.end() > start:
                continue  # the anchor itself
            before = match.end() <= start
            distance = start - match.end() if before else match.start() - end
            key = (max(distance, 0), 0 if before else 1)
            if best is None or key < best[:2]:
                best = (*key, match)
        seen += 1
        start = strings.find(anchor, end)
    return None if best is None else best[2]
