"""A router release built from real Debian armhf parts, evaluated end to end as a user would.

``router_release.build`` makes a flash dump (a U-Boot image of Debian's armhf kernel and a
squashfs root file system of real Debian binaries, configuration files, an SSH host key and a
shadow file) beside the vendor's source tree (the real upstream dropbear release). The release
is evaluated with the command line (``python -m assay evaluate``, recorded in a history), and
every expectation comes from what was put in: the Debian package versions (their upstream
part, ``debian_binaries.upstream_version``), the kernel package's name, the files of the
built root file system, the values written into its secrets. Then the next release (zlib from
the next Debian suite, dnsmasq replaced by hostapd) is evaluated into the same history and
``assay diff`` / ``assay history`` must say what changed.

Both releases are built and evaluated once per module (the downloads are cached by
tools/debian_binaries.py and tools/upstream.py).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from elftools.elf.elffile import ELFFile
from router_release import KERNEL_OFFSET, ROOTFS_OFFSET, Built, build

from assay import sandbox as bwrap
from assay.analyze.secrets.redact import digest
from assay.assess.vulns.db import load as load_vulndb

_TOOLS = Path(__file__).resolve().parents[2] / "tools"
if str(_TOOLS) not in sys.path:
    sys.path.insert(0, str(_TOOLS))
from debian_binaries import upstream_version  # noqa: E402  (tools/ is a plain script folder)

pytestmark = pytest.mark.realworld

PRODUCT = "gateway"
ROOTFS = f"firmware.bin@{ROOTFS_OFFSET:#x}:squashfs"
"""The root file system's container, as assay names the carved region."""
UIMAGE = f"firmware.bin@{KERNEL_OFFSET:#x}:uimage"
"""The kernel's U-Boot image, as assay names the carved region."""

PRODUCT_OF = {
    "busybox-static": "busybox", "dropbear-bin": "dropbear", "dnsmasq-base": "dnsmasq",
    "wpasupplicant": "wpa_supplicant", "libssl3": "openssl", "libcurl4": "curl", "zlib1g": "zlib",
    "lighttpd": "lighttpd", "iptables": "iptables", "libxtables12": "iptables", "libc6": "glibc",
    "hostapd": "hostapd",
}  # fmt: skip
"""The product each Debian package of the root file system is (its upstream project)."""
BUNDLED = {
    "libtomcrypt": "dropbear's release carries its own copy of libtomcrypt (libtomcrypt/)",
}
"""Source copies found inside the dropbear release that is put into src/, with the reason."""


@dataclass
class Evaluated:
    """One release, built and evaluated into ``out``."""

    built: Built
    out: Path
    release: str
    db: Path

    @cached_property
    def doc(self) -> dict[str, Any]:
        """evaluation.json."""
        return _json(self.out / "evaluation.json")

    @cached_property
    def sbom(self) -> dict[str, Any]:
        """sbom.cdx.json."""
        return _json(self.out / "sbom.cdx.json")

    def findings(self, rule: str) -> list[dict[str, Any]]:
        """The findings of one rule."""
        return [f for f in self.doc["findings"] if f["rule_id"] == rule]

    def named(self) -> dict[tuple[str, str | None], tuple[str, ...]]:
        """(product, version) named in the shipped binaries -> the paths naming it."""
        return {(row["name"], row["version"]): tuple(row["paths"])
                for row in self.doc["binaries"]["components"]}  # fmt: skip


def _json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


_PROGRESS = re.compile(r"assay: (?:\w+ \d+(?:/\d+)? files, \d+ s|done in \d+ s)")


def assay(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the command line as a user does; it must succeed and print nothing on stderr but
    progress lines (stderr is no terminal here)."""
    done = subprocess.run([sys.executable, "-m", "assay", *args], capture_output=True,
                          text=True, timeout=1800)  # fmt: skip
    assert done.returncode == 0, (args, done.stdout[-2000:], done.stderr[-2000:])
    said = [line for line in done.stderr.splitlines() if not _PROGRESS.fullmatch(line)]
    assert said == [], done.stderr
    return done


def _evaluate(root: Path, variant: int, db: Path) -> Evaluated:
    built = build(root / f"build-{variant}", variant)
    out = root / f"out-{variant}"
    release = str(variant)
    assay("evaluate", str(built.release), "-o", str(out), "-j", "2", "-q", "--db", str(db),
          "--product", PRODUCT, "--release", release)  # fmt: skip
    return Evaluated(built, out, release, db)


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    problem = bwrap.available()
    if problem is not None:
        pytest.fail(f"the extraction sandbox does not work here: {problem}")
    return tmp_path_factory.mktemp("router")


@pytest.fixture(scope="module")
def first(root: Path) -> Evaluated:
    return _evaluate(root, 1, root / "history.sqlite")


@pytest.fixture(scope="module")
def second(first: Evaluated, root: Path) -> Evaluated:
    return _evaluate(root, 2, first.db)


def _rootfs_entries(built: Built) -> tuple[set[str], dict[str, str]]:
    """Regular files and symbolic links (-> target) of the built root file system."""
    files, links = set(), {}
    for path in built.rootfs.rglob("*"):
        rel = path.relative_to(built.rootfs).as_posix()
        if path.is_symlink():
            links[rel] = str(path.readlink())
        elif path.is_file():
            files.add(rel)
    return files, links


def _containers(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["path"]: c for c in doc["inventory"]["containers"]}


def _chain(path: str, containers: dict[str, dict[str, Any]]) -> list[str]:
    """The containers of ``path``, outermost first (docs/evaluation-json.md: every container
    whose path followed by ``!/`` starts the path), each followed up to the input by parent."""
    inner = max((c for c in containers if path.startswith(f"{c}!/")), key=len, default=None)
    chain = []
    while inner:
        chain.append(inner)
        inner = containers[inner]["parent"]
    return chain[::-1]


# --- the first release --------------------------------------------------------------------


def test_every_file_of_the_root_file_system_is_found_in_its_container(first: Evaluated) -> None:
    """evaluation.json's manifest lists every file with its innermost container; the chain of
    each root file system file leads out through the squashfs to the dump."""
    files, links = _rootfs_entries(first.built)
    inventory = first.doc["inventory"]
    rows = inventory["manifest"]["rows"]
    listed = [c["path"] for c in inventory["containers"]]
    found = {row[0].removeprefix(f"{ROOTFS}!/") for row in rows if row[0].startswith(f"{ROOTFS}!/")}
    assert found == files
    containers = _containers(first.doc)
    for path, _, _, _, index in rows:
        if path.startswith(f"{ROOTFS}!/"):
            assert listed[index] == ROOTFS, path
            assert _chain(path, containers) == ["firmware.bin", ROOTFS], path
    squashfs = containers[ROOTFS]
    assert (squashfs["format"], squashfs["parent"], squashfs["offset"]) == (
        "squashfs", "firmware.bin", ROOTFS_OFFSET)  # fmt: skip
    skipped_links = {s["path"]: s["detail"] for s in first.doc["skipped"] if s["reason"] == "link"}
    assert skipped_links == {f"{ROOTFS}!/{k}": f"symlink -> {v}" for k, v in links.items()}
    # the evaluation saw every file of src/ too, and counted what it listed
    sources = {p.relative_to(first.built.release).as_posix()
               for p in (first.built.release / "src").rglob("*") if p.is_file()}  # fmt: skip
    assert {row[0] for row in rows if row[0].startswith("src/")} == sources
    assert inventory["files"] == len(rows)
    assert inventory["symlinks"] == len(links)
    # every ELF file of the root file system went through the binaries analyzer
    elves = {rel for rel in files if (first.built.rootfs / rel).read_bytes()[:4] == b"\x7fELF"}
    assert sum(first.doc["binaries"]["architectures"].values()) == len(elves)


def test_the_bytes_between_the_images_are_accounted_for(first: Evaluated) -> None:
    """The carved regions of the dump follow each other without a gap from its first byte to
    its last: the kernel's between its offset and the root file system, erased flash after."""
    size = first.built.firmware.stat().st_size
    regions = sorted(
        (c for c in first.doc["inventory"]["containers"]
         if c["parent"] == "firmware.bin" and c["offset"] is not None),
        key=lambda c: c["offset"],
    )  # fmt: skip
    at = 0
    for region in regions:
        assert region["offset"] == at, (region, at)
        at += region["size"]
    assert at == size
    squashfs = next(r for r in regions if r["path"] == ROOTFS)
    assert squashfs["size"] == first.built.squashfs.stat().st_size
    after = [r for r in regions if r["offset"] > ROOTFS_OFFSET]
    assert [r["format"] for r in after] == ["padding"]
    assert set(first.built.firmware.read_bytes()[squashfs["offset"] + squashfs["size"]:]) == {
        0xFF}  # fmt: skip
    # the kernel is one region, the U-Boot image mkimage wrote, whole (what unblob finds
    # inside it, the zImage's xz stream, is read inside it, not beside it)
    images = [(r["path"], r["size"]) for r in regions if r["format"] not in ("unknown", "padding")]
    assert images == [(UIMAGE, first.built.uimage.stat().st_size), (ROOTFS, squashfs["size"])]


def test_the_kernel_is_found_with_its_release_and_version(first: Evaluated) -> None:
    release = first.built.kernel_package.removeprefix("linux-image-")
    version = upstream_version(first.built.kernel_version)
    containers = _containers(first.doc)
    kernels = [c for c in containers.values() if c["format"] == "linux-kernel"]
    assert [c["version"] for c in kernels] == [release]
    chain = _chain(f"{kernels[0]['path']}!/x", containers)
    assert chain[:2] == ["firmware.bin", UIMAGE]
    assert [containers[c]["format"] for c in chain[2:]] == ["zimage", "xz", "linux-kernel"]
    os_kernel = first.doc["binaries"]["os"]["kernel"]
    assert os_kernel["version"] == version
    assert os_kernel["support"]["status"] != "unknown-policy", os_kernel
    assert first.named()[("linux", version)] == (kernels[0]["path"],)
    systems = {(c["name"], c["version"]) for c in first.sbom["components"]
               if c["type"] == "operating-system"}  # fmt: skip
    assert ("linux", version) in systems
    libc = first.doc["binaries"]["os"]["libc"]
    assert (libc["name"], libc["version"]) == (
        "glibc", upstream_version(first.built.part("libc6").version))  # fmt: skip
    assert ("glibc", libc["version"]) in systems


def _expected_versions(built: Built) -> dict[str, set[str]]:
    """Product -> the upstream versions of the Debian packages that hold it."""
    expected: dict[str, set[str]] = defaultdict(set)
    for part in built.parts:
        expected[PRODUCT_OF[part.package]].add(upstream_version(part.version))
    return expected


def _paths_of(built: Built, product: str) -> set[str]:
    return {f"{ROOTFS}!/{f}" for p in built.parts if PRODUCT_OF[p.package] == product
            for f in p.files}  # fmt: skip


def check_products(evaluated: Evaluated) -> None:
    """Each product put in is named with its package's upstream version, on its own files, and
    with no other version anywhere: wpa_supplicant and hostapd keep the OpenSSL version text of
    the headers they were built with, but link libcrypto, so they hold no copy of it."""
    built = evaluated.built
    expected = _expected_versions(built)
    named = evaluated.named()
    kernel = upstream_version(built.kernel_version)
    assert {n for n, _ in named} == {*expected, "linux"}, sorted(named)
    for product, versions in expected.items():
        own = {v for (n, v), paths in named.items() if n == product
               and set(paths) & _paths_of(built, product)}  # fmt: skip
        assert own == versions, (product, named)
    assert {(n, v) for n, v in named if n != "linux"} == {
        (n, v) for n, versions in expected.items() for v in versions}  # fmt: skip
    assert {v for n, v in named if n == "linux"} == {kernel}
    sbom = {(c["name"], c["version"]) for c in evaluated.sbom["components"]}
    copies = {(c["name"], c["version"]) for c in evaluated.doc["components"]["copies"]}
    assert sbom == set(named) | copies


def test_each_product_is_named_with_its_package_version(first: Evaluated) -> None:
    check_products(first)


def test_named_products_carry_support_and_vulnerability_data(first: Evaluated) -> None:
    """Every product named in a binary is assessed; where assay's data has a support policy
    for it, the status is not "unknown-policy"; the CVEs reach the SBOM for that component."""
    vulndb = load_vulndb()
    assessment = first.doc["binaries"]["assessment"]
    assert set(assessment) == {f"{n}@{v}" for n, v in first.named()}
    unknown = []
    for key, row in assessment.items():
        policy = vulndb.policy(key.split("@")[0])
        assert policy is not None, key
        if policy.kind != "unknown" and row["support"] == "unknown-policy":
            unknown.append((key, policy.kind))
    assert unknown == []
    affects: dict[str, set[str]] = defaultdict(set)
    for vuln in first.sbom["vulnerabilities"]:
        for ref in vuln["affects"]:
            affects[ref["ref"]].add(vuln["id"])
    refs = {f"{c['name']}@{c['version']}": c["bom-ref"] for c in first.sbom["components"]}
    for key, row in assessment.items():
        assert {c["id"] for c in row["cves"]} <= affects[refs[key]], key
    assert any(row["cves"] for row in assessment.values())
    copies = first.doc["vulnerabilities"]["copies"]
    dropbear = copies[f"dropbear@{first.built.source.version}:src/dropbear-"
                      f"{first.built.source.version}"]  # fmt: skip
    assert dropbear["support"] != "unknown-policy"


def _shadow_hash(built: Built) -> str:
    line = (built.rootfs / "etc/shadow").read_text().splitlines()[0]
    return line.split(":")[1]


def _psk(built: Built) -> str:
    found = re.search(r'psk="([^"]+)"', (built.rootfs / "etc/wpa_supplicant.conf").read_text())
    assert found is not None
    return found[1]


def _host_key_body(built: Built) -> list[str]:
    key = built.rootfs / "etc/dropbear/dropbear_ed25519_host_key"
    return [line for line in key.read_text().splitlines() if not line.startswith("-----")]


def test_the_secrets_are_found_and_never_shown(first: Evaluated) -> None:
    built = first.built
    (shadow,) = first.findings("secrets/password-hash")
    assert shadow["path"] == f"{ROOTFS}!/etc/shadow"
    assert shadow["properties"]["user"] == "root"
    assert shadow["properties"]["value_sha256"] == digest(_shadow_hash(built))
    (key,) = first.findings("secrets/private-key-openssh")
    assert key["path"] == f"{ROOTFS}!/etc/dropbear/dropbear_ed25519_host_key"
    assert key["properties"]["encrypted"] is False
    psk = [f for f in first.findings("secrets/credential-literal") if f["path"].startswith(ROOTFS)]
    assert [(f["path"], f["properties"]["name"]) for f in psk] == [
        (f"{ROOTFS}!/etc/wpa_supplicant.conf", "psk")]  # fmt: skip
    assert psk[0]["properties"]["value_sha256"] == digest(_psk(built))
    for finding in (shadow, key, psk[0]):
        assert (finding["severity"], finding["properties"]["context"]) == ("high", "product")
    values = [_shadow_hash(built), _psk(built), *_host_key_body(built)]
    for name in ("evaluation.json", "results.sarif", "sbom.cdx.json", "report.html"):
        text = (first.out / name).read_text(encoding="utf-8")
        assert [v for v in values if v in text] == [], name


def test_the_dropbear_source_is_identified_as_its_release(first: Evaluated) -> None:
    source = first.built.source
    root = f"src/dropbear-{source.version}"
    copies = first.doc["components"]["copies"]
    dropbear = [c for c in copies if c["name"] == source.name]
    assert [(c["root"], c["version"], c["kind"]) for c in dropbear] == [(root, source.version,
                                                                          "full")]  # fmt: skip
    assert (dropbear[0]["files"]["modified"], dropbear[0]["files"]["missing"]) == (0, 0)
    others = {c["name"]: c["root"] for c in copies if c["name"] != source.name}
    assert set(others) == set(BUNDLED)
    assert all(r.startswith(f"{root}/") for r in others.values()), others
    # the shipped dropbear is the reviewed release: no mismatch for it
    assert upstream_version(first.built.part("dropbear-bin").version) == source.version
    mismatched = {f["evidence"] for f in first.findings("binaries/source-mismatch")}
    assert f"dropbear {source.version}" not in mismatched
    assert any(e.startswith("zlib ") for e in mismatched)  # zlib has no source here


def test_no_section_name_or_reverse_zone_is_a_public_endpoint(first: Evaluated) -> None:
    """The strings of an ELF file hold its section names (``.data.rel.ro`` looks like a host in
    Romania) and glibc's and dnsmasq's reverse-DNS zones: neither is a destination."""
    sections = set()
    for path in first.built.rootfs.rglob("*"):
        if path.is_file() and not path.is_symlink() and path.read_bytes()[:4] == b"\x7fELF":
            with path.open("rb") as handle:
                sections |= {s.name.lstrip(".") for s in ELFFile(handle).iter_sections()}
    assert "data.rel.ro" in sections
    public = {f["evidence"] for f in first.findings("endpoints/public-endpoint")
              if f["path"].startswith(ROOTFS)}  # fmt: skip
    assert public, "the binaries name public hosts (curl.se, dropbear's home page...)"
    assert public & sections == set()
    assert not [e for e in public if e.endswith(("in-addr.arpa", "ip6.arpa"))]


def test_library_strings_that_only_look_like_endpoints_are_not_findings(first: Evaluated) -> None:
    """libcrypto's ASN.1 field name ``value.ir`` (beside ``value.ip``, ``value.cr``...) and
    libcurl's ``1.2.0.4`` (the zlib version it compares with, beside zlib's ``1.2.x``) read as a
    host in Iran and a public address alone: the two libraries' public findings are exactly the
    URLs with a host name that a plain search over their bytes finds."""
    for name, string in (("usr/lib/libcrypto.so.3", b"value.ir"),
                         ("usr/lib/libcurl.so.4", b"1.2.0.4")):  # fmt: skip
        data = (first.built.rootfs / name).read_bytes()
        assert b"\0" + string + b"\0" in data, name
        urls = {u.decode() for u in re.findall(rb"https?://[\x21-\x7e]*", data)}
        named = {u for u in urls if "." in (urlsplit(u).hostname or "") and "%" not in u}
        public = {f["properties"]["value"] for f in first.findings("endpoints/public-endpoint")
                  if f["path"] == f"{ROOTFS}!/{name}"}  # fmt: skip
        assert public == named, name


def _expected_skips(evaluated: Evaluated) -> Iterator[tuple[str, str]]:
    _, links = _rootfs_entries(evaluated.built)
    for link in links:
        yield f"{ROOTFS}!/{link}", "link"


def check_skipped(evaluated: Evaluated) -> None:
    """Only the symbolic links of the root file system (never followed) and the device node
    of the kernel's built-in initramfs (Debian's default one: /dev/console) are skipped."""
    kernel = next(c["path"] for c in evaluated.doc["inventory"]["containers"]
                  if c["format"] == "linux-kernel")  # fmt: skip
    expected = set(_expected_skips(evaluated))
    unexpected = []
    for record in evaluated.doc["skipped"]:
        key = (record["path"], record["reason"])
        if key in expected:
            expected.discard(key)
        elif not (record["reason"] == "special-file" and record["path"].startswith(f"{kernel}@")
                  and record["path"].endswith(":initramfs!/dev/console")):  # fmt: skip
            unexpected.append(record)
    assert unexpected == []
    assert expected == set()


def test_nothing_unexpected_is_skipped(first: Evaluated) -> None:
    check_skipped(first)


# --- the next release, into the same history ----------------------------------------------


def test_next_release_is_evaluated_like_the_first(second: Evaluated) -> None:
    check_products(second)
    check_skipped(second)
    hostapd = [f for f in second.findings("secrets/credential-literal")
               if f["path"] == f"{ROOTFS}!/etc/hostapd.conf"]  # fmt: skip
    assert [f["properties"]["name"] for f in hostapd] == ["wpa_passphrase"]


def _shipped_figures(evaluated: Evaluated) -> dict[str, Any]:
    """``shipped.NAME.versions`` and ``.files`` as evaluation.json's binaries section gives
    them."""
    versions: dict[str, set[str]] = defaultdict(set)
    files: dict[str, int] = defaultdict(int)
    for row in evaluated.doc["binaries"]["components"]:
        files[row["name"]] += row["count"]
        if row["version"] is not None:
            versions[row["name"]].add(row["version"])
    return {
        **{f"shipped.{n}.versions": sorted(versions[n]) for n in files},
        **{f"shipped.{n}.files": count for n, count in files.items()},
    }


def test_diff_and_history_say_what_changed(first: Evaluated, second: Evaluated) -> None:
    db = str(first.db)
    old, new = f"{PRODUCT}@{first.release}", f"{PRODUCT}@{second.release}"
    diff = json.loads(assay("diff", old, new, "--db", db, "--json").stdout)
    figures = {f["figure"]: (f["old"], f["new"]) for f in diff["figures"] if f["changed"]}
    zlib = [upstream_version(e.built.part("zlib1g").version) for e in (first, second)]
    assert zlib[0] != zlib[1]
    assert figures["shipped.zlib.versions"] == ([zlib[0]], [zlib[1]])
    dnsmasq = upstream_version(first.built.part("dnsmasq-base").version)
    assert figures["shipped.dnsmasq.versions"] == ([dnsmasq], None)
    hostapd = upstream_version(second.built.part("hostapd").version)
    assert figures["shipped.hostapd.versions"] == (None, [hostapd])
    # every other shipped figure is as the two evaluation.json files say (openssl's header
    # text in hostapd adds a file naming it)
    sides = [_shipped_figures(e) for e in (first, second)]
    assert {k: v for k, v in figures.items() if k.startswith("shipped.")} == {
        k: (sides[0].get(k), sides[1].get(k)) for k in sides[0].keys() | sides[1].keys()
        if sides[0].get(k) != sides[1].get(k)}  # fmt: skip
    # the findings of the removed program are fixed, those of the added one new
    fixed = {f["path"] for f in diff["fixed"]}
    added = {f["path"] for f in diff["new_findings"]}
    assert f"{ROOTFS}!/usr/sbin/dnsmasq" in fixed and f"{ROOTFS}!/usr/sbin/hostapd" in added
    text = assay("diff", old, new, "--db", db).stdout.splitlines()
    assert f' * shipped.zlib.versions: ["{zlib[0]}"] -> ["{zlib[1]}"]' in text
    history = json.loads(assay("history", PRODUCT, "--db", db, "--json").stdout)
    assert [r["release"] for r in history] == [first.release, second.release]
    assert [r["headline"]["shipped"]["zlib"]["versions"] for r in history] == [[v] for v in zlib]
    assert "dnsmasq" not in history[1]["headline"]["shipped"]
    assert "hostapd" not in history[0]["headline"]["shipped"]
