"""The fuzzing harness: real seed inputs, byte-level mutations drawn by hypothesis, and one
target per reader (ingest of archives and images, the ELF reader, the per-file analyzers), each
checking the same invariant: no exception escapes but the documented ones, and what comes out
is bounded.

Used by ``tests/fuzz/test_fuzz.py`` (a short, derandomized budget in CI) and by
``bench/fuzz.py`` (``--examples N`` for longer runs). The seeds are built here from the machine's
own tools and files (``tar``, ``cpio``, ``zip``, ``gzip``, ``xz``, ``bzip2``, ``mkfs.cramfs``,
``mksquashfs``, ``mke2fs``; ``/bin/true`` and a compiled object; the example's C sources), so
every mutation starts from bytes a real tool wrote.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from hypothesis import strategies as st

import assay
from assay import analyze
from assay.analyze.interface import AnalyzerFailure, Content, FileAnalyzer, FileResult
from assay.errors import IngestError
from assay.formats import elf
from assay.ingest import ArchiveLimits, IngestResult, ingest
from assay.ingest.interface import SourceFile
from assay.model import SOURCE_KINDS, FileKind
from assay.parse import parse

LIMITS: Final = ArchiveLimits(
    max_total_bytes=8 << 20, max_ratio=100.0, max_files=500, max_depth=3, extract_timeout=30
)
"""Caps of every fuzzed ingest: small, so that a bomb found by mutation is cheap to stop."""
EXAMPLE: Final = Path(assay.__file__).parent / "examples" / "router"
C_SOURCE: Final = b"""\
#include <string.h>
#include <stdio.h>
#define N 16
static int table[N];
int copy(char *dst, const char *src, int n) {
    char buf[32];
    if (n > N) { return -1; }
    strcpy(buf, src);            /* unsafe call */
    sprintf(dst, "%s:%d", buf, n);
    for (int i = 0; i < n; i++) { table[i] = i * 2; }
    return table[n - 1];
}
const char *password = "hunter2";
"""
"""A small C file with an unsafe call, a loop and a hard-coded secret: analyzers find things."""


@dataclass(frozen=True, slots=True)
class Seeds:
    """Real inputs to mutate, by what reads them."""

    archives: tuple[tuple[str, bytes], ...]
    """(file name, bytes) of archives and compressed streams."""
    images: tuple[tuple[str, bytes], ...]
    """(file name, bytes) of file-system images."""
    elves: tuple[bytes, ...]
    """ELF images: an executable and a relocatable object from the machine's compiler."""
    sources: tuple[tuple[str, bytes, FileKind], ...]
    """(name, bytes, kind) for the analyzers."""


_KEPT: list[tuple[tempfile.TemporaryDirectory[str], Seeds]] = []


def seeds() -> Seeds:
    """The seed corpus, built once per process in a temporary folder removed at exit."""
    if not _KEPT:
        folder = tempfile.TemporaryDirectory(prefix="assay-fuzz-seeds-")
        _KEPT.append((folder, build_seeds(Path(folder.name))))
    return _KEPT[0][1]


def build_seeds(folder: Path) -> Seeds:
    """Build the seed corpus in ``folder`` with the real tools (each must be installed)."""
    tree = folder / "tree"
    (tree / "src").mkdir(parents=True)
    (tree / "src/copy.c").write_bytes(C_SOURCE)
    (tree / "README").write_bytes(b"firmware notes\n")
    os.symlink("src/copy.c", tree / "link.c")
    obj = folder / "copy.o"
    _run("gcc", "-c", "-O1", "-o", str(obj), str(tree / "src/copy.c"))
    (tree / "src/copy.o").write_bytes(obj.read_bytes())
    names = ["src/copy.c", "README", "link.c", "src/copy.o"]
    archives = [
        ("a.tar", _run("tar", "-C", str(tree), "-cf", "-", *names)),
        ("a.tar.gz", _run("tar", "-C", str(tree), "-czf", "-", *names)),
        ("a.tar.xz", _run("tar", "-C", str(tree), "-cJf", "-", *names)),
        ("a.tar.bz2", _run("tar", "-C", str(tree), "-cjf", "-", *names)),
        ("a.cpio", _run("cpio", "-o", "-H", "newc", "--quiet", cwd=tree, stdin=names)),
        ("a.zip", _zip(tree, names, folder / "a.zip")),
        ("c.gz", _run("gzip", "-c", str(tree / "src/copy.c"))),
    ]
    images = [
        ("rootfs.cramfs", _image(["mkfs.cramfs", str(tree)], folder / "x.cramfs")),
        (
            "rootfs.sqfs",
            _image(["mksquashfs", str(tree), "-noappend", "-quiet"], folder / "x.sqfs"),
        ),
        ("rootfs.ext2", _ext2(tree, folder / "x.ext2")),
    ]
    true = shutil.which("true")
    assert true is not None
    sources = [
        ("copy.c", C_SOURCE, FileKind.C),
        ("httpd.c", (EXAMPLE / "src/httpd.c").read_bytes(), FileKind.C),
        ("Makefile", (EXAMPLE / "Makefile").read_bytes(), FileKind.TEXT),
        ("copy.o", obj.read_bytes(), FileKind.ELF),
        ("true", Path(true).read_bytes(), FileKind.ELF),
    ]
    return Seeds(
        tuple(archives), tuple(images), (Path(true).read_bytes(), obj.read_bytes()), tuple(sources)
    )


def _run(*argv: str, cwd: Path | None = None, stdin: Sequence[str] = ()) -> bytes:
    tool = shutil.which(argv[0]) or shutil.which(argv[0], path="/usr/sbin:/sbin")
    assert tool is not None, f"{argv[0]} is not installed (tools/system-deps.sh installs it)"
    given = "".join(f"{name}\n" for name in stdin).encode()
    done = subprocess.run([tool, *argv[1:]], cwd=cwd, input=given, capture_output=True, check=True)
    return done.stdout


def _zip(tree: Path, names: Sequence[str], out: Path) -> bytes:
    _run("zip", "-q", "-y", str(out), *names, cwd=tree)
    return out.read_bytes()


def _image(argv: list[str], out: Path) -> bytes:
    _run(*argv[:2], str(out), *argv[2:])
    return out.read_bytes()


def _ext2(tree: Path, out: Path) -> bytes:
    _run(
        "mke2fs",
        "-q",
        "-F",
        "-t",
        "ext2",
        "-b",
        "1024",
        "-N",
        "32",
        "-d",
        str(tree),
        str(out),
        "256K",
    )
    return out.read_bytes()


# --- mutations -------------------------------------------------------------------------------

_OPS: Final = ("flip", "set", "insert", "delete", "truncate", "repeat", "boundary")
_BOUNDARY: Final = (0, 1, 0x7F, 0x80, 0xFF)


@dataclass(frozen=True, slots=True)
class Mutation:
    """One edit of the seed's bytes at ``where`` (taken modulo the length)."""

    op: str
    where: int
    value: int
    span: int

    def apply(self, data: bytes) -> bytes:
        if not data:
            return bytes([self.value]) if self.op == "insert" else data
        at = self.where % len(data)
        end = min(len(data), at + self.span)
        if self.op == "flip":
            return data[:at] + bytes([data[at] ^ (1 << (self.value % 8))]) + data[at + 1 :]
        if self.op == "set":
            return data[:at] + bytes([self.value]) + data[at + 1 :]
        if self.op == "insert":
            return data[:at] + bytes([self.value]) * self.span + data[at:]
        if self.op == "delete":
            return data[:at] + data[end:]
        if self.op == "truncate":
            return data[:at]
        if self.op == "repeat":  # a header or table copied over what follows it
            chunk = data[at:end]
            return data[:end] + chunk * (1 + self.value % 4) + data[end:]
        word = _BOUNDARY[self.value % len(_BOUNDARY)]  # a length field set to an extreme
        return data[:at] + bytes([word]) * min(self.span, 8) + data[at + min(self.span, 8) :]


MUTATIONS: Final = st.lists(
    st.builds(
        Mutation,
        st.sampled_from(_OPS),
        st.integers(0, 1 << 24),
        st.integers(0, 255),
        st.integers(1, 64),
    ),
    min_size=1,
    max_size=6,
)
"""A handful of edits: hypothesis shrinks a failing list to the edits that matter."""


def mutate(data: bytes, edits: Sequence[Mutation]) -> bytes:
    """``data`` with every edit applied in order."""
    for edit in edits:
        data = edit.apply(data)
    return data


# --- targets ---------------------------------------------------------------------------------


def check_ingest(name: str, data: bytes, *, as_input: bool = False) -> IngestResult | None:
    """Ingest ``data`` saved as ``name`` inside a directory (or as the input itself).

    Invariant: inside a directory nothing escapes (the archive's trouble is a record); as the
    input, only ``IngestError`` does. The work area holds at most the byte and file caps, and
    nothing outside it changes. The inventory, or ``None`` when the input was refused.
    """
    with tempfile.TemporaryDirectory(prefix="assay-fuzz-") as temp:
        root = Path(temp)
        inputs = root / "in"
        inputs.mkdir()
        (inputs / name).write_bytes(data)
        work = root / "work"
        before = _outside(root, work)
        try:
            result = ingest(inputs / name if as_input else inputs, work, LIMITS)
        except IngestError:
            if not as_input:
                raise
            return None
        finally:
            assert _outside(root, work) == before, "ingest changed something outside its work area"
        written = [p for p in work.rglob("*") if p.is_file() and not p.is_symlink()]
        assert sum(p.stat().st_size for p in written) <= LIMITS.max_total_bytes
        assert len(result.files) <= LIMITS.max_files + 1
        for file in result.files:
            assert Path(file.disk_path).resolve().is_relative_to(root.resolve())
        return result


def _outside(root: Path, work: Path) -> dict[str, tuple[int, int, int]]:
    """Every path below ``root`` but outside ``work``, with its mode, size and mtime."""
    found: dict[str, tuple[int, int, int]] = {}
    for folder, dirs, files in os.walk(root):
        if folder == str(work):
            dirs.clear()
            continue
        for name in (*dirs, *files):
            path = os.path.join(folder, name)
            if path != str(work):
                info = os.lstat(path)
                found[path] = (info.st_mode, info.st_size, info.st_mtime_ns)
    return found


def check_elf(data: bytes) -> None:
    """Read every table the binaries analyzer and the rebuild read; only ``BadElf`` escapes,
    and the numbers of symbols, segments and name bytes stay under their caps."""

    def reader(image: object) -> tuple[int, int, int]:
        assert isinstance(image, elf.ELFFile)
        sections = elf.first_sections(image)
        segments = sum(1 for _ in elf.segments(image))
        symbols = longest = 0
        for section in sections.values():
            if elf.is_symbol_table(section):
                for symbol in elf.symbols(image, section):
                    symbols += 1
                    longest = max(longest, len(symbol.name))
            elif elf.is_dynamic(section):
                strings = elf.linked_strings(image, section)
                for _, value in elf.dynamic_entries(image, section):
                    longest = max(longest, len(elf.string_at(strings, value)))
        return segments, symbols, longest

    try:
        segments, symbols, longest = elf.read(data, reader)
    except elf.BadElf:
        return
    assert segments <= elf.MAX_SEGMENTS
    assert symbols <= 2 * elf.MAX_SYMBOLS
    assert longest <= elf.MAX_NAME


_ANALYZERS: list[tuple[FileAnalyzer, ...]] = []


def analyzers() -> tuple[FileAnalyzer, ...]:
    """Every analyzer with its default settings (built once)."""
    if not _ANALYZERS:
        _ANALYZERS.append(analyze.build({}))
    return _ANALYZERS[0]


def check_analyzers(name: str, data: bytes, kind: FileKind) -> None:
    """Every analyzer that wants the file: only ``AnalyzerFailure`` escapes, and no analyzer
    reports more findings or rows than the file has bytes (plus a few)."""
    file = SourceFile(name, "/nonexistent", kind, len(data), "0" * 64)
    parsed = parse(data, kind) if kind in SOURCE_KINDS else None
    for analyzer in analyzers():
        if not analyzer.wants(file):
            continue
        try:
            result: FileResult = (
                analyzer.analyze(parsed)
                if parsed is not None
                else analyzer.analyze_content(Content(data, kind, name))
            )
        except AnalyzerFailure:
            continue
        bound = len(data) + 16
        assert len(result.findings) <= bound, (analyzer.id, len(result.findings))
        assert len(result.rows) <= bound, (analyzer.id, len(result.rows))
