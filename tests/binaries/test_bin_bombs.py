"""ELF files patched to cost memory or time out of proportion to their size, analysed in a child
capped at 1 GiB of address space: symbol names without their NUL (each ran on to the end of the
table: 1.6 GB for a 600 KB object) and thousands of DT_RPATH entries (joined again for each
one). The binaries analyzer reads each name at most 4 KiB and counts rpath entries once."""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
from pathlib import Path
from typing import Any

import pytest
from elftools.elf.elffile import ELFFile

from assay.formats.elf import MAX_NAME, READ_FACTOR, READ_SLACK, string_at
from bounded import run_bounded
from support import run_evaluation

SYMBOLS = 8000
"""Globals in the object: 8,000 names of 50 bytes, a 400 KB string table."""
ENTRIES = 3000
"""DT_RPATH entries in the patched library."""

ANALYZE = """\
from pathlib import Path
from assay.analyze import binaries
from assay.analyze.interface import AnalyzerFailure, Content
from assay.model import FileKind
data = Path(args["path"]).read_bytes()
try:
    result = binaries.configure({}).analyze_content(Content(data, FileKind.ELF, "x"))
except AnalyzerFailure as failure:
    print(json.dumps({"failure": [failure.reason, str(failure)]}))
else:
    found = [[f.rule_id, f.message, f.properties] for f in result.findings]
    print(json.dumps({"elf": result.data["elf"], "findings": found}))
"""


def _gcc(tmp_path: Path, source: str, *flags: str) -> Path:
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.fail("gcc is not installed (apt package gcc)")
    src = tmp_path / "bomb.c"
    src.write_text(source, encoding="utf-8")
    out = tmp_path / "bomb.o"
    subprocess.run([gcc, "-O0", *flags, "-o", str(out), str(src)], check=True)
    return out


def _section(data: bytes, name: str) -> tuple[int, int, int]:
    """(header offset, sh_offset, sh_size) of section ``name`` of a 64-bit little-endian ELF."""
    elf = ELFFile(io.BytesIO(data))
    for index, section in enumerate(elf.iter_sections()):
        if section.name == name:
            header = elf["e_shoff"] + index * elf["e_shentsize"]
            return header, section["sh_offset"], section["sh_size"]
    raise AssertionError(f"no {name} section")


def _analyze(path: Path) -> dict[str, Any]:
    result: dict[str, Any] = run_bounded(ANALYZE, path=str(path))
    return result


def test_symbol_names_without_nul_are_bounded(tmp_path: Path) -> None:
    name = "symbol_with_a_rather_long_name_number"
    source = "".join(f"int {name}_{n:08}_x = {n};\n" for n in range(SYMBOLS))
    path = _gcc(tmp_path, source, "-c")
    data = bytearray(path.read_bytes())
    _, offset, size = _section(bytes(data), ".strtab")
    assert size > 45 * SYMBOLS
    data[offset + 1 : offset + size] = data[offset + 1 : offset + size].replace(b"\0", b"A")
    path.write_bytes(bytes(data))
    result = _analyze(path)
    reason, detail = result["failure"]
    assert reason == "bad-elf" and "symbol names total more than" in detail


def test_a_string_without_nul_is_cut_at_4_kib() -> None:
    table = b"\0libc.so.6\0" + b"A" * 10_000
    assert string_at(table, 1) == b"libc.so.6"
    assert string_at(table, 10) == b""
    assert string_at(table, 11) == b"A" * MAX_NAME
    assert string_at(table, len(table) - 3) == b"AAA"


def _rpath_library(tmp_path: Path) -> Path:
    """A shared library whose dynamic section holds ``ENTRIES`` DT_RPATH entries, each naming
    a place in a 40 KB string of ``/opt/lib/r`` paths separated by ``:``."""
    table = ENTRIES * 16
    text = ("/opt/lib/r" * 5000)[:40_000].replace("r/", "r:/")
    source = (
        f'const char dyn[{table}] = "DYNMARK";\n'
        f'const char str[{len(text) + 8}] = "STRMARK{text}";\n'
        "int f(void) { return dyn[0] + str[0]; }\n"
    )
    path = _gcc(tmp_path, source, "-shared", "-fPIC")
    data = bytearray(path.read_bytes())
    dyn, strings = data.index(b"DYNMARK"), data.index(b"STRMARK")
    data[strings : strings + 7] = b"/x/y:/z"
    entries = b"".join(struct.pack("<qQ", 15, (n * 131) % 39_000) for n in range(ENTRIES))
    data[dyn : dyn + table] = entries
    for name, start, size in ((".dynamic", dyn, table), (".dynstr", strings, len(text) + 7)):
        header, _, _ = _section(bytes(data), name)
        struct.pack_into("<QQ", data, header + 24, start, size)
    path.write_bytes(bytes(data))
    assert path.stat().st_size < 200_000
    return path


def test_thousands_of_rpath_entries_are_counted_not_joined(tmp_path: Path) -> None:
    path = _rpath_library(tmp_path)
    result = _analyze(path)
    rpath = result["elf"]["rpath"]
    assert len(rpath) == 64
    [(_rule, message, properties)] = [f for f in result["findings"] if f[0] == "binaries/rpath"]
    assert "(the first 64 of " in message and len(properties["entries"]) == 64
    assert len(message) < 10_000


SECTIONS = 4000
"""Section headers in the patched library, each named by a 64 KiB run without a NUL."""


def test_section_names_without_nul_cost_reading_linear_in_the_size(tmp_path: Path) -> None:
    """pyelftools reads a section name on to its NUL in 64-byte chunks: 4,000 headers naming
    a 64 KiB run without one made it read 256 MB from a 330 KB file. The reader's stream
    yields at most ``READ_FACTOR`` times the file (plus ``READ_SLACK``), then ``bad-elf``."""
    blob = 1 << 16
    source = f'const char blob[{blob}] = "{"A" * blob}";\nint f(void) {{ return blob[0]; }}\n'
    path = _gcc(tmp_path, source, "-shared", "-fPIC")
    data = bytearray(path.read_bytes())
    elf = ELFFile(io.BytesIO(bytes(data)))
    headers = data[elf["e_shoff"] : elf["e_shoff"] + elf["e_shnum"] * 64]
    # the section-name table is the run of 'A': every name runs on to its end
    strtab = elf["e_shstrndx"] * 64
    struct.pack_into("<QQ", headers, strtab + 24, data.index(b"A" * 64), blob)
    extra = bytearray(64)
    struct.pack_into("<I", extra, 0, 1)  # sh_name
    headers += bytes(extra) * (SECTIONS - elf["e_shnum"])
    struct.pack_into("<Q", data, 0x28, len(data))  # e_shoff: the new table at the end
    struct.pack_into("<H", data, 0x3C, SECTIONS)  # e_shnum
    data += headers
    path.write_bytes(bytes(data))
    assert path.stat().st_size < 400_000
    result = _analyze(path)
    reason, detail = result["failure"]
    allowance = READ_FACTOR * len(data) + READ_SLACK
    assert reason == "bad-elf"
    assert detail.endswith(f"reading the headers took more than {allowance} bytes")


def test_thousands_of_rpath_entries_give_small_outputs(tmp_path: Path) -> None:
    """The issue's case end to end: the library in a release directory, evaluated and every
    report written (150-200 MB of outputs when each entry repeated the joined rpath)."""
    release = tmp_path / "release"
    (release / "lib").mkdir(parents=True)
    _rpath_library(tmp_path).rename(release / "lib" / "libbomb.so")
    run = run_evaluation(release, tmp_path / "out")
    assert run.evaluation.skipped == ()
    [finding] = [f for f in run.findings("binaries") if f["rule_id"] == "binaries/rpath"]
    assert finding["path"] == "lib/libbomb.so"
    written = {p.name: p.stat().st_size for p in (tmp_path / "out").iterdir() if p.is_file()}
    assert {"evaluation.json", "results.sarif", "report.html"} <= set(written)
    assert sum(written.values()) < 1_000_000  # 220 KB measured
