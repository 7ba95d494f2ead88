"""Debian provenance and patches; ``ar`` members with GNU long names."""

from __future__ import annotations

import gzip
import subprocess
from pathlib import Path

from assay.formats import ar
from assay.rebuild.debian import SUITE_COMPILERS, patches, provenance
from support import write_tree

PATCH = """--- a/src/a.c
+++ b/src/a.c
@@ -1 +1 @@
-int a;
+int a = 1;
--- a/include/b.h
+++ b/include/b.h
@@ -1 +1 @@
-#define B 1
+#define B 2
"""


def test_patches_name_the_compiled_files(tmp_path: Path) -> None:
    debian = write_tree(tmp_path / "debian", {
        "patches/series": "# in order\nfix-a.patch -p1\n\nnew-file.patch\n../escape.patch\n",
        "patches/fix-a.patch": PATCH,
        "patches/new-file.patch": "--- /dev/null\n+++ b/docs/new.txt\n@@ -0,0 +1 @@\n+x\n",
    })  # fmt: skip
    build = write_tree(tmp_path / "build", {"src/a.c": "int a;\n", "src/a.o": b"\x7fELF",
                                            "include/b.h": "#define B 1\n"})  # fmt: skip
    assert patches(debian, build) == (
        "Debian patch fix-a.patch touches include/b.h, src/a.c; "
        "compiled into the artefact: src/a.c",
        "Debian patch new-file.patch touches docs/new.txt",
    )


def test_provenance_from_the_debian_changelog(tmp_path: Path) -> None:
    doc = tmp_path / "usr/share/doc/zlib1g"
    doc.mkdir(parents=True)
    entry = "zlib (1:1.2.11.dfsg-2+deb11u2) bullseye-security; urgency=medium\n\n  * Fix.\n"
    (doc / "changelog.Debian.gz").write_bytes(gzip.compress(entry.encode()))
    found = provenance(tmp_path)
    assert found is not None
    assert "Debian bullseye-security as zlib 1:1.2.11.dfsg-2+deb11u2" in found
    assert f"bullseye's default compiler is {SUITE_COMPILERS['bullseye']}" in found
    assert provenance(tmp_path / "usr") is None


def test_ar_members_with_long_names(tmp_path: Path) -> None:
    names = ["short.o", "a-rather-long-member-name.o"]
    for name in names:
        (tmp_path / name).write_bytes(name.encode() * 3)
    subprocess.run(["ar", "rcD", "lib.a", *names], cwd=tmp_path, check=True)
    members = ar.members((tmp_path / "lib.a").read_bytes())
    assert [(m.name, m.data) for m in members] == [(n, n.encode() * 3) for n in names]
    assert {(m.mtime, m.owner, m.mode) for m in members} == {("0", "0/0", "644")}
