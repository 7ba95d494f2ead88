"""The squashfs variants that ``unsquashfs`` does not read, unpacked with 7-Zip (``7zz``).

Which reader opens which squashfs (``reader``, from the superblock and the first bytes of the
first inode-table block; no squashfs parser is written here):

- version 4, little endian (every image mksquashfs 4 makes, any of its six compressors):
  ``unsquashfs`` (squashfs-tools), the reference reader and the only one here that reads lz4;
- versions 1 to 3, either byte order, zlib blocks (squashfs as the kernel had it until 2.6.29):
  ``unsquashfs`` as well, which reads them and swaps the byte order itself;
- versions 1 to 3 with LZMA blocks, either byte order: the vendor variants (a raw LZMA stream
  under the standard magic, or the ``shsq``/``qshs`` magic whose blocks carry an LZMA header):
  ``7zz`` (Debian package ``7zip``), whose SquashFS reader knows both; unsquashfs fails on
  their first block. unblob would run ``sasquatch``, which Debian does not package;
- version 4, big endian: none. 7-Zip's reader refuses it (it reads version 4 only in little
  endian) and sasquatch-v4be is not packaged, so it is a ``missing-tool`` record.

``7zz`` runs like the other extractors: inside ``assay.sandbox`` (no network, the image
read-only, only the fresh destination writable, the wall-clock cap), under ``RLIMIT_FSIZE`` at
the bytes the caps still allow, after a listing (``7zz l -slt``) whose entries and sizes are
checked against the caps before anything is written. What it wrote is then reconciled with the
listing before the directory walk sees it, because 7-Zip writes what an image holds in its own
way: a device node, fifo or socket becomes an empty file (removed here; recorded as
``special-file`` from the listing), a link whose target leaves the output is not made (an empty
file stands in; the link is recorded with the target 7-Zip reports), an absolute link target is
rewritten into the output directory (restored here, so the walk records where it really
points), and a name holding ``..`` is written under a cleaned name. These repairs act only on
listed names that stay below the output and whose directories are real ones: nothing is ever
removed or made through a link. Only files the listing names,
at that path and of that size, and not named in 7-Zip's errors, are kept; anything else it wrote
is deleted, and what was not recovered is counted in one ``image-errors`` record on the image
("partial: 1 of 2 files recovered, 15 of 10269 bytes").
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from assay import sandbox
from assay.ingest import images
from assay.ingest.archive import Budget
from assay.ingest.classify import printable
from assay.model import Skipped

PROGRAM: Final = "7zz"
PACKAGE: Final = "7zip"
_OUTPUT: Final = images.OUTPUT
_LISTING_CAP: Final = images.LISTING_CAP
_KEPT: Final = 300
_SPECIAL: Final = {"c": "character device", "b": "block device", "p": "fifo", "s": "socket"}
_ERROR: Final = re.compile(r"ERROR: (.*)")
_DANGEROUS: Final = re.compile(r"ERROR: Dangerous link path was ignored : (.*) : (.*)")
_MAGIC: Final[dict[bytes, Literal["little", "big"]]] = {
    b"hsqs": "little",
    b"sqsh": "big",
    b"shsq": "little",  # the squashfs-lzma magics: each block says whether it is LZMA or zlib
    b"qshs": "big",
}

Reader = Literal["unsquashfs", "7zz"]


def reader(image: Path) -> Reader:
    """Which program reads the squashfs ``image`` (see the module docstring).

    Raises ``ImageUnreadable`` (``missing-tool``) for a big-endian squashfs 4, which no
    packaged reader opens.
    """
    with image.open("rb") as stream:
        head = stream.read(0x77)
        order = _MAGIC.get(head[:4])
        major = int.from_bytes(head[28:30], order) if order else 0
        if major == 4 and order == "big":
            detail = (
                "big-endian squashfs 4: not unpacked; neither unsquashfs nor 7-Zip reads it, "
                "sasquatch-v4be (not packaged by Debian) would be needed"
            )
            raise images.ImageUnreadable("missing-tool", detail)
        if order is None or major >= 4 or len(head) < 0x77:
            return "unsquashfs"
        if head[:4] in (b"shsq", b"qshs"):
            return "7zz"
        at = 0x57 if major == 3 else 0x14  # inode table start: 64-bit in 3, 32-bit before
        table = int.from_bytes(head[at : at + (8 if major == 3 else 4)], order)
        stream.seek(table)
        block = stream.read(4)
    return "7zz" if _lzma_block(block, order) else "unsquashfs"


def _lzma_block(block: bytes, order: Literal["little", "big"]) -> bool:
    """Whether the first metadata block is compressed but not a zlib stream (RFC 1950 header:
    method 8, a window of at most 32 KiB, a check that divides by 31): it is LZMA."""
    if len(block) < 4 or int.from_bytes(block[:2], order) & 0x8000:
        return False  # cut short (unsquashfs will say so), or stored uncompressed
    cmf, flg = block[2], block[3]
    return not (cmf & 0x0F == 8 and cmf >> 4 <= 7 and (cmf << 8 | flg) % 31 == 0)


@dataclass(frozen=True, slots=True)
class _Entry:
    path: str
    mode: str
    size: int


def unpack(source: Path, dest: Path, archive_path: str, budget: Budget) -> images.Unpacked:
    """List, check and extract the squashfs ``source`` with 7zz into ``dest / OUTPUT``.

    Raises ``ImageUnreadable`` when nothing is extracted: 7zz missing, no sandbox, a listing
    that fails or does not fit the caps, a cap reached while writing (nothing kept).
    """
    tool = images.which(PROGRAM)
    if tool is None:
        detail = (
            f"squashfs with LZMA blocks (a vendor variant): {PROGRAM} not found "
            f"(install {PACKAGE}); unsquashfs does not read it"
        )
        raise images.ImageUnreadable("missing-tool", detail)
    problem = images.sandbox_problem()
    if problem is not None:
        raise images.ImageUnreadable("sandbox-unavailable", f"squashfs not unpacked: {problem}")
    image = source.resolve()
    entries = _listing(tool, image, dest, budget)
    files = [e for e in entries if e.mode.startswith("-")]
    images.check_totals(len(entries), sum(e.size for e in files), image, budget)
    allowed = images.bytes_allowed(budget, image.stat().st_size)
    argv = ["prlimit", f"--fsize={allowed}", "--", tool, "x", "-y", "-bd", "-bso0", "-bsp0"]
    argv += ["-tSquashFS", f"-o{_OUTPUT}", "--", str(image)]
    result = images.run_extractor(argv, image, dest, budget)
    stop = images.stopped(result, PROGRAM, allowed)
    if stop is not None:
        images.remove(dest / _OUTPUT)
        raise images.ImageUnreadable(*stop)
    lines = result.stderr.decode("utf-8", "backslashreplace").splitlines()
    prefix = f"{archive_path}!/" if archive_path else ""
    root = dest / _OUTPUT
    root.mkdir(exist_ok=True)
    _open_up(root)
    skipped = _fix_links(entries, root, lines, prefix)
    for entry in entries:
        if entry.mode[:1] in _SPECIAL:
            disk = _place(entry.path, root)
            if disk is not None:
                _unlink(disk)  # the empty file 7-Zip writes for it
            name = _SPECIAL[entry.mode[0]]
            skipped.append(Skipped(prefix + printable(entry.path), "ingest", "special-file", name))
    record = _reconcile(entries, root, lines, result.returncode, archive_path)
    return images.Unpacked(root, (*skipped, *record))


def _listing(tool: str, image: Path, dest: Path, budget: Budget) -> list[_Entry]:
    """The image's entries as ``7zz l -slt`` lists them (nothing written)."""
    argv = [tool, "l", "-slt", "-ba", "-tSquashFS", "--", str(image)]
    listed = images.run_extractor(argv, image, dest, budget, _LISTING_CAP + 1)
    if listed.timed_out:
        detail = f"{PROGRAM} l: stopped after {listed.duration:.0f} s; not unpacked"
        raise images.ImageUnreadable("image-timeout", detail)
    if listed.returncode != 0:
        raise images.ImageUnreadable("image-rejected", f"{PROGRAM} l: {_why(listed)}")
    if len(listed.stdout) > _LISTING_CAP:
        detail = f"listing longer than {_LISTING_CAP} bytes (more entries than assay reads)"
        raise images.ImageUnreadable("bomb-file-count", f"{detail}; not unpacked")
    return _entries(listed.stdout.decode("utf-8", "surrogateescape"))


def _entries(text: str) -> list[_Entry]:
    """Parse ``-slt`` blocks (``Path = …``, ``Size = …``, ``Mode = …``, one per entry).

    A name holding a newline can only add lines: entries and sizes never fall below the truth.
    """
    entries: list[_Entry] = []
    path: str | None = None
    size = 0
    for line in text.splitlines():
        key, _, value = line.partition(" = ")
        if key == "Path":
            path, size = value, 0
        elif key == "Size" and value.isdigit():
            size = int(value)
        elif key == "Mode" and path is not None:
            entries.append(_Entry(path, value, size))
            path = None
    return entries


def _fix_links(entries: list[_Entry], root: Path, lines: list[str], prefix: str) -> list[Skipped]:
    """Put back each link as the image holds it (a link is never followed, only recorded by
    the walk): 7-Zip rewrote absolute targets into the output and left an empty file for a
    target it judged dangerous. A link that cannot be put back is a record of its own."""
    refused = {m[1]: m[2] for m in map(_DANGEROUS.fullmatch, lines) if m}
    base = os.path.abspath(root)
    records: list[Skipped] = []
    for entry in entries:
        if not entry.mode.startswith("l"):
            continue
        path = prefix + printable(entry.path)
        disk = _place(entry.path, root)
        if disk is None:
            detail = "symbolic link whose name leaves the image or passes through a link"
            records.append(Skipped(path, "ingest", "archive-escape", detail))
            continue
        target = refused.get(entry.path)
        if target is None and disk.is_symlink():
            made = os.readlink(disk)
            target = "/" + made[len(base) :].lstrip("/") if _under(made, base) else made
        _unlink(disk)
        try:
            if target is None:
                raise FileNotFoundError("not written nor reported by 7zz")
            os.symlink(target, disk)
        except OSError as exc:  # a directory of the same name, or no target known
            detail = f"symbolic link not restored ({exc.strerror or exc}); target {target!r}"
            records.append(Skipped(path, "ingest", "link", detail))
    return records


def _place(rel: str, root: Path) -> Path | None:
    """Where the listed entry ``rel`` lies below ``root``, or ``None`` if its name climbs out
    or a directory on the way is not a real directory (a restored link is never followed)."""
    parts = rel.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return None
    folder = root
    for part in parts[:-1]:
        folder = folder / part
        try:
            if not stat.S_ISDIR(os.lstat(folder).st_mode):
                return None
        except OSError:
            return None
    return folder / parts[-1]


def _under(target: str, base: str) -> bool:
    return target == base or target.startswith(base + "/")


def _reconcile(
    entries: list[_Entry], root: Path, lines: list[str], returncode: int | None, archive_path: str
) -> tuple[Skipped, ...]:
    """Keep only the listed files written whole at their own path, and the links put back;
    delete the rest. One record when anything was not recovered, saying how much was."""
    errors = [m[1] for m in map(_ERROR.fullmatch, lines) if m and not _DANGEROUS.fullmatch(m[0])]
    named = {error.rpartition(" : ")[2].removeprefix(f"{_OUTPUT}/") for error in errors}
    expected = {e.path: e.size for e in entries if e.mode.startswith("-")}
    links = {e.path for e in entries if e.mode.startswith("l")}
    kept: set[str] = set()
    extra = 0
    for folder, folders, names in os.walk(root):  # never follows a link
        for name in [*names, *folders]:
            disk = os.path.join(folder, name)
            rel = os.path.relpath(disk, root)
            if os.path.islink(disk):
                if rel in links:
                    continue
            elif name in folders:
                continue
            elif rel in expected and rel not in named and os.path.getsize(disk) == expected[rel]:
                kept.add(rel)
                continue
            os.unlink(disk)  # cut short, named in an error, or written under a cleaned name
            extra += rel not in expected
    if len(kept) == len(expected) and not errors and not extra:
        return ()
    total = sum(expected.values())
    recovered = sum(expected[path] for path in kept)
    detail = (
        f"{PROGRAM}: exit {returncode}: {'; '.join(dict.fromkeys(errors))[:_KEPT]}; "
        f"partial: {len(kept)} of {len(expected)} files recovered, {recovered} of {total} bytes"
    )
    missing = sorted(set(expected) - kept)
    if missing:
        detail += f"; not recovered: {', '.join(printable(p) for p in missing[:5])}"
    if extra:
        detail += f"; {extra} files written under names the listing does not hold were deleted"
    return (Skipped(archive_path, "ingest", "image-errors", detail[:800]),)


def _open_up(root: Path) -> None:
    """Let the owner list every directory 7-Zip made (an image may give them no rights)."""
    for folder, folders, _ in os.walk(root):
        for name in folders:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                os.chmod(path, 0o700)


def _unlink(path: Path) -> None:
    """Remove what 7-Zip wrote at ``path`` (a placeholder file or link), never a directory."""
    try:
        if not stat.S_ISDIR(os.lstat(path).st_mode):
            path.unlink()
    except FileNotFoundError:
        pass


def _why(result: sandbox.SandboxResult) -> str:
    text = (result.stderr or result.stdout).decode("utf-8", "backslashreplace")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return f"exit {result.returncode}: {'; '.join(lines)[:_KEPT]}"
