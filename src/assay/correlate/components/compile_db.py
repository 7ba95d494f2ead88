"""``compile_commands.json``: which translation units the vendor's build really compiled.

The database comes from the vendor's build machine, so its paths are absolute paths of a tree
that is not this one. A database entry is matched to the evaluated path that shares the longest
run of trailing path components with it (at least the file name); ties go to the shortest
evaluated path. Headers are never in such a database and are not labelled.
"""

from __future__ import annotations

import json
import posixpath
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from assay.correlate.components.copies import shared_tail
from assay.errors import ConfigError

UNIT_SUFFIXES = frozenset({".c", ".cc", ".cpp", ".cxx", ".c++", ".C"})
"""Translation units: what a compile database can name."""


def load(path: Path) -> list[str]:
    """The source paths a compile database names, as absolute POSIX paths."""
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read compile database {path}: {exc}") from exc
    except RecursionError:
        raise ConfigError(f"cannot read compile database {path}: nested too deeply") from None
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: a compile database is a JSON array of entries")
    found = []
    for number, entry in enumerate(entries, 1):
        if not isinstance(entry, dict) or not isinstance(entry.get("file"), str):
            raise ConfigError(f"{path}: entry {number} is not an object with a 'file' string")
        directory = entry.get("directory", "")
        if not isinstance(directory, str):
            raise ConfigError(f"{path}: entry {number}: 'directory' is not a string")
        joined = posixpath.join(directory, entry["file"].replace("\\", "/"))
        found.append(posixpath.normpath(joined))
    return found


def built(db_files: Iterable[str], paths: Iterable[str]) -> frozenset[str]:
    """The evaluated ``paths`` that the database's files name."""
    by_name: dict[str, list[tuple[list[str], str]]] = defaultdict(list)
    for path in paths:
        parts = path.replace("!/", "/").split("/")
        by_name[parts[-1]].append((parts, path))
    chosen: set[str] = set()
    for db_file in db_files:
        target = db_file.split("/")
        candidates = by_name.get(target[-1], [])
        if candidates:
            _, best = max(candidates, key=lambda c: (shared_tail(c[0], target), -len(c[0])))
            chosen.add(best)
    return frozenset(chosen)


def is_unit(path: str) -> bool:
    """Whether ``path`` names a translation unit (a file a compile database can list)."""
    return posixpath.splitext(path)[1] in UNIT_SUFFIXES
