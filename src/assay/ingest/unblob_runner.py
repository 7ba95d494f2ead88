"""unblob's command line, with the pages of the dump it has read released as it goes.

Run by path, in the sandbox, instead of ``python -m unblob.cli`` (same arguments); it imports
only the standard library and unblob, so the sandbox needs nothing of assay but this file.

Why: unblob opens the file it carves as ``unblob.file_utils.File``, a read-only shared memory
map of the whole file (``mmap.mmap``). Every page of a map that is touched stays mapped, and
counted in the process's resident memory, until the map is closed, so unblob's memory grows
with the dump (measured: a 256 MiB dump of erased flash maps about 200 MiB more than a 64 MiB
one). The page cache is not the problem; the mapping is. unblob reads the map in these ways
(unblob 26.6, checked in its source):

- its search for image magics hands Hyperscan 64 KiB slices of the map in turn
  (``unblob.finder.stream_scan_chunks``): one pass over the whole file;
- a handler that finds a stream's end by searching (xz, bzip2, QNAP) hands Hyperscan the whole
  map from offset 0 (``unblob.file_utils.stream_scan``, imported by name into those handlers);
- handlers read headers and structures with ``File.read`` (also through ``dissect.cstruct``)
  and slices (``file[a:b]``); the test for padding and the carving of each region to its own
  file read it with ``File.read`` (``iterate_file``);
- handlers skip padding after an image with ``file_utils.read_until_past``, one byte per
  ``File.read`` (the JFFS2 handler, after an image in erased flash: one read per byte of it);
- rarely, ``File.find`` and ``memoryview`` slices inside a handler.

What it does: every read-only map of a file that unblob opens (``File.from_path`` with
``ACCESS_READ``) counts the bytes consumed through it: the slices handed to Hyperscan (the
whole-map search of a stream's end is done here in the same 64 KiB slices, with the same stream
scanner, so its matches are the same), what ``read`` returns and what a slice returns. After
every ``window`` bytes the whole map is released with ``madvise(MADV_DONTNEED)``. For a shared
read-only map of a file that only drops the page-table entries: the next access faults the page
in again from the page cache (or the file), with the same bytes, so unblob's results cannot
change, wherever the release falls (even while Hyperscan is inside a slice). ``read_until_past``
is replaced by one that reads 64 KiB at a time and leaves the same position and result (else
each of those one-byte reads would pay for the counting: measured, 870,000 reads and about 0.5 s
more CPU on the benchmark's 64 MiB dump). Pages touched by the ways not counted (``find``, a
handler's own ``memoryview``) are released at the next release, so they do not add up over the
dump either. Maps unblob makes from bytes (anonymous memory, whose contents ``MADV_DONTNEED``
would zero) or opens writable or copy-on-write are left alone. The hook is installed only on an
unblob whose version and structure it was checked against (``TESTED``); on any other it says why
on stderr and runs unblob unchanged (correct, but its memory grows with the dump again).

Its last line on stderr, at exit, says what it did: ``assay-unblob-runner: hooked unblob V,
released N times, peak RSS B bytes`` or ``assay-unblob-runner: not hooked: REASON; unblob ran
unchanged, peak RSS B bytes`` (``VmHWM``, the process's high-water mark); ``said`` reads it back.

Longer than 300 lines: the file must stand alone (the sandbox is given this file, not assay),
so the hooks, the checks that decide whether to install them and the command line live together.
"""

from __future__ import annotations

import atexit
import inspect
import mmap
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Final

TESTED: Final = ("26.",)
"""Version prefixes of unblob whose ``File`` and Hyperscan searches this hook was checked
against (26.6.4: ``file_utils.File``, ``finder.stream_scan_chunks``, ``file_utils.stream_scan``)."""
WINDOW: Final = 8 << 20
"""Bytes consumed through a map between two releases of it."""
SLICE: Final = 64 << 10
"""Bytes handed to Hyperscan at a time (unblob's ``DEFAULT_BUFSIZE``, ``shutil.COPY_BUFSIZE``)."""
PREFIX: Final = "assay-unblob-runner:"
"""How the runner's own lines on stderr start."""
WINDOW_OPTION: Final = "--assay-release-window"
"""Leading option (``--assay-release-window BYTES``): another window (tests release often)."""

_SCAN_ARGS: Final = ["scanner", "file", "context"]
"""The parameters of unblob's Hyperscan searches (``stream_scan`` takes the first two)."""
_PAST_ARGS: Final = ["file", "pattern"]
"""The parameters of ``unblob.file_utils.read_until_past``."""
_SAID: Final = re.compile(
    rf"{PREFIX} (?:hooked unblob \S+, released (?P<releases>\d+) times"
    r"|not hooked: (?P<reason>.*); unblob ran unchanged), peak RSS (?P<peak>\d+) bytes$"
)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the runner said it did (its line on stderr, read back by ``said``)."""

    hooked: bool
    """The hook was installed."""
    releases: int
    """Times a map was released (0 when not hooked)."""
    peak_rss: int
    """The unblob process's peak resident memory in bytes (0: unreadable)."""
    reason: str = ""
    """Why it was not installed (not hooked)."""


def said(stderr: str) -> Outcome | None:
    """The runner's last line in ``stderr``, read back; ``None`` when it wrote none (it was
    killed, or it is not what ran)."""
    for line in reversed(stderr.splitlines()):
        found = _SAID.search(line)  # not at the start: rich ends its progress bar without a newline
        if found is None:
            continue
        if found["reason"] is None:
            return Outcome(True, int(found["releases"]), int(found["peak"]))
        return Outcome(False, 0, int(found["peak"]), found["reason"])
    return None


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
    """Hook unblob (of ``version``, its handlers imported) to release its read-only maps;
    why not, or ``None``. Nothing is changed when a check fails."""
    if not version.startswith(TESTED):
        return f"unblob {version} is not a version this hook was checked against {TESTED}"
    if not hasattr(mmap, "MADV_DONTNEED"):
        return "this platform has no madvise(MADV_DONTNEED)"
    try:
        from pyperscan import Scan
        from unblob import file_utils, finder
    except ImportError as exc:
        return f"unblob's modules moved: {exc}"
    file_class = getattr(file_utils, "File", None)
    if not (isinstance(file_class, type) and issubclass(file_class, mmap.mmap)):
        return "unblob.file_utils.File is no longer a memory map"
    problem = _changed(file_class, finder, file_utils)
    if problem is not None:
        return problem
    if getattr(file_utils, "DEFAULT_BUFSIZE", None) != SLICE:
        return f"unblob.file_utils.DEFAULT_BUFSIZE is no longer {SLICE}"
    _hook_file(file_class, window)
    _hook_scans(finder, file_utils, Scan.Terminate, window)
    _replace(file_utils, "read_until_past", _read_until_past)
    return None


def _changed(file_class: type, finder: Any, file_utils: Any) -> str | None:
    """What of unblob's structure the hook relies on is no longer there, or ``None``."""
    expected: list[tuple[str, Any, list[str] | None]] = [
        ("File.from_path", getattr(file_class, "from_path", None), ["path", "access"]),
        ("File.read", getattr(file_class, "read", None), None),
        ("File.__getitem__", getattr(file_class, "__getitem__", None), None),
        ("finder.stream_scan_chunks", getattr(finder, "stream_scan_chunks", None), _SCAN_ARGS),
        ("file_utils.stream_scan", getattr(file_utils, "stream_scan", None), _SCAN_ARGS[:2]),
        ("file_utils.read_until_past", getattr(file_utils, "read_until_past", None), _PAST_ARGS),
    ]
    for name, function, parameters in expected:
        if not callable(function):
            return f"unblob.{name} is gone"
        if parameters is not None and list(inspect.signature(function).parameters) != parameters:
            return f"unblob.{name} no longer takes ({', '.join(parameters)})"
    default = inspect.signature(file_class.from_path).parameters["access"].default  # type: ignore[attr-defined]
    if default != mmap.ACCESS_READ:
        return "unblob.file_utils.File.from_path no longer maps read-only by default"
    return None


def _hook_file(file_class: Any, window: int) -> None:
    opened: Callable[..., Any] = file_class.from_path.__func__
    read: Callable[..., bytes] = file_class.read
    item: Callable[..., Any] = file_class.__getitem__

    def from_path(cls: Any, path: Any, access: int = mmap.ACCESS_READ) -> Any:
        view = opened(cls, path, access)
        if access == mmap.ACCESS_READ:  # a shared read-only file map: pages come back as they were
            view._assay_pending = 0
        return view

    def counted_read(self: Any, *args: Any) -> bytes:
        data = read(self, *args)
        pending = self.__dict__.get("_assay_pending")  # _consumed inlined: a hot path
        if pending is not None:
            pending += len(data)
            if pending >= window and not self.closed:
                self.madvise(mmap.MADV_DONTNEED)
                _Counter.releases += 1
                pending = 0
            self._assay_pending = pending
        return data

    def counted_item(self: Any, key: Any) -> Any:
        data = item(self, key)
        _consumed(self, len(data) if isinstance(data, bytes) else 1, window)
        return data

    file_class.from_path = classmethod(from_path)
    file_class.read = counted_read
    file_class.__getitem__ = counted_item


def _hook_scans(finder: Any, file_utils: Any, terminate: Any, window: int) -> None:
    """Charge the slices of unblob's magic search; do the whole-map searches of handlers in
    the same slices (what ``StreamScanner.scan(data, chunk_size)`` does inside pyperscan:
    the slices in turn into the one stream, stopping at the first ``Terminate``)."""
    chunks: Callable[..., Any] = finder.stream_scan_chunks
    whole: Callable[..., Any] = file_utils.stream_scan

    def counted_chunks(scanner: Any, file: Any, context: Any) -> Any:
        return chunks(_Scanner(scanner, file, window), file, context)

    def sliced_scan(scanner: Any, file: Any) -> Any:
        if getattr(file, "_assay_pending", None) is None:  # not a map this hook releases
            return whole(scanner, file)
        with memoryview(file) as data:
            for start in range(0, len(data), SLICE):
                piece = data[start : start + SLICE]
                found = scanner.scan(piece)
                _consumed(file, len(piece), window)
                if found == terminate:
                    break
        return None

    finder.stream_scan_chunks = counted_chunks
    _replace(file_utils, "stream_scan", sliced_scan)


def _replace(file_utils: Any, name: str, new: Callable[..., Any]) -> None:
    """Replace ``file_utils.name`` in every module of unblob that holds it (the handlers
    import it by name)."""
    old = getattr(file_utils, name)
    for module_name, module in list(sys.modules.items()):
        unblobs = module_name == "unblob" or module_name.startswith("unblob.")
        if unblobs and getattr(module, name, None) is old:
            setattr(module, name, new)


def _read_until_past(file: Any, pattern: bytes) -> int:
    """``unblob.file_utils.read_until_past`` (the offset of the first byte from the file's
    position that is not one of ``pattern``'s, the position left just past it; at the end of
    the file, its size) read 64 KiB at a time instead of one byte: the JFFS2 handler skips
    erased flash after an image with it, hundreds of thousands of one-byte reads, each through
    the counting ``read`` above."""
    while True:
        data = file.read(SLICE)
        if not data:
            return int(file.tell())
        kept = len(data.lstrip(pattern))
        if kept:
            found = int(file.tell()) - kept
            file.seek(found + 1)
            return found


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


def _report(version: str, problem: str | None) -> None:
    """The runner's last line on stderr (see ``said``)."""
    if problem is None:
        did = f"hooked unblob {version}, released {_Counter.releases} times"
    else:
        did = f"not hooked: {problem}; unblob ran unchanged"
    print(f"{PREFIX} {did}, peak RSS {peak_rss()} bytes", file=sys.stderr)


def main() -> None:
    """Hook unblob if it is a version this was written for, then run its command line."""
    here = os.path.dirname(os.path.abspath(__file__))
    # run by path, the script's folder leads sys.path: its ``magic.py`` would hide libmagic's
    sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or ".") != here]
    args = sys.argv[1:]
    window = WINDOW
    if args[:1] == [WINDOW_OPTION]:
        window, args = int(args[1]), args[2:]
    try:
        version = metadata.version("unblob")
    except metadata.PackageNotFoundError:
        version = "(unknown)"
    from unblob import cli  # imports every handler, so the names they imported can be hooked

    atexit.register(_report, version, install(version, window))
    sys.argv = ["unblob", *args]
    cli.main()  # type: ignore[no-untyped-call]


if __name__ == "__main__":
    main()
