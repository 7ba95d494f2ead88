"""``#include`` directives of one file, and the tree-wide graph of who includes whom.

Includes are resolved without include paths, by path suffix: ``#include "net/x.h"`` (or
``<net/x.h>``) names every evaluated path equal to ``net/x.h`` or ending in ``/net/x.h``. A
common base name (``config.h``) therefore links to every file of that name: the closure is an
over-approximation, which is the safe side for "calls affected by a redefinition".
"""

from __future__ import annotations

import posixpath
import re
from collections import defaultdict, deque
from collections.abc import Iterable, Mapping

_INCLUDE = re.compile(rb'#[ \t]*include[ \t]*[<"]([^>"\n]+)[>"]')
_HEADER_SUFFIXES = (".h", ".hh", ".hpp", ".hxx", ".h++", ".inc", ".inl", ".ipp", ".tcc")


def includes_of(source: bytes) -> list[str]:
    """The distinct include specs of ``source``, sorted (directives at the start of a line)."""
    found: set[str] = set()
    for match in _INCLUDE.finditer(source):
        line_start = source.rfind(b"\n", 0, match.start()) + 1
        if not source[line_start : match.start()].strip():
            found.add(match.group(1).decode("utf-8", "replace").strip())
    return sorted(found)


def is_header(path: str) -> bool:
    """Whether ``path`` is named like a header (meant to be included)."""
    return path.lower().endswith(_HEADER_SUFFIXES)


def _normalised(spec: str) -> str:
    parts = [p for p in spec.replace("\\", "/").split("/") if p not in ("", ".", "..")]
    return "/".join(parts)


class IncludeGraph:
    """Reverse include edges of a tree, resolved by path suffix."""

    def __init__(self, includes: Mapping[str, Iterable[str]]) -> None:
        by_base: dict[str, list[str]] = defaultdict(list)
        for path in includes:
            by_base[posixpath.basename(path)].append(path)
        self._includers: dict[str, set[str]] = defaultdict(set)
        for path, specs in includes.items():
            for spec in specs:
                for target in _resolve(_normalised(spec), by_base):
                    self._includers[target].add(path)
        self._closures: dict[str, frozenset[str]] = {}

    def includers(self, path: str) -> frozenset[str]:
        """Every path that includes ``path``, directly or through other files (not ``path``)."""
        if path not in self._closures:
            self._closures[path] = self._walk(path)
        return self._closures[path]

    def _walk(self, start: str) -> frozenset[str]:
        seen: set[str] = set()
        queue = deque([start])
        while queue:
            for includer in self._includers.get(queue.popleft(), ()):
                if includer not in seen and includer != start:
                    seen.add(includer)
                    queue.append(includer)
        return frozenset(seen)


def _resolve(spec: str, by_base: Mapping[str, list[str]]) -> list[str]:
    if not spec:
        return []
    candidates = by_base.get(posixpath.basename(spec), [])
    return [p for p in candidates if p == spec or p.endswith("/" + spec)]
