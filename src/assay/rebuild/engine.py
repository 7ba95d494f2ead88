"""``rebuild(options) -> Evaluation``: build twice in the sandbox, collect, compare, report.

Findings go to the same on-disk store as ``assay evaluate``'s, so the standard reporters write
evaluation.json, results.sarif and report.html from the returned evaluation.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assay import __version__, sandbox
from assay.model import SCHEMA_VERSION, Evaluation, InputInfo, tree_hash
from assay.rebuild import debian, report
from assay.rebuild.build import build_twice
from assay.rebuild.compare import compare
from assay.rebuild.interface import Build, RebuildError, Side
from assay.storage.findings import WORK_DIR, FindingStore, store_path


@dataclass(frozen=True, slots=True)
class RebuildOptions:
    """What to rebuild, how, and what to compare with."""

    source: Path
    """Root of the delivered source tree."""
    command: str
    """Build command, run with ``sh -c`` in the root of each copy."""
    artefacts: tuple[str, ...]
    """Glob patterns of the artefacts, relative to the source root."""
    output_dir: Path
    """Where the reports (and ``.assay/rebuild`` with the two build copies) go."""
    shipped: Path | None = None
    """Directory of the shipped files, matched by relative path, then base name."""
    debian: Path | None = None
    """The ``debian/`` directory of the source package the shipped files were built from."""
    timeout: float = 1800.0
    """Time limit of each build, in seconds."""


def rebuild(options: RebuildOptions) -> Evaluation:
    """Rebuild, compare and store the findings; the caller writes the reports."""
    reason = sandbox.available()
    if reason is not None:
        raise RebuildError(f"cannot rebuild: {reason}")
    if not options.source.is_dir():
        raise RebuildError(f"source {options.source} is not a directory")
    work = options.output_dir / WORK_DIR / "rebuild"
    work.mkdir(parents=True, exist_ok=True)
    builds, refused = build_twice(options.source.resolve(), work, options.command,
                                  options.timeout, options.output_dir)  # fmt: skip
    pairs = [_pair(path, builds, options) for path in _artefacts(builds, options.artefacts)]
    store = FindingStore(store_path(options.output_dir), create=True)
    try:
        severities = {r.id: r.severity for r in report.rules()}
        for path, raw in report.findings(builds, pairs, options.artefacts):
            store.add(report.CATEGORY, severities[raw.rule_id], path, raw)
        store.close_writing()
        counts = store.counts()
    finally:
        store.close()
    return Evaluation(
        schema_version=SCHEMA_VERSION,
        tool_version=__version__,
        input=InputInfo(options.source.name, "directory", _source_hash(options.source)),
        options=_effective(options),
        inventory=_inventory(options.source, len(refused)),
        sections={report.CATEGORY: report.section(options.command, options.timeout, builds, pairs)},
        finding_counts=counts,
        skipped=refused,
        rules=report.rules(),
    )


def _artefacts(builds: Sequence[Build], patterns: Sequence[str]) -> list[str]:
    """Artefact paths (regular files inside the copy) matched in any successful build."""
    found: set[str] = set()
    for build in builds:
        if not build.ok:
            continue
        for pattern in patterns:
            for path in build.root.glob(pattern):
                if path.is_file() and not path.is_symlink() and _inside(path, build.root):
                    found.add(path.relative_to(build.root).as_posix())
    return sorted(found)


def _pair(path: str, builds: Sequence[Build], options: RebuildOptions) -> report.Pair:
    ok = [_side(b, path) for b in builds if b.ok]
    present = [s for s in ok if s.path.is_file()]
    between = None
    if len(ok) == 2:
        left, right = ok if ok[0].path.is_file() else (ok[1], ok[0])
        between = compare(path, left, right)
    shipped = None
    if options.shipped is not None:
        target = _shipped(options.shipped, path)
        other = Side("shipped", target or options.shipped / path,
                     provenance=debian.provenance(options.shipped),
                     patches=debian.patches(options.debian, present[0].path.parent)
                     if options.debian else ())  # fmt: skip
        shipped = compare(path, present[0], other)
    return report.Pair(path, between, shipped)


def _side(build: Build, path: str) -> Side:
    root = str(build.root)
    return Side(build.variation.label, build.root / path, root, build.variation.hostname)


def _shipped(directory: Path, path: str) -> Path | None:
    """The shipped file at the same relative path, else the first with the same base name."""
    direct = directory / path
    if direct.is_file() and not direct.is_symlink():
        return direct
    name = Path(path).name
    for candidate in sorted(directory.rglob(name)):
        if candidate.is_file() and not candidate.is_symlink():
            return candidate
    return None


def _inside(path: Path, root: Path) -> bool:
    return path.resolve().is_relative_to(root.resolve())


def _files(root: Path) -> list[Path]:
    out = []
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        out += [Path(folder) / n for n in sorted(names)]
    return out


def _source_hash(root: Path) -> str:
    """The tree hash of the regular files under ``root`` (as ``assay evaluate`` computes it)."""
    return tree_hash(
        (path.relative_to(root).as_posix(), hashlib.sha256(path.read_bytes()).hexdigest())
        for path in _files(root)
        if path.is_file() and not path.is_symlink()
    )


def _inventory(root: Path, skipped: int) -> dict[str, Any]:
    files = [p for p in _files(root) if p.is_file() and not p.is_symlink()]
    links = sum(p.is_symlink() for p in _files(root))
    contents = {hashlib.sha256(p.read_bytes()).digest() for p in files}
    zero = {"paths": 0, "unique_contents": 0, "lines": 0, "unique_lines": 0}
    return {
        "files": len(files), "bytes": sum(p.stat().st_size for p in files),
        "unique_contents": len(contents), "by_kind": {}, "out_of_scope_by_kind": {},
        "analyzed": zero, "labels": {}, "symlinks": links, "skipped": skipped,
    }  # fmt: skip


def _effective(options: RebuildOptions) -> dict[str, Any]:
    return {
        "command": "rebuild", "build": options.command, "artefacts": list(options.artefacts),
        "shipped": options.shipped.name if options.shipped else None,
        "debian": options.debian is not None, "timeout_s": options.timeout,
        "diffoscope": shutil.which("diffoscope") is not None,
    }  # fmt: skip
