"""Safe extraction of tar, zip, cpio and cramfs, member by member, into the work area only.

No member name ever reaches the file system: each file is written under a numbered name in a
fresh directory of the work area, and its name in the archive survives only as its inventory
path. Names that would escape the root (``..``, absolute paths) are refused all the same,
because a release that holds them says something about its maker. Links are never created;
device files and FIFOs are refused. The caps on expanded bytes, expansion ratio and member
count are enforced while the bytes stream, so a header that lies about a size changes nothing.

Longer than 300 lines: each container format's member reader feeds the one budget-charging
extraction loop, and the safety argument above is checked in one file.
"""

from __future__ import annotations

import hashlib
import lzma
import re
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import IO, Final

import zstandard

from assay.errors import Unreadable
from assay.ingest import cpio, cramfs, fit, streams
from assay.ingest.classify import (
    CHUNK,
    HEAD_SIZE,
    Digest,
    classify,
    is_cpio,
    is_tar,
    printable,
    special_name,
)
from assay.ingest.inflate import decompressed, open_tar, open_zip_member
from assay.ingest.interface import ArchiveLimits, SourceFile
from assay.ingest.magic import COMPRESSED, UNOPENED, ArchiveFormat
from assay.ingest.members import Entries, Member, MemberType, Opener
from assay.model import Skipped

RATIO_FLOOR: Final = 1 << 20
"""Expanded bytes below which no archive counts as a ratio bomb (small archives compress well)."""

READ_ERRORS: Final = (
    tarfile.TarError,
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    OSError,
    ValueError,
    zstandard.ZstdError,
    RuntimeError,
    NotImplementedError,
)
"""What reading a damaged archive raises (``OSError`` covers bad gzip and bzip2 data,
``zstandard.ZstdError`` bad zstd data, ``RuntimeError`` bad lz4 frames; ``zipfile`` raises
``NotImplementedError``, a ``RuntimeError``, for a version or a flag it does not implement)."""

_ZIP_METHODS: Final = frozenset(
    {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
)
_TAR_SPECIAL: Final = {
    tarfile.CHRTYPE: "character device",
    tarfile.BLKTYPE: "block device",
    tarfile.FIFOTYPE: "fifo",
}
_SEPARATORS: Final = re.compile(r"[/\\]")
_DRIVE: Final = re.compile(r"[A-Za-z]:")


class ArchiveUnreadable(Unreadable):
    """The archive cannot be opened at all; ``reason`` is the ``Skipped`` reason to record."""


class Budget:
    """The caps shared by every archive of one input, and what has been spent of them."""

    __slots__ = ("limits", "members", "total_bytes")

    def __init__(self, limits: ArchiveLimits) -> None:
        self.limits = limits
        self.total_bytes = 0
        self.members = 0


@dataclass(frozen=True, slots=True)
class Extracted:
    """What one archive yielded."""

    files: tuple[SourceFile, ...]
    """Extracted regular files, in archive order; paths carry the archive's prefix."""
    skipped: tuple[Skipped, ...]
    """Members refused, and the reason extraction stopped early if it did."""
    links: int
    """Symbolic and hard links seen (never created)."""


class _Stop(Exception):
    """A cap was hit: the archive stops here."""

    def __init__(self, record: Skipped) -> None:
        super().__init__(record.detail)
        self.record = record


def is_absolute(name: str) -> bool:
    """Absolute on any system: ``/x``, ``\\x`` or ``C:x``."""
    return name.startswith(("/", "\\")) or _DRIVE.match(name) is not None


def member_path(name: str) -> tuple[str, str | None]:
    """The inventory path of a member name, and the reason to refuse it or ``None``.

    ``..`` is looked for between ``\\`` as well as ``/``: such a name escapes on Windows.
    """
    if is_absolute(name):
        return name, "absolute-path"
    if ".." in _SEPARATORS.split(name):
        return name, "archive-escape"
    return "/".join(part for part in name.split("/") if part not in ("", ".")), None


AMBIGUOUS: Final = "another name prints as this path (bytes that are not UTF-8 show as \\xNN)"
"""The detail of an ``ambiguous-name`` record: two members whose names differ by their bytes."""


def _exact(name: str) -> str:
    """A member name normalised like its inventory path, with its bytes kept exactly."""
    return "/".join(part for part in name.split("/") if part not in ("", "."))


def link_stays_inside(path: str, target: str, *, hard: bool) -> bool:
    """Whether a link at ``path`` resolves inside the archive root (hard links from the root)."""
    if is_absolute(target):
        return False
    parts = [] if hard else path.split("/")[:-1]
    for part in _SEPARATORS.split(target):
        if part == "..":
            if not parts:
                return False
            parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return True


def extract(
    source: Path,
    fmt: ArchiveFormat,
    dest: Path,
    archive_path: str,
    budget: Budget,
    name: str = "",
) -> Extracted:
    """Extract the archive ``source`` into the empty directory ``dest``, within ``budget``.

    ``archive_path`` is the archive's inventory path ('' for the input itself, whose members
    become the root); ``name`` is its file name when that path does not end with it (the
    input), for the one member of a compressed file. Raises ``ArchiveUnreadable`` when the
    archive cannot be opened at all, or is recognised but not opened here.
    """
    run = _Run(dest, archive_path, budget, source.stat().st_size)
    name = name or archive_path.rpartition("!/")[2].rpartition("/")[2]
    with _entries(source, fmt, run.charge, name) as entries:
        try:
            for member, opener in entries:
                run.take(member, opener)
        except _Stop as stop:
            run.skipped.append(stop.record)
        except cpio.TrailingData as exc:
            detail = f"{exc.head!r}... after the cpio trailer, at byte {exc.offset}: not extracted"
            run.skipped.append(run.record("trailing-data", detail))
        except READ_ERRORS as exc:
            detail = f"{run.where()}: {exc}; {run.recovered()}"
            run.skipped.append(run.record("corrupt-archive", detail))
    return Extracted(tuple(run.files), tuple(run.skipped), run.links)


@contextmanager
def _entries(
    source: Path, fmt: ArchiveFormat, charge: Callable[[int], None], name: str
) -> Iterator[Entries]:
    """The entries of ``source``: cpio, cramfs, a compressed stream, a U-Boot image, tar, zip."""
    if fmt in UNOPENED:
        raise ArchiveUnreadable(*UNOPENED[fmt])
    if fmt is ArchiveFormat.CPIO:
        with source.open("rb") as raw:
            yield cpio.entries(raw, charge)
    elif fmt is ArchiveFormat.CRAMFS:
        with source.open("rb") as raw:
            yield cramfs.entries(raw)
    elif fmt is ArchiveFormat.UIMAGE:
        with source.open("rb") as raw:
            yield _header_container(streams.uimage_entries, raw, source, "uimage")
    elif fmt is ArchiveFormat.FIT:
        with source.open("rb") as raw:
            yield _header_container(fit.entries, raw, source, "fit")
    elif fmt in COMPRESSED and not is_tar(inner := _inner_head(source, fmt)):
        if is_cpio(inner):
            with decompressed(source, fmt) as stream:
                yield cpio.entries(stream, charge)
        else:
            yield streams.single_entries(source, fmt, streams.member_name(name, fmt))
    else:
        with ExitStack() as stack:
            reader = _open(source, fmt, stack)
            if isinstance(reader, zipfile.ZipFile):
                yield _zip_entries(reader)
            else:
                yield _tar_entries(reader)


def _header_container(
    read: Callable[[IO[bytes], int], Entries], raw: IO[bytes], source: Path, name: str
) -> Entries:
    """The members a container read from its header gives (a uImage's payload, a FIT's
    nodes), or ``ArchiveUnreadable`` if it is not opened here."""
    try:
        return read(raw, source.stat().st_size)
    except streams.Unopened as exc:
        raise ArchiveUnreadable(exc.reason, exc.detail) from exc
    except ValueError as exc:
        raise ArchiveUnreadable("corrupt-archive", f"cannot open {name}: {exc}") from exc


def _inner_head(source: Path, fmt: ArchiveFormat) -> bytes:
    """The first bytes the compressed stream ``source`` holds; ``ArchiveUnreadable`` if none."""
    try:
        with decompressed(source, fmt) as stream:
            return stream.read(HEAD_SIZE)
    except READ_ERRORS as exc:
        raise ArchiveUnreadable("corrupt-archive", f"cannot open {fmt} archive: {exc}") from exc


def _open(source: Path, fmt: ArchiveFormat, stack: ExitStack) -> tarfile.TarFile | zipfile.ZipFile:
    """The tar or zip archive ``source``, closed with ``stack``."""
    try:
        if fmt is ArchiveFormat.ZIP:
            return stack.enter_context(zipfile.ZipFile(source))
        return open_tar(source, fmt, stack)
    except READ_ERRORS as exc:
        raise ArchiveUnreadable("corrupt-archive", f"cannot open {fmt} archive: {exc}") from exc


def _tar_entries(tar: tarfile.TarFile) -> Entries:
    info = tar.next()
    while info is not None:
        if info.isreg():
            yield Member(info.name, MemberType.FILE), partial(_tar_stream, tar, info)
        else:
            yield _tar_member(info), None
        # NOTE: TarFile keeps every header it reads in ``members`` (not in the stubs); dropping
        # them keeps memory flat on a million-member archive. Stream mode never looks back.
        tar.members.clear()  # type: ignore[attr-defined]
        info = tar.next()


def _tar_stream(tar: tarfile.TarFile, info: tarfile.TarInfo) -> IO[bytes]:
    stream = tar.extractfile(info)
    if stream is None:
        raise tarfile.ReadError(f"no data for {info.name!r}")
    return stream


def _tar_member(info: tarfile.TarInfo) -> Member:
    if info.isdir():
        return Member(info.name, MemberType.DIR)
    if info.issym():
        return Member(info.name, MemberType.SYMLINK, info.linkname)
    if info.islnk():
        return Member(info.name, MemberType.HARDLINK, info.linkname)
    what = _TAR_SPECIAL.get(info.type, f"tar member type {info.type!r}")
    passed = 0 if info.type in tarfile.SUPPORTED_TYPES else info.size
    return Member(info.name, MemberType.REFUSED, what, "special-file", passed)


def _zip_entries(archive: zipfile.ZipFile) -> Entries:
    for info in archive.infolist():
        member = _zip_member(archive, info)
        opener = partial(open_zip_member, archive, info) if member.type is MemberType.FILE else None
        yield member, opener


def _zip_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Member:
    mode = info.external_attr >> 16
    if not info.filename:  # ZipInfo.is_dir() would index an empty name; ``take`` records it
        return Member(info.filename, MemberType.FILE)
    if info.is_dir():
        return Member(info.filename, MemberType.DIR)
    if info.flag_bits & 0x1:
        return Member(info.filename, MemberType.REFUSED, "password-protected", "encrypted")
    if info.compress_type not in _ZIP_METHODS:
        detail = f"compression method {info.compress_type}"
        return Member(info.filename, MemberType.REFUSED, detail, "unsupported-compression")
    if stat.S_ISLNK(mode):
        with open_zip_member(archive, info) as stream:
            target = stream.read(4096).decode("utf-8", "surrogateescape")
        return Member(info.filename, MemberType.SYMLINK, target)
    if stat.S_IFMT(mode) not in (0, stat.S_IFREG):
        return Member(info.filename, MemberType.REFUSED, special_name(mode), "special-file")
    return Member(info.filename, MemberType.FILE)


class _Run:
    """The mutable state of one archive's extraction."""

    def __init__(self, dest: Path, archive_path: str, budget: Budget, compressed: int) -> None:
        self.dest = dest
        self.archive_path = archive_path
        self.prefix = f"{archive_path}!/" if archive_path else ""
        self.budget = budget
        self.compressed = compressed
        self.expanded = 0
        self.current = ""
        self.files: list[SourceFile] = []
        self.skipped: list[Skipped] = []
        self.links = 0
        self.names: dict[str, str] = {}
        """Inventory path of each file written, to its name exactly as stored (normalised)."""

    def record(self, reason: str, detail: str) -> Skipped:
        """A ``Skipped`` record for the archive as a whole."""
        return Skipped(self.archive_path, "ingest", reason, detail)

    def recovered(self) -> str:
        """How much of a damaged archive was kept, for its ``corrupt-archive`` record."""
        kept = len(self.files)
        return f"{kept} file{'' if kept == 1 else 's'} before it kept, the one cut short deleted"

    def where(self) -> str:
        """Where extraction is, for messages."""
        return f"at member {self.current!r}" if self.current else "before the first member"

    def take(self, member: Member, opener: Opener | None) -> None:
        """Account for one member and extract, refuse or record it."""
        name = printable(member.name)
        self.current = name
        self._count_member()
        self._charge(member.passed)
        path, problem = member_path(name)
        if problem is not None:
            self._skip(name, problem, f"{member.type.value} name refused")
        elif member.type is MemberType.DIR:
            return
        elif not path:
            self._skip(name, "bad-name", "empty member name")
        elif member.type in (MemberType.SYMLINK, MemberType.HARDLINK):
            self._link(path, member)
        elif member.type is MemberType.REFUSED or opener is None:
            self._skip(path, member.reason, member.detail)
        elif self.names.setdefault(path, _exact(member.name)) != _exact(member.name):
            self._skip(path, "ambiguous-name", AMBIGUOUS)
        else:
            self._write(path, opener)

    def _skip(self, path: str, reason: str, detail: str) -> None:
        self.skipped.append(Skipped(self.prefix + path, "ingest", reason, detail))

    def _link(self, path: str, member: Member) -> None:
        self.links += 1
        hard = member.type is MemberType.HARDLINK
        inside = link_stays_inside(path, member.detail, hard=hard)
        target = printable(member.detail)
        self._skip(path, "link" if inside else "link-outside", f"{member.type.value} -> {target}")

    def _write(self, path: str, opener: Opener) -> None:
        disk = self.dest / str(self.budget.members)
        try:
            digest = self._copy(opener, disk)
        except BaseException:
            disk.unlink(missing_ok=True)
            raise
        kind = classify(path, digest.head)
        self.files.append(
            SourceFile(self.prefix + path, str(disk), kind, digest.size, digest.sha256)
        )

    def _copy(self, opener: Opener, disk: Path) -> Digest:
        digest = hashlib.sha256()
        head = bytearray()
        size = 0
        with opener() as stream, disk.open("xb") as out:
            while chunk := stream.read(CHUNK):
                self._charge(len(chunk))
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
                if len(head) < HEAD_SIZE:
                    head += chunk[: HEAD_SIZE - len(head)]
        return Digest(size, digest.hexdigest(), bytes(head))

    def charge(self, size: int) -> None:
        """Count ``size`` bytes a reader decompressed to step over data it does not write."""
        self._charge(size)

    def _count_member(self) -> None:
        budget = self.budget
        budget.members += 1
        if budget.members > budget.limits.max_files:
            detail = f"member {budget.members} of the input > cap {budget.limits.max_files}"
            raise _Stop(self.record("bomb-file-count", f"{detail}, {self.where()}"))

    def _charge(self, size: int) -> None:
        if not size:
            return
        budget, limits = self.budget, self.budget.limits
        budget.total_bytes += size
        self.expanded += size
        if budget.total_bytes > limits.max_total_bytes:
            detail = f"{budget.total_bytes} bytes expanded > cap {limits.max_total_bytes}"
            raise _Stop(self.record("bomb-total-size", f"{detail}, {self.where()}"))
        if self.expanded > max(RATIO_FLOOR, limits.max_ratio * self.compressed):
            ratio = self.expanded / max(self.compressed, 1)
            detail = f"{self.expanded} bytes from {self.compressed}: ratio {ratio:.0f}"
            raise _Stop(
                self.record("bomb-ratio", f"{detail} > cap {limits.max_ratio:g}, {self.where()}")
            )
