"""U-Boot's own ``lib/zstd``, zstd as ported to the Linux kernel, named as zstd in real U-Boot
source trees (Debian's ``u-boot`` source package, whole): the port of zstd 1.4.10 and later
(Linux 5.16+) by the version its ``include/linux/zstd_lib.h`` states, the earlier port of zstd
1.3 (Linux 4.14), which states none and whose files hold no zstd release's code, with its
version unknown and the file that shows it is zstd as evidence.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import upstream as upstream_tool  # type: ignore[import-not-found]  # tools/, via conftest

from assay.correlate.components.content import NormalisedContent
from assay.correlate.components.copies import identify_all
from assay.correlate.components.kb import open_default
from assay.correlate.components.matching import correlate
from assay.ingest import ArchiveLimits, ingest
from assay.model import Component, CopyKind

pytestmark = pytest.mark.realworld

SPECS = ("u-boot/bookworm", "u-boot/trixie")


@pytest.fixture(scope="module")
def releases() -> dict[str, Any]:
    """The U-Boot releases used here, fetched at once."""
    found = upstream_tool.fetch(SPECS)
    assert len(found) == len(SPECS), "a release could not be downloaded (see stderr)"
    return dict(zip(SPECS, found, strict=True))


def _evaluate(tree: Path, work: Path) -> tuple[list[Any], tuple[Component, ...]]:
    """The tree's files and the copies named in it, measured against the shipped KB."""
    files = ingest(tree, work, ArchiveLimits()).files
    found, confirming, _ = identify_all(files)
    with open_default() as base:
        return files, correlate(found, files, base, confirming)


def _header_version(header: Path) -> str:
    """``MAJOR.MINOR.RELEASE`` from the ``ZSTD_VERSION_*`` macros of a zstd header."""
    text = header.read_text("latin-1")
    parts = [
        re.search(rf"^#define ZSTD_VERSION_{part}\s+(\d+)\s*$", text, re.MULTILINE)
        for part in ("MAJOR", "MINOR", "RELEASE")
    ]
    assert all(parts), f"{header} states no version"
    return ".".join(match.group(1) for match in parts if match)


def test_the_linux_5_16_port_is_named_with_the_version_its_header_states(
    releases: dict[str, Any], tmp_path: Path
) -> None:
    boot = releases["u-boot/trixie"]
    header = boot.path / "include" / "linux" / "zstd_lib.h"
    expected = _header_version(header)
    assert not (boot.path / "lib" / "zstd" / "zstd.h").exists()  # no header beside the code

    _, copies = _evaluate(boot.path, tmp_path / "work")
    assert ("u-boot", boot.version) in {(c.name, c.version) for c in copies if c.root == ""}
    zstd = [c for c in copies if c.name == "zstd"]
    assert len(zstd) == 1, zstd
    copy = zstd[0]
    assert (copy.root, copy.version) == ("lib/zstd", expected)
    assert copy.evidence[0].startswith("include/linux/zstd_lib.h:")
    assert copy.cpe is not None and f":zstandard:{expected}:" in copy.cpe
    with open_default() as base:
        held = {r.version for r in base.releases() if r.name == "zstd"}
    if expected in held:
        assert copy.kind is not CopyKind.UNKNOWN
    else:  # measured only against another release holding three or more of its files
        assert copy.files_version in held or copy.kind is CopyKind.UNKNOWN


def test_the_1_3_port_is_named_with_its_version_unknown(
    releases: dict[str, Any], tmp_path: Path
) -> None:
    boot = releases["u-boot/bookworm"]
    code = boot.path / "lib" / "zstd"
    assert not list(boot.path.rglob("zstd_lib.h"))  # the 1.3 port states no version
    common = (code / "zstd_common.c").read_bytes()
    stack = re.search(rb"^ZSTD_customMem ZSTD_initStack\(", common, re.MULTILINE)
    assert stack is not None  # an allocator of the kernel's port, never in upstream zstd
    line = common.count(b"\n", 0, stack.start()) + 1

    files, copies = _evaluate(boot.path, tmp_path / "work")
    zstd = [c for c in copies if c.name == "zstd"]
    assert len(zstd) == 1, zstd
    copy = zstd[0]
    assert copy.root == "lib/zstd"
    assert not copy.version and copy.candidates == () and copy.files_version is None
    assert copy.kind is CopyKind.UNKNOWN
    assert copy.evidence == (f"lib/zstd/zstd_common.c:{line}",)
    # why unknown: no file of the port holds the code of any file of a zstd release in the KB
    ported = [f for f in files if f.path.startswith("lib/zstd/")]
    assert len(ported) >= 10
    with open_default() as base:
        content = NormalisedContent(base)
        assert not [f.path for f in ported if any(r.name == "zstd" for r in content.refs(f))]
