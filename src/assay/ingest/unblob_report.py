"""unblob's JSON report read back: the regions of the carved file and what went wrong.

unblob writes one task per file it processed; the task of the carved file (depth 0) lists its
chunks (``ChunkReport``: a handler claimed these bytes, with the problems extracting them) and
the bytes between them (``UnknownChunkReport``). Nothing in the report is trusted beyond its
types: a field of the wrong type drops the entry, and a report too long to read refuses the file.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from assay import sandbox
from assay.ingest.images import ImageUnreadable
from assay.model import Skipped

REPORT_CAP: Final = 64 << 20
"""Bytes of unblob's report read at most."""

_TYPES: Final = {
    "squashfs": "squashfs",
    "jffs2": "jffs2",
    "cpio": "cpio",
    "trx": "trx",
    "lz4": "lz4",
    "elf32": "elf",
    "elf64": "elf",
    "sevenzip": "7z",
    "minix": "minix",
    "alpha": "encimg",
}
_NEEDS: Final = {
    "sasquatch": "sasquatch (squashfs-tools patched for vendor variants; not packaged by Debian)",
    "sasquatch-v4be": "sasquatch-v4be (big-endian squashfs 4; not packaged by Debian)",
    "7z": "7z (Debian package p7zip-full)",
    "lzop": "lzop (Debian package lzop)",
    "lz4": "lz4 (Debian package lz4)",
    "zstd": "zstd (Debian package zstd)",
    "debugfs": "debugfs (Debian package e2fsprogs)",
    "unar": "unar (Debian package unar)",
}


@dataclass(frozen=True, slots=True)
class Region:
    """One region of the carved file, as unblob's report gives it."""

    start: int
    """Offset of its first byte."""
    end: int
    """Offset after its last byte."""
    handler: str
    """unblob's handler name (``squashfs_v4_le``), ``unknown`` for bytes no handler claims."""
    errors: tuple[str, ...] = ()
    """What went wrong extracting it (empty: extracted in full, or an unknown region)."""

    @property
    def type(self) -> str:
        """The short type in the region's name: ``squashfs`` for ``squashfs_v4_le``."""
        family = self.handler.split("_", 1)[0]
        return _TYPES.get(self.handler, _TYPES.get(family, self.handler))


def regions(report: Path, image: Path, result: sandbox.SandboxResult) -> tuple[Region, ...]:
    """The regions of the input file (depth 0) from unblob's report, in offset order."""
    try:
        if report.stat().st_size > REPORT_CAP:
            raise ImageUnreadable("image-errors", f"unblob report over {REPORT_CAP} bytes")
        tasks = json.loads(report.read_bytes())
    except (OSError, ValueError) as exc:
        stderr = result.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
        detail = f"unblob ended with exit {result.returncode} and no report: {'; '.join(stderr)}"
        raise ImageUnreadable("image-errors", detail[:600]) from exc
    regions: list[Region] = []
    for task in tasks if isinstance(tasks, list) else ():
        if not isinstance(task, dict) or task.get("task", {}).get("depth") != 0:
            continue
        for entry in task.get("reports", ()):
            region = _region(entry)
            if region is not None:
                regions.append(region)
    return tuple(sorted(regions, key=lambda r: (r.start, r.end)))


def _region(entry: object) -> Region | None:
    if not isinstance(entry, dict):
        return None
    kind = entry.get("__typename__")
    start, end = entry.get("start_offset"), entry.get("end_offset")
    if not isinstance(start, int) or not isinstance(end, int):
        return None
    if kind == "UnknownChunkReport":
        return Region(start, end, "unknown")
    if kind != "ChunkReport":
        return None
    errors = tuple(_error(report) for report in entry.get("extraction_reports", ()))
    return Region(start, end, str(entry.get("handler_name", "chunk")), errors)


def _error(report: object) -> str:
    """One extraction problem as a line: a missing tool names what to install."""
    if not isinstance(report, dict):
        return str(report)[:200]
    kind = str(report.get("__typename__", "error"))
    deps = report.get("dependencies")
    if isinstance(deps, list) and deps:
        return "missing tool: " + ", ".join(_NEEDS.get(str(dep), str(dep)) for dep in deps)
    parts = [kind]
    for key in ("command", "exit_code", "stderr", "reason", "message"):
        if key in report and report[key] not in (None, "", b""):
            parts.append(f"{key} {str(report[key]).strip()[:200]}")
    return "; ".join(parts)


def records(
    regions: Sequence[Region], archive_path: str, name: str, *, whole: bool
) -> tuple[Skipped, ...]:
    """A record for each region that unblob recognised but did not extract in full."""
    records = []
    for region in regions:
        if not region.errors:
            continue
        path = archive_path if whole else region_path(archive_path, name, region)
        why = "; ".join(dict.fromkeys(region.errors))
        reason = "missing-tool" if why.startswith("missing tool") else "image-errors"
        where = f"{region.handler} at {region.start:#x}..{region.end:#x}"
        detail = f"{where}: not fully unpacked: {why}"
        records.append(Skipped(path, "ingest", reason, detail[:800]))
    return tuple(records)


def region_name(region: Region) -> str:
    """The suffix a region adds to its file's name: ``@0x20000:squashfs``."""
    return f"@{region.start:#x}:{region.type}"


def _join(archive_path: str, name: str) -> str:
    """The path of a carved file's regions: its own inventory path, or its name at the root."""
    return archive_path or name


def region_path(archive_path: str, name: str, region: Region) -> str:
    """The inventory path of a region of the file at ``archive_path`` (``name`` at the root)."""
    return _join(archive_path, name) + region_name(region)
