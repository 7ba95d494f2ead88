"""Copy the delivered source tree for a build without reading anything but regular files.

The copy is made on the host, outside the sandbox, so it must not open what the source holds
beyond its regular files: a device node would be read on the host (a block device's data
would reach the sandboxed build), a FIFO would block the copy or take a writer's data, a
socket cannot be copied. Each entry is classified from its directory entry (``lstat``
type, no open): directories are walked (iteratively, any depth), symbolic links are recreated
as links (never followed), regular files are copied, opened without following a link or
blocking and checked again on the open file; everything else is refused, left out of the
copy and listed as a ``Skipped`` record (stage ``rebuild``, reason ``special-file``).
``shutil.copytree`` is not used: it opens a character or block device like a file.
Modes and modification times are kept (builds compare times), directories' after their
contents are written.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

from assay.model import Skipped

STAGE = "rebuild"
"""The stage of the copy's skipped records."""
SPECIAL = "special-file"
"""The reason of an entry that is neither a directory, a regular file nor a link."""
_OPEN = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
_KINDS = (
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
)


def copy_tree(source: Path, target: Path, exclude: Path | None = None) -> tuple[Skipped, ...]:
    """Copy ``source`` to the new directory ``target``; ``exclude`` (a directory inside
    ``source``, the output directory) is left out. The entries refused, by path relative to
    ``source``."""
    refused: list[Skipped] = []
    left_out = os.path.realpath(exclude) if exclude is not None else None
    directories: list[tuple[str, os.stat_result]] = []
    stack = [(str(source), str(target), "")]
    while stack:
        src, dst, rel = stack.pop()
        os.mkdir(dst)
        directories.append((dst, os.lstat(src)))
        with os.scandir(src) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                path = f"{rel}{entry.name}"
                into = os.path.join(dst, entry.name)
                status = entry.stat(follow_symlinks=False)
                if stat.S_ISDIR(status.st_mode):
                    if left_out is None or os.path.realpath(entry.path) != left_out:
                        stack.append((entry.path, into, f"{path}/"))
                elif stat.S_ISLNK(status.st_mode):
                    os.symlink(os.readlink(entry.path), into)
                elif stat.S_ISREG(status.st_mode):
                    problem = _copy_file(entry.path, into)
                    if problem is not None:
                        refused.append(Skipped(path, STAGE, SPECIAL, problem))
                else:
                    refused.append(Skipped(path, STAGE, SPECIAL, _refusal(status.st_mode)))
    for dst, status in reversed(directories):
        os.chmod(dst, stat.S_IMODE(status.st_mode))
        os.utime(dst, ns=(status.st_atime_ns, status.st_mtime_ns))
    return tuple(refused)


def _copy_file(src: str, dst: str) -> str | None:
    """Copy one regular file with its mode and times; why not, when it is no longer one."""
    fd = os.open(src, _OPEN)
    with open(fd, "rb") as reader:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):  # replaced since it was listed
            return f"{_refusal(status.st_mode)} in place of a regular file: not read, not copied"
        with open(dst, "xb") as writer:
            shutil.copyfileobj(reader, writer)
    os.chmod(dst, stat.S_IMODE(status.st_mode))
    os.utime(dst, ns=(status.st_atime_ns, status.st_mtime_ns))
    return None


def _refusal(mode: int) -> str:
    """The detail of a refused entry: what it is."""
    kind = next((name for test, name in _KINDS if test(mode)), f"file type {stat.S_IFMT(mode):o}")
    return f"{kind}: not read, not copied (the copy is made on the host)"
