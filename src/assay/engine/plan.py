"""Plan the per-file work: one unit per unique (content, kind, analyzers wanted, name).

The work is done once per unit and credited to every path holding it (``attribute``): each
shipped copy counts, while identical files cost one parse.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from assay.analyze.interface import FileAnalyzer
from assay.engine.worker import Task
from assay.ingest.interface import SourceFile
from assay.model import SOURCE_KINDS

BATCH_BYTES = 1 << 20
"""Bytes of content per batch sent to a worker (about)."""
BATCH_FILES = 32
"""Files per batch at most."""
HUGE_BYTES = 4 << 20
"""A file this large gets a batch of its own, and only one such batch runs at a time: its
parse tree alone can take 300 MiB (OpenSSL's 8 MB ``drbg_cavs_data.c``), and two at once on
two workers would crowd the memory budget."""


@dataclass(slots=True)
class Unit:
    """One unique (content, kind) and the paths that hold it (filled while planning)."""

    task: Task
    size: int
    sha256: str
    paths: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Plan:
    """The units of work and the files no analyzer wants."""

    units: tuple[Unit, ...]
    """Indexed by their task's key."""
    out_of_scope: Counter[str]
    """Files no analyzer wants, by kind."""


def plan(files: Sequence[SourceFile], chosen: Sequence[FileAnalyzer]) -> Plan:
    """Group wanted files by (content, kind); count the files no analyzer wants by kind."""
    by_key: dict[tuple[str, str, tuple[int, ...], str], Unit] = {}
    out_of_scope: Counter[str] = Counter()
    for file in files:
        wanted = tuple(i for i, a in enumerate(chosen) if a.wants(file))
        if not wanted:
            out_of_scope[file.kind.value] += 1
            continue
        # Non-source analyzers may read the base name, so it is part of the unit's identity.
        name = "" if file.kind in SOURCE_KINDS else file.path.rpartition("/")[2]
        key = (file.sha256, file.kind.value, wanted, name)
        unit = by_key.get(key)
        if unit is None:
            task = Task(len(by_key), file.disk_path, file.kind, wanted, name, file.sha256)
            unit = by_key[key] = Unit(task, file.size, file.sha256)
        unit.paths.append(file.path)
    return Plan(tuple(by_key.values()), out_of_scope)


def huge(unit: Unit) -> bool:
    """Whether the unit runs alone (``HUGE_BYTES``)."""
    return unit.size >= HUGE_BYTES


def batches(units: Sequence[Unit]) -> Iterator[list[Task]]:
    """Tasks in batches of about ``BATCH_BYTES``, largest files first (better balance); a huge
    file starts a batch of its own."""
    batch: list[Task] = []
    size = 0
    for unit in sorted(units, key=lambda u: (-u.size, u.task.key)):
        if batch and huge(unit):
            yield batch
            batch, size = [], 0
        batch.append(unit.task)
        size += unit.size
        if size >= BATCH_BYTES or len(batch) >= BATCH_FILES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch
