"""scripts/fetch_debian_changelogs.py offline: what apt prints, and the changelog out of a
packaging tarball or a format 1.0 diff (no network: the inputs are built here)."""

from __future__ import annotations

import gzip
import io
import sys
import tarfile
from pathlib import Path

import pytest

_SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
if str(_SCRIPTS) not in sys.path:
    sys.path.insert(0, str(_SCRIPTS))

import fetch_debian_changelogs as fetch  # noqa: E402  (scripts/ is a plain script folder)

ENTRY = (
    "dnsmasq (2.78-1) unstable; urgency=high\n\n  * New upstream release (CVE-2017-14491).\n\n"
    " -- Simon Kelley <simon@thekelleys.org.uk>  Fri, 29 Sep 2017 21:34:00 +0000\n"
)


def test_apt_print_uris_line_gives_uri_size_and_checksum() -> None:
    line = ("'http://deb.debian.org/debian/pool/main/d/dnsmasq/dnsmasq_2.93-3.debian.tar.xz' "
            "dnsmasq_2.93-3.debian.tar.xz 22352 SHA256:" + "ab" * 32)  # fmt: skip
    match = fetch._URI.match(line)
    assert match is not None
    assert (match["name"], match["size"], match["algo"]) == (
        "dnsmasq_2.93-3.debian.tar.xz",
        "22352",
        "SHA256",
    )


def test_changelog_from_a_packaging_tarball() -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:xz") as tar:
        data = ENTRY.encode()
        info = tarfile.TarInfo("debian/changelog")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    assert fetch.changelog("dnsmasq_2.78-1.debian.tar.xz", buffer.getvalue()) == ENTRY


def test_changelog_from_a_format_1_diff() -> None:
    diff = "--- a/debian/changelog\n+++ b/debian/changelog\n@@ -0,0 +1,5 @@\n" + "".join(
        "+" + line + "\n" for line in ENTRY.splitlines()
    )
    text = fetch.changelog("dnsmasq_2.78-1.diff.gz", gzip.compress(diff.encode()))
    assert "CVE-2017-14491" in text and text.startswith("dnsmasq (2.78-1)")


def test_tarball_without_changelog_is_an_error() -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz"):
        pass
    with pytest.raises(fetch.UpstreamError):
        fetch.changelog("x.debian.tar.gz", buffer.getvalue())


def test_binary_candidates_first_listed_then_same_name_then_shortest() -> None:
    # gcc-12's Binary: field (bookworm) starts with gcc-12-base, a small package
    binaries = ["gcc-12-base", "libgcc-s1", "libgcc-12-dev", "gcc-12", "cpp-12", "libgomp1"]
    assert fetch.binary_candidates("gcc-12", binaries) == ["gcc-12-base", "gcc-12", "cpp-12"]
    assert fetch.binary_candidates("toybox", ["toybox"]) == ["toybox"]


def test_binary_changelog_is_read_from_the_packages_own_doc_directory(tmp_path: Path) -> None:
    own = tmp_path / "usr" / "share" / "doc" / "dnsmasq-base"
    own.mkdir(parents=True)
    (own / "changelog.Debian.gz").write_bytes(gzip.compress(ENTRY.encode()))
    assert fetch.binary_changelog(tmp_path, "dnsmasq-base") == ENTRY
    # a doc directory linked to another package's (dh_installdocs --link-doc) is not its own
    (tmp_path / "usr" / "share" / "doc" / "dnsmasq").symlink_to("dnsmasq-base")
    with pytest.raises(fetch.UpstreamError):
        fetch.binary_changelog(tmp_path, "dnsmasq")
    (own / "changelog.Debian.gz").write_bytes(gzip.compress(b"no entry here\n"))
    with pytest.raises(fetch.UpstreamError):
        fetch.binary_changelog(tmp_path, "dnsmasq-base")
