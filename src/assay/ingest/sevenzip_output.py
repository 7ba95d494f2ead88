"""What 7-Zip wrote for a squashfs image, reconciled with the image's listing (``squashfs7z``).

7-Zip writes what an image holds in its own way, so its output is repaired before the
directory walk sees it: a device node, fifo or socket becomes an empty file (removed here;
recorded as ``special-file`` from the listing); a link whose target leaves the output is not
made (an empty file stands in; the link is put back with the target 7-Zip reports); an absolute
link target is rewritten into the output directory (put back as the image holds it, so the walk
records where it really points); a name holding ``..`` is written under a cleaned name. These
repairs act only on listed names that stay below the output and whose directories are real
ones: nothing is ever removed or made through a link. Only files the listing names, at that
path and of that size, and not named in 7-Zip's errors, are kept; anything else it wrote is
deleted, and what was not recovered is counted in one ``image-errors`` record on the image
("partial: 1 of 2 files recovered, 15 of 10269 bytes").
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from assay import sandbox
from assay.ingest.classify import printable
from assay.ingest.images import OUTPUT
from assay.model import Skipped

PROGRAM: Final = "7zz"
_KEPT: Final = 300
_SPECIAL: Final = {"c": "character device", "b": "block device", "p": "fifo", "s": "socket"}
_ERROR: Final = re.compile(r"ERROR: (.*)")
_DANGEROUS: Final = re.compile(r"ERROR: Dangerous link path was ignored : (.*) : (.*)")


@dataclass(frozen=True, slots=True)
class Entry:
    """One entry of a ``7zz l -slt`` listing."""

    path: str
    """Its path in the image, as 7-Zip lists it (``/`` separated)."""
    mode: str
    """``ls``-style mode: its first letter is the type (``-``, ``d``, ``l``, ``c``…)."""
    size: int
    """Bytes of a regular file (0 otherwise)."""


def repair(
    entries: list[Entry], root: Path, result: sandbox.SandboxResult, archive_path: str
) -> tuple[Skipped, ...]:
    """Reconcile what 7zz wrote in ``root`` with ``entries``; the records of what was not."""
    lines = result.stderr.decode("utf-8", "backslashreplace").splitlines()
    prefix = f"{archive_path}!/" if archive_path else ""
    _open_up(root)
    skipped = _fix_links(entries, root, lines, prefix)
    for entry in entries:
        if entry.mode[:1] in _SPECIAL:
            disk = _place(entry.path, root)
            if disk is not None:
                _unlink(disk)  # the empty file 7-Zip writes for it
            name = _SPECIAL[entry.mode[0]]
            skipped.append(Skipped(prefix + printable(entry.path), "ingest", "special-file", name))
    return (*skipped, *_reconcile(entries, root, lines, result.returncode, archive_path))


def _fix_links(entries: list[Entry], root: Path, lines: list[str], prefix: str) -> list[Skipped]:
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
    entries: list[Entry], root: Path, lines: list[str], returncode: int | None, archive_path: str
) -> tuple[Skipped, ...]:
    """Keep only the listed files written whole at their own path, and the links put back;
    delete the rest. One record when anything was not recovered, saying how much was."""
    errors = [m[1] for m in map(_ERROR.fullmatch, lines) if m and not _DANGEROUS.fullmatch(m[0])]
    named = {error.rpartition(" : ")[2].removeprefix(f"{OUTPUT}/") for error in errors}
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
