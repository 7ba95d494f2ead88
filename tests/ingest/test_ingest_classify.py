"""File kinds from names and first bytes; member-name and link policy of archives."""

from __future__ import annotations

import bz2
import gzip
import lzma

import pytest
from ingest_support import member, tar_bytes, zip_bytes

from assay.ingest.archive import link_stays_inside, member_path
from assay.ingest.classify import ArchiveFormat, archive_format, classify, printable
from assay.model import FileKind

ELF = b"\x7fELF\x02\x01\x01" + b"\0" * 57
TAR = tar_bytes([member("a.c", b"int x;\n")])


@pytest.mark.parametrize(
    ("path", "head", "kind"),
    [
        ("src/a.c", b"int x;\n", FileKind.C),
        ("a.cc", b"", FileKind.CPP),
        ("a.cpp", b"", FileKind.CPP),
        ("a.cxx", b"", FileKind.CPP),
        ("a.c++", b"", FileKind.CPP),
        ("A.CPP", b"", FileKind.CPP),
        ("legacy.C", b"", FileKind.CPP),
        ("a.h", b"", FileKind.HEADER),
        ("a.hpp", b"", FileKind.HEADER),
        ("a.hh", b"", FileKind.HEADER),
        ("a.hxx", b"", FileKind.HEADER),
        ("a.inl", b"", FileKind.HEADER),
        ("a.inc", b"; asm\n", FileKind.TEXT),
        ("README", b"hello\n", FileKind.TEXT),
        ("blob.bin", b"\x00\x01\x02", FileKind.OTHER),
        ("garbage.c", b"\x00\xff\x13binary", FileKind.C),
        ("firmware.c", ELF, FileKind.ELF),
        ("busybox", ELF, FileKind.ELF),
        ("x.tar", TAR, FileKind.ARCHIVE),
        ("misnamed.c", gzip.compress(TAR), FileKind.ARCHIVE),
        ("x.zip", zip_bytes([("a.c", b"")]), FileKind.ARCHIVE),
        ("x.xz", lzma.compress(b"data"), FileKind.ARCHIVE),
        ("x.bz2", bz2.compress(b"data"), FileKind.ARCHIVE),
        (".c", b"", FileKind.TEXT),
    ],
)
def test_classify(path: str, head: bytes, kind: FileKind) -> None:
    assert classify(path, head) is kind


@pytest.mark.parametrize(
    "head",
    [
        b"BZh is a word in this text\n",
        b"x" * 257 + b"ustar" + b"x" * 250,  # "ustar" where a tar has it, but no valid header
        b"PK but not a zip\n",
    ],
)
def test_text_that_looks_like_magic_is_not_an_archive(head: bytes) -> None:
    assert archive_format(head) is None
    assert classify("notes.txt", head) is FileKind.TEXT


def test_archive_formats_by_magic() -> None:
    assert archive_format(TAR) is ArchiveFormat.TAR
    assert archive_format(gzip.compress(b"x")) is ArchiveFormat.GZIP
    assert archive_format(lzma.compress(b"x")) is ArchiveFormat.XZ
    assert archive_format(bz2.compress(b"x")) is ArchiveFormat.BZIP2
    assert archive_format(zip_bytes([])) is ArchiveFormat.ZIP


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("dir/x.c", ("dir/x.c", None)),
        ("./dir//x.c", ("dir/x.c", None)),
        ("../evil.c", ("../evil.c", "archive-escape")),
        ("a/../../evil.c", ("a/../../evil.c", "archive-escape")),
        ("a/../b.c", ("a/../b.c", "archive-escape")),
        ("..\\evil.c", ("..\\evil.c", "archive-escape")),
        ("/tmp/evil.c", ("/tmp/evil.c", "absolute-path")),
        ("\\evil.c", ("\\evil.c", "absolute-path")),
        ("C:/evil.c", ("C:/evil.c", "absolute-path")),
        ("..data/x.c", ("..data/x.c", None)),
    ],
)
def test_member_path(name: str, expected: tuple[str, str | None]) -> None:
    assert member_path(name) == expected


@pytest.mark.parametrize(
    ("path", "target", "hard", "inside"),
    [
        ("a/l", "x.c", False, True),
        ("a/l", "../x.c", False, True),
        ("a/l", "../../x.c", False, False),
        ("l", "/etc/passwd", False, False),
        ("a/b/l", "./../../x", False, True),
        ("a/l", "a/x.c", True, True),
        ("a/l", "../x.c", True, False),
    ],
)
def test_link_stays_inside(path: str, target: str, hard: bool, inside: bool) -> None:
    assert link_stays_inside(path, target, hard=hard) is inside


def test_printable_shows_undecodable_bytes() -> None:
    assert printable("ok.c") == "ok.c"
    assert printable(b"bad\xff.c".decode("utf-8", "surrogateescape")) == "bad\\xff.c"
    assert printable("lone\ud800.c") == "lone\\ud800.c"
