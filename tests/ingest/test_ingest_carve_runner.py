"""unblob run through ``unblob_runner.py``: the dump's pages released as unblob reads them,
with the same regions and files as unblob run unchanged, a fallback that says why it did not
hook, and memory that does not grow with the dump."""

from __future__ import annotations

import bz2
import gzip
import logging
import lzma
import mmap
import random
import sys
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest
from firmware_build import flash, jffs2, romfs, sevenzip, squashfs, tree
from ingest_support import sandbox

from assay.ingest import ArchiveLimits, IngestResult, carve, unblob_runner

LIMITS = ArchiveLimits(max_total_bytes=256 << 20, max_files=10_000, max_depth=4)
SIZE = 16 << 20
"""The dump's size (the memory test also carves one four times larger)."""
PAGE_WINDOW = 4096
"""A release after every page read: releases fall inside every handler's reading."""
FAKE_VERSION = """
import runpy, sys
from importlib import metadata
real = metadata.version
metadata.version = lambda name: "0.0.1" if name == "unblob" else real(name)
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""
"""The runner, with unblob's version read as one it was not checked against."""


pytestmark = pytest.mark.usefixtures("need_sandbox")


def dump_parts(tmp: Path) -> list[tuple[int, bytes]]:
    """A boot loader's random bytes, four file-system images and three compressed streams
    (xz and bzip2: unblob finds their end by searching the whole map) at offsets."""
    for tag in ("sq", "jf", "ro", "sz"):
        tree(tmp / tag, tag)
    text = b"".join(b"line %d of a log\n" % i for i in range(20000))
    return [
        (0, random.Random(50).randbytes(0x8000)),
        (0x40000, squashfs(tmp / "sq", tmp / "sq.img").read_bytes()),
        (0x100000, jffs2(tmp / "jf", tmp / "jf.img").read_bytes()),
        (0x200000, romfs(tmp / "ro", tmp / "ro.img").read_bytes()),
        (0x300000, sevenzip(tmp / "sz", tmp / "sz.7z").read_bytes()),
        (0x500000, bz2.compress(text)),
        (0x900000, gzip.compress(text, mtime=0)),
        (0xC00000, lzma.compress(text, format=lzma.FORMAT_XZ)),
    ]


@pytest.fixture(scope="module")
def parts(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[int, bytes]]:
    return dump_parts(tmp_path_factory.mktemp("parts"))


Seen = tuple[set[tuple[str, str]], set[tuple[object, ...]], set[str]]
"""What an ingest found (``seen``)."""


@pytest.fixture(scope="module")
def unchanged(tmp_path_factory: pytest.TempPathFactory, parts: list[tuple[int, bytes]]) -> Seen:
    """What ingest finds in the 16 MiB dump with unblob run unchanged."""
    result, said = carve_with(tmp_path_factory.mktemp("plain"), flash(parts, SIZE), plain)
    assert said is None  # unblob itself says nothing of pages
    return seen(result)


def seen(result: IngestResult) -> Seen:
    """What an ingest found: (path, sha256) of every file, every container with its format,
    offset and size, and every skipped record (path, reason)."""
    files = {(f.path, f.sha256) for f in result.files}
    containers = {(c.path, c.format, c.offset, c.size) for c in result.containers}
    skipped = {f"{s.path} {s.reason}" for s in result.skipped}
    return files, containers, skipped


class _Lines(logging.Handler):
    """The messages logged while it is attached."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def carve_with(
    tmp: Path, dump: bytes, command: Callable[[], list[str]]
) -> tuple[IngestResult, unblob_runner.Outcome | None]:
    """Ingest ``dump`` (as ``fw.bin``) with unblob started by ``command``; the result and what
    the runner said about the dump itself (read back from carve's log)."""
    tmp.mkdir(parents=True, exist_ok=True)
    box = sandbox(tmp)
    (box.inputs / "fw.bin").write_bytes(dump)
    logger, lines = logging.getLogger("assay"), _Lines()
    level = logger.level
    logger.addHandler(lines)
    logger.setLevel(logging.DEBUG)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(carve, "unblob_command", command)
            result = box.ingest(box.inputs / "fw.bin", LIMITS)
    finally:
        logger.removeHandler(lines)
        logger.setLevel(level)
    said = [m for m in lines.messages if m.startswith("unblob on fw.bin")]
    assert len(said) <= 1
    return result, _outcome(said[0]) if said else None


def _outcome(message: str) -> unblob_runner.Outcome:
    """The runner's outcome, from carve's log line about it."""
    peak = int(message.rsplit("peak RSS ", 1)[1].split()[0])
    if "pages released" in message:
        releases = int(message.split("pages released ", 1)[1].split()[0])
        return unblob_runner.Outcome(True, releases, peak)
    return unblob_runner.Outcome(False, 0, peak, message.split(": ", 1)[1])


def plain() -> list[str]:
    """unblob's own command line, unchanged."""
    return [sys.executable, "-m", "unblob.cli"]


def hooked(window: int) -> Callable[[], list[str]]:
    return lambda: [*carve._default_command(), unblob_runner.WINDOW_OPTION, str(window)]


def fallback() -> list[str]:
    """The runner, told unblob is a version it does not know."""
    return [sys.executable, "-P", "-c", FAKE_VERSION, str(carve.RUNNER)]


def test_released_pages_change_nothing_on_a_multi_image_dump(
    tmp_path: Path, parts: list[tuple[int, bytes]], unchanged: Seen
) -> None:
    dump = flash(parts, SIZE)
    released, said = carve_with(tmp_path, dump, hooked(PAGE_WINDOW))
    assert said is not None and said.hooked
    # the search for magics alone hands every byte of the dump to Hyperscan through the hook,
    # a slice at a time: a release after each slice at least
    assert said.releases >= len(dump) // unblob_runner.SLICE
    assert seen(released) == unchanged
    # and the dump was carved: each image and stream found at its offset
    found = {c.offset: c.format for c in released.containers if c.parent == "" and c.offset}
    assert {offset: found.get(offset) for offset, _ in parts[1:]} == {
        0x40000: "squashfs",
        0x100000: "jffs2",
        0x200000: "romfs",
        0x300000: "7z",
        0x500000: "bzip2",
        0x900000: "gzip",
        0xC00000: "xz",
    }


def test_an_unknown_unblob_runs_unhooked_says_why_and_still_carves(
    tmp_path: Path,
    parts: list[tuple[int, bytes]],
    unchanged: Seen,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="assay"):
        result, said = carve_with(tmp_path, flash(parts, SIZE), fallback)
    assert said is not None and not said.hooked
    assert "unblob 0.0.1 is not a version this hook was checked against" in said.reason
    assert [r for r in caplog.records if r.levelno == logging.WARNING and "0.0.1" in r.message]
    assert seen(result) == unchanged


def test_unblob_memory_does_not_grow_with_the_dump(
    tmp_path: Path, parts: list[tuple[int, bytes]]
) -> None:
    small, large = SIZE, 4 * SIZE
    peaks = {}
    for name, command in (("hooked", carve._default_command), ("unhooked", fallback)):
        for size in (small, large):
            _, said = carve_with(tmp_path / f"{name}{size}", flash(parts, size), command)
            assert said is not None and said.hooked == (name == "hooked") and said.peak_rss
            peaks[name, size] = said.peak_rss
    # unchanged, unblob keeps each page of the dump it read mapped: its peak grows with the
    # dump; released every 8 MiB read (the default window), it stays within a window or so
    assert peaks["unhooked", large] - peaks["unhooked", small] > (large - small) // 2
    assert peaks["hooked", large] - peaks["hooked", small] < unblob_runner.WINDOW


def test_the_runners_line_is_read_back_from_stderr() -> None:
    noise = "\x1b[?25h│ Severity.ERROR │ ExtractorDependencyNotFoundReport │\n"
    hooked = "assay-unblob-runner: hooked unblob 26.6.4, released 31 times, peak RSS 1234 bytes"
    assert unblob_runner.said(noise + "\x1b[?25h" + hooked + "\n") == unblob_runner.Outcome(
        True, 31, 1234
    )
    unknown = (
        "assay-unblob-runner: not hooked: unblob 27.1 is not a version this hook was checked "
        "against ('26.',); unblob ran unchanged, peak RSS 99 bytes"
    )
    assert unblob_runner.said(hooked + "\n" + unknown) == unblob_runner.Outcome(
        False, 0, 99, "unblob 27.1 is not a version this hook was checked against ('26.',)"
    )
    assert unblob_runner.said(noise) is None
    assert unblob_runner.said(hooked.replace("31 times", "many times")) is None
    assert unblob_runner.said(hooked.replace("runner:", "runner; ")) is None


def test_carve_logs_what_the_runner_said(caplog: pytest.LogCaptureFixture) -> None:
    image = Path("/in/fw.bin")
    with caplog.at_level(logging.DEBUG, logger="assay"):
        carve._log_runner(
            b"assay-unblob-runner: hooked unblob 26.6.4, released 3 times, peak RSS 7 bytes\n",
            image,
        )
        carve._log_runner(
            b"assay-unblob-runner: not hooked: the reason; unblob ran unchanged, peak RSS 8 "
            b"bytes\n",
            image,
        )
        carve._log_runner(b"\xff\xfe not the runner\n", image)
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.DEBUG, "unblob on fw.bin: pages released 3 times, peak RSS 7 bytes"),
        (
            logging.WARNING,
            "unblob on fw.bin ran unhooked, every page of the file it reads staying mapped "
            "(its memory grows with the file): the reason; peak RSS 8 bytes",
        ),
    ]


def test_the_hook_is_not_installed_on_a_version_it_does_not_know() -> None:
    problem = unblob_runner.install("25.1.0")
    assert problem is not None and "unblob 25.1.0 is not a version" in problem


@pytest.mark.parametrize(
    ("data", "start", "pattern"),
    [
        (b"\xff" * 200_000 + b"\x85\x19" + b"\xff" * 10, 0, b"\x00\xff"),  # JFFS2 in erased flash
        (b"\x00\xff" * 70_000 + b"hsqs", 3, b"\x00\xff"),
        (b"\x00" * 131_072, 5, b"\x00"),  # padding to the end of the file
        (b"\x00" * 65_536 + b"\x01", 0, b"\x00"),  # the first other byte just past a slice
        (b"abc", 1, b"\x00"),  # not padding at all
        (b"\xff\xff", 2, b"\xff"),  # already at the end
    ],
)
def test_read_until_past_reads_in_slices_with_unblobs_result_and_position(
    data: bytes, start: int, pattern: bytes
) -> None:
    from unblob.file_utils import File, OffsetFile, read_until_past

    shift = min(start, 1)  # the same place, also read through an OffsetFile (as handlers do)
    for wrap in (lambda f: f, lambda f: OffsetFile(f, shift)):
        results = []
        for reader in (read_until_past, unblob_runner._read_until_past):
            file = wrap(File.from_bytes(data))
            file.seek(start - (shift if isinstance(file, OffsetFile) else 0))
            results.append((reader(file, pattern), file.tell()))
        assert results[0] == results[1]


def test_the_hook_checks_the_unblob_structure_it_relies_on() -> None:
    from unblob import file_utils, finder

    assert unblob_runner._changed(file_utils.File, finder, file_utils) is None

    def scan_with_more(scanner: object, file: object, context: object, extra: object) -> None:
        """A search that takes another parameter."""

    moved = SimpleNamespace(stream_scan_chunks=scan_with_more)
    assert unblob_runner._changed(file_utils.File, moved, file_utils) == (
        "unblob.finder.stream_scan_chunks no longer takes (scanner, file, context)"
    )
    gone = SimpleNamespace(stream_scan=file_utils.stream_scan)  # no read_until_past
    assert unblob_runner._changed(file_utils.File, finder, gone) == (
        "unblob.file_utils.read_until_past is gone"
    )

    class Writable(file_utils.File):
        @classmethod
        def from_path(cls, path: Path, access: int = mmap.ACCESS_WRITE) -> file_utils.File:
            raise AssertionError("never opened")

    assert unblob_runner._changed(Writable, finder, file_utils) == (
        "unblob.file_utils.File.from_path no longer maps read-only by default"
    )
