"""Each cause is named on a small project of the tests' own; the positive control holds."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from assay import sandbox
from assay.rebuild.build import FIXED_EPOCH, VARIATIONS
from assay.rebuild.compare import compare
from assay.rebuild.engine import RebuildOptions, rebuild
from assay.rebuild.interface import Side, Verdict
from support import write_tree

STAMP = 'const char *stamp(void) { return "built " __DATE__ " " __TIME__ " in " __FILE__; }\n'
PLAIN = "int twice(int x) { return 2 * x; }\nint thrice(int x) { return 3 * x; }\n"
FORTIFY = """#include <stdio.h>
#include <string.h>
int show(char *out, const char *name) { char b[16]; snprintf(b, sizeof b, "%s!", name);
  strcpy(out, b); return (int)strlen(out); }
"""


@pytest.fixture(autouse=True)
def _bwrap() -> None:
    reason = sandbox.available()
    assert reason is None, f"the sandbox is needed (install bubblewrap): {reason}"


def _rebuild(tmp_path: Path, files: dict[str, str | bytes], build: str, glob: str) -> Any:
    source = write_tree(tmp_path / "src", files)
    evaluation = rebuild(RebuildOptions(source, build, (glob,), tmp_path / "out", timeout=120))
    [item] = evaluation.sections["equivalence"]["artefacts"]
    return item["rebuilds"]


def _causes(comparison: Any) -> dict[str, list[str]]:
    return {c["kind"]: c["evidence"] for c in comparison["causes"]}


def test_date_and_build_path_are_named(tmp_path: Path) -> None:
    build = "gcc -O2 -fPIC -shared -o libstamp.so $PWD/stamp.c"
    pair = _rebuild(tmp_path, {"stamp.c": STAMP}, build, "*.so")
    assert pair["verdict"] == "different"
    assert ".rodata" in pair["differences"]
    causes = _causes(pair)
    epoch_date = time.strftime("%b %e %Y", time.gmtime(FIXED_EPOCH))
    assert epoch_date in causes["date-time"][1]
    one, two = VARIATIONS
    assert f"/{one.label}/{one.directory} 1 times (in .rodata)" in causes["build-path"][0]
    assert f"/{two.label}/{two.directory} 1 times (in .rodata)" in causes["build-path"][1]


def test_positive_control_build_path_and_build_id_only(tmp_path: Path) -> None:
    build = "gcc -g -O2 -fPIC -shared -o libctl.so $PWD/ctl.c"
    pair = _rebuild(tmp_path, {"ctl.c": PLAIN}, build, "*.so")
    assert pair["verdict"] == Verdict.EQUIVALENT.value
    assert pair["differences"] == []
    assert [i.split(":")[0] for i in pair["ignored"]] == [
        ".note.gnu.build-id", ".debug_info, .debug_line, .debug_line_str"
    ]  # fmt: skip
    assert list(_causes(pair)) == ["build-path"]
    assert any(e.startswith("DW_AT_comp_dir:") for e in _causes(pair)["build-path"])


def test_archive_member_times_and_owners(tmp_path: Path) -> None:
    build = "gcc -O2 -c ctl.c && ar rcU libctl.a ctl.o"
    pair = _rebuild(tmp_path, {"ctl.c": PLAIN}, build, "*.a")
    assert pair["verdict"] == Verdict.EQUIVALENT.value
    # ctl.o's owner differs by the varied uid, always; the symbol index ("/") carries the wall
    # clock of the build, which two builds in the same second share: it may or may not differ
    member = "{}: member time, owner or mode (not linked)"
    assert member.format("ctl.o") in pair["ignored"]
    assert set(pair["ignored"]) <= {member.format("/"), member.format("ctl.o")}
    (evidence,) = [e for e in _causes(pair)["archive-metadata"] if e.startswith("ctl.o")]
    one, two = VARIATIONS
    assert f"owner {one.uid}/{one.uid} vs {two.uid}/{two.uid}" in evidence


def test_member_order_is_a_difference(tmp_path: Path) -> None:
    files = {"a.c": "int a(void) { return 1; }\n", "b.c": "int b(void) { return 2; }\n"}
    build = 'gcc -c a.c b.c && if [ -n "$SOURCE_DATE_EPOCH" ]; then ar rcD l.a b.o a.o; ' \
            "else ar rcD l.a a.o b.o; fi"  # fmt: skip
    pair = _rebuild(tmp_path, files, build, "*.a")
    assert pair["verdict"] == "different"
    assert pair["differences"][0].startswith("member order: /, a.o, b.o vs /, b.o, a.o")
    assert "ordering" in _causes(pair)


def _gcc(tmp_path: Path, name: str, source: str, *flags: str) -> Path:
    (tmp_path / f"{name}.c").write_text(source)
    out = tmp_path / f"lib{name}.so"
    cmd = ["gcc", "-fPIC", "-shared", *flags, "-o", str(out), str(tmp_path / f"{name}.c")]
    subprocess.run(cmd, check=True)
    return out


def test_different_code_is_never_ignored(tmp_path: Path) -> None:
    fast = _gcc(tmp_path, "fast", PLAIN, "-O2")
    slow = _gcc(tmp_path, "slow", PLAIN, "-O0")
    result = compare("lib.so", Side("rebuild-1", fast), Side("shipped", slow))
    assert result.verdict is Verdict.DIFFERENT
    assert ".text" in result.differences
    assert {"twice", "thrice"} <= set(result.functions)


def test_flags_fortify_canary_and_producer(tmp_path: Path) -> None:
    hardened = _gcc(tmp_path, "hard", FORTIFY, "-g", "-O2", "-D_FORTIFY_SOURCE=2",
                    "-fstack-protector-all")  # fmt: skip
    plain = _gcc(tmp_path, "soft", FORTIFY, "-g", "-O2", "-fno-stack-protector")
    result = compare("lib.so", Side("shipped", hardened), Side("rebuild-1", plain))
    flags = {c.kind: c.evidence for c in result.causes}["flags"]
    assert any("-fstack-protector-all" in e for e in flags if e.startswith("DW_AT_producer"))
    fortify = next(e for e in flags if e.startswith("FORTIFY_SOURCE"))
    assert "shipped imports __snprintf_chk" in fortify and "rebuild-1 imports no __*_chk" in fortify
    assert "stack protector: only shipped imports __stack_chk_fail (canary)" in flags


def test_toolchain_from_comment(tmp_path: Path) -> None:
    native = _gcc(tmp_path, "native", PLAIN, "-O2")
    (tmp_path / "cross.c").write_text(PLAIN)
    cross = tmp_path / "cross.o"
    subprocess.run(["powerpc-linux-gnu-gcc", "-c", "-O2", "-o", str(cross),
                    str(tmp_path / "cross.c")], check=True)  # fmt: skip
    result = compare("x", Side("rebuild-1", native), Side("shipped", cross))
    [left, right] = {c.kind: c.evidence for c in result.causes}["toolchain"]
    assert left.startswith("rebuild-1 .comment: 'GCC: (Debian")
    assert right.startswith("shipped .comment: 'GCC: (Debian") and left != right


def test_artefact_built_by_one_build_only(tmp_path: Path) -> None:
    source = write_tree(tmp_path / "src", {"ctl.c": PLAIN})
    build = 'touch a.txt && if [ -n "$SOURCE_DATE_EPOCH" ]; then echo x > b.txt; fi'
    evaluation = rebuild(RebuildOptions(source, build, ("*.txt",), tmp_path / "out", timeout=60))
    section = evaluation.sections["equivalence"]
    verdicts = {a["path"]: a["rebuilds"]["verdict"] for a in section["artefacts"]}
    assert verdicts == {"a.txt": "identical", "b.txt": "missing"}
    assert section["reproducibility"]["percent"] == 50.0
    assert evaluation.finding_counts["equivalence"] == {"medium": 1}


@pytest.mark.parametrize(
    ("line", "cause"),
    [
        ('echo "const unsigned r = $(od -An -N4 -tu4 /dev/urandom);"', "randomness"),
        ('echo "const char *h = \\"$(hostname)\\";"', "host-name"),
    ],
)
def test_randomness_and_host_name(tmp_path: Path, line: str, cause: str) -> None:
    build = f"{line} > gen.c && gcc -O2 -c gen.c -o gen.o"
    pair = _rebuild(tmp_path, {"README": "generated at build time\n"}, build, "*.o")
    assert pair["verdict"] == "different"
    assert list(_causes(pair)) == [cause]


def test_output_inside_the_source_is_not_copied(tmp_path: Path) -> None:
    source = write_tree(tmp_path / "src", {"a.txt": "a\n"})
    options = RebuildOptions(source, "test ! -e out && test -e a.txt", ("*.txt",), source / "out",
                             timeout=60)  # fmt: skip
    rebuild(options)
    again = rebuild(options)
    section = again.sections["equivalence"]
    assert [b["status"] for b in section["builds"]] == ["ok", "ok"]
    assert [a["path"] for a in section["artefacts"]] == ["a.txt"]
