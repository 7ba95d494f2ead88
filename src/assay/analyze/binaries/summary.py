"""The ``binaries`` aggregator: hardening matrix, architectures, toolchains, imports,
components and the raw material of the OS description, folded over every path."""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from assay.analyze.binaries import system
from assay.analyze.interface import FileResult, PathContext
from assay.model import JSONValue, RawFinding

PROTECTIONS = ("nx", "pie", "relro_full", "relro_partial", "canary", "fortify", "stripped")
"""Columns of the hardening matrix."""
_MAX_PATHS = 20
_VERMAGIC = "vermagic="
_BANNER = "Linux version "
_DISTRIBUTION_ABI = re.compile(r"^\d+\.\d+\.0-\d+-[a-z][\w-]*$")
"""A Debian or Ubuntu kernel release (``6.1.0-50-mips32r2el``, ``5.15.0-91-generic``): series
and ABI number, never the patch level (the ``.0`` is not the upstream version)."""


def protections(elf: Mapping[str, Any]) -> dict[str, bool | None]:
    """The matrix columns of one binary's facts (``None``: does not apply)."""
    return {
        "nx": elf["nx"], "pie": elf["pie"], "relro_full": elf["relro"] == "full",
        "relro_partial": elf["relro"] == "partial", "canary": elf["canary"],
        "fortify": elf["fortify"], "stripped": elf["stripped"],
    }  # fmt: skip


@dataclass(slots=True)
class _Matrix:
    """Counts of binaries having each protection, among those it applies to."""

    applies: Counter[str] = field(default_factory=Counter)
    has: Counter[str] = field(default_factory=Counter)
    binaries: int = 0

    def add(self, columns: Mapping[str, bool | None]) -> None:
        self.binaries += 1
        for name, value in columns.items():
            if value is not None:
                self.applies[name] += 1
                self.has[name] += bool(value)

    def table(self) -> dict[str, JSONValue]:
        shares: dict[str, JSONValue] = {
            name: {"count": self.has[name], "of": self.applies[name],
                   "share": round(self.has[name] / self.applies[name], 4)
                   if self.applies[name] else None}
            for name in PROTECTIONS
        }  # fmt: skip
        return {"binaries": self.binaries, **shares}


@dataclass(slots=True)
class BinariesAggregator:
    """Folds per-path binary facts into the ``binaries`` section."""

    overall: _Matrix = field(default_factory=_Matrix)
    directories: dict[str, _Matrix] = field(default_factory=dict)
    kinds: Counter[str] = field(default_factory=Counter)
    machines: Counter[str] = field(default_factory=Counter)
    toolchains: dict[str, list[Any]] = field(default_factory=dict)
    imports: Counter[str] = field(default_factory=Counter)
    components: dict[tuple[str, str | None], dict[str, Any]] = field(default_factory=dict)
    release_files: dict[str, dict[str, str]] = field(default_factory=dict)
    modules: dict[str, str] = field(default_factory=dict)
    unique: int = 0
    vermagic: list[tuple[str, str | None, str]] = field(default_factory=list)
    """Kernel modules' hits (path, version, evidence), counted when every image is known."""
    images: dict[str, set[str]] = field(default_factory=dict)
    """A kernel image's release (``uname -r``) -> the versions its banners name."""

    def add(self, ctx: PathContext, result: FileResult) -> None:
        """Count one path."""
        data = result.data
        kernel = system.module_kernel(ctx.path)
        if kernel and (kernel not in self.modules or ctx.path < self.modules[kernel]):
            self.modules[kernel] = ctx.path
        if "release" in data:
            self.release_files[ctx.path] = dict(data["release"])
        elf = data.get("elf")
        if isinstance(elf, Mapping):
            self._add_elf(ctx, elf)
        elif "archive" in data:
            self.kinds["static-archive"] += 1
        for lib, version, evidence in data.get("components", ()):
            if lib == "linux" and evidence.startswith(_VERMAGIC):
                self.vermagic.append((ctx.path, version, evidence))
                continue
            if lib == "linux" and evidence.startswith(_BANNER) and version:
                release = evidence[len(_BANNER) :].split(" ", 1)[0]
                self.images.setdefault(release, set()).add(version)
            self._fold(ctx.path, lib, version, evidence)

    def _fold(self, path: str, lib: str, version: str | None, evidence: str) -> None:
        entry = self.components.setdefault(
            (lib, version),
            {"name": lib, "version": version, "count": 0, "paths": [], "evidence": evidence},
        )
        entry["count"] += 1
        _keep_first(entry, path, evidence)

    def _fold_modules(self) -> None:
        """Count the kernel modules: a module whose vermagic names the release of a kernel
        image of the tree is of that kernel's version. Debian's and Ubuntu's releases carry an
        ABI number, not the upstream version ("6.1.0-50-mips32r2el" is Linux 6.1.176, as the
        image's banner says, "... #1 SMP Debian 6.1.176-1"): the module row alone reads 6.1.0.
        Without such an image, a module of a distribution's release has no known version (its
        patch level is nowhere in it): reading 6.1.0 reported every kernel CVE fixed in the
        series' 176 stable releases against it. The series' support status still comes from the
        module directory's name (``os.kernel``)."""
        for path, version, evidence in self.vermagic:
            release = evidence[len(_VERMAGIC) :].split(" ", 1)[0]
            versions = self.images.get(release, set())
            if len(versions) == 1:
                version = next(iter(versions))
            elif _DISTRIBUTION_ABI.match(release):
                version = None
            self._fold(path, "linux", version, evidence)
        self.vermagic.clear()

    def _add_elf(self, ctx: PathContext, elf: Mapping[str, Any]) -> None:
        self.kinds[elf["type"]] += 1
        self.machines[f"{elf['machine']} {elf['bits']}-bit {elf['endian']}-endian"] += 1
        for entry in elf["toolchain"]:
            seen = self.toolchains.setdefault(entry, [0, ctx.path])
            seen[0] += 1
            seen[1] = min(seen[1], ctx.path)  # the smallest path, whatever the arrival order
        self.imports.update(elf["unbounded"])
        if elf["type"] in ("executable", "pie-executable", "shared-library"):
            columns = protections(elf)
            self.overall.add(columns)
            self.directories.setdefault(ctx.directory, _Matrix()).add(columns)

    def add_unique(self, result: FileResult) -> None:
        """Count one unique content."""
        if "elf" in result.data or "archive" in result.data:
            self.unique += 1

    def finish(self) -> tuple[dict[str, JSONValue], Iterable[tuple[str, RawFinding]]]:
        """The section (before :func:`assay.assess.binaries.complete` adds the OS, the
        knowledge-base assessment and the source comparison); no corpus-level findings."""
        self._fold_modules()
        section: dict[str, JSONValue] = {
            "files": {"by_type": dict(sorted(self.kinds.items())), "unique_contents": self.unique},
            "architectures": dict(sorted(self.machines.items())),
            "hardening": {
                "overall": self.overall.table(),
                "by_directory": {d: m.table() for d, m in sorted(self.directories.items())},
            },
            "toolchains": {
                entry: {"binaries": count, "first": first}
                for entry, (count, first) in sorted(self.toolchains.items())
            },
            "unbounded_imports": dict(sorted(self.imports.items())),
            "components": [self.components[k] for k in sorted(self.components, key=_order)],
            "release_files": dict(sorted(self.release_files.items())),
            "module_kernels": dict(sorted(self.modules.items())),
        }
        return section, ()


def _keep_first(entry: dict[str, Any], path: str, evidence: str) -> None:
    """Keep the ``_MAX_PATHS`` smallest paths in order, and the evidence of the smallest: the
    same whatever order a process pool delivers the paths in."""
    paths: list[str] = entry["paths"]
    if len(paths) >= _MAX_PATHS and path >= paths[-1]:
        return
    bisect.insort(paths, path)
    del paths[_MAX_PATHS:]
    if paths[0] == path:
        entry["evidence"] = evidence


def _order(key: tuple[str, str | None]) -> tuple[str, str]:
    return key[0], key[1] or ""
