"""Copies whose files were lightly edited, named by their code through the normalised hash:
zstd without its version header and with every file's head rewritten the way Linux and U-Boot
do; unrelated real code given the names of release files yields no copy (U-Boot's own
``lib/zstd``: test_uboot_zstd_realworld.py).
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import upstream as upstream_tool  # type: ignore[import-not-found]  # tools/, via conftest

from assay.correlate.components.content import MIN_TOKENS, NormalisedContent
from assay.correlate.components.copies import identify_all
from assay.correlate.components.fingerprint import normalised_hash, tokens
from assay.correlate.components.kb import open_default
from assay.correlate.components.matching import correlate, found_by_files
from assay.ingest import ArchiveLimits, ingest
from assay.model import Component

pytestmark = pytest.mark.realworld

SPECS = ("zstd/trixie", "u-boot/bookworm")

_FIRST_COMMENT = re.compile(rb"\A\s*/\*.*?\*/", re.DOTALL)
_LINUX_INCLUDES = (
    # the include rewrites the Linux kernel applies to its copy of zstd (which U-Boot took)
    (re.compile(rb'#include "\.\./zstd\.h"'), b"#include <linux/zstd.h>"),
    (re.compile(rb'#include "(\.\./)?zstd_errors\.h"'), b"#include <linux/zstd_errors.h>"),
    (re.compile(rb"#include <stddef\.h>"), b"#include <linux/types.h>"),
    (re.compile(rb"#include <limits\.h>"), b"#include <linux/limits.h>"),
)


@pytest.fixture(scope="module")
def releases() -> dict[str, Any]:
    """The releases used here, fetched at once."""
    found = upstream_tool.fetch(SPECS)
    assert len(found) == len(SPECS), "a release could not be downloaded (see stderr)"
    return dict(zip(SPECS, found, strict=True))


def _copies(tree: Path, work: Path) -> tuple[Component, ...]:
    files = ingest(tree, work, ArchiveLimits()).files
    found, confirming, _ = identify_all(files)
    with open_default() as base:
        return correlate(found, files, base, confirming)


def _linux_style(source: bytes, header: bool) -> tuple[bytes, bool]:
    """``source`` with its first comment replaced by an SPDX line and a short notice, its
    indentation in tabs, and zstd's includes rewritten as Linux does; and whether an include
    was rewritten (its code changed)."""
    spdx = (
        b"/* SPDX-License-Identifier: GPL-2.0+ OR BSD-3-Clause */"
        if header
        else (b"// SPDX-License-Identifier: GPL-2.0+ OR BSD-3-Clause")
    )
    notice = spdx + b"\n/*\n * Imported into the bootloader from the kernel's copy.\n */"
    text, heads = _FIRST_COMMENT.subn(notice, source, count=1)
    if not heads:
        text = notice + b"\n" + source
    rewritten = 0
    for pattern, replacement in _LINUX_INCLUDES:
        text, n = pattern.subn(replacement, text)
        rewritten += n
    text = re.sub(rb"(?m)^((?:    )+)", lambda m: b"\t" * (len(m.group(1)) // 4), text)
    return text, rewritten > 0


def test_a_headerless_copy_with_rewritten_heads_is_named_by_its_code(
    releases: dict[str, Any], tmp_path: Path
) -> None:
    # inside a U-Boot tree (its real top Makefile names it; the KB holds no U-Boot release)
    release = releases["zstd/trixie"]
    boot = releases["u-boot/bookworm"]
    tree = tmp_path / "u-boot"
    tree.mkdir()
    shutil.copyfile(boot.path / "Makefile", tree / "Makefile")
    written: list[str] = []
    code_kept: list[str] = []
    for folder in ("common", "decompress"):
        for file in sorted((release.path / "lib" / folder).iterdir()):
            if not file.is_file() or file.suffix not in (".c", ".h"):
                continue
            edited, code_changed = _linux_style(file.read_bytes(), file.suffix == ".h")
            assert edited != file.read_bytes()
            target = tree / "lib" / "zstd" / folder / file.name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(edited)
            written.append(f"lib/{folder}/{file.name}")
            if not code_changed and len(tokens(edited)) >= MIN_TOKENS:
                code_kept.append(f"lib/zstd/{folder}/{file.name}")
    assert not (tree / "lib" / "zstd" / "zstd.h").exists()
    assert len(code_kept) >= 10, "the rewrite should leave most files' code as it was"

    copies = {(c.name, c.root): c for c in _copies(tree, tmp_path / "work")}
    assert set(copies) == {("u-boot", ""), ("zstd", "lib/zstd")}, copies
    assert copies[("u-boot", "")].version == boot.version
    copy = copies[("zstd", "lib/zstd")]
    assert copy.version == release.version, copy
    assert sorted(copy.evidence) == sorted(code_kept)[: len(copy.evidence)]
    with open_default() as base:
        in_lib = [p for p in base.release_files("zstd", release.version) if p.startswith("lib/")]
    assert set(written) <= set(in_lib)
    # every file's bytes changed, so none is unchanged and each one is a modified release file;
    # lib/common is whole, so the copy is partial (a top folder of the release present)
    assert copy.files["unchanged"] == 0
    assert copy.files["modified"] == len(written)
    assert copy.files["added"] == 0
    assert copy.files["missing"] == len(in_lib) - len(written)
    assert copy.kind.value == "partial"
    assert "derived" in copy.qualifiers


def test_unrelated_code_named_like_release_files_makes_no_copy(
    releases: dict[str, Any], tmp_path: Path
) -> None:
    # real C code that is no release of the KB (U-Boot's own drivers) under the paths of
    # zstd's files, and licence-only files (no tokens) at the paths of zstd's files and of the
    # release files that have no tokens either (empty files of wolfssl, musl, ...)
    release = releases["zstd/trixie"]
    boot = releases["u-boot/bookworm"].path
    with open_default() as base:
        paths = sorted(base.release_files("zstd", release.version))
        empty = Counter((r.name, r.version, r.path) for r in base.by_hash(normalised_hash(b"")))
    most = Counter((name, version) for name, version, _ in empty).most_common(1)[0][0]
    token_less = sorted(p for name, version, p in empty if (name, version) == most)
    assert len(token_less) >= 3
    vendor = sorted(p for p in (boot / "drivers" / "core").rglob("*.[ch]") if p.is_file())
    assert len(vendor) >= 20
    tree = tmp_path / "vendor"
    for index, path in enumerate(paths):
        code = tree / "board" / path
        code.parent.mkdir(parents=True, exist_ok=True)
        code.write_bytes(vendor[index % len(vendor)].read_bytes())
        stub = tree / "stubs" / path
        stub.parent.mkdir(parents=True, exist_ok=True)
        stub.write_bytes(b"/* SPDX-License-Identifier: GPL-2.0+ */\n/* (c) vendor %d */\n" % index)
    for index, path in enumerate(token_less):
        stub = tree / "empty" / path
        stub.parent.mkdir(parents=True, exist_ok=True)
        stub.write_bytes(b"/* SPDX-License-Identifier: MIT */\n/* empty %d */\n" % index)

    work = tmp_path / "work"
    files = ingest(tree, work, ArchiveLimits()).files
    with open_default() as base:
        content = NormalisedContent(base)
        assert sum(content.nhash(f) is not None for f in files) > len(paths) // 2  # tokenized
        assert found_by_files(files, base, content) == []
    assert _copies(tree, tmp_path / "work2") == ()
