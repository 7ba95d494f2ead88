"""unblob's command line, with the pages of the dump it has read released as it goes.

Run by path, in the sandbox, instead of ``python -m unblob.cli`` (same arguments); it imports
only the standard library and unblob, so the sandbox needs nothing of assay but this file.

Why: unblob opens the file it carves as ``unblob.file_utils.File``, a read-only shared
memory map of the whole file. Its Hyperscan search walks that map in 64 KiB slices
(``unblob.finder.stream_scan_chunks``), handlers read headers and streams from it
(``File.read``), and the padding test and the carving of every chunk to its own file read it
again (``iterate_file`` over ``File.read``). Every page touched stays mapped until the map is
closed, so the resident memory of the unblob process grows with the dump (a 256 MiB dump of
erased flash: about 200 MiB more than a 64 MiB one). The page cache is not the problem; the
mapping is.

What it does: each read-only file map unblob opens counts the bytes consumed through it (the
slices handed to Hyperscan, the bytes ``read`` returns); after every ``window`` bytes the whole
map is released with ``madvise(MADV_DONTNEED)``. For a read-only map of a file that only drops
the page table entries: the next access faults the page in again from the page cache (or the
file), with the same bytes, so unblob's results cannot change. Maps unblob makes from bytes
(anonymous memory, whose contents ``MADV_DONTNEED`` would zero) or opens writable are left
alone. The hook is installed only on an unblob whose version and structure it was written
against (``TESTED``); on any other it says why on stderr and runs unblob unchanged.

Its last line on stderr says what it did: ``assay-unblob-runner: hooked unblob V, released N
times, peak RSS B bytes`` (``VmHWM``, the process's high-water mark), or ``... not hooked:
REASON``.
"""

from __future__ import annotations

import atexit
import inspect
import mmap
import os
import sys
from collections.abc import Callable
from importlib import metadata
from typing import Any, Final

TESTED: Final = ("26.",)
"""Version prefixes of unblob whose ``File`` and Hyperscan search this hook was checked against."""
WINDOW: Final = 8 << 20
"""Bytes consumed through a map between two releases of it."""
PREFIX: Final = "assay-unblob-runner:"
"""How the runner's own lines on stderr start."""
_WINDOW_OPTION: Final = "--assay-release-window"
"""Leading option (``--assay-release-window BYTES``): another window (tests release often)."""


class _Counter:
    """Releases done, over every map (read once at exit)."""

    releases = 0


def _consumed(view: Any, size: int, window: int) -> None:
    """Charge ``size`` bytes read from the map ``view``; release the map past ``window``."""
    pending = getattr(view, "_assay_pending", None)
    if pending is None:  # not a map this hook releases
        return
    pending += size
    if pending >= window and not view.closed:
        view.madvise(mmap.MADV_DONTNEED)
        _Counter.releases += 1
        pending = 0
    view._assay_pending = pending


class _Scanner:
    """Hyperscan's stream scanner, charging each slice it scans to the map it comes from."""

    def __init__(self, scanner: Any, view: Any, window: int) -> None:
        self._scanner, self._view, self._window = scanner, view, window

    def scan(self, data: Any) -> Any:
        found = self._scanner.scan(data)
        _consumed(self._view, len(data), self._window)
        return found

    def __getattr__(self, name: str) -> Any:  # reset() and whatever else unblob calls
        return getattr(self._scanner, name)


def install(version: str, window: int = WINDOW) -> str | None:
    """Hook unblob (of ``version``) to release its read-only maps; why not, or ``None``."""
    if not version.startswith(TESTED):
        return f"unblob {version} is not a version this hook was checked against ({TESTED})"
    try:
        from unblob import file_utils, finder
    except ImportError as exc:
        return f"unblob's modules moved: {exc}"
    file_class = getattr(file_utils, "File", None)
    scan = getattr(finder, "stream_scan_chunks", None)
    if not (isinstance(file_class, type) and issubclass(file_class, mmap.mmap)):
        return "unblob.file_utils.File is no longer a memory map"
    if scan is None or list(inspect.signature(scan).parameters)[:2] != ["scanner", "file"]:
        return "unblob.finder.stream_scan_chunks(scanner, file, ...) is gone"
    if not hasattr(mmap, "MADV_DONTNEED"):
        return "this platform has no madvise(MADV_DONTNEED)"
    _hook_file(file_class, window)
    _hook_scan(finder, scan, window)
    return None


def _hook_file(file_class: Any, window: int) -> None:
    opened: Callable[..., Any] = file_class.from_path.__func__
    read: Callable[..., bytes] = file_class.read

    def from_path(cls: Any, path: Any, access: int = mmap.ACCESS_READ) -> Any:
        view = opened(cls, path, access)
        if access == mmap.ACCESS_READ:  # a shared read-only file map: pages come back as they were
            view._assay_pending = 0
        return view

    def counted_read(self: Any, *args: Any) -> bytes:
        data = read(self, *args)
        _consumed(self, len(data), window)
        return data

    file_class.from_path = classmethod(from_path)
    file_class.read = counted_read


def _hook_scan(finder: Any, scan: Callable[..., Any], window: int) -> None:
    def counted_scan(scanner: Any, file: Any, *args: Any, **kwargs: Any) -> Any:
        return scan(_Scanner(scanner, file, window), file, *args, **kwargs)

    finder.stream_scan_chunks = counted_scan


def peak_rss() -> int:
    """This process's peak resident memory (``VmHWM``), in bytes; 0 where it cannot be read."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) << 10
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _report(version: str) -> None:
    print(
        f"{PREFIX} hooked unblob {version}, released {_Counter.releases} times, "
        f"peak RSS {peak_rss()} bytes",
        file=sys.stderr,
    )


def main() -> None:
    """Hook unblob if it is a version this was written for, then run its command line."""
    here = os.path.dirname(os.path.abspath(__file__))
    # run by path, the script's folder leads sys.path: its ``magic.py`` would hide libmagic's
    sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or ".") != here]
    args = sys.argv[1:]
    window = WINDOW
    if args[:1] == [_WINDOW_OPTION]:
        window, args = int(args[1]), args[2:]
    try:
        version = metadata.version("unblob")
    except metadata.PackageNotFoundError:
        version = "(unknown)"
    problem = install(version, window)
    if problem is None:
        atexit.register(_report, version)
    else:
        print(f"{PREFIX} not hooked: {problem}; unblob runs unchanged", file=sys.stderr)
    from unblob import cli

    sys.argv = ["unblob", *args]
    cli.main()


if __name__ == "__main__":
    main()
