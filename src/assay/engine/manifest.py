"""The file manifest of evaluation.json (``inventory.manifest``): every file evaluated, with its
kind, size, content hash and the container it came out of.

The counts of ``inventory`` say how much was evaluated; the manifest says what: an evaluator can
look up any file of the release (``etc/inittab`` inside the root file system of a flash dump)
and follow its chain of containers outward through ``inventory.containers``. Rows are arrays
under named columns rather than objects: a source tree of 80,000 files keeps its manifest near
10 MB instead of 14.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from assay.ingest.interface import Container, SourceFile

COLUMNS: Final = ("path", "kind", "size", "sha256", "container")
"""``container``: index in ``inventory.containers`` of the innermost container the file came out
of, or ``null`` for a file of the input itself."""

_MEMBER: Final = "!/"
"""What follows a container's path in the paths of the files inside it."""


def manifest(files: Sequence[SourceFile], containers: Sequence[Container]) -> dict[str, object]:
    """Every file, sorted by path, under ``COLUMNS``."""
    index = {c.path: i for i, c in enumerate(containers)}
    rows = [
        [f.path, f.kind.value, f.size, f.sha256, innermost(f.path, index)]
        for f in sorted(files, key=lambda f: f.path)
    ]
    return {"columns": list(COLUMNS), "rows": rows}


def innermost(path: str, index: dict[str, int]) -> int | None:
    """Index of the longest container path that, followed by ``!/``, starts ``path``; a name
    that merely holds ``!/`` (a folder called ``x!``) is no container unless ingest made one."""
    end = path.rfind(_MEMBER)
    while end > 0:
        found = index.get(path[:end])
        if found is not None:
            return found
        end = path.rfind(_MEMBER, 0, end)
    return None
