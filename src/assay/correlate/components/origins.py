"""Which product a set of matched release files belongs to, when several releases hold them.

Releases bundle other libraries (sudo and rsync carry zlib's files), so the files of one copy
can match releases of several products at one root; :func:`origins` keeps the product they
come from.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping


def origins(
    groups: Mapping[tuple[str, str], Mapping[str, set[str]]],
    depth: Mapping[tuple[str, str], int],
    minimum: int,
) -> list[tuple[str, str]]:
    """The (library, root) groups that are the files' origin, not a release bundling them.

    Releases bundle other libraries (sudo and rsync carry zlib's files below ``lib/zlib`` and
    ``zlib/``), so one set of files can match several products at one root. Per root the group
    with the most files wins (ties: the one whose release holds them nearest its top, the
    library's own layout); another is kept only for ``minimum`` or more files that no kept
    group at that root holds.
    """
    by_root: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for key in groups:
        by_root[key[1]].append(key)
    kept = []
    for keys in by_root.values():
        keys.sort(key=lambda k: (-len(groups[k]), depth[k], k[0]))
        claimed: set[str] = set()
        for key in keys:
            own = set(groups[key]) - claimed
            if len(own) >= minimum:
                kept.append(key)
                claimed |= set(groups[key])
    return sorted(kept)
