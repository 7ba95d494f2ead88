"""Issue 17, second half of the products: network daemons, VPN, OpenWrt and RTOS in binaries.

Each product with a Debian binary package is named, with the upstream version of the package
that was downloaded (``debian_binaries.upstream_version`` of the manifest version; no product
needs more normalisation), in two architectures chosen so that amd64, arm64, armhf, mipsel and
i386 all appear. Then every row of ``rules/binary_signatures.toml`` runs over every package
downloaded here, and no product may be named that the package does not contain (the few
exceptions are listed with their reason). lwIP has no version string in Debian's library, so
its version is checked on objects compiled here from Debian's lwIP source, natively and for
big-endian MIPS. OpenWrt's own programs and the other RTOS are not in Debian (their rows say
so and are unit-tested on the bytes they quote: tests/binaries/test_bin_nearby.py).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path

import pytest

from assay.analyze import binaries
from assay.analyze.binaries import elf, nearby
from assay.analyze.binaries.signatures import detect, row_hits, signatures
from assay.analyze.interface import Content
from assay.model import FileKind

_TOOLS = Path(__file__).resolve().parents[2] / "tools"
if str(_TOOLS) not in sys.path:
    sys.path.insert(0, str(_TOOLS))

import debian_binaries  # noqa: E402  (tools/ is a plain script folder)
from upstream import Release  # noqa: E402

pytestmark = pytest.mark.realworld

PAIRS = (("amd64", "mipsel"), ("arm64", "i386"), ("armhf", "amd64"), ("mipsel", "arm64"),
         ("i386", "armhf"))  # fmt: skip
"""Architecture pairs, taken in turn: each architecture is checked about equally often."""

PRODUCTS: tuple[tuple[str, str, str], ...] = (
    ("dnsmasq", "dnsmasq-base", "bookworm"), ("hostapd", "hostapd", "bookworm"),
    ("wpa_supplicant", "wpasupplicant", "bookworm"), ("lighttpd", "lighttpd", "bookworm"),
    ("nginx", "nginx", "bookworm"), ("mini_httpd", "mini-httpd", "bookworm"),
    ("civetweb", "libcivetweb1", "bookworm"), ("libmicrohttpd", "libmicrohttpd12", "bookworm"),
    ("miniupnpd", "miniupnpd-nftables", "bookworm"), ("libupnp", "libupnp13", "bookworm"),
    ("ppp", "ppp", "bookworm"), ("ntp", "ntp", "bullseye"), ("ntpsec", "ntpsec", "bookworm"),
    ("chrony", "chrony", "bookworm"), ("avahi", "avahi-daemon", "bookworm"),
    ("mosquitto", "mosquitto", "bookworm"), ("vsftpd", "vsftpd", "bookworm"),
    ("proftpd", "proftpd-core", "bookworm"), ("openssh", "openssh-client", "bookworm"),
    ("samba", "libsmbclient", "bookworm"), ("frr", "frr", "bookworm"),
    ("bind", "bind9-host", "bookworm"), ("unbound", "libunbound8", "bookworm"),
    ("dhcpcd", "dhcpcd-base", "bookworm"), ("isc-dhcp", "isc-dhcp-client", "bookworm"),
    ("radvd", "radvd", "bookworm"), ("openvpn", "openvpn", "bookworm"),
    ("strongswan", "strongswan-charon", "bookworm"), ("libreswan", "libreswan", "bookworm"),
    ("socat", "socat", "bookworm"), ("rsync", "rsync", "bookworm"),
    ("net-snmp", "libsnmp40", "bookworm"), ("tcpdump", "tcpdump", "bookworm"),
    ("libpcap", "libpcap0.8", "bookworm"), ("keepalived", "keepalived", "bookworm"),
    ("haproxy", "haproxy", "bookworm"), ("squid", "squidclient", "bookworm"),
    ("wireguard-tools", "wireguard-tools", "bookworm"), ("xl2tpd", "xl2tpd", "bookworm"),
    ("igmpproxy", "igmpproxy", "bookworm"), ("lldpd", "lldpd", "bookworm"),
    ("iw", "iw", "bookworm"), ("ethtool", "ethtool", "bookworm"),
    ("ebtables", "ebtables", "bookworm"), ("conntrack-tools", "conntrack", "bookworm"),
    ("ipset", "libipset13", "bookworm"), ("wget", "wget", "bookworm"),
)  # fmt: skip
"""(product, smallest Debian package that carries its version, suite). ntp left Debian after
bullseye (bookworm's ntp is a transition package to ntpsec); samba, bind and squid are read
from their smallest packages: libsmbclient, bind9-host and squidclient."""

CASES = [
    *((product, package, suite, arch)
      for index, (product, package, suite) in enumerate(PRODUCTS)
      for arch in PAIRS[index % len(PAIRS)]),
    # OpenWrt's dropbear stand-in: Debian's 32-bit router architectures.
    ("dropbear", "dropbear-bin", "bookworm", "armhf"),
    ("dropbear", "dropbear-bin", "bookworm", "mipsel"),
    # rows for programs of other packages: bind's library file names, squid's server token,
    # unbound-host's version, strongSwan's starter
    ("bind", "bind9-libs", "bookworm", "amd64"), ("squid", "squid", "bookworm", "armhf"),
    ("unbound", "unbound-host", "bookworm", "i386"),
    ("strongswan", "strongswan-starter", "bookworm", "armhf"),
]  # fmt: skip
UNVERSIONED = [("lwip", "liblwip0", "bookworm", "arm64"), ("lwip", "liblwip0", "bookworm", "i386")]
"""Products whose Debian build carries no version string: named without one."""

_HEADER_TEXT = ("the version text of the headers it was built with (binsigA's rows read it); the "
                "library itself is linked dynamically")  # fmt: skip
ALSO_NAMED: dict[str, dict[str, str]] = {
    "haproxy": {"pcre2": _HEADER_TEXT},
    "libreswan": {"libevent": _HEADER_TEXT},
    "mosquitto": {"libwebsockets": _HEADER_TEXT},
    "bind9-libs": {"openssl": "libbind9 keeps the OpenSSL version text it was compiled with (for "
                   "its version report) but neither imports OpenSSL's functions nor needs "
                   "libcrypto itself: libisc does"},
}  # fmt: skip
"""Products a package may name besides its own, with the reason (the negative check). OpenSSL's
version text in the programs that import libcrypto's functions (haproxy, hostapd, nginx, ntp,
ntpsec, proftpd-core, wpasupplicant) is not named: its row has ``api`` prefixes."""


def _specs() -> list[tuple[str, str, str]]:
    return sorted({(p, s, a) for _, p, s, a in (*CASES, *UNVERSIONED)})


@pytest.fixture(scope="module")
def downloaded() -> dict[tuple[str, str, str], debian_binaries.Binary]:
    """Every package of this module, fetched in parallel (cached after the first run)."""

    def one(spec: tuple[str, str, str]) -> debian_binaries.Binary | str:
        try:
            return debian_binaries.fetch(*spec)
        except debian_binaries.BinaryError as exc:
            return str(exc)

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = dict(zip(_specs(), pool.map(one, _specs()), strict=True))
    failed = [text for text in results.values() if isinstance(text, str)]
    if failed:
        pytest.fail(f"could not download: {failed}")
    return {spec: b for spec, b in results.items() if isinstance(b, debian_binaries.Binary)}


def _elves(root: Path) -> list[Path]:
    found = [
        path
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.is_symlink() and path.read_bytes()[:4] == b"\x7fELF"
    ]
    assert found, f"no ELF file in {root}"
    return found


@cache
def _named(root: Path) -> frozenset[tuple[str, str | None]]:
    """(product, version) the ``binaries`` analyzer names in any ELF file of a package."""
    analyzer = binaries.configure({})
    names: set[tuple[str, str | None]] = set()
    for path in _elves(root):
        content = Content(path.read_bytes(), FileKind.ELF, path.name)
        components = analyzer.analyze_content(content).data["components"]
        assert isinstance(components, list)
        names.update((name, version) for name, version, _ in components)
    return frozenset(names)


@pytest.mark.parametrize(("product", "package", "suite", "arch"), CASES)
def test_product_is_named_with_the_package_version(
    downloaded: dict[tuple[str, str, str], debian_binaries.Binary],
    product: str,
    package: str,
    suite: str,
    arch: str,
) -> None:
    binary = downloaded[(package, suite, arch)]
    expected = debian_binaries.upstream_version(binary.version)
    versions = {version for name, version in _named(binary.path) if name == product}
    assert versions == {expected}, (binary, sorted(_named(binary.path), key=str))


@pytest.mark.parametrize(("product", "package", "suite", "arch"), UNVERSIONED)
def test_product_without_a_version_string_is_named(
    downloaded: dict[tuple[str, str, str], debian_binaries.Binary],
    product: str,
    package: str,
    suite: str,
    arch: str,
) -> None:
    binary = downloaded[(package, suite, arch)]
    assert (product, None) in _named(binary.path), binary


def test_no_package_names_a_product_it_does_not_contain(
    downloaded: dict[tuple[str, str, str], debian_binaries.Binary],
) -> None:
    own = {package: product for product, package, _, _ in (*CASES, *UNVERSIONED)}
    wrong = {}
    for (package, _, arch), binary in downloaded.items():
        allowed = {own[package], *ALSO_NAMED.get(package, {})}
        extra = {(n, v) for n, v in _named(binary.path) if n not in allowed}
        if extra:
            wrong[f"{package}/{arch}"] = sorted(extra, key=str)
    assert wrong == {}


def test_every_row_of_these_products_finds_its_version_somewhere(
    downloaded: dict[tuple[str, str, str], debian_binaries.Binary],
) -> None:
    """detect() keeps one hit per version, so each row is also run alone: every row of the
    products checked here names the package's version in at least one downloaded file."""
    checked = {product for product, *_ in CASES}
    rows = [row for row in signatures() if row.library in checked]
    unfired = {f"{row.library}/{row.id}" for row in rows}
    for product, package, suite, arch in CASES:
        binary = downloaded[(package, suite, arch)]
        expected = debian_binaries.upstream_version(binary.version)
        for path in _elves(binary.path):
            data = path.read_bytes()
            strings = elf.read_elf_and_strings(data)[1]
            for row in rows:
                if row.library == product and any(
                    hit.version == expected for hit in row_hits(row, data, path.name, strings)
                ):
                    unfired.discard(f"{row.library}/{row.id}")
    assert unfired == set()


@pytest.mark.parametrize("arch", ["armhf", "mipsel"])
def test_dropbear_version_without_the_ident(
    downloaded: dict[tuple[str, str, str], debian_binaries.Binary], arch: str
) -> None:
    """OpenWrt builds dropbear with IDENT_VERSION_PART "": the ident is "SSH-2.0-dropbear" and
    the version survives only as the argument of "Dropbear v%s". Debian's armhf and mipsel
    builds, with the version cut out of their idents, are read the same way."""
    binary = downloaded[("dropbear-bin", "bookworm", arch)]
    expected = debian_binaries.upstream_version(binary.version)
    server = binary.path / "usr" / "sbin" / "dropbear"
    data = server.read_bytes()
    ident = b"SSH-2.0-dropbear_" + expected.encode()
    assert ident in data
    openwrt = data.replace(ident, b"SSH-2.0-dropbear".ljust(len(ident), b"\0"))
    assert b"dropbear_" + expected.encode() not in openwrt
    hits = detect(openwrt, "dropbear", elf.read_elf_and_strings(openwrt)[1])
    assert [(h.library, h.version, h.signature) for h in hits if h.library == "dropbear"] == [
        ("dropbear", expected, "dropbear/version-argument")
    ]
    row = next(r for r in signatures() if r.library == "dropbear" and r.near is not None)
    assert row.pattern is not None and row.near is not None
    match = nearby.nearest(row.pattern, row.near, elf.read_elf_and_strings(data)[1], row.window)
    assert match is not None and match.group("version").decode() == expected


_LWIP_OPTIONS = b"#define NO_SYS 1\n#define SYS_LIGHTWEIGHT_PROT 0\n#define LWIP_SOCKET 0\n"


@pytest.mark.parametrize("compiler", ["gcc", "mips-linux-gnu-gcc"])
def test_lwip_built_from_its_debian_source(
    tmp_path: Path, upstream: Callable[[str], Release], compiler: str
) -> None:
    """pbuf.c (assertions on, lwIP's default) and the HTTP client, whose user agent carries
    LWIP_VERSION_STRING, compiled into a shared object as a firmware build would link them."""
    tool = shutil.which(compiler)
    if tool is None:
        pytest.fail(f"{compiler} is not installed (tools/system-deps.sh installs it)")
    release = upstream("lwip/bookworm")
    (tmp_path / "arch").mkdir()
    (tmp_path / "arch" / "cc.h").write_bytes(b"")
    (tmp_path / "lwipopts.h").write_bytes(_LWIP_OPTIONS)
    src = release.path / "src"
    out = tmp_path / "liblwip-part.so"
    command = [tool, "-shared", "-fPIC", "-O2", f"-I{tmp_path}", f"-I{src / 'include'}",
               "-o", str(out), str(src / "core" / "pbuf.c"),
               str(src / "apps" / "http" / "http_client.c")]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    data = out.read_bytes()
    hits = detect(data, out.name, elf.read_elf_and_strings(data)[1])
    assert {(h.library, h.version) for h in hits} == {("lwip", release.version)}
    assert "lwip/httpd-banner" in {h.signature for h in hits}
    no_version = data.replace(b"lwIP/", b"lwXP/")
    hits = detect(no_version, out.name, elf.read_elf_and_strings(no_version)[1])
    assert [(h.library, h.version, h.signature) for h in hits] == [("lwip", None, "lwip/assertion")]
