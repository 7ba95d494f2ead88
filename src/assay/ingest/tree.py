"""The evaluated tree: walk a directory or unpack an archive into the safe inventory.

``ingest`` walks a directory, or extracts the input archive or file-system image as the root,
or takes a single ELF binary as it is; then it extracts the archives and images it finds
inside, level by level, up to ``ArchiveLimits.max_depth`` (the input archive is level 1, and so
are the archives of a directory input). Extracted bytes land only in a fresh ``extract-*``
directory of the work area; everything refused becomes a ``Skipped`` record.

The directory walk is iterative, so a deep tree cannot overflow the stack, and uses
``os.scandir`` so that most entries are typed by the listing itself. A symbolic link is counted
and recorded with its target, never followed, which also makes link loops harmless. The tree an
image extractor wrote is walked the same way, with its links judged like archive links (inside
or outside the image) and its files charged to the archive caps (see ``images``).

Longer than 300 lines: the inventory ``ingest`` builds and the directory walker that feeds it share
the caps and the skipped records; the safety of the walk is checked in one file.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from assay.errors import IngestError
from assay.ingest import (
    archive,
    carve,
    images,
    initramfs,
    kernel,
    scan,
    squashfs7z,
    uimage,
    unblob_report,
)
from assay.ingest.archive import Extracted
from assay.ingest.carve import CARVED, KERNEL_CONTAINERS
from assay.ingest.classify import (
    HEAD_SIZE,
    IMAGE_FORMATS,
    Digest,
    archive_format,
    classify,
    digest_file,
    printable,
    special_name,
)
from assay.ingest.interface import ArchiveLimits, Container, IngestResult, SourceFile
from assay.ingest.magic import ArchiveFormat
from assay.ingest.memo import DigestMemo, Known
from assay.model import FileKind, InputInfo, Skipped, tree_hash
from assay.progress import NullProgress, Progress

_FORMATS = (
    "a directory or an archive (tar, zip, cpio; squashfs, cramfs or ext2/3/4 image; a U-Boot "
    "image; any of these, or one file, compressed with gzip, xz, bzip2, lzma, lz4 or zstd), "
    "a firmware file (flash dump, update file, kernel) in which unblob finds an image, or an "
    "ELF binary"
)


def ingest(
    input: Path,
    work_dir: Path,
    limits: ArchiveLimits,
    progress: Progress | None = None,
    exclude: Sequence[Path] = (),
    memo: DigestMemo | None = None,
) -> IngestResult:
    """The safe inventory of ``input`` (directory, archive, image, ELF); writes in ``work_dir``.

    Directories in ``exclude`` (e.g. the output directory inside the input) are not walked.
    ``memo`` (a directory input) supplies the hashes of files unchanged since it was written.

    Raises ``IngestError`` when the input is missing, is neither a directory nor a supported
    archive, or cannot be read at all. Everything smaller becomes a ``Skipped`` record.
    """
    observer = progress if progress is not None else NullProgress()
    observer.stage("ingest")
    inventory = _Inventory(work_dir, limits, observer, exclude, memo)
    if input.is_dir():
        info = inventory.directory(input)
    elif input.is_file():
        info = inventory.archive(input)
    elif os.path.lexists(input):
        raise IngestError(f"{input}: not {_FORMATS}")
    else:
        raise IngestError(f"{input}: no such file or directory")
    return inventory.result(info)


AMBIGUOUS = "another name prints as this path (bytes that are not UTF-8 show as \\xNN); one kept"
"""The detail of an ``ambiguous-name`` record."""


def _input_name(input: Path) -> str:
    return os.path.basename(os.path.normpath(os.path.abspath(input)))


def _dump_or(fmt: ArchiveFormat | None, path: Path, head: bytes) -> ArchiveFormat | None:
    """``fmt``, or ``None`` (carve it) for a flash dump that starts with a uImage and holds
    more after it (``uimage.holds_more``): read as one uImage, the rest would be lost."""
    if fmt is ArchiveFormat.UIMAGE and uimage.holds_more(path, head):
        return None
    return fmt


def _read_head(path: str) -> bytes:
    with open(path, "rb") as stream:
        return stream.read(HEAD_SIZE)


class _Inventory:
    """Files, records and budget of one ingest, and the work directories it has made."""

    def __init__(
        self,
        work_dir: Path,
        limits: ArchiveLimits,
        progress: Progress,
        exclude: Sequence[Path],
        memo: DigestMemo | None = None,
    ) -> None:
        self.memo = memo
        self.work_dir = work_dir
        self.exclude = frozenset(os.path.realpath(p) for p in exclude)
        self.budget = archive.Budget(limits)
        self.progress = progress
        self.files: list[SourceFile] = []
        self.skipped: list[Skipped] = []
        self.links = 0
        self.containers: list[Container] = []
        self._streams: dict[str, list[str]] = {}
        """Per carved file, the prefixes of its compressed-stream regions (kernels may be in)."""
        self._kernel_paths: set[str] = set()
        """Paths of the decompressed kernels read (``_kernels``)."""
        self._built_in: set[str] = set()
        """Built-in initramfs archives cut out of a kernel: read at the kernel's own depth (a
        part of the kernel image, not an archive inside it)."""
        self._root: Path | None = None
        self._made = 0

    def directory(self, input: Path) -> InputInfo:
        """Walk the directory ``input``, then expand the archives in it."""
        found = walk(input, self.progress, self.exclude, self.memo)
        self.skipped.extend(found.skipped)
        self.links += found.links
        self._expand(found.files, level=1)
        digest = tree_hash((file.path, file.sha256) for file in found.files)
        return InputInfo(_input_name(input), "directory", digest)

    def archive(self, input: Path) -> InputInfo:
        """Extract the archive ``input`` as the root, then expand the archives in it."""
        source = Path(os.path.realpath(input))
        try:
            digest = digest_file(str(source))
        except OSError as exc:
            raise IngestError(f"cannot read {input}: {exc.strerror}") from exc
        fmt = archive_format(digest.head)
        if fmt is None and not scan.binary(classify(input.name, digest.head), digest.head):
            return self._single(source, _input_name(input), digest)  # ELF, or an error
        fmt = _dump_or(fmt, source, digest.head)
        try:
            members = self._extract(source, fmt, "", _input_name(input))
        except images.ImageUnreadable as exc:
            self.skipped.append(Skipped("", "ingest", exc.reason, exc.detail))
            members = ()
        except archive.ArchiveUnreadable as exc:
            raise IngestError(f"cannot read archive {input}: {exc.detail}") from exc
        self._expand(members, level=2)
        return InputInfo(_input_name(input), "archive", digest.sha256)

    def _single(self, source: Path, name: str, digest: Digest) -> InputInfo:
        """A lone ELF binary (executable, library or object) is the whole inventory."""
        kind = classify(name, digest.head)
        if kind is not FileKind.ELF:
            raise IngestError(f"{name}: not {_FORMATS}")
        self.files.append(SourceFile(name, str(source), kind, digest.size, digest.sha256))
        return InputInfo(name, "file", digest.sha256)

    def result(self, info: InputInfo) -> IngestResult:
        """The inventory, one file per path, everything sorted.

        Within one archive, a name stored twice keeps its last copy (``duplicate-path``; the
        archive reader already refused names that only print alike). Anywhere else two files
        share a path only because their names print alike (bytes that are not UTF-8 show as
        ``\\xNN``): the one whose disk path sorts first by bytes is kept (``ambiguous-name``).
        """
        unique: dict[str, SourceFile] = {}
        for file in self.files:
            kept = unique.get(file.path)
            if kept is None or self._same_archive(kept, file):
                if kept is not None:
                    detail = "an archive holds this path more than once; the last copy is kept"
                    self.skipped.append(Skipped(file.path, "ingest", "duplicate-path", detail))
                unique[file.path] = file
                continue
            first = min(kept, file, key=lambda f: os.fsencode(f.disk_path))
            unique[file.path] = first
            self.skipped.append(Skipped(file.path, "ingest", "ambiguous-name", AMBIGUOUS))
        files = tuple(sorted(unique.values(), key=lambda file: file.path))
        skipped = tuple(sorted(self.skipped, key=skip_key))
        by_path = {c.path: c for c in reversed(self.containers)}  # a region opened: its own entry
        containers = tuple(sorted(by_path.values(), key=lambda c: c.path))
        return IngestResult(info, files, skipped, self.links, containers)

    def _same_archive(self, one: SourceFile, other: SourceFile) -> bool:
        """Both are members written by one tar, zip, cpio or cramfs reader (``work/N/M``)."""
        folder = os.path.dirname(one.disk_path)
        return (
            self._root is not None
            and folder == os.path.dirname(other.disk_path)
            and os.path.dirname(folder) == str(self._root)
        )

    def _expand(self, found: Sequence[SourceFile], level: int) -> None:
        while found:
            self.files.extend(found)
            archives = sorted(
                (file for file in found if file.kind is FileKind.ARCHIVE or self._dump(file)),
                key=lambda f: f.path,
            )
            found = [
                member
                for file in archives
                for member in self._nested(file, level - (file.path in self._built_in))
            ]
            level += 1

    def _dump(self, file: SourceFile) -> bool:
        """A binary file of no known format that holds image magics past its start (``scan``):
        a flash dump or update file inside the release, carved like the input would be."""
        if file.kind not in (FileKind.OTHER, FileKind.TEXT) or file.size < scan.MIN_SIZE:
            return False
        if file.path.endswith((":unknown", ":padding")):
            return False  # regions unblob left unknown are not carved again
        try:
            head = _read_head(file.disk_path)
            # a kernel that ingest read (version, built-in initramfs) is carved only for an
            # image inside it: unblob on a 20 MB kernel takes seconds and finds its own parts
            streams = file.path not in self._kernel_paths
            return scan.binary(file.kind, head) and scan.holds_images(Path(file.disk_path), streams)
        except OSError:
            return False

    def _nested(self, file: SourceFile, level: int) -> tuple[SourceFile, ...]:
        max_depth = self.budget.limits.max_depth
        if level > max_depth:
            detail = f"archive at depth {level} > max_depth {max_depth}; not extracted"
            self.skipped.append(Skipped(file.path, "ingest", "nesting-depth", detail))
            return ()
        try:
            head = _read_head(file.disk_path)
            fmt = archive_format(head)
            if fmt is None and file.kind not in (FileKind.OTHER, FileKind.TEXT):
                raise archive.ArchiveUnreadable("unreadable", "archive magic no longer present")
            fmt = _dump_or(fmt, Path(file.disk_path), head)
            if fmt is ArchiveFormat.ARM64_IMAGE:  # a kernel as it boots: nothing to unpack
                return tuple(self._kernels([file]))
            return self._extract(Path(file.disk_path), fmt, file.path)
        except OSError as exc:
            self.skipped.append(Skipped(file.path, "ingest", "unreadable", str(exc)))
        except (archive.ArchiveUnreadable, images.ImageUnreadable) as exc:
            self.skipped.append(Skipped(file.path, "ingest", exc.reason, exc.detail))
        return ()

    def _extract(
        self, source: Path, fmt: ArchiveFormat | None, path: str, name: str = ""
    ) -> tuple[SourceFile, ...]:
        size = source.stat().st_size
        parent = path.rpartition("!/")[0]
        self.containers.append(Container(path, str(fmt or "carved"), parent, None, size))
        if fmt is None or fmt in CARVED:
            out = self._carve(source, fmt, path, name or os.path.basename(path))
        elif fmt in IMAGE_FORMATS:
            out = self._image(source, fmt, path)
        else:
            out = archive.extract(source, fmt, self._new_dest(), path, self.budget, name)
        self.skipped.extend(out.skipped)
        self.links += out.links
        self.progress.advance(len(out.files))
        streams = tuple(self._streams.pop(path, ()))
        if fmt in KERNEL_CONTAINERS or streams:  # an arm64 Image (archive) is read at its level
            payloads = [
                f
                for f in out.files
                if f.kind is not FileKind.ARCHIVE
                and (fmt in KERNEL_CONTAINERS or f.path.startswith(streams))
            ]
            return (*out.files, *self._kernels(payloads))
        return out.files

    def _kernels(self, payloads: Sequence[SourceFile]) -> list[SourceFile]:
        """Read the version of each decompressed kernel (``kernel``), and cut out its built-in
        initramfs as one more archive, charged to the caps like any member. A kernel's parent
        is the container its path is in: the uImage, or the carved stream
        (``fw.bin@0x4e6e5:xz`` of ``fw.bin@0x4e6e5:xz!/xz.uncompressed``), not the dump."""
        found: list[SourceFile] = []
        for payload in payloads:
            facts = kernel.read(Path(payload.disk_path))
            if facts is None:
                continue
            parent = payload.path.rpartition("!/")[0]
            kind = Container(
                payload.path, "linux-kernel", parent, None, payload.size, facts.version
            )
            self.containers.append(kind)
            self._kernel_paths.add(payload.path)
            span = self._initramfs(payload, facts.initramfs)
            if span is None:
                continue
            start, end, fmt = span
            self.budget.total_bytes += end - start
            if self.budget.total_bytes > self.budget.limits.max_total_bytes:
                detail = f"built-in initramfs of {end - start} bytes over the total cap; not read"
                self.skipped.append(Skipped(payload.path, "ingest", "bomb-total-size", detail))
                continue
            disk = self._new_dest() / "initramfs.cpio"
            with open(payload.disk_path, "rb") as src, disk.open("xb") as out:
                src.seek(start)
                left = end - start
                while left and (chunk := src.read(min(left, 1 << 20))):
                    out.write(chunk)
                    left -= len(chunk)
            digest = digest_file(str(disk))
            where = f"{payload.path}@{start:#x}:initramfs"
            self.containers.append(Container(where, fmt, payload.path, start, end - start))
            found.append(SourceFile(where, str(disk), FileKind.ARCHIVE, digest.size, digest.sha256))
            self._built_in.add(where)
        return found

    def _initramfs(
        self, payload: SourceFile, plain: tuple[int, int] | None
    ) -> tuple[int, int, str] | None:
        """Where the built-in initramfs lies in ``payload`` and its format: the plain cpio
        ``kernel`` found, unless a compressed one (``initramfs``) holds it (a compressor that
        stores literals, lzo or lz4, can leave a cpio header and trailer readable inside its
        stream); a record when a compressed one is found but not read (a cap, damaged data)."""
        most = self.budget.limits.max_total_bytes - self.budget.total_bytes
        found = initramfs.find(Path(payload.disk_path), most)
        if plain is not None and (found is None or not found.holds(plain[0])):
            found = None  # none, or another stream: the plain one is the initramfs
        if found is None:
            return None if plain is None else (*plain, "cpio")
        if found.end is None:
            self.skipped.append(Skipped(payload.path, "ingest", found.reason, found.problem))
            return None
        return found.start, found.end, str(initramfs.archive_format(found))

    def _image(self, source: Path, fmt: ArchiveFormat, path: str) -> Extracted:
        """Unpack an image in the sandbox, walk what it wrote, charge that to the caps."""
        dest = self._new_dest()
        if fmt is ArchiveFormat.SQUASHFS and squashfs7z.reader(source) == "7zz":
            unpacked = squashfs7z.unpack(source, dest, path, self.budget)
        else:
            unpacked = images.unpack(source, fmt, dest, path, self.budget)
        found = Walk((), (), 0)
        if unpacked.root.is_dir():
            prefix = f"{path}!/" if path else ""
            found = _Walker(NullProgress(), frozenset(), prefix, extracted=True).run(
                str(unpacked.root)
            )
        compressed = source.stat().st_size
        budget = self.budget
        return images.admit(
            found.files, found.skipped, found.links, budget, unpacked, path, compressed
        )

    def _carve(self, source: Path, fmt: ArchiveFormat | None, path: str, name: str) -> Extracted:
        """Carve and unpack a firmware file with unblob in the sandbox (``carve``), walk what
        it wrote with the directory rules, charge that to the caps."""
        carved = carve.run(source, self._new_dest(), path, self.budget, name)
        if not path and not any(region.handler != "unknown" for region in carved.regions):
            self._discard()
            if fmt is not None:
                raise IngestError(
                    f"cannot read {name}: {carve.nothing_found(path, fmt, carved).detail}"
                )
            raise IngestError(f"{name}: not {_FORMATS}")
        if path and fmt is None and carved.whole_unknown:
            self.containers.pop()  # a chance magic in a binary file: it holds no container
            return Extracted((), (), 0)
        if not carved.whole:
            self.containers += (
                Container(
                    unblob_report.region_path(path, name, r), r.type, path, r.start, r.end - r.start
                )
                for r in carved.regions
            )
        files: list[SourceFile] = []
        skipped: list[Skipped] = []
        links = 0
        opened_here: set[str] = set()
        for out in carve.outputs(carved, path, name):
            if out.stream:
                self._streams.setdefault(path, []).append(out.path)
            if not out.tree:
                digest = digest_file(str(out.disk))
                kind = classify(out.path, digest.head)
                if kind is FileKind.ARCHIVE and out.path.endswith(":unknown"):
                    kind = FileKind.OTHER  # unblob found no format in it: not opened again
                files.append(SourceFile(out.path, str(out.disk), kind, digest.size, digest.sha256))
                if archive_format(digest.head) not in (None, *CARVED):
                    opened_here.add(out.path)  # assay reads it at the next level
                continue
            found = _Walker(NullProgress(), frozenset(), out.path, extracted=True).run(
                str(out.disk)
            )
            files += found.files
            skipped += found.skipped
            links += found.links
        records = tuple(r for r in carved.skipped if r.path not in opened_here)
        if not (files or records or skipped) or not carved.opened_as(fmt):
            records = (*records, carve.nothing_found(path, fmt, carved))
        unpacked = images.Unpacked(carved.base, records)
        compressed = source.stat().st_size
        return images.admit(files, skipped, links, self.budget, unpacked, path, compressed)

    def _discard(self) -> None:
        """Remove the work area made so far (the input turned out to be no release at all)."""
        if self._root is not None:
            for folder, folders, _ in os.walk(self._root):
                for name in folders:
                    os.chmod(os.path.join(folder, name), 0o700, follow_symlinks=False)
            shutil.rmtree(self._root, ignore_errors=True)
            if not any(self.work_dir.iterdir()):
                self.work_dir.rmdir()

    def _new_dest(self) -> Path:
        if self._root is None:
            try:
                self.work_dir.mkdir(parents=True, exist_ok=True)
                made = tempfile.mkdtemp(prefix="extract-", dir=os.path.abspath(self.work_dir))
            except OSError as exc:
                raise IngestError(f"cannot create work area in {self.work_dir}: {exc}") from exc
            self._root = Path(made)
        dest = self._root / str(self._made)
        dest.mkdir()
        self._made += 1
        return dest


@dataclass(frozen=True, slots=True)
class Walk:
    """What a directory walk found."""

    files: tuple[SourceFile, ...]
    """Every regular file, sorted by path."""
    skipped: tuple[Skipped, ...]
    """Links, special files and unreadable entries, sorted by path."""
    links: int
    """Symbolic links seen (never followed)."""


def walk(
    root: Path,
    progress: Progress,
    exclude: frozenset[str] = frozenset(),
    memo: DigestMemo | None = None,
) -> Walk:
    """Inventory the directory ``root``; ``IngestError`` if the root itself cannot be listed.

    ``exclude`` holds real paths of directories that are recorded as skipped, not walked;
    ``memo`` supplies the hashes of files whose identity is unchanged.
    """
    return _Walker(progress, exclude, memo=memo).run(os.path.abspath(root))


def skip_key(record: Skipped) -> tuple[str, str, str, str]:
    """Sort key of ``Skipped`` records: by path, then stage, reason and detail."""
    return (record.path, record.stage, record.reason, record.detail)


class _Walker:
    """The mutable state of one walk: a stack of directories still to list, and the results.

    ``extracted``: the tree an image extractor wrote in the work area, whose paths take
    ``prefix``, whose links are judged as archive links, and whose modes assay may loosen.
    """

    def __init__(
        self,
        progress: Progress,
        exclude: frozenset[str],
        prefix: str = "",
        extracted: bool = False,
        memo: DigestMemo | None = None,
    ) -> None:
        self.memo = memo
        self.progress = progress
        self.exclude = exclude
        self.prefix = prefix
        self.extracted = extracted
        self.files: list[SourceFile] = []
        self.skipped: list[Skipped] = []
        self.links = 0
        self.pending: list[tuple[str, str]] = []
        self.root = self.real_root = ""

    def run(self, root: str) -> Walk:
        self.root = root
        self.real_root = os.path.realpath(root) if self.exclude else root
        self.pending.append((root, ""))
        while self.pending:
            self._scan(*self.pending.pop())
        self.files.sort(key=lambda file: file.path)
        self.skipped.sort(key=skip_key)
        return Walk(tuple(self.files), tuple(self.skipped), self.links)

    def _scan(self, disk_dir: str, rel_dir: str) -> None:
        try:
            if self.extracted:  # an image may hold directories that even their owner cannot list
                os.chmod(disk_dir, 0o700, follow_symlinks=False)
            with os.scandir(disk_dir) as listing:
                entries = list(listing)
        except OSError as exc:
            if not rel_dir:
                raise IngestError(f"cannot list directory {disk_dir}: {exc.strerror}") from exc
            self._skip(rel_dir.rstrip("/"), "unreadable", exc)
            return
        for entry in entries:
            self._visit(entry, rel_dir + printable(entry.name))

    def _path(self, rel: str) -> str:
        return self.prefix + rel

    def _visit(self, entry: os.DirEntry[str], rel: str) -> None:
        try:
            if entry.is_symlink():
                self._link(entry.path, rel)
            elif entry.is_dir(follow_symlinks=False):
                if self.exclude and self._real(entry.path) in self.exclude:
                    detail = "assay's own output directory is not evaluated"
                    self.skipped.append(Skipped(rel, "ingest", "output-directory", detail))
                else:
                    self.pending.append((entry.path, rel + "/"))
            elif entry.is_file(follow_symlinks=False):
                self._file(entry.path, rel)
            else:
                mode = entry.stat(follow_symlinks=False).st_mode
                name = special_name(mode)
                self.skipped.append(Skipped(self._path(rel), "ingest", "special-file", name))
        except OSError as exc:
            self._skip(rel, "unreadable", exc)

    def _real(self, disk_path: str) -> str:
        """The real path of a directory found by the walk, without resolving it again.

        The walk never follows a link, so below the root a disk path is already real: only
        the root's own links matter (one ``realpath`` per walk, not one per directory, which
        cost the depth of the tree each time).
        """
        return self.real_root + disk_path[len(self.root) :]

    def _link(self, disk_path: str, rel: str) -> None:
        self.links += 1
        target = printable(os.readlink(disk_path))
        if not self.extracted:
            self.skipped.append(Skipped(rel, "ingest", "symlink", f"-> {target}"))
            return
        inside = archive.link_stays_inside(rel, target, hard=False)
        reason = "link" if inside else "link-outside"
        self.skipped.append(Skipped(self._path(rel), "ingest", reason, f"symlink -> {target}"))

    def _file(self, disk_path: str, rel: str) -> None:
        if self.extracted:
            os.chmod(disk_path, 0o600, follow_symlinks=False)
        known = self._digest(disk_path, rel)
        path = self._path(rel)
        self.files.append(SourceFile(path, disk_path, known.kind, known.size, known.sha256))
        self.progress.advance()

    def _digest(self, disk_path: str, rel: str) -> Known:
        """Size, hash and kind of a file: from the memo when its identity is unchanged."""
        if self.memo is None:
            digest = digest_file(disk_path)
            return Known(digest.size, digest.sha256, classify(rel, digest.head))
        st = os.stat(disk_path, follow_symlinks=False)
        known = self.memo.known(disk_path, st)
        if known is None:
            digest = digest_file(disk_path)
            known = Known(digest.size, digest.sha256, classify(rel, digest.head))
            self.memo.remember(disk_path, st, known)
        return known

    def _skip(self, rel: str, reason: str, exc: OSError) -> None:
        detail = exc.strerror or str(exc)
        self.skipped.append(Skipped(self._path(rel), "ingest", reason, detail))
