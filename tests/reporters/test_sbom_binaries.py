"""sbom.cdx.json lists what the ``binaries`` section names inside shipped binaries (issue 17).

The binaries are compiled here from tiny C files that carry a version banner the binary
signatures recognise (zlib's deflate copyright, BusyBox's banner); nothing is executed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from support import run_evaluation, write_tree

_SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
if str(_SCRIPTS) not in sys.path:
    sys.path.insert(0, str(_SCRIPTS))

import golden  # noqa: E402  (scripts/ is a plain script folder)

ZLIB_H = '#define ZLIB_VERSION "1.2.13"\n#define ZLIB_VERNUM 0x12d0\n'


def _gcc(tmp: Path, name: str, banner: str) -> bytes:
    """An executable whose read-only data holds ``banner``."""
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.fail("gcc is not installed")
    src = tmp / f"{name}.c"
    src.write_text(
        f'const char banner[] = "{banner}";\n'
        "#include <string.h>\nint main(void) { return (int)strlen(banner); }\n",
        encoding="utf-8",
    )
    out = tmp / name
    subprocess.run([gcc, "-O2", "-o", str(out), str(src)], check=True)
    return out.read_bytes()


def _zlib(version: str) -> str:
    return f" deflate {version} Copyright 1995-2022 J-l G "


def _release(tmp_path: Path) -> Path:
    build = tmp_path / "build"
    build.mkdir()
    return write_tree(tmp_path / "release", {
        "src/third_party/zlib/zlib.h": ZLIB_H,
        "src/main.c": "int main(void) { return 0; }\n",
        "rootfs/bin/good": _gcc(build, "good", _zlib("1.2.13")),
        "rootfs/bin/old": _gcc(build, "old", _zlib("1.2.3")),
        "rootfs/usr/sbin/old2": _gcc(build, "old2", _zlib("1.2.3")),
        "rootfs/bin/busybox": _gcc(build, "busybox", "BusyBox v1.12.1 (2008-09-28 16:45:37)"),
        "rootfs/etc/openwrt_release": "DISTRIB_ID='OpenWrt'\nDISTRIB_RELEASE='19.07.10'\n",
        "rootfs/lib/modules/4.14.275/modules.dep": "kernel/x.ko:\n",
        "rootfs/lib/ld-musl-x86_64.so.1": _gcc(build, "musl", "no version here"),
    })  # fmt: skip


def _by_ref(bom: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["bom-ref"]: c for c in bom["components"]}


def _props(component: dict[str, Any]) -> list[tuple[str, str]]:
    return [(p["name"], p["value"]) for p in component["properties"]]


def _locations(component: dict[str, Any]) -> set[str]:
    return {o["location"] for o in component["evidence"]["occurrences"]}


def test_binary_components_are_in_the_sbom(tmp_path: Path) -> None:
    run = run_evaluation(_release(tmp_path), tmp_path / "out")
    text = (run.out / "sbom.cdx.json").read_text(encoding="utf-8")
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    bom = json.loads(text)
    components = _by_ref(bom)
    section = run.json()["binaries"]
    named = {(c["name"], c["version"]) for c in section["components"]}
    assert named == {("zlib", "1.2.13"), ("zlib", "1.2.3"), ("busybox", "1.12.1"), ("musl", None)}
    # the source copy and the binary of the same version are one component with both
    merged = components["zlib@1.2.13:src/third_party/zlib"]
    assert _locations(merged) >= {"src/third_party/zlib/zlib.h", "rootfs/bin/good"}
    assert ("assay:found-in", "source") in _props(merged)
    assert ("assay:found-in", "binary") in _props(merged)
    assert "binary:zlib@1.2.13" not in components
    # another version is an entry of its own, with every binary that holds it
    old = components["binary:zlib@1.2.3"]
    assert (old["type"], old["purl"], old["version"]) == ("library", "pkg:generic/zlib@1.2.3",
                                                         "1.2.3")  # fmt: skip
    assert old["cpe"] == "cpe:2.3:a:zlib:zlib:1.2.3:*:*:*:*:*:*:*"
    assert _locations(old) == {"rootfs/bin/old", "rootfs/usr/sbin/old2"}
    assert ("assay:binary-count", "2") in _props(old)
    assert ("assay:binary-evidence", "deflate 1.2.3 Copyright") in _props(old)
    assert ("assay:binary-evidence-kind", "binary-signature") in _props(old)
    busybox = components["binary:busybox@1.12.1"]
    assert (busybox["type"], busybox["purl"]) == ("application", "pkg:generic/busybox@1.12.1")
    assert busybox["cpe"] == "cpe:2.3:a:busybox:busybox:1.12.1:*:*:*:*:*:*:*"
    assert _locations(busybox) == {"rootfs/bin/busybox"}
    # the kernel (from lib/modules only) and the distribution are operating systems
    kernel = components["binary:linux@4.14.275"]
    assert kernel["type"] == "operating-system"
    assert kernel["cpe"] == "cpe:2.3:o:linux:linux_kernel:4.14.275:*:*:*:*:*:*:*"
    assert ("assay:binary-evidence-kind", "module-directory") in _props(kernel)
    musl = components["binary:musl@?"]
    # the C library is part of the operating system
    assert (musl["type"], musl["purl"], "version" in musl) == (
        "operating-system", "pkg:generic/musl", False,
    )  # fmt: skip
    assert ("assay:os-part", "c-library") in _props(musl)
    assert ("assay:os-part", "kernel") in _props(kernel)
    assert _locations(musl) == {"rootfs/lib/ld-musl-x86_64.so.1"}
    distro = components["binary:distribution:openwrt@19.07.10"]
    assert distro["type"] == "operating-system"
    assert _locations(distro) == {"rootfs/etc/openwrt_release"}


def test_binary_cves_affect_the_binary_component(tmp_path: Path) -> None:
    run = run_evaluation(_release(tmp_path), tmp_path / "out")
    assessed = run.json()["binaries"]["assessment"]["zlib@1.2.3"]["cves"]
    assert assessed, "the built-in knowledge base should know CVEs of zlib 1.2.3"
    bom = json.loads((run.out / "sbom.cdx.json").read_text(encoding="utf-8"))
    affected = {v["id"]: {a["ref"] for a in v["affects"]} for v in bom["vulnerabilities"]}
    for cve in assessed:
        assert "binary:zlib@1.2.3" in affected[cve["id"]]
    refs = {c["bom-ref"] for c in bom["components"]}
    assert all(ref in refs for targets in affected.values() for ref in targets)


def test_sbom_with_binaries_is_deterministic(tmp_path: Path) -> None:
    tree = _release(tmp_path)
    first = run_evaluation(tree, tmp_path / "out1").out / "sbom.cdx.json"
    second = run_evaluation(tree, tmp_path / "out2").out / "sbom.cdx.json"
    assert golden.normalise_sbom(first.read_bytes()) == golden.normalise_sbom(second.read_bytes())


@pytest.mark.parametrize(
    ("name", "kind"),
    [("dnsmasq", "application"), ("hostapd", "application"), ("lighttpd", "application"),
     ("busybox", "application"), ("openssl", "library"), ("zlib", "library"),
     ("linux", "operating-system"), ("glibc", "operating-system")],
)  # fmt: skip
def test_daemons_found_in_binaries_are_applications(name: str, kind: str) -> None:
    # a router's dnsmasq and hostapd were typed "library" in the SBOM
    from assay.report.cyclonedx_binaries import component_type

    assert component_type(name) == kind
