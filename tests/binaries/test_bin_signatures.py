"""Version signatures of binaries on the exact bytes each row's comment quotes."""

from __future__ import annotations

import pytest

from assay.analyze.binaries.signatures import detect, signatures, toolchain_libraries


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [
        (b"\0OpenSSL 3.0.20 7 Apr 2026\0", "libcrypto.so.3", ("openssl", "3.0.20")),
        (b"\0OpenSSL 1.0.2j  26 Sep 2016\0", "libcrypto.so.1.0.0", ("openssl", "1.0.2j")),
        (b"\0OpenSSL 1.0.2k-fips  26 Jan 2017\0", "x", ("openssl", "1.0.2k")),
        (b"\0LibreSSL 3.8.2\0", "x", ("libressl", "3.8.2")),
        (b"\0mbed TLS 2.28.3\0", "x", ("mbedtls", "2.28.3")),
        (b" deflate 1.2.3 Copyright 1995-2005 Jean-loup Gailly ", "x", ("zlib", "1.2.3")),
        (b" inflate 1.2.13 Copyright 1995-2022 Mark Adler ", "x", ("zlib", "1.2.13")),
        (b"", "libz.so.1.2.13", ("zlib", "1.2.13")),
        (b"bzip2/libbzip2: internal error number %d.\0\x001.0.8, 13-Jul-2019\0", "x",
         ("bzip2", "1.0.8")),
        (b"lzma_version_string\0\x005.4.1\0", "x", ("xz", "5.4.1")),
        (b"", "liblzma.so.5.4.1", ("xz", "5.4.1")),
        (b"ZSTD_versionString\0\x001.5.4\0", "x", ("zstd", "1.5.4")),
        (b"\0CLIENT libcurl 7.88.1\0", "x", ("curl", "7.88.1")),
        (b"\0libcurl/7.88.1\0", "x", ("curl", "7.88.1")),
        (b"\0expat_2.5.0\0", "x", ("expat", "2.5.0")),
        (b"", "libxml2.so.2.9.14", ("libxml2", "2.9.14")),
        (b"\0libpng version 1.6.39\0", "x", ("libpng", "1.6.39")),
        (b"sqlite3_libversion\0\x003.40.1\0", "x", ("sqlite", "3.40.1")),
        (b"Server: lwIP/2.1.3 (http://savannah.nongnu.org/projects/lwip)", "x", ("lwip", "2.1.3")),
        (b"\0BusyBox v1.35.0 (Debian 1:1.35.0-4+deb12u1+b1)\0", "x", ("busybox", "1.35.0")),
        (b"\0SSH-2.0-dropbear_2022.83\0", "x", ("dropbear", "2022.83")),
        (b"\0OpenSSH_9.2p1 Debian-2+deb12u3\0", "x", ("openssh", "9.2p1")),
        (b"Linux version 6.1.0-13-amd64 (debian-kernel@lists.debian.org) (gcc", "vmlinux",
         ("linux", "6.1.0")),
        (b"GNU C Library (Debian GLIBC 2.36-9+deb12u14) stable release version 2.36.", "x",
         ("glibc", "2.36")),
        (b"\0vermagic=5.10.0-23-amd64 SMP mod_unload modversions \0", "x.ko",
         ("linux", "5.10.0")),
        (b"bzip2/libbzip2: internal error number %d.\0\x001.0.6, 6-Sept-2010\0", "x",
         ("bzip2", "1.0.6")),
        (b"\0curl 7.88.1 (x86_64-pc-linux-gnu) %s\0", "curl", ("curl", "7.88.1")),
        (b"\x002022-12-28 14:03:47 df5c253c0b3dd24916e4ec7cf77d3db5294cc9fd45ae7b9c5e82ad8197f3alt1"
         b"\0", "x", ("sqlite", "3.40.1")),
        (b"Linux version 6.1.0-50-cloud-arm64 (debian-kernel@lists.debian.org) (gcc-12 (Debian "
         b"12.2.0-14+deb12u1) 12.2.0, GNU ld) #1 SMP Debian 6.1.176-1 (2026-07-02)\n\0", "Image",
         ("linux", "6.1.176")),
        (b"", "ld-uClibc-0.9.33.2.so", ("uclibc", "0.9.33.2")),
        (b"", "libuClibc-1.0.45.so", ("uclibc-ng", "1.0.45")),
        (b"\0PolarSSL 1.3.9\0", "x", ("polarssl", "1.3.9")),
        (b"", "ld-musl-armhf.so.1", ("musl", None)),
    ],
)  # fmt: skip
def test_row_finds_its_quoted_bytes(data: bytes, name: str, expected: tuple[str, str]) -> None:
    assert [(h.library, h.version) for h in detect(data, name)] == [expected]


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"\x003.40.1\0", "x"),  # a bare version without sqlite3_libversion
        (b"\x005.4.1\0", "x"),
        (b"OpenSSL 3.0 is great", "x"),
        (b"", "libz.so.1"),
    ],
)
def test_ambiguous_strings_are_not_components(data: bytes, name: str) -> None:
    assert detect(data, name) == ()


@pytest.mark.parametrize("version_function", ["OpenSSL_version", "SSLeay_version"])
def test_openssl_header_text_of_a_program_calling_the_shared_library_is_no_copy(
    version_function: str,
) -> None:
    # hostapd (bookworm, mipsel) holds OPENSSL_VERSION_TEXT of the headers it was built with,
    # an older release than the libcrypto.so.3 it runs with, and imports OpenSSL_version
    data = b"\0OpenSSL 3.0.16 11 Feb 2025\0" + version_function.encode() + b"\0"
    assert detect(data, "hostapd", imports=frozenset({version_function, "SSL_new"})) == ()
    # the library itself (or a program linking it statically) defines it: a copy
    found = detect(data, "libcrypto.so.3", imports=frozenset({"malloc"}))
    assert [(h.library, h.version) for h in found] == [("openssl", "3.0.16")]


def test_versioned_hit_replaces_unversioned_one() -> None:
    hits = detect(b"", "ld-uClibc.so.0") + detect(b"", "ld-uClibc-1.0.45.so")
    assert {h.version for h in hits} == {None, "1.0.45"}
    assert [h.version for h in detect(b"", "ld-uClibc-1.0.45.so")] == ["1.0.45"]


def test_rows_use_canonical_product_names() -> None:
    """Binary rows name products as purl names: lower case, and spelled as the source rows
    spell the same product (issue 17 adds binary-only products, such as iproute2 or bash,
    that have no source row yet)."""
    import re
    import tomllib
    from importlib import resources

    text = (resources.files("assay") / "rules" / "signatures.toml").read_text("utf-8")
    source = {table["name"] for table in tomllib.loads(text).values()}
    binary = {row.library for row in signatures()}
    assert [n for n in binary if not re.fullmatch(r"[a-z0-9][a-z0-9._+-]*", n)] == []
    folded = {re.sub(r"[-_.]", "", name): name for name in source}
    assert {n for n in binary if folded.get(re.sub(r"[-_.]", "", n), n) != n} == set()
    assert toolchain_libraries() == {"glibc", "uclibc", "uclibc-ng", "musl"}


def test_version_text_of_a_linked_library_is_not_a_copy() -> None:
    """wpa_supplicant keeps OpenSSL's OPENSSL_VERSION_TEXT of the headers it was built with and
    imports libcrypto's functions: it holds no OpenSSL. A file that defines them (libcrypto) or
    a static, stripped program that imports none still names it."""
    text = b"\0OpenSSL 3.0.16 11 Feb 2025\0"
    linked = frozenset({"EVP_CIPHER_CTX_new", "memcpy"})
    assert detect(text, "wpa_supplicant", imports=linked) == ()
    assert [(h.library, h.version) for h in detect(text, "wpa_supplicant",
                                                   imports=frozenset({"memcpy"}))] == [
        ("openssl", "3.0.16")]  # fmt: skip
    # the prefixes are OpenSSL's own: a library that only imports other symbols is not affected
    assert detect(b"\0libcurl/7.88.1\0", "libcurl.so.4", imports=linked)
    assert next(s for s in signatures() if s.library == "openssl").api
