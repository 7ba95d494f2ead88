"""Issue 17, binaries (first half): each product named with its version in real Debian packages.

For every product of the TLS/crypto, compression, system and library groups that Debian builds
with version evidence in the binary, its bookworm binary package is downloaded for two
architectures (``tools/debian_binaries.py``, cached; one apt-get call per architecture) and
every file the ``binaries`` analyzer wants is run through it, as the engine would. The product
must be named with the version of the package metadata (``upstream_version``, normalised per
product where the upstream release is written differently: see ``NORMALISE``), and no other
product may be named in a package except those listed in ``CONTAINED`` with the reason.

Products of the group that are not here have no version evidence in Debian's builds (nettle,
libffi, libusb, libnl, libmnl, libnetfilter_conntrack, gcc's runtime) or no Debian package
(libressl, polarssl, uClibc, uClibc-ng); their rows, if any, are marked "well-known" in
binary_signatures.toml. IJG's libjpeg is only in sid, which is used for it alone.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from assay.analyze import binaries
from assay.analyze.binaries import signatures
from assay.analyze.interface import Content
from assay.ingest.classify import classify
from assay.ingest.interface import SourceFile
from assay.model import FileKind

_TOOLS = Path(__file__).resolve().parents[2] / "tools"
if str(_TOOLS) not in sys.path:
    sys.path.insert(0, str(_TOOLS))

import debian_binaries  # noqa: E402  (tools/ is a plain script folder)

pytestmark = pytest.mark.realworld

SUITE = "bookworm"
PAIRS = (
    ("amd64", "arm64"), ("armhf", "i386"), ("mips64el", "amd64"), ("arm64", "armhf"),
    ("i386", "mips64el"),
)  # fmt: skip
"""Architecture pairs given to the products in turn, so that all five appear."""


@dataclass(frozen=True)
class Product:
    """A product and the bookworm binary package(s) that hold it."""

    name: str
    packages: tuple[str, ...]
    arches: tuple[str, str] | None = None
    """None: the next pair of ``PAIRS``."""
    suite: str = SUITE
    """Another suite only where bookworm has no package of the product."""


_PRODUCTS = [
    Product("openssl", ("libssl3",)),
    Product("boringssl", ("android-libboringssl",), ("amd64", "armhf")),
    Product("wolfssl", ("libwolfssl35",)),
    Product("mbedtls", ("libmbedcrypto7",)),
    Product("gnutls", ("libgnutls30",)),
    Product("libgcrypt", ("libgcrypt20",)),
    Product("libtomcrypt", ("libtomcrypt1",)),
    Product("nss", ("libnss3",)),
    Product("libsodium", ("libsodium23",)),
    Product("zlib", ("zlib1g",)),
    Product("bzip2", ("libbz2-1.0", "libbz2-dev")),
    Product("xz", ("liblzma5",)),
    Product("zstd", ("libzstd1",)),
    Product("lz4", ("liblz4-1", "liblz4-dev")),
    Product("lzo", ("liblzo2-2",)),
    Product("busybox", ("busybox",)),
    Product("toybox", ("toybox",)),
    Product("util-linux", ("util-linux",)),
    Product("e2fsprogs", ("e2fsprogs",)),
    Product("iptables", ("iptables",)),
    Product("nftables", ("libnftables1",)),
    Product("iproute2", ("iproute2",)),
    Product("sudo", ("sudo",)),
    Product("linux", ("linux-image-cloud-@",), ("amd64", "arm64")),
    Product("glibc", ("libc6",)),
    Product("musl", ("musl",)),
    Product("u-boot", ("u-boot-tools",)),
    Product("bash", ("bash",)),
    Product("coreutils", ("coreutils",)),
    Product("curl", ("libcurl4", "curl")),
    Product("expat", ("libexpat1",)),
    Product("libxml2", ("libxml2",)),
    Product("sqlite", ("libsqlite3-0",)),
    Product("json-c", ("libjson-c5",)),
    Product("cjson", ("libcjson1",)),
    Product("libevent", ("libevent-2.1-7",)),
    Product("pcre", ("libpcre3",)),
    Product("pcre2", ("libpcre2-8-0",)),
    Product("lua", ("liblua5.4-0",)),
    Product("ncurses", ("libtinfo6", "libncursesw6")),
    Product("readline", ("libreadline8",)),
    Product("dbus", ("libdbus-1-3",)),
    Product("bluez", ("bluez",)),
    Product("libssh", ("libssh-4",)),
    Product("libssh2", ("libssh2-1",)),
    Product("nghttp2", ("libnghttp2-14",)),
    Product("c-ares", ("libc-ares2",)),
    Product("openldap", ("ldap-utils",)),
    Product("libpng", ("libpng16-16",)),
    Product("libjpeg-turbo", ("libjpeg62-turbo",)),
    Product("libjpeg", ("libjpeg9",), ("amd64", "arm64"), "sid"),
    Product("libtiff", ("libtiff6",)),
    Product("libcap", ("libcap2",)),
    Product("libidn2", ("libidn2-0",)),
    Product("gmp", ("libgmp10",)),
    Product("libarchive", ("libarchive13",)),
    Product("jansson", ("libjansson4",)),
    Product("libyaml", ("libyaml-0-2",)),
    Product("protobuf-c", ("libprotobuf-c1",)),
    Product("libwebsockets", ("libwebsockets17",)),
    Product("libuv", ("libuv1",)),
    Product("krb5", ("libkrb5-3",)),
    Product("cyrus-sasl", ("libsasl2-2",)),
]
PRODUCTS = [
    p if p.arches else Product(p.name, p.packages, PAIRS[i % len(PAIRS)], p.suite)
    for i, p in enumerate(_PRODUCTS)
]


def _no_stable_tag(version: str) -> str:
    return version.removesuffix("-stable")


NORMALISE: dict[str, Callable[[str], str | None]] = {
    # Debian's upstream version "2.1.12-stable": the release is 2.1.12 (the tag is a channel)
    "libevent": _no_stable_tag,
    # BoringSSL has no releases: Debian's "13.0.0+r24" is the Android tag it was taken from
    "boringssl": lambda version: None,
}
"""Where the upstream release differs from ``upstream_version`` of the package."""

CONTAINED: dict[str, dict[str, str]] = {
    "sudo": {
        "protobuf-c": "sudo bundles protobuf-c (its lib/protobuf-c) and links it into sudo, "
        "sudo_intercept.so and the log server: a static copy without symbol names",
    },
}
"""Products named in a package other than its own, each with the reason it is really there."""
MODULES_READ = 40
"""Kernel modules read per kernel package (their vermagic is all alike)."""


@cache
def _package(package: str, arch: str) -> str:
    """The package name; ``linux-image-cloud-@`` is the metapackage's kernel of today."""
    if not package.endswith("@"):
        return package
    try:
        return debian_binaries.dependency(package.replace("@", arch), SUITE, arch)
    except debian_binaries.BinaryError as exc:
        pytest.fail(f"no kernel package behind {package}/{arch}: {exc}")


@pytest.fixture(scope="module")
def downloads() -> dict[tuple[str, str], debian_binaries.Binary]:
    """Every package of ``PRODUCTS`` on its two architectures. ``fetch_many`` downloads the
    missing packages of each architecture with one apt-get call (the cache is locked per
    download, so a thread pool would only queue on the lock)."""
    suites = {pkg: p.suite for p in PRODUCTS for pkg in p.packages}
    wanted = sorted({(pkg, arch) for p in PRODUCTS for pkg in p.packages for arch in p.arches})
    specs = [(_package(pkg, arch), suites[pkg], arch) for pkg, arch in wanted]
    try:
        fetched = debian_binaries.fetch_many(specs)
    except debian_binaries.BinaryError as exc:
        pytest.fail(f"could not download: {exc}")
    return {key: fetched[spec] for key, spec in zip(wanted, specs, strict=True)}


def _wanted(root: Path) -> list[tuple[Path, FileKind]]:
    """The files the analyzer wants, with their kind as ingest classifies them (kernel modules:
    the first ``MODULES_READ``)."""
    analyzer = binaries.configure({})
    files = []
    modules = 0
    for path in sorted(root.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        relative = str(path.relative_to(root))
        with path.open("rb") as handle:
            kind = classify(relative, handle.read(4096))
        if not analyzer.wants(SourceFile(relative, str(path), kind, 0, "")):
            continue
        if path.suffix == ".ko":
            modules += 1
            if modules > MODULES_READ:
                continue
        files.append((path, kind))
    return files


@cache
def _found(root: Path) -> dict[tuple[str, str | None], tuple[str, ...]]:
    """(product, version) -> the files naming it, over every wanted file of the package."""
    analyzer = binaries.configure({})
    found: dict[tuple[str, str | None], list[str]] = defaultdict(list)
    for path, kind in _wanted(root):
        content = Content(path.read_bytes(), kind, path.name)
        result = analyzer.analyze_content(content)
        for name, version, _ in result.data.get("components", ()):  # type: ignore[union-attr]
            found[(name, version)].append(str(path.relative_to(root)))
    return {key: tuple(paths) for key, paths in found.items()}


def _expected(product: str, binary: debian_binaries.Binary) -> str | None:
    version = debian_binaries.upstream_version(binary.version)
    return NORMALISE.get(product, lambda v: v)(version)


CASES = [(p, arch) for p in PRODUCTS for arch in p.arches]


@pytest.mark.parametrize(("product", "arch"), CASES, ids=[f"{p.name}-{a}" for p, a in CASES])
def test_product_named_with_the_package_version(
    product: Product, arch: str, downloads: dict[tuple[str, str], debian_binaries.Binary]
) -> None:
    for package in product.packages:
        binary = downloads[(package, arch)]
        expected = _expected(product.name, binary)
        found = _found(binary.path)
        versions = {version for name, version in found if name == product.name}
        assert expected in versions, (package, arch, expected, found)
        other = versions - {expected}
        if product.name == "linux":
            # modules state the kernel release "6.1.0-50-cloud-amd64" (vermagic), whose
            # version part is the ABI name of the package, not the Debian upstream release
            abi = binary.package.removeprefix("linux-image-").split("-")[0]
            other -= {abi}
        assert not other, f"{package}/{arch}: other {product.name} versions {other}: {found}"


@pytest.mark.parametrize(("product", "arch"), CASES, ids=[f"{p.name}-{a}" for p, a in CASES])
def test_no_product_named_outside_its_package(
    product: Product, arch: str, downloads: dict[tuple[str, str], debian_binaries.Binary]
) -> None:
    for package in product.packages:
        binary = downloads[(package, arch)]
        allowed = {product.name, *CONTAINED.get(package, {})}
        strangers = {key: paths for key, paths in _found(binary.path).items()
                     if key[0] not in allowed}  # fmt: skip
        assert not strangers, f"{package}/{arch} names {strangers}"


RENAMED = [
    (p, arch) for p, arch in CASES if any(
        s.library == p.name and s.pattern is not None for s in signatures.signatures()
    )
]  # fmt: skip
"""Products with a content row (cjson's version is only in its file name)."""


@pytest.mark.parametrize(("product", "arch"), RENAMED, ids=[f"{p.name}-{a}" for p, a in RENAMED])
def test_renamed_copy_is_named_from_its_content(
    product: Product, arch: str, downloads: dict[tuple[str, str], debian_binaries.Binary]
) -> None:
    """A library whose file name (soname) is gone is still named from its content."""
    binary = downloads[(product.packages[0], arch)]
    expected = _expected(product.name, binary)
    kinds = dict(_wanted(binary.path))
    path = next(
        binary.path / p for (n, v), paths in _found(binary.path).items() if n == product.name
        and v == expected for p in paths
    )  # fmt: skip
    kind = kinds[path]
    name = "vmlinuz" if product.name == "linux" and kind is not FileKind.ELF else "renamed.bin"
    result = binaries.configure({}).analyze_content(Content(path.read_bytes(), kind, name))
    named = {(n, v) for n, v, _ in result.data["components"]}  # type: ignore[union-attr]
    assert (product.name, expected) in named, (path, named)


@pytest.mark.parametrize("arch", next(p.arches for p in PRODUCTS if p.name == "sudo"))
def test_static_copy_inside_a_program_is_named(
    arch: str, downloads: dict[tuple[str, str], debian_binaries.Binary]
) -> None:
    """sudo carries protobuf-c linked in, with no libprotobuf-c file and no protobuf-c symbol
    name: it is named from its content (its assertion texts and version string)."""
    binary = downloads[("sudo", arch)]
    assert not list(binary.path.rglob("libprotobuf-c*")), "the package ships the library itself"
    named = {key: paths for key, paths in _found(binary.path).items() if key[0] == "protobuf-c"}
    assert named, _found(binary.path)
    assert {path.rpartition("/")[2] for paths in named.values() for path in paths} >= {"sudo"}
    assert all(version for _, version in named), named
