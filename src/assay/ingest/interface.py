"""Types of the ingest stage: the inventory every analyzer reads through."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from assay.model import FileKind, InputInfo, Skipped


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One regular file of the evaluated tree, safe to read."""

    path: str
    """POSIX path relative to the evaluated root; archive members as ``a.tar.gz!/x/y.c``."""
    disk_path: str
    """Absolute path to read the bytes from (inside the input or the work area)."""
    kind: FileKind
    """Kind from name and content."""
    size: int
    """Size in bytes."""
    sha256: str
    """Hex sha256 of the content."""

    def read_bytes(self) -> bytes:
        """The file's content."""
        return Path(self.disk_path).read_bytes()


@dataclass(frozen=True, slots=True)
class ArchiveLimits:
    """Caps that stop archive bombs. Every cap is checked before bytes are written (for images,
    see ``images``: a listing first where the format allows, a per-file cap while writing)."""

    max_total_bytes: int = 8 * 1024**3
    """Expanded bytes over all archives of one input."""
    max_ratio: float = 200.0
    """Expanded bytes of one archive divided by its compressed size."""
    max_files: int = 1_000_000
    """Members over all archives of one input."""
    max_depth: int = 3
    """Archives inside archives: 1 extracts only the input archive itself."""
    extract_timeout: float = 300.0
    """Seconds an image extractor (run in the sandbox) may take before it is stopped."""


@dataclass(frozen=True, slots=True)
class Container:
    """An archive, image or carved region that files came out of.

    A file's chain of containers is every container whose ``path`` followed by ``!/`` starts
    the file's path, outermost first (the input itself, path ``""``, holds everything).
    """

    path: str
    """Inventory path (``""``: the input); a carved region's is ``fw.bin@0x20000:squashfs``."""
    format: str
    """What it is: ``squashfs``, ``gzip``, ``trx``…; ``unknown`` for bytes no format claims."""
    parent: str
    """Path of the file a region was carved from (for the others, the path without its name)."""
    offset: int | None = None
    """Offset of a carved region in its parent file (``None``: the whole file)."""
    size: int = 0
    """Bytes of the container (of the region when carved)."""
    version: str | None = None
    """What the container says its version is: a Linux kernel's release (``6.1.0-50-armmp``)."""

    def as_json(self) -> dict[str, object]:
        """The container's entry in evaluation.json (``inventory.containers``)."""
        return {
            "path": self.path,
            "format": self.format,
            "parent": self.parent,
            "offset": self.offset,
            "size": self.size,
            "version": self.version,
        }


@dataclass(frozen=True, slots=True)
class IngestResult:
    """The safe inventory of one input."""

    input: InputInfo
    """What was evaluated."""
    files: tuple[SourceFile, ...]
    """Every regular file, sorted by path (archives themselves included, kind ``archive``)."""
    skipped: tuple[Skipped, ...]
    """Entries refused or not read, with the reason."""
    links: int = 0
    """Symbolic links seen (never followed)."""
    containers: tuple[Container, ...] = ()
    """Every container opened (or carved region found), sorted by path."""

    def chain(self, path: str) -> tuple[Container, ...]:
        """The containers the file at ``path`` came out of, outermost first."""
        return tuple(c for c in self.containers if not c.path or path.startswith(f"{c.path}!/"))
