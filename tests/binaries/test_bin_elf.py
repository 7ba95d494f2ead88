"""ELF facts and per-binary findings on small programs compiled in the test (never run).

The native compiler builds variants with and without each protection; Debian's cross
compilers build the same library for big-endian MIPS and PowerPC. ``readelf`` is the oracle
for the architecture.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from assay.analyze import binaries
from assay.analyze.binaries.elf import BadElf, read_elf
from assay.analyze.interface import AnalyzerFailure, Content
from assay.model import FileKind

LIBRARY = r"""
#include <stdio.h>
#include <string.h>
const char *stamp = __DATE__;
const char *where = "/home/builder/fw/src/lib.c";
int lib_copy(char *dst, const char *src) {
    char buf[64];
    strcpy(buf, src);
    sprintf(dst, "%s-%d", buf, (int)sizeof buf);
    return (int)strlen(dst);
}
"""
PROGRAM = LIBRARY + "int main(int c, char **v) { char o[128]; return lib_copy(o, v[0]); }\n"


def _compiler(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed (apt package gcc / gcc-mips-linux-gnu / ...)")
    return path


def _build(tmp_path: Path, compiler: str, source: str, *flags: str) -> bytes:
    src = tmp_path / "lib.c"
    src.write_text(source, encoding="utf-8")
    out = tmp_path / "a.out"
    subprocess.run([_compiler(compiler), "-O2", *flags, "-o", str(out), str(src)], check=True)
    return out.read_bytes()


def _analyze(data: bytes, name: str = "a.out") -> tuple[dict[str, object], set[str]]:
    result = binaries.configure({}).analyze_content(Content(data, FileKind.ELF, name))
    return dict(result.data["elf"]), {f.rule_id for f in result.findings}  # type: ignore[call-overload]


@pytest.mark.parametrize(
    ("compiler", "machine", "bits"),
    [("mips-linux-gnu-gcc", "mips", 32), ("powerpc-linux-gnu-gcc", "powerpc", 32)],
)
def test_cross_compiled_big_endian_library(
    tmp_path: Path, compiler: str, machine: str, bits: int
) -> None:
    data = _build(tmp_path, compiler, LIBRARY, "-shared", "-fPIC", "-fstack-protector-strong")
    facts = read_elf(data)
    assert (facts.machine, facts.bits, facts.endian) == (machine, bits, "big")
    assert facts.type == "shared-library"
    assert "strcpy" in facts.imports and "sprintf" in facts.imports
    assert facts.canary is True
    assert facts.toolchain and facts.toolchain[0].startswith("GCC: ")
    assert "/home/builder/fw/src/lib.c" in facts.build_paths
    assert len(facts.timestamps) == 1


def test_hardened_pie_program(tmp_path: Path) -> None:
    data = _build(
        tmp_path, "gcc", PROGRAM, "-fPIE", "-pie", "-fstack-protector-strong",
        "-D_FORTIFY_SOURCE=2", "-Wl,-z,relro,-z,now", "-Wl,-z,noexecstack",
    )  # fmt: skip
    elf, rules = _analyze(data)
    assert elf["type"] == "pie-executable"
    assert (elf["nx"], elf["pie"], elf["relro"], elf["canary"]) == (True, True, "full", True)
    assert elf["fortify"] is True
    assert elf["stripped"] is False
    hardening = {"missing-nx", "missing-pie", "missing-relro", "partial-relro", "missing-canary",
                 "missing-fortify"}  # fmt: skip
    assert not {r.removeprefix("binaries/") for r in rules} & hardening
    assert "binaries/build-path" in rules
    assert "binaries/timestamp" in rules


def test_unhardened_program(tmp_path: Path) -> None:
    data = _build(
        tmp_path, "gcc", PROGRAM, "-no-pie", "-fno-stack-protector", "-U_FORTIFY_SOURCE",
        "-D_FORTIFY_SOURCE=0", "-Wl,-z,norelro", "-Wl,-z,execstack", "-Wl,-rpath,/tmp/lib:.",
    )  # fmt: skip
    elf, rules = _analyze(data)
    assert elf["type"] == "executable"
    assert (elf["nx"], elf["pie"], elf["relro"], elf["canary"]) == (False, False, "none", False)
    assert elf["rpath"] == ["/tmp/lib", "."]
    expected = {"missing-nx", "missing-pie", "missing-relro", "missing-canary", "rpath",
                "unbounded-import"}  # fmt: skip
    assert expected <= {r.removeprefix("binaries/") for r in rules}


def test_partial_relro_and_unbounded_imports(tmp_path: Path) -> None:
    data = _build(tmp_path, "gcc", LIBRARY, "-shared", "-fPIC", "-Wl,-z,relro,-z,lazy")
    result = binaries.configure({}).analyze_content(Content(data, FileKind.ELF, "libx.so"))
    by_rule = {f.rule_id: f for f in result.findings}
    assert by_rule["binaries/partial-relro"].severity is None
    imports = {f.properties["function"] for f in result.findings
               if f.rule_id == "binaries/unbounded-import"}  # fmt: skip
    assert imports == {"strcpy", "sprintf"}


def test_relocatable_object_has_no_hardening_verdicts(tmp_path: Path) -> None:
    data = _build(tmp_path, "gcc", LIBRARY, "-c")
    elf, rules = _analyze(data, "lib.o")
    assert elf["type"] == "object"
    assert (elf["nx"], elf["pie"], elf["relro"]) == (None, None, None)
    assert "binaries/unbounded-import" in rules
    assert not any("relro" in r or "nx" in r or "pie" in r for r in rules)


@pytest.mark.parametrize(
    "data",
    [b"\x7fELF", b"\x7fELF\x02\x01\x01" + b"\0" * 9 + b"\xff" * 48, b"\x7fELF" + b"\x01" * 200],
)
def test_hostile_elf_is_skipped_as_bad_elf(data: bytes) -> None:
    with pytest.raises(BadElf):
        read_elf(data)
    with pytest.raises(AnalyzerFailure) as failure:
        binaries.configure({}).analyze_content(Content(data, FileKind.ELF, "x"))
    assert failure.value.reason == "bad-elf"


def test_truncated_real_elf_is_bad_elf(tmp_path: Path) -> None:
    data = _build(tmp_path, "gcc", PROGRAM)
    with pytest.raises(AnalyzerFailure) as failure:
        binaries.configure({}).analyze_content(Content(data[:200], FileKind.ELF, "x"))
    assert failure.value.reason == "bad-elf"


def test_corrupted_headers_give_results_or_bad_elf(tmp_path: Path) -> None:
    import random

    data = _build(tmp_path, "gcc", PROGRAM, "-shared", "-fPIC")
    analyzer = binaries.configure({})
    rng = random.Random(6)
    outcomes = {"ok": 0, "bad-elf": 0}
    for _ in range(300):
        mutated = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            where = rng.randrange(0, 64) if rng.random() < 0.5 else rng.randrange(len(data))
            mutated[where] = rng.randrange(256)
        try:
            analyzer.analyze_content(Content(bytes(mutated), FileKind.ELF, "x"))
            outcomes["ok"] += 1
        except AnalyzerFailure as failure:
            assert failure.reason == "bad-elf"
            outcomes["bad-elf"] += 1
    assert outcomes["ok"] and outcomes["bad-elf"]
