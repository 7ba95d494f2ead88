"""A MIPS router release, evaluated with the command line as a user would.

``mips_release.build`` makes ``fw-update.bin`` (a TP-Link style header, a U-Boot image of
Debian's LZMA-compressed mipsel kernel, a squashfs of real mipsel Debian binaries) and
``config.jffs2`` (a little-endian JFFS2 configuration partition holding a password hash and a
private key) and ``data.ubi`` (a UBI image of a UBIFS volume holding a key), with the real
tools. ``python -m assay evaluate RELEASE -o OUT`` evaluates it;
every expectation comes from what was put in: the packages' versions, the kernel's release
as the package index names it, the files laid in the images.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from mips_release import BuildError, Release, build

from assay import sandbox as bwrap
from assay.ingest import ArchiveLimits, IngestResult, ingest

pytestmark = pytest.mark.realworld

PRODUCTS = {
    "busybox-static": "busybox", "dropbear-bin": "dropbear", "dnsmasq-base": "dnsmasq",
    "hostapd": "hostapd", "libc6": "glibc", "libssl3": "openssl", "zlib1g": "zlib",
}  # fmt: skip
"""The product each package's binaries are (the kernel's modules and image: ``linux``)."""
KINDS = {"linux": "operating-system", "glibc": "operating-system", "openssl": "library",
         "zlib": "library"}  # fmt: skip
"""The SBOM type of each product that is not a program."""
LIMITS = ArchiveLimits(max_total_bytes=1 << 30, max_depth=6)


@dataclass(frozen=True)
class Evaluated:
    release: Release
    out: Path
    stdout: str
    stderr: str
    doc: dict[str, Any]
    sbom: dict[str, Any]

    @property
    def rootfs(self) -> str:
        return f"fw-update.bin@{self.release.rootfs_offset:#x}:squashfs!/"


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory: pytest.TempPathFactory) -> Evaluated:
    problem = bwrap.available()
    if problem is not None:
        pytest.fail(f"the extraction sandbox does not work here: {problem}")
    base = tmp_path_factory.mktemp("mips")
    try:
        release = build(base / "release", base / "work")
    except BuildError as exc:
        pytest.fail(f"could not build the release: {exc}")
    out = base / "out"
    env = {**os.environ, "XDG_DATA_HOME": str(base / "data"),
           "ASSAY_CACHE_DIR": str(base / "cache")}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "assay", "evaluate", str(release.root), "-o", str(out), "-j", "2"],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    doc = json.loads((out / "evaluation.json").read_text(encoding="utf-8"))
    sbom = json.loads((out / "sbom.cdx.json").read_text(encoding="utf-8"))
    return Evaluated(release, out, done.stdout, done.stderr, doc, sbom)


@pytest.fixture(scope="module")
def ingested(evaluated: Evaluated, tmp_path_factory: pytest.TempPathFactory) -> IngestResult:
    """The release as ingest opens it (every file, with its bytes on disk)."""
    return ingest(evaluated.release.root, tmp_path_factory.mktemp("mips-work"), LIMITS)


def _kernel_top(result: IngestResult) -> str:
    """The path of the raw kernel the update file's U-Boot image holds."""
    (kernel,) = [c for c in result.containers if c.format == "linux-kernel"]
    return kernel.path


def test_every_file_and_link_of_both_images_is_reached(
    evaluated: Evaluated, ingested: IngestResult
) -> None:
    release, rootfs = evaluated.release, evaluated.rootfs
    files = {f.path: f for f in ingested.files}
    found = {p[len(rootfs) :]: Path(f.disk_path).read_bytes() for p, f in files.items()
             if p.startswith(rootfs)}  # fmt: skip
    assert sorted(found) == sorted(release.files)
    assert [p for p in found if found[p] != release.files[p]] == []
    links = {
        s.path[len(rootfs) :]: s.detail.removeprefix("symlink -> ")
        for s in ingested.skipped
        if s.reason == "link" and s.path.startswith(rootfs)
    }
    assert links == release.links
    config = {p.removeprefix("config.jffs2!/"): Path(f.disk_path).read_bytes()
              for p, f in files.items() if p.startswith("config.jffs2!/")}  # fmt: skip
    assert config == release.config_files
    (volume,) = [c.path for c in ingested.containers if c.format == "ubifs"]
    assert re.fullmatch(r"data\.ubi!/img-\d+_vol-rootfs_data\.ubifs", volume), volume
    data = {p.removeprefix(volume + "!/"): Path(f.disk_path).read_bytes()
            for p, f in files.items() if p.startswith(volume + "!/")}  # fmt: skip
    assert data == release.data_files


def test_the_kernel_is_read_from_the_uimage_with_the_release_its_package_names(
    evaluated: Evaluated, ingested: IngestResult
) -> None:
    release = evaluated.release
    (kernel,) = [c for c in ingested.containers if c.format == "linux-kernel"]
    assert kernel.version == release.kernel_release
    # the U-Boot image behind the vendor header is one region, its payload the kernel
    image = f"fw-update.bin@{release.uimage_offset:#x}:uimage"
    assert kernel.path == f"{image}!/kernel"
    files = {f.path: f for f in ingested.files}
    update = (release.root / "fw-update.bin").read_bytes()
    header = Path(files["fw-update.bin@0x0:unknown"].disk_path).read_bytes()
    assert header == update[: release.uimage_offset]
    assert (
        Path(files[image].disk_path).read_bytes().startswith(update[release.uimage_offset :][:64])
    )
    # Debian's ABI release (6.1.0-50-...) is not the upstream version: the kernel is the
    # package's upstream version, once, in binaries.os and in the SBOM
    upstream = _upstream(release.kernel_package.version)
    os_kernel = evaluated.doc["binaries"]["os"]["kernel"]
    assert os_kernel["version"] == upstream
    assert os_kernel["banners"] == [upstream]
    assert os_kernel["module_dirs"] == [release.kernel_release]
    systems = [c for c in evaluated.sbom["components"] if c.get("type") == "operating-system"]
    assert sorted((c["name"], c["version"]) for c in systems) == sorted(
        [("linux", upstream), ("glibc", _upstream(release.packages["libc6"].version))]
    )
    linux = next(c for c in systems if c["name"] == "linux")
    evidence = {p["name"]: p["value"] for p in linux.get("properties", [])}
    assert f"Linux version {release.kernel_release} " in evidence["assay:binary-evidence"]


def test_products_are_the_packages_with_their_upstream_versions_and_nothing_else(
    evaluated: Evaluated,
) -> None:
    release, rootfs = evaluated.release, evaluated.rootfs
    expected = {(PRODUCTS[name], _upstream(b.version)) for name, b in release.packages.items()}
    expected.add(("linux", _upstream(release.kernel_package.version)))
    components = evaluated.doc["binaries"]["components"]
    found = [(c["name"], c["version"]) for c in components]
    assert sorted(found) == sorted(expected), "unexpected or missing products (listed once each)"
    for component in components:  # each found in its own package's files
        for path in component["paths"]:
            if path.startswith(rootfs):
                origin = release.origin[path[len(rootfs) :]]
                assert PRODUCTS.get(origin, "linux") == component["name"], path
            else:
                assert component["name"] == "linux" and path.startswith("fw-update.bin@"), path
    sbom = sorted((c["name"], c["version"]) for c in evaluated.sbom["components"])
    assert sbom == sorted(expected)
    types = {c["name"]: c["type"] for c in evaluated.sbom["components"]}
    assert types == {name: KINDS.get(name, "application") for name, _ in expected}


def test_the_binaries_are_the_mipsel_ones_put_in_and_the_kernel_raises_no_false_alarm(
    evaluated: Evaluated, ingested: IngestResult
) -> None:
    release = evaluated.release
    elves = [p for p, data in release.files.items() if data.startswith(b"\x7fELF")]
    assert evaluated.doc["binaries"]["architectures"] == {"mips 32-bit little-endian": len(elves)}
    # nothing inside the raw kernel is taken for a program (its vDSO, its decompressor)
    kernel = _kernel_top(ingested)
    inside = [f.path for f in ingested.files if f.path.startswith(kernel + "@")]
    assert all(":initramfs" in p for p in inside), inside
    on_kernel = {f["rule_id"] for f in evaluated.doc["findings"] if f["path"].startswith(kernel)}
    assert on_kernel <= {"binaries/known-cve", "binaries/end-of-life"}, on_kernel


def test_section_names_of_the_binaries_are_no_endpoints(evaluated: Evaluated) -> None:
    from elftools.elf.elffile import ELFFile

    names = set()
    for data in evaluated.release.files.values():
        if data.startswith(b"\x7fELF"):
            names.update(
                s.name.lstrip(".").lower() for s in ELFFile(io.BytesIO(data)).iter_sections()
            )
    assert "data.rel.ro" in names
    endpoints = [f["evidence"] for f in evaluated.doc["findings"] if f["category"] == "endpoints"]
    assert [e for e in endpoints if e.lower() in names] == []
    # the resolvers' reverse-DNS trees (glibc, BusyBox, dnsmasq) are no endpoints either
    assert [e for e in endpoints if e.endswith((".in-addr.arpa", "ip6.arpa", "in-addr.arpa"))] == []


def test_the_config_partition_secrets_are_found_and_not_shown(evaluated: Evaluated) -> None:
    release = evaluated.release
    secrets = {(f["rule_id"], f["path"]): f for f in evaluated.doc["findings"]
               if f["category"] == "secrets"}  # fmt: skip
    volume = next(p for r, p in secrets if p.startswith("data.ubi!/"))
    assert volume.endswith("_vol-rootfs_data.ubifs!/etc/ssl/private/device.key")
    assert sorted(secrets) == [
        ("secrets/password-hash", "config.jffs2!/etc/shadow"),
        ("secrets/private-key-pem", "config.jffs2!/etc/uhttpd.key"),
        ("secrets/private-key-pem", volume),
    ]
    shadow = release.config_files["etc/shadow"].decode()
    hashed = next(line.split(":")[1] for line in shadow.splitlines() if line.startswith("root:"))
    account = secrets[("secrets/password-hash", "config.jffs2!/etc/shadow")]["properties"]
    assert account["user"] == "root"
    assert account["value_sha256"] == hashlib.sha256(hashed.encode()).hexdigest()[:8]
    key = release.config_files["etc/uhttpd.key"].decode()
    body = "".join(line for line in key.splitlines() if not line.startswith("-----"))
    for written in ("evaluation.json", "results.sarif", "report.html", "sbom.cdx.json"):
        text = (evaluated.out / written).read_text(encoding="utf-8")
        assert hashed not in text and body[:40] not in text, written


def test_coverage_lines_are_honest(evaluated: Evaluated, ingested: IngestResult) -> None:
    doc, release = evaluated.doc, evaluated.release
    skipped = doc["skipped"]
    links = {evaluated.rootfs + p for p in release.links}
    others = [s for s in skipped if s["path"] not in links]
    # Debian builds its kernels with the default built-in initramfs (/dev, /dev/console, /root)
    kernel = _kernel_top(ingested)
    assert [(s["path"].startswith(kernel + "@"), s["path"].rsplit(":", 1)[-1], s["reason"])
            for s in others] == [(True, "initramfs!/dev/console", "special-file")], (
        f"unexpected skipped records: {others}")  # fmt: skip
    assert sorted(s["path"] for s in skipped if s["reason"] == "link") == sorted(links)
    lines = evaluated.stdout.splitlines()
    assert f"  skipped: {len(skipped)} (reasons in evaluation.json)" in lines
    assert f"  files {doc['inventory']['files']}, analysed 0 paths (0 unique), 0 C/C++ lines " \
           "(0 unique)" in lines  # fmt: skip
    assert f"  verdict: {doc['rating']['why']}" in lines
    cves = {c["id"] for v in doc["binaries"]["assessment"].values() for c in v["cves"]}
    assert any(line.startswith(f"  vulnerabilities in binaries: {len(cves)} known CVEs")
               for line in lines), lines  # fmt: skip
    assert "Traceback" not in evaluated.stderr
    print(evaluated.stdout, evaluated.stderr, sep="\n")


def _upstream(version: str) -> str:
    from test_kernels_realworld import debian_binaries

    return str(debian_binaries.upstream_version(version))
