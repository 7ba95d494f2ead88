"""Version signatures on miniature headers: versions, qualifiers, forks and copy roots."""

from __future__ import annotations

from pathlib import Path

import pytest

from assay.correlate.components import signatures
from assay.correlate.components.copies import identify_all
from assay.correlate.components.signatures import (
    VersionEvidence,
    cpe,
    detect,
    load_signatures,
    wanted,
)
from assay.ingest import ArchiveLimits, ingest


def _found(path: str, text: str) -> list[tuple[str, str, tuple[str, ...], str]]:
    return [(e.library, e.version, e.qualifiers, e.root) for e in detect(path, text.encode())]


@pytest.mark.parametrize(
    ("path", "text", "library", "version", "qualifiers"),
    [
        (
            "include/openssl/opensslv.h",
            '# define OPENSSL_VERSION_TEXT    "OpenSSL 1.1.1w  11 Sep 2023"',
            "openssl",
            "1.1.1w",
            (),
        ),
        (
            "crypto/opensslv.h",
            '#  define OPENSSL_VERSION_TEXT "OpenSSL 1.0.2k-fips  26 Jan 2017"',
            "openssl",
            "1.0.2k",
            ("fips",),
        ),
        (
            "include/openssl/opensslv.h",
            '# define OPENSSL_VERSION_TEXT "OpenSSL 3.0.0-alpha17 20 May 2021"',
            "openssl",
            "3.0.0",
            ("alpha17",),
        ),
        (
            "include/openssl/opensslv.h",
            '# define OPENSSL_VERSION_TEXT "OpenSSL 3.1.0+fips 14 Mar 2023"',
            "openssl",
            "3.1.0",
            ("fips",),
        ),
        (
            "crypto/opensslv.h",
            '#define OPENSSL_VERSION_TEXT "OpenSSL 1.0.2-DEV  xx XXX xxxx"',
            "openssl",
            "1.0.2",
            ("dev",),
        ),
        (
            "VERSION.dat",
            "MAJOR=3\nMINOR=2\nPATCH=0\nPRE_RELEASE_TAG=beta1\nBUILD_METADATA=\n",
            "openssl",
            "3.2.0",
            ("beta1",),
        ),
        (
            "include/openssl/opensslv.h",
            '#define LIBRESSL_VERSION_TEXT\t"LibreSSL 3.8.2"',
            "libressl",
            "3.8.2",
            (),
        ),
        (
            "include/openssl/base.h",
            "#define BORINGSSL_API_VERSION 19",
            "boringssl",
            "",
            ("api-19",),
        ),
        ("wolfssl/version.h", '#define LIBWOLFSSL_VERSION_STRING "5.5.4"', "wolfssl", "5.5.4", ()),
        (
            "include/mbedtls/version.h",
            '#define MBEDTLS_VERSION_STRING_FULL    "mbed TLS 2.28.3"',
            "mbedtls",
            "2.28.3",
            (),
        ),
        (
            "include/mbedtls/build_info.h",
            '#define MBEDTLS_VERSION_STRING_FULL "Mbed TLS 3.6.0"',
            "mbedtls",
            "3.6.0",
            (),
        ),
        (
            "include/polarssl/version.h",
            '#define POLARSSL_VERSION_STRING_FULL "PolarSSL 1.3.9"',
            "polarssl",
            "1.3.9",
            (),
        ),
        (
            "include/polarssl/version.h",
            '#define POLARSSL_VERSION_STRING_FULL "mbed TLS 1.3.22"',
            "mbedtls",
            "1.3.22",
            (),
        ),
        ("zlib.h", '#define ZLIB_VERSION "1.2.13.1-motley"', "zlib", "1.2.13.1", ("motley",)),
        (
            "deflate.c",
            "const char deflate_copyright[] =\n"
            '   " deflate 1.2.3 Copyright 1995-2005 Jean-loup Gailly ";',
            "zlib",
            "1.2.3",
            (),
        ),
        (
            "zlib.h",
            '#define ZLIBNG_VERSION "2.1.6"\n#define ZLIB_VERSION "1.3.0.zlib-ng"',
            "zlib-ng",
            "2.1.6",
            (),
        ),
        ("bzlib_private.h", '#define BZ_VERSION  "1.0.8, 13-Jul-2019"', "bzip2", "1.0.8", ()),
        (
            "src/liblzma/api/lzma/version.h",
            "#define LZMA_VERSION_MAJOR 5\n#define LZMA_VERSION_MINOR 5\n"
            "#define LZMA_VERSION_PATCH 0\n"
            "#define LZMA_VERSION_STABILITY LZMA_VERSION_STABILITY_ALPHA\n",
            "xz",
            "5.5.0",
            ("alpha",),
        ),
        (
            "lib/zstd.h",
            "#define ZSTD_VERSION_MAJOR    1\n#define ZSTD_VERSION_MINOR    5\n"
            "#define ZSTD_VERSION_RELEASE  4\n",
            "zstd",
            "1.5.4",
            (),
        ),
        (
            "include/curl/curlver.h",
            '#define LIBCURL_VERSION "7.89.0-DEV"',
            "curl",
            "7.89.0",
            ("dev",),
        ),
        (
            "lib/expat.h",
            "#define XML_MAJOR_VERSION 2\n#define XML_MINOR_VERSION 5\n"
            "#define XML_MICRO_VERSION 0\n",
            "expat",
            "2.5.0",
            (),
        ),
        (
            "include/libxml/xmlversion.h",
            '#define LIBXML_DOTTED_VERSION "2.9.14"',
            "libxml2",
            "2.9.14",
            (),
        ),
        ("png.h", '#define PNG_LIBPNG_VER_STRING "1.6.0beta40"', "libpng", "1.6.0", ("beta40",)),
        (
            "CMakeLists.txt",
            "project(libjpeg-turbo C)\nset(VERSION 2.1.5)\n",
            "libjpeg-turbo",
            "2.1.5",
            (),
        ),
        ("jconfig.h", "#define LIBJPEG_TURBO_VERSION  3.0.1", "libjpeg-turbo", "3.0.1", ()),
        ("jversion.h", '#define JVERSION\t"9e  16-Jan-2022"', "libjpeg", "9e", ()),
        ("sqlite3.c", '#define SQLITE_VERSION        "3.40.1"', "sqlite", "3.40.1", ()),
        (
            "configure",
            "#! /bin/sh\n# Generated by GNU Autoconf 2.69 for sqlite 3.34.1.\n",
            "sqlite",
            "3.34.1",
            (),
        ),
        (
            "src/include/lwip/init.h",
            "#define LWIP_VERSION_MAJOR 2\n/* x */\n#define LWIP_VERSION_MINOR 2\n"
            "#define LWIP_VERSION_REVISION 0\n#define LWIP_VERSION_RC 1\n",
            "lwip",
            "2.2.0",
            ("rc1",),
        ),
        (
            "Makefile",
            "VERSION = 1\nPATCHLEVEL = 36\nSUBLEVEL = 1\nEXTRAVERSION = .git\nbusybox: all\n",
            "busybox",
            "1.36.1",
            ("git",),
        ),
        (
            "Makefile",
            "# SPDX\nVERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 0\n"
            "EXTRAVERSION = -rc3\nall: vmlinux\n",
            "linux",
            "6.1",
            ("rc3",),
        ),
        (
            "Makefile",
            "VERSION = 2\nPATCHLEVEL = 6\nSUBLEVEL = 36\nEXTRAVERSION = .4\nall: vmlinux\n",
            "linux",
            "2.6.36.4",
            (),
        ),
        (
            "Makefile",
            "VERSION = 2023\nPATCHLEVEL = 01\nSUBLEVEL =\nEXTRAVERSION =\nall: u-boot.bin\n",
            "u-boot",
            "2023.01",
            (),
        ),
        (
            "Rules.mak",
            "MAJOR_VERSION := 0\nMINOR_VERSION := 9\nSUBLEVEL := 33\nEXTRAVERSION :=\n",
            "uclibc",
            "0.9.33",
            (),
        ),
        (
            "Rules.mak",
            "MAJOR_VERSION := 1\nMINOR_VERSION := 0\nSUBLEVEL := 45\nEXTRAVERSION :=\n",
            "uclibc-ng",
            "1.0.45",
            (),
        ),
        ("sysoptions.h", '#define DROPBEAR_VERSION "2022.83"', "dropbear", "2022.83", ()),
        (
            "version.h",
            '#define SSH_VERSION\t"OpenSSH_9.2"\n\n#define SSH_PORTABLE\t"p1"\n',
            "openssh",
            "9.2p1",
            (),
        ),
        (
            "include/task.h",
            '#define tskKERNEL_VERSION_NUMBER "V10.4.3 LTS Patch 2"',
            "freertos",
            "10.4.3",
            ("lts", "patch-2"),
        ),
    ],
)
def test_version_and_qualifiers(
    path: str, text: str, library: str, version: str, qualifiers: tuple[str, ...]
) -> None:
    assert wanted(path)
    assert _found(path, text) == [(library, version, qualifiers, "")]


@pytest.mark.parametrize(
    ("path", "text"),
    [
        # BoringSSL's base.h claims OpenSSL, and is not an opensslv.h anyway
        (
            "include/openssl/opensslv.h",
            '#define OPENSSL_VERSION_TEXT "OpenSSL 1.1.1 (compatible; BoringSSL)"',
        ),
        # LibreSSL's opensslv.h keeps OpenSSL's names
        (
            "include/openssl/opensslv.h",
            '#define LIBRESSL_VERSION_TEXT "LibreSSL 3.8.2"\n'
            "#define OPENSSL_VERSION_NUMBER 0x20000000L\n"
            '#define OPENSSL_VERSION_TEXT "OpenSSL 1.0.1 LibreSSL"\n',
        ),
        ("jversion.h", '/* libjpeg-turbo Modifications */\n#define JVERSION "8d  15-Jan-2012"'),
        ("Makefile", "VERSION = 1\nPATCHLEVEL = 35\nSUBLEVEL = 0\nEXTRAVERSION =\n"),
        ("xmlversion.h.in", '#define LIBXML_DOTTED_VERSION "@VERSION@"'),
    ],
)
def test_forks_and_lookalikes_are_not_their_ancestors(path: str, text: str) -> None:
    assert {lib for lib, *_ in _found(path, text)} <= {"libressl", "boringssl"}


def test_openssl_fips_alternative_is_not_a_qualifier() -> None:
    text = (
        "# ifdef OPENSSL_FIPS\n"
        '#  define OPENSSL_VERSION_TEXT    "OpenSSL 1.0.2k-fips  26 Jan 2017"\n'
        '# else\n#  define OPENSSL_VERSION_TEXT    "OpenSSL 1.0.2k  26 Jan 2017"\n# endif\n'
    )
    [found] = detect("crypto/opensslv.h", text.encode())
    assert (found.version, found.qualifiers, found.line) == ("1.0.2k", (), 2)


@pytest.mark.parametrize(
    ("path", "root"),
    [
        ("vendor/ssl/include/openssl/opensslv.h", "vendor/ssl"),
        ("third_party/openssl-1.0.2k/crypto/opensslv.h", "third_party/openssl-1.0.2k"),
        ("opensslv.h", ""),
        ("sdk/inc/opensslv.h", "sdk/inc"),
        ("sdk/openssl/opensslv.h", "sdk/openssl"),  # two shared components: not re-rooted
    ],
)
def test_copy_root(path: str, root: str) -> None:
    text = b'# define OPENSSL_VERSION_TEXT "OpenSSL 1.1.1w  11 Sep 2023"'
    assert [e.root for e in detect(path, text)] == [root]


@pytest.mark.parametrize(
    ("path", "root"),
    [
        ("xz/src/liblzma/api/lzma/version.h", "xz"),
        ("Utilities/cmliblzma/liblzma/api/lzma/version.h", "Utilities/cmliblzma"),
        ("inc/lzma/version.h", "inc/lzma"),
    ],
)
def test_a_re_rooted_copy_keeps_the_root_of_its_shared_tail(path: str, root: str) -> None:
    text = (
        b"#define LZMA_VERSION_MAJOR 5\n#define LZMA_VERSION_MINOR 2\n"
        b"#define LZMA_VERSION_PATCH 5\n"
        b"#define LZMA_VERSION_STABILITY LZMA_VERSION_STABILITY_STABLE\n"
    )
    assert [(e.version, e.root) for e in detect(path, text)] == [("5.2.5", root)]


def test_a_confirming_row_is_marked_and_names_no_copy_alone(tmp_path: Path) -> None:
    [found] = [e for e in detect("db/VERSION", b"3.53.4\n") if e.library == "sqlite"]
    assert (found.version, found.root, found.confirms) == ("3.53.4", "db", True)
    tree = tmp_path / "t"
    (tree / "db").mkdir(parents=True)
    (tree / "db" / "VERSION").write_bytes(b"3.53.4\n")
    files = ingest(tree, tmp_path / "work", ArchiveLimits()).files
    copies, confirming, _ = identify_all(files)
    assert copies == ()
    assert ("sqlite", "3.53.4", "db") in [(c.name, c.version, c.root) for c in confirming]


def test_evidence_carries_line_rule_and_text() -> None:
    text = b'/* zlib */\n#define ZLIB_VERSION "1.2.11"\n'
    assert detect("src/zlib/zlib.h", text) == [
        VersionEvidence(
            "zlib",
            "1.2.11",
            (),
            "src/zlib/zlib.h",
            2,
            "src/zlib",
            "zlib/zlib-version",
            '#define ZLIB_VERSION "1.2.11"',
        )
    ]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("a/b/zlib.h", True),
        ("lwip/init.h", True),
        ("src/init.h", False),
        ("main.c", False),
        ("x/foo_options.h", True),
    ],
)
def test_wanted(path: str, expected: bool) -> None:
    assert wanted(path) is expected


def test_cpe() -> None:
    assert cpe("curl", "7.88.1") == "cpe:2.3:a:haxx:curl:7.88.1:*:*:*:*:*:*:*"
    assert cpe("boringssl", None) is None


def test_user_rows_extend_the_builtin_ones(tmp_path: Path) -> None:
    extra = tmp_path / "mine.toml"
    extra.write_text(
        '[acme]\nname = "acme-tls"\n[[acme.signatures]]\nid = "ver"\nfile = "acme.h"\n'
        'root = "include/acme.h"\npattern = \'ACME_VERSION "(?P<version>[\\d.]+)"\'\n',
        encoding="utf-8",
    )
    found = load_signatures(extra)
    [item] = detect("x/include/acme.h", b'#define ACME_VERSION "4.2"', found)
    assert (item.library, item.version, item.root, item.rule) == (
        "acme-tls",
        "4.2",
        "x",
        "acme-tls/ver",
    )
    assert wanted("zlib.h", found)
    assert signatures.builtin().libraries.get("acme-tls") is None


def test_evidence_line_is_the_line_of_the_macro_after_a_blank_line() -> None:
    text = b'/* zlib */\n#ifndef ZLIB_H\n\n#define ZLIB_VERSION "1.2.11"\n'
    [found] = detect("zlib.h", text)
    assert (found.version, found.line) == ("1.2.11", 4)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("src/acme/v*.h", True),  # a name with a wildcard in it is just a name here
        ("x/acme/v2.h", True),
        ("acme/v.h", True),
        ("x/acme/sub/v2.h", False),
        ("x/other/v2.h", False),
        ("x/acme/v2.hh", False),
        ("x/config/acme_tls.cfg", True),
        ("acme_tls.cfg", True),
        ("x/acme_tls.cfgx", False),
    ],
)
def test_wanted_matches_user_globs_of_any_depth_as_fnmatch_does(
    tmp_path: Path, path: str, expected: bool
) -> None:
    """``wanted`` tests every file of the tree against the rows' globs compiled into one
    expression per depth; it must agree with ``fnmatch`` on the path's last components."""
    extra = tmp_path / "mine.toml"
    extra.write_text(
        '[acme]\nname = "acme-tls"\n'
        '[[acme.signatures]]\nid = "a"\nfile = "acme/v*.h"\npattern = "V(?P<version>1)"\n'
        '[[acme.signatures]]\nid = "b"\nfile = "acme_[t]ls.cfg"\npattern = "V(?P<version>1)"\n',
        encoding="utf-8",
    )
    found = load_signatures(extra)
    assert wanted(path, found) is expected
    assert any(signatures.glob_matches(path, r.file) for r in found.globbed) is expected


def test_a_fallback_row_counts_only_without_other_evidence(tmp_path: Path) -> None:
    png_h = b'#define PNG_LIBPNG_VER_STRING "1.6.39"\n'
    png_c = b"typedef png_libpng_version_1_6_39 Your_png_h_is_not_version_1_6_39;\n"
    for name, files in (("both", {"png.h": png_h, "png.c": png_c}), ("alone", {"png.c": png_c})):
        for file, text in files.items():
            (tmp_path / name / "png").mkdir(parents=True, exist_ok=True)
            (tmp_path / name / "png" / file).write_bytes(text)
        found, _, _ = identify_all(
            ingest(tmp_path / name, tmp_path / f"work-{name}", ArchiveLimits()).files
        )
        [copy] = found
        assert (copy.name, copy.version, copy.root) == ("libpng", "1.6.39", "png")
        assert [e.split(":")[0] for e in copy.evidence] == (
            ["png/png.h"] if name == "both" else ["png/png.c"]
        )


@pytest.mark.parametrize(
    ("path", "root"),
    [
        ("include/linux/zstd_lib.h", "lib/zstd"),
        ("boot/u-boot/include/linux/zstd_lib.h", "boot/u-boot/lib/zstd"),
    ],
)
def test_a_row_with_code_roots_the_copy_where_the_code_lies(path: str, root: str) -> None:
    # the kernel's port of zstd: the header states the version, the code is in lib/zstd
    header = (
        b"#define ZSTD_VERSION_MAJOR    1\n#define ZSTD_VERSION_MINOR    5\n"
        b"#define ZSTD_VERSION_RELEASE  2\n"
    )
    [found] = detect(path, header)
    assert (found.library, found.version, found.root, found.path) == ("zstd", "1.5.2", root, path)
    assert found.rule == "zstd/linux-zstd-lib-version"
