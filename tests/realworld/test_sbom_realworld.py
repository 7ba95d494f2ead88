"""sbom.cdx.json of a real firmware tree: source copies and binary components together.

The tree holds the source of zlib and dropbear (Debian source packages) beside the arm64
binaries of the same Debian release (zlib1g, dropbear-bin, libc6). The SBOM must validate
against CycloneDX 1.6 (cyclonedx-python-lib's strict validator), name every component with
purl, CPE and where it was found, join a source copy and the binaries of its exact version,
and describe the C library as part of the operating system.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from support import run_evaluation

_TOOLS = Path(__file__).resolve().parents[2] / "tools"
if str(_TOOLS) not in sys.path:
    sys.path.insert(0, str(_TOOLS))

import debian_binaries  # noqa: E402  (tools/ is a plain script folder)

pytestmark = pytest.mark.realworld

BINARIES = ("zlib1g", "dropbear-bin", "libc6")


def _props(component: dict[str, Any]) -> list[tuple[str, str]]:
    return [(p["name"], p["value"]) for p in component.get("properties", [])]


def test_a_firmware_trees_sbom_names_source_and_binary_components(
    upstream: Callable[[str], Any], tmp_path: Path
) -> None:
    tree = tmp_path / "fw"
    zlib, dropbear = upstream("zlib/bookworm"), upstream("dropbear/bookworm")
    shutil.copytree(zlib.path, tree / "src" / "zlib")
    shutil.copytree(dropbear.path, tree / "src" / "dropbear")
    versions = {}
    for package in BINARIES:
        binary = debian_binaries.fetch(package, "bookworm", "arm64")
        versions[package] = debian_binaries.upstream_version(binary.version)
        shutil.copytree(binary.path, tree / "rootfs", dirs_exist_ok=True, symlinks=True)
    text = (run_evaluation(tree, tmp_path / "out").out / "sbom.cdx.json").read_text()
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    components = json.loads(text)["components"]
    for component in components:
        assert component["purl"].startswith(f"pkg:generic/{component['name']}")
        found_in = {v for n, v in _props(component) if n == "assay:found-in"}
        assert found_in and found_in <= {"source", "binary"}, component["name"]
    by_ref = {c["bom-ref"]: c for c in components}
    # the source copy of zlib and libz.so of the same release are one component, found in both
    copy = by_ref[f"zlib@{zlib.version}:src/zlib"]
    assert versions["zlib1g"] == zlib.version
    assert {v for n, v in _props(copy) if n == "assay:found-in"} == {"source", "binary"}
    assert copy["cpe"] == f"cpe:2.3:a:zlib:zlib:{zlib.version}:*:*:*:*:*:*:*"
    locations = [o["location"] for o in copy["evidence"]["occurrences"]]
    assert "src/zlib/zlib.h" in locations and any(p.startswith("rootfs/") for p in locations)
    assert f"dropbear@{dropbear.version}:src/dropbear" in by_ref
    [tomcrypt] = [c for c in components if c["name"] == "libtomcrypt"]
    assert ("assay:root", "src/dropbear/libtomcrypt") in _props(tomcrypt)
    # the C library is part of the operating system
    [libc] = [c for c in components if ("assay:os-part", "c-library") in _props(c)]
    assert (libc["name"], libc["type"]) == ("glibc", "operating-system")
    assert libc["version"] == versions["libc6"]
