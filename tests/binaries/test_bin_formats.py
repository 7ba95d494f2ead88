"""The shared readers of :mod:`assay.formats`: ``ar`` archives made by ``ar``, ELF files made
by gcc, read by the binaries analyzer and the rebuild alike, and their caps on hostile input."""

from __future__ import annotations

import pickle
import shutil
import subprocess
from pathlib import Path

import pytest

from assay.analyze import binaries
from assay.analyze.binaries.elf import read_elf
from assay.analyze.interface import Content
from assay.errors import AssayError, FormatError
from assay.formats import ar
from assay.formats import elf as reader
from assay.model import FileKind
from assay.rebuild import elf as rebuild_elf
from assay.rebuild.compare import compare_bytes

SOURCE = "#include <string.h>\nvoid g(char *d, const char *s) { strcpy(d, s); }\n"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed")
    return path


def _archive(tmp_path: Path, names: list[str]) -> bytes:
    """A real archive of object files compiled by gcc (one per name, all the same code)."""
    (tmp_path / "code.c").write_text(SOURCE)
    compiled = tmp_path / "code.object"
    subprocess.run([_tool("gcc"), "-c", "-o", str(compiled), str(tmp_path / "code.c")],
                   check=True)  # fmt: skip
    for name in names:
        shutil.copyfile(compiled, tmp_path / name)
    subprocess.run([_tool("ar"), "rcsD", "lib.a", *names], cwd=tmp_path, check=True)
    return (tmp_path / "lib.a").read_bytes()


def test_index_and_long_names_read_alike_for_both_callers(tmp_path: Path) -> None:
    names = ["g.o", "a-member-name-longer-than-sixteen-bytes.o"]
    data = _archive(tmp_path, names)
    members = ar.members(data)
    assert [m.name for m in members] == ["/", *names]
    assert [m.is_index for m in members] == [True, False, False]
    assert all(reader.is_elf(m.data) for m in members[1:])
    result = binaries.configure({}).analyze_content(Content(data, FileKind.OTHER, "lib.a"))
    assert result.data["archive"] == {"elf_members": 2, "machines": ["x86-64 64-bit little-endian"]}
    assert {f.rule_id for f in result.findings} == {"binaries/unbounded-import"}


def test_member_cap_is_checked_while_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _archive(tmp_path, [f"m{i}.o" for i in range(6)])
    monkeypatch.setattr(ar, "MAX_MEMBERS", 4)
    seen = []
    with pytest.raises(ar.TooManyMembers):
        for member in ar.iter_members(data):
            seen.append(member.name)
    assert seen == ["/", "m0.o", "m1.o", "m2.o"]
    with pytest.raises(ar.BadArchive):
        ar.members(data)
    # The analyzer reads what lies under the cap (the index and three members), as before.
    result = binaries.configure({}).analyze_content(Content(data, FileKind.OTHER, "lib.a"))
    assert result.data["archive"]["elf_members"] == 3


def test_long_name_cap_and_malformed_archives(tmp_path: Path) -> None:
    data = _archive(tmp_path, ["a-member-name-longer-than-sixteen-bytes.o"])
    table = data.index(b"//")
    size_field = slice(table + 48, table + 58)
    size = int(data[size_field])
    following = table + 60 + size + (size & 1)
    # The long name's terminator dropped and the table grown past the cap: refused while
    # the terminator is searched for.
    grown = 2 * ar.MAX_NAME
    body = data[table + 60 : table + 60 + size].replace(b"/\n", b"xx").ljust(grown, b"x")
    header = data[table : table + 48] + f"{grown:<10}".encode() + b"`\n"
    hostile = data[:table] + header + body + data[following:]
    with pytest.raises(ar.BadArchive, match="longer than"):
        ar.members(hostile)
    negative = data[: size_field.start] + b"-8        " + data[size_field.stop :]
    with pytest.raises(ar.BadArchive, match="bad member size"):
        ar.members(negative)
    with pytest.raises(ar.BadArchive, match="truncated member"):
        ar.members(data[:-10])
    assert issubclass(ar.BadArchive, FormatError) and issubclass(ar.BadArchive, ValueError)


def test_symbol_cap_applies_to_both_callers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "many.c"
    source.write_text("".join(f"int f{i}(void) {{ return {i}; }}\n" for i in range(40)))
    out = tmp_path / "many.o"
    subprocess.run([_tool("gcc"), "-c", "-o", str(out), str(source)], check=True)
    data = out.read_bytes()
    assert len(rebuild_elf.functions(data)) == 40
    monkeypatch.setattr(reader, "MAX_SYMBOLS", 5)
    assert len(rebuild_elf.functions(data)) < 5
    assert read_elf(data).type == "object"


def test_bad_elf_is_one_exception_type_for_both_callers(tmp_path: Path) -> None:
    source = tmp_path / "g.c"
    source.write_text(SOURCE)
    subprocess.run([_tool("gcc"), "-c", "-o", str(tmp_path / "g.o"), str(source)], check=True)
    truncated = (tmp_path / "g.o").read_bytes()[:200]
    for read in (read_elf, rebuild_elf.sections, rebuild_elf.functions):
        with pytest.raises(reader.BadElf):
            read(truncated)
    diff = compare_bytes(truncated, truncated + b"\0", (), ("left", "right"))
    assert diff.differences[0].startswith("unreadable (")
    assert issubclass(reader.BadElf, AssayError)
    error = pickle.loads(pickle.dumps(reader.BadElf("x")))
    assert isinstance(error, reader.BadElf) and str(error) == "x"
