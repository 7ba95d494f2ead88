"""``assay rebuild`` on real upstream sources, and against a Debian binary built by GCC 10."""

from __future__ import annotations

import subprocess
import sys
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from assay import sandbox
from assay.rebuild.debian import SUITE_COMPILERS
from assay.rebuild.engine import RebuildOptions, rebuild

_TOOLS = Path(__file__).resolve().parents[2] / "tools"
if str(_TOOLS) not in sys.path:
    sys.path.insert(0, str(_TOOLS))

import debian_binaries  # noqa: E402  (tools/ is a plain script folder)
import upstream as _upstream  # noqa: E402

pytestmark = pytest.mark.realworld
Get = Callable[[str], Any]


@pytest.fixture(autouse=True)
def _bwrap() -> None:
    reason = sandbox.available()
    assert reason is None, f"the sandbox is needed (install bubblewrap): {reason}"


def _debian_dir(package: str, suite: str, dest: Path) -> Path:
    """The ``debian/`` directory of a source package, downloaded with tools/upstream's apt."""
    apt = _upstream._Apt(_upstream.cache_dir() / "apt")
    apt.ensure_ready()
    apt.download(package, suite, dest / "download")
    [tarball] = sorted((dest / "download").glob("*.debian.tar.*"))
    with tarfile.open(tarball) as archive:
        archive.extractall(dest / "unpacked", filter="data")
    return dest / "unpacked" / "debian"


def _run(tmp_path: Path, source: Path, build: str, globs: tuple[str, ...], **kw: Any) -> Any:
    options = RebuildOptions(source, build, globs, tmp_path / "out", timeout=900, **kw)
    return rebuild(options).sections["equivalence"]


def test_zlib_rebuilds_reproducibly(upstream: Get, tmp_path: Path) -> None:
    release = upstream("zlib/bookworm")
    section = _run(tmp_path, release.path, "./configure && make -j2 static shared",
                   ("libz.a", f"libz.so.{release.version}"))  # fmt: skip
    assert [b["status"] for b in section["builds"]] == ["ok", "ok"]
    assert [a["path"] for a in section["artefacts"]] == ["libz.a", f"libz.so.{release.version}"]
    assert [a["rebuilds"]["verdict"] for a in section["artefacts"]] == ["identical"] * 2
    assert section["reproducibility"] == {
        "compared": 2, "identical": 2, "equivalent": 2, "percent": 100.0
    }  # fmt: skip


def test_libpng_with_debug_info_names_the_build_path(upstream: Get, tmp_path: Path) -> None:
    assert Path("/usr/include/zlib.h").is_file(), (
        "libpng needs zlib's headers: apt install zlib1g-dev"
    )
    release = upstream("libpng1.6/bookworm")
    build = "./configure --disable-static CFLAGS='-O2 -g' >/dev/null && make -j2 libpng16.la"
    section = _run(tmp_path, release.path, build, (".libs/libpng16.so.*",))
    assert [b["status"] for b in section["builds"]] == ["ok", "ok"]
    [artefact] = section["artefacts"]
    pair = artefact["rebuilds"]
    assert pair["verdict"] == "equivalent-after-normalisation", pair
    assert pair["differences"] == []
    assert any(i.startswith(".note.gnu.build-id") for i in pair["ignored"])
    assert any("DWARF equal once the build paths are replaced" in i for i in pair["ignored"])
    causes = {c["kind"]: c["evidence"] for c in pair["causes"]}
    assert any(e.startswith("DW_AT_comp_dir:") for e in causes["build-path"])


def test_debian_bullseye_zlib_is_not_equivalent(upstream: Get, tmp_path: Path) -> None:
    release = upstream("zlib/bullseye")
    binary = debian_binaries.fetch("zlib1g", "bullseye", "amd64")
    assert debian_binaries.upstream_version(binary.version) == release.version
    debian = _debian_dir("zlib", "bullseye", tmp_path / "deb")
    name = f"libz.so.{release.version}"
    section = _run(tmp_path, release.path, "./configure && make -j2 shared", (name,),
                   shipped=binary.path, debian=debian)  # fmt: skip
    [artefact] = section["artefacts"]
    pair = artefact["shipped"]
    assert pair["verdict"] == "different"
    assert ".text" in pair["differences"] and pair["functions"]
    causes = {c["kind"]: c["evidence"] for c in pair["causes"]}
    here = subprocess.run(["gcc", "-dumpfullversion"], capture_output=True, text=True).stdout
    rebuilt, shipped = causes["toolchain"]
    assert rebuilt.startswith("rebuild-1 .comment:") and here.strip() in rebuilt
    assert "no .comment (stripped)" in shipped
    assert f"default compiler is {SUITE_COMPILERS['bullseye']}" in shipped
    assert f"{binary.version}" in shipped
    flags = " ".join(causes["flags"])
    assert "shipped imports __snprintf_chk" in flags
    assert "only shipped imports __stack_chk_fail" in flags
    series = (debian / "patches" / "series").read_text().split()
    patches = causes["distribution-patches"]
    assert [p.split()[3] for p in patches] == [f"{s}" for s in series]
    assert any("compiled into the artefact: deflate.c" in p for p in patches)
