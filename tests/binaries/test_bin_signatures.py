"""Version signatures of binaries on the exact bytes each row's comment quotes."""

from __future__ import annotations

import re

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
        (b"BZ2_bzlibVersion\0\x001.0.8, 13-Jul-2019\0", "x", ("bzip2", "1.0.8")),
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
        (b"", "ld-uClibc-0.9.33.2.so", ("uclibc", "0.9.33.2")),
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


def test_versioned_hit_replaces_unversioned_one() -> None:
    hits = detect(b"", "ld-uClibc.so.0") + detect(b"", "ld-uClibc-1.0.45.so")
    assert {h.version for h in hits} == {None, "1.0.45"}
    assert [h.version for h in detect(b"", "ld-uClibc-1.0.45.so")] == ["1.0.45"]


def test_rows_use_source_signature_names() -> None:
    import tomllib
    from importlib import resources

    text = (resources.files("assay") / "rules" / "signatures.toml").read_text("utf-8")
    source = {table["name"] for table in tomllib.loads(text).values()}
    binary = {row.library for row in signatures()}
    # Products named only in binaries (issue 17) are allowed; a product in both tables must
    # be spelt the same (no "wpa-supplicant" beside "wpa_supplicant").
    spelling = {name.replace("-", "").replace("_", ""): name for name in source}
    assert {n for n in binary if spelling.get(n.replace("-", "").replace("_", ""), n) != n} == set()
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9_.+-]*", name) for name in binary)
    assert toolchain_libraries() == {"glibc", "uclibc", "musl"}
