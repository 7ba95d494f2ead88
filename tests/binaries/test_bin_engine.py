"""The ``binaries`` section end to end: source against binary, static archives, hostile files.

Binaries are compiled in the test from tiny C files that carry a library's version banner, the
way a statically linked copy does; nothing is executed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from support import run_evaluation, write_tree

ZLIB_H = '#define ZLIB_VERSION "1.2.13"\n#define ZLIB_VERNUM 0x12d0\n'


def _gcc(tmp: Path, name: str, source: str, *flags: str) -> bytes:
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.fail("gcc is not installed")
    src = tmp / f"{name}.c"
    src.write_text(source, encoding="utf-8")
    out = tmp / name
    subprocess.run([gcc, "-O2", *flags, "-o", str(out), str(src)], check=True)
    return out.read_bytes()


def _banner(version: str) -> str:
    return (
        f'const char deflate_copyright[] = " deflate {version} Copyright 1995-2022 J-l G ";\n'
        "#include <string.h>\nint main(int c, char **v) { char b[8]; strcpy(b, v[0]);"
        " return (int)strlen(deflate_copyright) + b[0]; }\n"
    )


def _schema_valid(doc: dict[str, object]) -> None:
    text = (resources.files("assay") / "schemas" / "evaluation.schema.json").read_text("utf-8")
    jsonschema.validate(doc, json.loads(text), cls=jsonschema.Draft202012Validator)


def test_binary_component_without_matching_source_is_high(tmp_path: Path) -> None:
    build = tmp_path / "build"
    build.mkdir()
    tree = write_tree(tmp_path / "release", {
        "src/third_party/zlib/zlib.h": ZLIB_H,
        "src/main.c": "int main(void) { return 0; }\n",
        "firmware/bin/good": _gcc(build, "good", _banner("1.2.13")),
        "firmware/bin/old": _gcc(build, "old", _banner("1.2.3")),
    })  # fmt: skip
    run = run_evaluation(tree, tmp_path / "out")
    doc = run.json()
    _schema_valid(doc)
    match = doc["binaries"]["source_match"]
    assert match["compared"] is True
    assert [(m["name"], m["version"]) for m in match["matched"]] == [("zlib", "1.2.13")]
    assert [(m["name"], m["version"], m["path"]) for m in match["mismatched"]] == [
        ("zlib", "1.2.3", "firmware/bin/old")
    ]
    mismatches = [f for f in run.findings("binaries") if f["rule_id"] == "binaries/source-mismatch"]
    assert [(f["path"], f["severity"]) for f in mismatches] == [("firmware/bin/old", "high")]
    imports = [f for f in run.findings("binaries") if f["rule_id"] == "binaries/unbounded-import"]
    assert {f["path"] for f in imports} == {"firmware/bin/good", "firmware/bin/old"}


def test_binaries_alone_are_not_compared_with_source(tmp_path: Path) -> None:
    build = tmp_path / "build"
    build.mkdir()
    tree = write_tree(tmp_path / "fw", {"bin/old": _gcc(build, "old", _banner("1.2.3"))})
    run = run_evaluation(tree, tmp_path / "out")
    section = run.json()["binaries"]
    assert section["source_match"] == {"compared": False, "matched": [], "mismatched": []}
    assert [(c["name"], c["version"]) for c in section["components"]] == [("zlib", "1.2.3")]
    assert not [f for f in run.findings("binaries") if f["rule_id"].endswith("source-mismatch")]


def test_static_archive_members_and_matrix(tmp_path: Path) -> None:
    build = tmp_path / "build"
    build.mkdir()
    _gcc(build, "a.o", '#include <stdio.h>\nint f(char *d){return sprintf(d, "%d", 1);}\n', "-c")
    _gcc(build, "b.o", "#include <string.h>\nvoid g(char *d, char *s){strcpy(d, s);}\n", "-c")
    subprocess.run(["ar", "rcs", str(build / "libx.a"), str(build / "a.o"), str(build / "b.o")],
                   check=True)  # fmt: skip
    tree = write_tree(tmp_path / "fw", {
        "lib/libx.a": (build / "libx.a").read_bytes(),
        "lib/libbad.a": b"!<arch>\nbroken-member-header" + b"x" * 80,
        "bin/prog": _gcc(build, "prog", _banner("1.2.13"), "-no-pie", "-Wl,-z,norelro"),
        "bin/bad": b"\x7fELF\x02\x01\x01" + b"\xff" * 40,
    })  # fmt: skip
    run = run_evaluation(tree, tmp_path / "out")
    doc = run.json()
    _schema_valid(doc)
    functions = {f["properties"]["function"] for f in run.findings("binaries")
                 if f["path"] == "lib/libx.a"}  # fmt: skip
    assert functions == {"sprintf", "strcpy"}
    skipped = {(s["path"], s["stage"], s["reason"]) for s in doc["skipped"]}
    assert ("lib/libbad.a", "binaries", "bad-archive") in skipped
    assert ("bin/bad", "binaries", "bad-elf") in skipped
    overall = doc["binaries"]["hardening"]["overall"]
    assert overall["binaries"] == 1
    assert overall["pie"] == {"count": 0, "of": 1, "share": 0.0}
    assert overall["relro_full"]["count"] == overall["relro_partial"]["count"] == 0
    assert doc["binaries"]["hardening"]["by_directory"]["bin"]["binaries"] == 1
    assert doc["binaries"]["files"]["by_type"] == {"executable": 1, "static-archive": 1}


def test_release_files_and_module_tree_describe_the_os(tmp_path: Path) -> None:
    tree = write_tree(tmp_path / "fw", {
        "etc/openwrt_release": "DISTRIB_ID='OpenWrt'\nDISTRIB_RELEASE='19.07.10'\n",
        "lib/modules/4.14.275/modules.dep": "kernel/x.ko:\n",
    })  # fmt: skip
    run = run_evaluation(tree, tmp_path / "out")
    os_part = run.json()["binaries"]["os"]
    assert os_part["distribution"]["name"] == "openwrt"
    assert os_part["distribution"]["version"] == "19.07.10"
    assert os_part["kernel"]["version"] == "4.14.275"
    assert os_part["distribution"]["support"]["status"] == "end-of-life"
    eol = [f for f in run.findings("binaries") if f["rule_id"] == "binaries/os-end-of-life"]
    assert "etc/openwrt_release" in {f["path"] for f in eol}
