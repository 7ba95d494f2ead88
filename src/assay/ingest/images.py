"""File-system images (squashfs, ext2/3/4) unpacked by their own well-kept tools, run
only inside the sandbox (``assay.sandbox``: no network, the image read-only, only the fresh
output directory writable, a wall-clock limit).

What an extractor writes is not trusted either: the caller walks it with the directory rules
(links recorded, never followed; special files refused) and ``admit`` charges it to the same
caps as an archive's members, in path order. Two guards act before the bytes land: a squashfs
image is listed first (sizes and entry count checked against the caps, nothing written if they
do not fit), and every extractor runs under ``RLIMIT_FSIZE`` set to the bytes the caps still
allow, so that no single file (sparse or not) can outgrow them. An ext image is listed whole by
``extfs`` (one ``debugfs`` run per directory level) and its files are dumped one inode at a time,
so hostile names and hard links are decided by assay, not by ``rdump``. Formats without an extractor
here become ``image-unsupported`` records naming the tool to install.

Longer than 300 lines: each extractor's listing check, sandboxed run and the admission of what it
wrote are one guarded sequence, kept together to be reviewed as one.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from assay import sandbox
from assay.errors import Unreadable
from assay.ingest import extfs
from assay.ingest.archive import RATIO_FLOOR, Budget, Extracted
from assay.ingest.classify import printable
from assay.ingest.interface import SourceFile
from assay.ingest.magic import ArchiveFormat
from assay.model import Skipped

OUTPUT: Final = "root"
"""Name of the directory, inside the fresh destination, that an extractor fills."""

_UID: Final = 1000
"""Who the extractor runs as in the sandbox: not root, so it never tries to give files their
owners from the image, nor to make device nodes."""
_SIGXFSZ: Final = 25
_STDERR_KEPT: Final = 300
_SCRIPT: Final = "commands"
_BANNER: Final = re.compile(r"debugfs [\w.~-]+ \(.*\)")
# What debugfs says when the sandbox's user may not give a file its owner from the image.
_CHOWN_REFUSED: Final = re.compile(r"dump_file: .* while changing ownership of .*")
"""The ``debugfs`` command file, written in the destination (ext images, see ``extfs``)."""
# An ``unsquashfs -lls`` line of a device node: "crw------- root/root 5,  1 date time name".
_DEVICE_LINE: Final = re.compile(rb"([cb])[-rwxsStT]{9} \S+ +\d+, *\d+ \S+ \S+ squashfs-root/(.+)")
_DEVICE_NAMES: Final = {b"c": "character device", b"b": "block device"}
# What unsquashfs says of the device nodes it may not create (they are recorded from the listing).
_MKNOD_REFUSED: Final = re.compile(
    r"create_inode: (could not|failed to) create (character|block) device "
)


@dataclass(frozen=True, slots=True)
class _Extractor:
    program: str
    """Executable looked up on the host's PATH (and /usr/sbin)."""
    package: str
    """Debian package that installs it."""
    argv: Callable[[str, str], list[str]]
    """Command line from (extractor path, image path); it writes ``OUTPUT`` in the cwd."""
    makes_output: bool
    """The tool creates ``OUTPUT`` itself (else it must exist)."""


_EXTRACTORS: Final = {
    ArchiveFormat.SQUASHFS: _Extractor(
        "unsquashfs",
        "squashfs-tools",
        lambda tool, image: [tool, "-n", "-no-xattrs", "-d", OUTPUT, image],
        makes_output=True,
    ),
    ArchiveFormat.EXT: _Extractor(
        "debugfs",
        "e2fsprogs",
        lambda tool, image: [tool, "-f", _SCRIPT, image],
        makes_output=False,
    ),
}

_MISSING: Final = {
    ArchiveFormat.JFFS2: "no JFFS2 extractor is wired in (jefferson, from PyPI, would be one)",
    ArchiveFormat.UBI: "no UBI extractor is wired in (ubi_reader, from PyPI, would be one)",
}


class ImageUnreadable(Unreadable):
    """The image is not unpacked; ``reason`` and ``detail`` make its ``Skipped`` record."""


@dataclass(frozen=True, slots=True)
class Unpacked:
    """Where an extractor wrote an image's tree, and what it reported."""

    root: Path
    """The extractor's output directory (it may be missing or partial)."""
    skipped: tuple[Skipped, ...]
    """Extractor errors and stops, recorded on the image."""
    errors: str = ""
    """The extractor's error lines when it failed: the files they name are not trusted."""
    links: int = 0
    """Hard links recorded from a listing (ext images)."""


def unpack(
    source: Path, fmt: ArchiveFormat, dest: Path, archive_path: str, budget: Budget
) -> Unpacked:
    """Run the extractor of ``fmt`` on ``source`` in the sandbox, into ``dest / OUTPUT``.

    Raises ``ImageUnreadable`` when nothing is extracted: no extractor, no sandbox, a listing
    that fails or does not fit the caps.
    """
    extractor = _extractor(fmt)
    tool = _which(extractor.program)
    if tool is None:
        detail = f"{fmt}: {extractor.program} not found (install {extractor.package})"
        raise ImageUnreadable("image-unsupported", detail)
    problem = _sandbox_problem()
    if problem is not None:
        raise ImageUnreadable("sandbox-unavailable", f"{fmt} image not unpacked: {problem}")
    image = source.resolve()
    prefix = f"{archive_path}!/" if archive_path else ""
    devices: tuple[Skipped, ...] = ()
    tree: extfs.Listing | None = None
    if fmt is ArchiveFormat.SQUASHFS:
        listing = _check_listing(tool, image, dest, budget)
        devices = _devices(listing, prefix)
    if fmt is ArchiveFormat.EXT:
        tree = _ext_listing(tool, image, dest, budget, prefix)
        (dest / _SCRIPT).write_text(extfs.dump_script(tree))
        (dest / extfs.BLOBS).mkdir()
    elif not extractor.makes_output:
        (dest / OUTPUT).mkdir()
    allowed = _bytes_allowed(budget, image.stat().st_size)
    argv = ["prlimit", f"--fsize={allowed}", "--", *extractor.argv(tool, str(image))]
    result = _run(argv, image, dest, budget)
    if tree is not None:
        (dest / _SCRIPT).unlink()
    stop = _stopped(result, extractor.program, allowed)
    if stop is not None:
        _remove(dest / OUTPUT)
        _remove(dest / extfs.BLOBS)
        raise ImageUnreadable(*stop)
    failed = _errors_record(result, extractor.program, archive_path)
    if tree is not None and not failed and _debugfs_errors(result):
        detail = f"debugfs: {'; '.join(_debugfs_errors(result))[:_STDERR_KEPT]}"
        failed = (Skipped(archive_path, "ingest", "image-errors", detail),)
    if tree is not None:
        cut = extfs.place(tree, dest, dest / OUTPUT, prefix)
        _remove(dest / extfs.BLOBS)
        return Unpacked(dest / OUTPUT, (*tree.skipped, *failed, *cut), links=tree.links)
    errors = "\n".join(_errors(result)) if failed else ""
    return Unpacked(dest / OUTPUT, (*devices, *failed), errors)


def _extractor(fmt: ArchiveFormat) -> _Extractor:
    if fmt in _MISSING:
        raise ImageUnreadable("image-unsupported", f"{fmt}: {_MISSING[fmt]}")
    if fmt not in _EXTRACTORS:
        raise ImageUnreadable("image-unsupported", f"{fmt} is not a file-system image")
    return _EXTRACTORS[fmt]


def _which(program: str) -> str | None:
    return shutil.which(program) or shutil.which(program, path="/usr/sbin:/sbin")


@functools.cache
def _sandbox_problem() -> str | None:
    """Why the sandbox cannot run here (checked once per process), or ``None``."""
    return sandbox.available()


def _run(
    argv: Sequence[str],
    image: Path,
    dest: Path,
    budget: Budget,
    stdout_cap: int = sandbox.OUTPUT_CAP,
) -> sandbox.SandboxResult:
    return sandbox.run(
        argv,
        cwd=dest,
        writable=[dest],
        readable=[image],
        timeout=budget.limits.extract_timeout,
        uid=_UID,
        stdout_cap=stdout_cap,
    )


def _bytes_allowed(budget: Budget, compressed: int) -> int:
    """Bytes this image may still expand to: the total left, and its own ratio cap."""
    limits = budget.limits
    by_ratio = max(RATIO_FLOOR, int(limits.max_ratio * compressed))
    return max(1, min(limits.max_total_bytes - budget.total_bytes, by_ratio))


def _check_listing(tool: str, image: Path, dest: Path, budget: Budget) -> bytes:
    """List a squashfs image (nothing written); refuse it if it cannot fit the caps."""
    listed = _run([tool, "-lls", "-n", str(image)], image, dest, budget, LISTING_CAP + 1)
    if listed.timed_out:
        raise ImageUnreadable("image-timeout", f"unsquashfs -lls: {_why(listed)}; not unpacked")
    if listed.returncode != 0:
        raise ImageUnreadable("image-rejected", f"unsquashfs -lls: {_why(listed)}")
    if len(listed.stdout) > LISTING_CAP:  # the totals of a cut listing would fall short
        detail = f"listing longer than {LISTING_CAP} bytes (more entries than assay reads)"
        raise ImageUnreadable("bomb-file-count", f"{detail}; not unpacked")
    entries, size = _listing_totals(listed.stdout)
    _check_totals(entries, size, image, budget)
    return listed.stdout


def _ext_listing(tool: str, image: Path, dest: Path, budget: Budget, prefix: str) -> extfs.Listing:
    """List an ext image whole, level by level (nothing written); refuse it if it cannot fit."""

    def run(script: str) -> bytes:
        (dest / _SCRIPT).write_text(script)
        try:
            argv = [tool, "-f", _SCRIPT, str(image)]
            listed = _run(argv, image, dest, budget, LISTING_CAP + 1)
        finally:
            (dest / _SCRIPT).unlink()
        if listed.timed_out:
            raise ImageUnreadable("image-timeout", f"debugfs ls: {_why(listed)}; not unpacked")
        if listed.returncode != 0:
            raise ImageUnreadable("image-rejected", f"debugfs ls: {_why(listed)}")
        if len(listed.stdout) > LISTING_CAP:
            detail = f"a level's listing is longer than {LISTING_CAP} bytes"
            raise ImageUnreadable("bomb-file-count", f"{detail}; not unpacked")
        problems.extend(_debugfs_errors(listed))
        return listed.stdout

    problems: list[str] = []
    tree = extfs.list_tree(run, prefix)
    if problems and not tree.names:  # debugfs could not open the image or read its root
        raise ImageUnreadable("image-rejected", "; ".join(problems)[:_STDERR_KEPT])
    _check_totals(tree.names, tree.size, image, budget)
    if problems:
        detail = f"debugfs ls: {'; '.join(dict.fromkeys(problems))[:_STDERR_KEPT]}"
        record = Skipped(prefix.removesuffix("!/"), "ingest", "image-errors", detail)
        return dataclasses.replace(tree, skipped=(*tree.skipped, record))
    return tree


def _debugfs_errors(result: sandbox.SandboxResult) -> list[str]:
    """``debugfs`` error lines (it exits 0 after failed commands), less its version banner."""
    lines = _errors(result)
    return [
        line for line in lines if not _BANNER.fullmatch(line) and not _CHOWN_REFUSED.match(line)
    ]


def _check_totals(entries: int, size: int, image: Path, budget: Budget) -> None:
    """Refuse an image whose listed entries or bytes do not fit the caps."""
    limits = budget.limits
    if budget.members + entries > limits.max_files:
        detail = f"{entries} entries listed, {budget.members} before > cap {limits.max_files}"
        raise ImageUnreadable("bomb-file-count", f"{detail}; not unpacked")
    if budget.total_bytes + size > limits.max_total_bytes:
        detail = f"{size} bytes listed, {budget.total_bytes} before > cap {limits.max_total_bytes}"
        raise ImageUnreadable("bomb-total-size", f"{detail}; not unpacked")
    compressed = image.stat().st_size
    if size > max(RATIO_FLOOR, limits.max_ratio * compressed):
        ratio = size / max(compressed, 1)
        detail = f"{size} bytes listed from {compressed}: ratio {ratio:.0f}"
        raise ImageUnreadable("bomb-ratio", f"{detail} > cap {limits.max_ratio:g}; not unpacked")


LISTING_CAP: Final = 128 << 20
"""Bytes of an ``unsquashfs -lls`` listing read whole: a million entries of 128 bytes."""


def _devices(listing: bytes, prefix: str) -> tuple[Skipped, ...]:
    """Device nodes of a listing, which the sandbox may not create: recorded from the listing."""
    found = (_DEVICE_LINE.fullmatch(line) for line in listing.splitlines())
    return tuple(
        Skipped(
            prefix + printable(os.fsdecode(m[2])), "ingest", "special-file", _DEVICE_NAMES[m[1]]
        )
        for m in found
        if m is not None
    )


def _listing_totals(listing: bytes) -> tuple[int, int]:
    """(entries, bytes of regular files) of an ``unsquashfs -lls`` listing.

    A line is ``mode owner size date time name``; a name holding a newline can only add lines,
    so the totals never fall below the truth.
    """
    entries = size = 0
    for line in listing.splitlines():
        fields = line.split(None, 3)
        if len(fields) < 3 or len(fields[0]) != 10:
            continue
        entries += 1
        if fields[0].startswith(b"-") and fields[2].isdigit():
            size += int(fields[2])
    return max(entries - 1, 0), size  # the root directory is not an entry


def _stopped(result: sandbox.SandboxResult, program: str, allowed: int) -> tuple[str, str] | None:
    """Reason and detail when the extractor was stopped (its last file is then cut short)."""
    if result.timed_out:
        return "image-timeout", f"{program} stopped after {result.duration:.0f} s; nothing kept"
    if result.returncode in (-_SIGXFSZ, 128 + _SIGXFSZ):
        detail = f"{program} stopped: a file would exceed the {allowed} bytes the caps allow"
        return "bomb-total-size", f"{detail}; nothing kept"
    return None


def _errors_record(
    result: sandbox.SandboxResult, program: str, archive_path: str
) -> tuple[Skipped, ...]:
    """The record of an extractor that ended with errors (none for a clean exit)."""
    if result.returncode == 0 or (result.returncode == 2 and not _errors(result)):
        return ()
    detail = f"{program}: {_why(result)}; the files it wrote in full are kept"
    return (Skipped(archive_path, "ingest", "image-errors", detail),)


def _remove(root: Path) -> None:
    """Delete an extractor's output, whatever modes the image gave its directories."""
    for folder, _, _ in os.walk(root):
        os.chmod(folder, 0o700)
    shutil.rmtree(root, ignore_errors=True)


def _errors(result: sandbox.SandboxResult) -> list[str]:
    """The extractor's distinct error lines, less the device nodes it was not allowed to make."""
    lines = result.stderr.decode("utf-8", "backslashreplace").splitlines()
    kept = (line.strip() for line in lines if not _MKNOD_REFUSED.match(line))
    return list(dict.fromkeys(line for line in kept if line))


def _why(result: sandbox.SandboxResult) -> str:
    if result.timed_out:
        return f"timed out after {result.duration:.0f} s"
    return f"exit {result.returncode}: {'; '.join(_errors(result))[:_STDERR_KEPT]}"


def admit(
    files: Sequence[SourceFile],
    skipped: Sequence[Skipped],
    links: int,
    budget: Budget,
    unpacked: Unpacked,
    archive_path: str,
    compressed: int,
) -> Extracted:
    """Charge a walked image tree to the caps in path order; files past a cap are dropped,
    and so are files that the extractor's errors name (they may be cut short)."""
    kept: list[SourceFile] = []
    skipped = [*skipped, *unpacked.skipped]
    expanded = 0
    budget.members += len(skipped)
    prefix = f"{archive_path}!/" if archive_path else ""
    for file in sorted(files, key=lambda f: f.path):
        budget.members += 1
        if unpacked.errors and f"{OUTPUT}/{file.path[len(prefix) :]}" in unpacked.errors:
            detail = "named in the extractor's errors: its bytes may be incomplete"
            skipped.append(Skipped(file.path, "ingest", "image-errors", detail))
            continue
        budget.total_bytes += file.size
        expanded += file.size
        stop = _cap_hit(budget, expanded, compressed)
        if stop is not None:
            record = Skipped(archive_path, "ingest", stop[0], f"{stop[1]}, at {file.path!r}")
            return Extracted(tuple(kept), (*skipped, record), links + unpacked.links)
        kept.append(file)
    return Extracted(tuple(kept), tuple(skipped), links + unpacked.links)


def _cap_hit(budget: Budget, expanded: int, compressed: int) -> tuple[str, str] | None:
    limits = budget.limits
    if budget.members > limits.max_files:
        return "bomb-file-count", f"member {budget.members} of the input > cap {limits.max_files}"
    if budget.total_bytes > limits.max_total_bytes:
        detail = f"{budget.total_bytes} bytes expanded > cap {limits.max_total_bytes}"
        return "bomb-total-size", detail
    if expanded > max(RATIO_FLOOR, limits.max_ratio * compressed):
        ratio = expanded / max(compressed, 1)
        detail = f"{expanded} bytes from {compressed}: ratio {ratio:.0f} > cap {limits.max_ratio:g}"
        return "bomb-ratio", detail
    return None


bytes_allowed = _bytes_allowed
"""Public for ``carve``: the bytes an extractor may still write."""
sandbox_problem = _sandbox_problem
"""Public for ``carve``: why the sandbox cannot run here, or ``None``."""
stopped = _stopped
"""Public for ``carve``: the record of an extractor stopped at a cap."""
which = _which
"""Public for ``squashfs7z``: the path of an extractor program, or ``None``."""
check_totals = _check_totals
"""Public for ``squashfs7z``: refuse an image whose listed entries or bytes do not fit."""
run_extractor = _run
"""Public for ``squashfs7z``: run an extractor in the sandbox on an image."""
remove = _remove
"""Public for ``squashfs7z``: delete an extractor's output."""
