"""The ``binaries`` analyzer on real Debian binary packages of six architectures.

Packages come from ``tools/debian_binaries.py`` (downloaded once, then cached). Expected
versions are the upstream part of each download's manifest version; architecture, hardening
(NX, PIE, RELRO, canary, FORTIFY, RPATH/RUNPATH, stripped) and imports are checked against
``readelf`` (binutils), computed independently here.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from assay.analyze import binaries
from assay.analyze.calltable import load_table
from assay.analyze.interface import Content
from assay.model import FileKind

_TOOLS = Path(__file__).resolve().parents[2] / "tools"
if str(_TOOLS) not in sys.path:
    sys.path.insert(0, str(_TOOLS))

import debian_binaries  # noqa: E402  (tools/ is a plain script folder)
from upstream import Release  # noqa: E402

pytestmark = pytest.mark.realworld

SUITE = "bookworm"
ARCHES = {
    "amd64": ("x86-64", 64, "little"), "arm64": ("aarch64", 64, "little"),
    "armhf": ("arm", 32, "little"), "mips64el": ("mips", 64, "little"),
    "i386": ("x86", 32, "little"), "s390x": ("s390", 64, "big"),
}  # fmt: skip
COMPONENTS = [
    *(("zlib1g", arch, "zlib") for arch in ARCHES),
    *(("libssl3", arch, "openssl") for arch in ("amd64", "arm64", "s390x", "armhf")),
    *(("libcurl4", arch, "curl") for arch in ("amd64", "mips64el", "i386")),
    *(("busybox-static", arch, "busybox") for arch in ("amd64", "armhf", "s390x")),
    ("libexpat1", "amd64", "expat"), ("libsqlite3-0", "amd64", "sqlite"),
    ("libpng16-16", "amd64", "libpng"), ("libzstd1", "amd64", "zstd"),
    ("liblzma5", "amd64", "xz"), ("libxml2", "amd64", "libxml2"),
    ("libmbedcrypto7", "amd64", "mbedtls"), ("dropbear-bin", "armhf", "dropbear"),
    ("libc6", "arm64", "glibc"),
]  # fmt: skip
ORACLE_PACKAGES = [
    *((p, a) for a in ARCHES for p in ("zlib1g", "libcurl4", "busybox-static")),
    ("ebtables", "amd64"),  # RPATH entries, a library without canary and without FORTIFY
    ("ebtables", "armhf"),
]


def _fetch(package: str, arch: str) -> debian_binaries.Binary:
    try:
        return debian_binaries.fetch(package, SUITE, arch)
    except debian_binaries.BinaryError as exc:
        pytest.fail(f"could not download {package}/{SUITE}/{arch}: {exc}")


def _elves(root: Path) -> list[Path]:
    found = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink() and path.read_bytes()[:4] == b"\x7fELF":
            found.append(path)
    assert found, f"no ELF file in {root}"
    return found


def _analyze(path: Path) -> dict[str, object]:
    content = Content(path.read_bytes(), FileKind.ELF, path.name)
    return dict(binaries.configure({}).analyze_content(content).data)


def _readelf(*args: str) -> str:
    tool = shutil.which("readelf")
    if tool is None:
        pytest.fail("readelf (binutils) is not installed")
    return subprocess.run([tool, "-W", *args], capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize(("package", "arch", "library"), COMPONENTS)
def test_component_version_equals_the_manifest(package: str, arch: str, library: str) -> None:
    binary = _fetch(package, arch)
    expected = debian_binaries.upstream_version(binary.version)
    found = {
        (name, version)
        for path in _elves(binary.path)
        for name, version, _ in _analyze(path)["components"]  # type: ignore[attr-defined]
    }
    assert (library, expected) in found, (binary, found)
    assert {v for n, v in found if n == library} == {expected}


def _oracle(path: Path) -> dict[str, object]:
    header = _readelf("-h", str(path))
    segments = _readelf("-l", str(path))
    dynamic = _readelf("-d", str(path))
    stack = re.search(r"GNU_STACK\s+(?:\S+\s+){5}(\S+)", segments)
    kind = re.search(r"Type:\s+(\w+)", header).group(1)  # type: ignore[union-attr]
    bind_now = bool(re.search(r"\(BIND_NOW\)|Flags:.*\bBIND_NOW\b|Flags:.*\bNOW\b", dynamic))
    relro = "none" if "GNU_RELRO" not in segments else ("full" if bind_now else "partial")
    pie_flag = bool(re.search(r"FLAGS_1\).*\bPIE\b", dynamic))
    interp = "INTERP" in segments and "(SONAME)" not in dynamic
    pie: bool | None = None  # libraries: does not apply
    if kind == "EXEC":
        pie = False
    elif kind == "DYN" and (pie_flag or interp):
        pie = True
    symbols = _readelf_symbols(path, relocatable=kind == "REL")
    names = {name for name, _ in symbols}
    undefined = {name for name, defined in symbols if not defined}
    fortified = {name for name in names if re.fullmatch(r"__\w+_chk", name)} - CANARY
    rpath = [
        entry
        for tag in ("RPATH", "RUNPATH")
        for text in re.findall(rf"\({tag}\)\s+Library {tag.lower()}: \[(.*)\]", dynamic)
        for entry in text.split(":")
        if entry
    ]
    return {
        "bits": 64 if "ELF64" in header else 32,
        "endian": "big" if "big endian" in header else "little",
        "nx": stack is not None and "E" not in stack.group(1),
        "relro": relro,
        "pie": pie,
        "canary": bool(names & CANARY) if names else None,
        "fortify": bool(fortified) if undefined else None,
        "rpath": rpath,
        "stripped": not re.search(r"\]\s+\.symtab\s", _readelf("-S", str(path))),
    }


CANARY = frozenset({"__stack_chk_fail", "__stack_chk_guard", "__stack_chk_fail_local"})
"""Symbols that show a stack protector (what the compiler's instrumentation calls or reads)."""


def _readelf_symbols(path: Path, *, relocatable: bool) -> list[tuple[str, bool]]:
    """(name, defined) of the NOTYPE, OBJECT and FUNC symbols of ``.dynsym`` (of ``.symtab``
    for an object file or when there is no ``.dynsym``), as ``readelf -s`` lists them."""
    tables: dict[str, list[tuple[str, bool]]] = {}
    current: list[tuple[str, bool]] = []
    for line in _readelf("-s", str(path)).splitlines():
        title = re.match(r"Symbol table '(\S+)' contains", line)
        if title is not None:
            current = tables.setdefault(title.group(1), [])
            continue
        fields = line.split()
        if len(fields) >= 8 and fields[0].endswith(":") and fields[3] in _TYPES:
            current.append((fields[7].split("@")[0], fields[6] != "UND"))
    if ".dynsym" in tables and not relocatable:
        return tables[".dynsym"]
    return tables.get(".symtab", tables.get(".dynsym", []))


_TYPES = frozenset({"NOTYPE", "OBJECT", "FUNC"})


def _unbounded_imports(path: Path) -> list[str]:
    table = load_table({})
    names = set()
    for line in _readelf("--dyn-syms", str(path)).splitlines():
        fields = line.split()
        if len(fields) >= 8 and fields[6] == "UND" and fields[3] in ("FUNC", "NOTYPE", "OBJECT"):
            names.add(fields[7].split("@")[0])
    return sorted(names & table.unbounded)


@pytest.mark.parametrize(("package", "arch"), ORACLE_PACKAGES)
def test_facts_match_readelf(package: str, arch: str) -> None:
    binary = _fetch(package, arch)
    machine, bits, endian = ARCHES[arch]
    for path in _elves(binary.path):
        elf = _analyze(path)["elf"]
        assert isinstance(elf, dict)
        oracle = _oracle(path)
        assert (elf["machine"], elf["bits"], elf["endian"]) == (machine, bits, endian), path
        assert (elf["bits"], elf["endian"]) == (oracle["bits"], oracle["endian"]), path
        assert elf["nx"] == oracle["nx"], path
        assert elf["relro"] == oracle["relro"], path
        assert elf["pie"] == oracle["pie"], path
        assert elf["canary"] == oracle["canary"], path
        assert elf["fortify"] == oracle["fortify"], path
        assert elf["rpath"] == oracle["rpath"], path
        assert elf["stripped"] == oracle["stripped"], path
        assert elf["unbounded"] == _unbounded_imports(path), path


PROGRAM = b"""#include <stdio.h>
#include <string.h>
int main(int argc, char **argv) {
    char buf[16];
    strcpy(buf, argc > 1 ? argv[1] : "x");
    printf("%s\\n", buf);
    return 0;
}
"""


@pytest.mark.parametrize(
    "flags",
    [
        ["-O2", "-fstack-protector-all", "-D_FORTIFY_SOURCE=2", "-Wl,-rpath,/opt/a:/opt/b"],
        ["-O0", "-fno-stack-protector", "-U_FORTIFY_SOURCE", "-Wl,--enable-new-dtags,-rpath,/r"],
        ["-O2", "-fno-stack-protector", "-s", "-no-pie", "-Wl,-z,norelro"],
    ],
    ids=["protected-unstripped", "unprotected-runpath", "stripped-plain"],
)
def test_facts_of_compiled_programs_match_readelf(tmp_path: Path, flags: list[str]) -> None:
    """The packages above are all stripped and none lacks NX; programs built here with and
    without each protection give the comparison both values of every fact."""
    source = tmp_path / "p.c"
    source.write_bytes(PROGRAM)
    out = tmp_path / "p"
    subprocess.run(["gcc", *flags, "-o", str(out), str(source)], check=True)
    elf = _analyze(out)["elf"]
    assert isinstance(elf, dict)
    oracle = _oracle(out)
    assert {key: elf[key] for key in oracle if key != "bits"} == {
        key: value for key, value in oracle.items() if key != "bits"
    }
    assert elf["bits"] == oracle["bits"]


def _firmware(tmp_path: Path, packages: list[tuple[str, str]]) -> Path:
    """A tree holding the unpacked packages below ``rootfs/``, as a vendor drop would."""
    root = tmp_path / "drop" / "rootfs"
    for package, arch in packages:
        shutil.copytree(_fetch(package, arch).path, root, symlinks=True, dirs_exist_ok=True)
    return root.parent


@pytest.mark.parametrize(("source_spec", "matched"), [("zlib/bookworm", True),
                                                      ("zlib/bullseye", False)])  # fmt: skip
def test_source_against_binary(
    tmp_path: Path, upstream: Callable[[str], Release], source_spec: str, matched: bool
) -> None:
    from support import run_evaluation

    release = upstream(source_spec)
    drop = _firmware(tmp_path, [("zlib1g", "arm64")])
    shutil.copytree(release.path, drop / "src" / "zlib")
    binary_version = debian_binaries.upstream_version(_fetch("zlib1g", "arm64").version)
    assert (release.version == binary_version) is matched
    doc = run_evaluation(drop, tmp_path / "out").json()
    match = doc["binaries"]["source_match"]
    assert match["compared"] is True
    pairs = match["matched"] if matched else match["mismatched"]
    assert [(m["name"], m["version"]) for m in pairs] == [("zlib", binary_version)]
    mismatches = [f for f in doc["findings"] if f["rule_id"] == "binaries/source-mismatch"]
    assert len(mismatches) == (0 if matched else 1)
    if not matched:
        assert mismatches[0]["severity"] == "high"
        assert f"zlib@{release.version}" in mismatches[0]["message"]


def test_multi_architecture_firmware_section(tmp_path: Path) -> None:
    from support import run_evaluation

    packages = [("zlib1g", arch) for arch in ARCHES] + [
        ("libssl3", "s390x"), ("libcurl4", "mips64el"), ("busybox-static", "armhf"),
        ("libexpat1", "amd64"), ("libsqlite3-0", "amd64"), ("libc6", "arm64"),
    ]  # fmt: skip
    drop = _firmware(tmp_path, packages)
    doc = run_evaluation(drop, tmp_path / "out").json()
    section = doc["binaries"]
    expected = {
        ("zlib", "zlib1g"), ("openssl", "libssl3"), ("curl", "libcurl4"),
        ("busybox", "busybox-static"), ("expat", "libexpat1"), ("sqlite", "libsqlite3-0"),
        ("glibc", "libc6"),
    }  # fmt: skip
    arch_of = dict(packages)
    versions = {
        (library, debian_binaries.upstream_version(_fetch(package, arch_of[package]).version))
        for library, package in expected
    }
    assert {(c["name"], c["version"]) for c in section["components"]} == versions
    machines = {" ".join(key.split()[:3]) for key in section["architectures"]}
    assert machines == {f"{m} {b}-bit {e}-endian" for m, b, e in ARCHES.values()}
    assert section["source_match"]["compared"] is False
    assert section["hardening"]["overall"]["binaries"] == sum(section["files"]["by_type"].values())
    assert section["os"]["busybox"]["version"] == dict(versions)["busybox"]
    assert section["os"]["libc"]["name"] == "glibc"
    assert section["os"]["libc"]["version"] == dict(versions)["glibc"]


def test_sbom_lists_the_binary_components(tmp_path: Path) -> None:
    """Issue 17: every (name, version) the binaries section names is an SBOM component with
    its purl, the downloaded package's version and the binary paths as occurrences."""
    from support import run_evaluation

    packages = [("busybox-static", "amd64"), ("libcurl4", "amd64"), ("zlib1g", "amd64")]
    drop = _firmware(tmp_path, packages)
    run = run_evaluation(drop, tmp_path / "out")
    text = (run.out / "sbom.cdx.json").read_text(encoding="utf-8")
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    bom = {c["bom-ref"]: c for c in json.loads(text)["components"]}
    named = run.json()["binaries"]["components"]
    downloaded = {
        library: debian_binaries.upstream_version(_fetch(package, arch).version)
        for (package, arch), library in zip(packages, ("busybox", "curl", "zlib"), strict=True)
    }
    assert {c["name"]: c["version"] for c in named if c["name"] in downloaded} == downloaded
    for item in named:
        component = bom[f"binary:{item['name']}@{item['version'] or '?'}"]
        assert component["name"] == item["name"]
        assert component.get("version") == item["version"]
        version = f"@{item['version']}" if item["version"] else ""
        assert component["purl"] == f"pkg:generic/{item['name']}{version}"
        locations = [o["location"] for o in component["evidence"]["occurrences"]]
        assert sorted(locations) == sorted(item["paths"])
        count = {p["name"]: p["value"] for p in component["properties"]}["assay:binary-count"]
        assert count == str(item["count"])
    assert bom[f"binary:busybox@{downloaded['busybox']}"]["type"] == "application"
    assert bom[f"binary:curl@{downloaded['curl']}"]["cpe"].startswith("cpe:2.3:a:haxx:curl:")
