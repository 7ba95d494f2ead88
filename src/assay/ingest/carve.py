"""Carving and unpacking with unblob, run inside the sandbox.

unblob (MIT, ``pip install unblob``) is the field's library for firmware: one handler per
format (TRX, 7z, old binary cpio, romfs, squashfs 1 to 4, JFFS2, UBI/UBIFS, yaffs2, lzo, lz4
legacy and some eighty more), and a carver that finds every image inside a flash dump or an
update file by its magic, reading the file once (it is memory-mapped and searched with
Hyperscan). assay does not write those parsers again. It runs unblob as a program, never in
its own process: ``python -m unblob`` starts inside ``assay.sandbox`` (no network, the image
read-only, only the fresh output directory writable, the wall-clock cap) and under
``RLIMIT_FSIZE`` set to the bytes the caps still allow, so no file it writes can outgrow them.

unblob is asked for one level (``--depth 1``): the regions of the file and the contents of each.
What it wrote is then read back through ``report.json`` and named here: a region that is the
whole file is opened like any archive (``rootfs.jffs2!/bin/busybox``); a region of a larger
file is named by its offset and type and opened like an archive
(``fw.bin@0x20000:squashfs!/bin/busybox``); bytes that no
handler claims stay in the inventory as ``fw.bin@0x0:unknown``, so every byte of a dump is
accounted for. A region whose extraction failed stays a file (``fw.bin@0x20000:squashfs``):
assay then opens it itself if it can (unsquashfs), and records why not otherwise. The caller
walks the trees with the directory rules (links, devices, escapes) and charges them to the caps.
"""

from __future__ import annotations

import os
import shutil
import sys
import sysconfig
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from assay import sandbox
from assay.ingest import uimages, yaffs2
from assay.ingest.archive import Budget
from assay.ingest.images import ImageUnreadable, bytes_allowed, sandbox_problem, stopped
from assay.ingest.magic import UNOPENED, ArchiveFormat
from assay.ingest.unblob_report import Region, records, region_path, regions
from assay.model import Skipped

CARVED: Final = frozenset(
    {*UNOPENED, ArchiveFormat.JFFS2, ArchiveFormat.UBI, ArchiveFormat.UBIFS, ArchiveFormat.YAFFS2}
)
"""Formats that ingest does not read itself: unblob carves and unpacks them (see above)."""
STREAMS: Final = frozenset({"gzip", "bzip2", "lzma", "xz", "lzo", "lz4", "zstd", "zlib"})
"""Region types that are one compressed stream (unblob's handler names, shortened)."""
KERNEL_CONTAINERS: Final = frozenset(
    {ArchiveFormat.BZIMAGE, ArchiveFormat.ZIMAGE, ArchiveFormat.UIMAGE, ArchiveFormat.FIT}
)
"""Containers whose payload may be a Linux kernel: its version and initramfs are read."""

OUT: Final = "out"
"""Directory of the destination that unblob fills."""
REPORT: Final = "report.json"
"""unblob's JSON report, in the destination (outside ``OUT``)."""

_UID: Final = 1000
_SIGXFSZ: Final = "exit_code -25"
"""How unblob's report says a tool it ran died of RLIMIT_FSIZE (signal 25)."""


@dataclass(frozen=True, slots=True)
class Carved:
    """What unblob wrote for one file, and where."""

    whole: bool
    """A single region spans the whole file: its contents are the file's members."""
    regions: tuple[Region, ...]
    """Every region, in offset order (unknown ones included when the file was carved)."""
    base: Path
    """Directory holding ``{start}-{end}.{handler}`` and ``..._extract`` (whole: the tree)."""
    skipped: tuple[Skipped, ...]
    """Records on the file: regions not extracted, and why."""

    @property
    def whole_unknown(self) -> bool:
        """No handler claimed any of the file's bytes."""
        return all(r.handler in ("unknown", "padding") for r in self.regions)

    def opened_as(self, fmt: ArchiveFormat | None) -> bool:
        """Whether a file recognised as ``fmt`` was read as what it claims to be: a handler
        claimed its first byte, or (a kernel image, whose setup code no handler claims) a
        payload was extracted without error. Carving a file of no known format always is."""
        if fmt is None:
            return True
        found = [r for r in self.regions if r.handler not in ("unknown", "padding")]
        if fmt in (ArchiveFormat.BZIMAGE, ArchiveFormat.ZIMAGE):
            return any(not r.errors for r in found)
        return any(r.start == 0 for r in found)


def _default_command() -> list[str]:
    """unblob started by the interpreter running assay, from its own environment."""
    return [sys.executable, "-m", "unblob.cli"]


unblob_command: Callable[[], list[str]] = _default_command
"""The command that runs unblob (a test seam: a stub that hangs proves the time cap)."""


def available() -> str | None:
    """Why unblob cannot run here, or ``None``."""
    try:
        import unblob  # noqa: F401  (only its presence is checked; it runs in the sandbox)
    except ImportError:
        return "unblob is not installed (pip install unblob)"
    return None


def run(source: Path, dest: Path, archive_path: str, budget: Budget, name: str) -> Carved:
    """Carve and unpack ``source`` with unblob in the sandbox, into ``dest / OUT``; ``name``
    names its regions when it is the input itself (``archive_path`` empty).

    Raises ``ImageUnreadable`` when nothing usable was written: unblob or the sandbox missing,
    the time cap reached, a file past the byte cap (all output is then deleted), no report.
    """
    missing = available()
    if missing is not None:
        raise ImageUnreadable("missing-tool", f"firmware carving: {missing}")
    problem = sandbox_problem()
    if problem is not None:
        raise ImageUnreadable("sandbox-unavailable", f"not carved: {problem}")
    image = source.resolve()
    allowed = bytes_allowed(budget, image.stat().st_size)
    # one byte over what the caps allow: a file that reaches it proves a cap was passed
    argv = ["prlimit", f"--fsize={allowed + 1}", "--", *unblob_command()]
    argv += ["--depth", "1", "--randomness-depth", "0", "--process-num", "1"]
    argv += ["--extract-dir", str(dest / OUT), "--report", str(dest / REPORT)]
    argv += ["--log", str(dest / "unblob.log"), str(image)]
    result = sandbox.run(
        argv,
        cwd=dest,
        writable=[dest],
        readable=_readable(image),
        env=_env(),
        timeout=budget.limits.extract_timeout,
        uid=_UID,
    )
    stop = stopped(result, "unblob", allowed) or _over_cap(dest / OUT, allowed)
    if stop is not None:
        _remove(dest)
        raise ImageUnreadable(*stop)
    found = regions(dest / REPORT, image, result)
    if any(_SIGXFSZ in error for region in found for error in region.errors):
        _remove(dest)  # a tool unblob ran died of the limit: its output is cut short
        detail = (
            f"a tool unblob ran was stopped: a file would exceed the {allowed} bytes the caps allow"
        )
        raise ImageUnreadable("bomb-total-size", f"{detail}; nothing kept")
    size = image.stat().st_size
    base = dest / OUT / f"{image.name}_extract"
    found, inside = yaffs2.split(found, image, base)
    found, in_uimage = uimages.split(found, image, base)
    for region in (*inside, *in_uimage):  # claimed inside an image: its files are the image's
        for written in region_files(region):
            if "/" not in written and "\0" not in written:  # a name from the report
                _remove_path(base / written)
    whole = len(found) == 1 and found[0].start == 0 and found[0].end == size
    lost = [yaffs2.dropped(dest / "unblob.log", archive_path)]
    for region in found:
        if region.handler == "yaffs":  # unpacked by unblob here
            lost.append(yaffs2.short_files(image, region, archive_path))
    extra = tuple(record for record in lost if record is not None)
    if whole:
        return Carved(True, found, base, records(found, archive_path, "", whole=True) + extra)
    return Carved(False, found, base, records(found, archive_path, name, whole=False) + extra)


def _over_cap(out: Path, allowed: int) -> tuple[str, str] | None:
    """The record when a file unblob (or a tool it ran) wrote was stopped by ``RLIMIT_FSIZE``.

    unblob survives the limit: Python ignores SIGXFSZ (the write fails with EFBIG) and a tool
    it runs that dies of it is only an error in its report. A file cut at the limit is the
    proof, whatever wrote it. Directories an image made unreadable are opened to look.
    """
    for folder, folders, names in os.walk(out):
        _open_up(folder, folders)
        for name in names:
            try:
                size = os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                continue
            if size > allowed:
                detail = f"unblob stopped: a file would exceed the {allowed} bytes the caps allow"
                return "bomb-total-size", f"{detail}; nothing kept"
    return None


def region_files(region: Region) -> tuple[str, str]:
    """(chunk file, extraction directory) names unblob gives a region in the carve directory."""
    stem = f"{region.start}-{region.end}.{region.handler}"
    return stem, f"{stem}_extract"


def _readable(image: Path) -> list[Path]:
    """The image, and the Python environment unblob is installed in (outside /usr)."""
    paths = [image]
    for prefix in {sys.prefix, sys.base_prefix, sysconfig.get_path("purelib")}:
        path = Path(prefix)
        if path.is_dir() and not path.is_relative_to("/usr"):
            paths.append(path)
    return paths


def _env() -> dict[str, str]:
    scripts = sysconfig.get_path("scripts")
    return {
        "PATH": f"{scripts}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
        "HOME": "/tmp",
        "LC_ALL": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def nothing_found(archive_path: str, fmt: ArchiveFormat | None, carved: Carved) -> Skipped:
    """The record of a recognised file that unblob did not read as what it claims to be: never
    a silent loss."""
    what = f"{fmt} recognised by its header" if fmt else "carved"
    detail = (
        f"{what}, but unblob found no image it could unpack in it (damaged, cut short, or a "
        "variant its handler rejects); not unpacked"
    )
    return Skipped(archive_path, "ingest", "unsupported-container", detail)


def _open_up(folder: str, folders: list[str]) -> None:
    """Let the owner list the directories below ``folder`` before ``os.walk`` enters them."""
    for name in folders:
        path = os.path.join(folder, name)
        if not os.path.islink(path):
            os.chmod(path, 0o700)


def _remove_path(path: Path) -> None:
    """Remove the file or the tree at ``path`` (directories an image made unreadable too)."""
    if path.is_dir() and not path.is_symlink():
        for folder, folders, _ in os.walk(path):
            _open_up(folder, folders)
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _remove(dest: Path) -> None:
    for folder, folders, _ in os.walk(dest):
        _open_up(folder, folders)
    shutil.rmtree(dest / OUT, ignore_errors=True)


@dataclass(frozen=True, slots=True)
class Output:
    """One thing unblob wrote: a tree to walk, or a region kept as a file."""

    disk: Path
    """Where it is."""
    path: str
    """Its inventory path: a tree's prefix (ending in ``/`` or ``!/``, or empty), a file's path."""
    tree: bool
    """A directory of extracted contents (else a region's bytes, one file)."""
    stream: bool = False
    """The tree of a compressed stream (what it holds may be a kernel, whose banner is read)."""


def outputs(carved: Carved, archive_path: str, name: str) -> tuple[Output, ...]:
    """What to inventory from ``carved``, the file at ``archive_path`` (``name`` at the root)."""
    if carved.whole:
        prefix = f"{archive_path}!/" if archive_path else ""
        return (Output(carved.base, prefix, True),) if carved.base.is_dir() else ()
    found = []
    for region in carved.regions:
        chunk, extracted = region_files(region)
        path = region_path(archive_path, name, region)
        if (carved.base / extracted).is_dir():
            stream = region.type in STREAMS
            found.append(Output(carved.base / extracted, f"{path}!/", True, stream))
        if (carved.base / chunk).is_file():
            found.append(Output(carved.base / chunk, path, False))
    return tuple(found)
