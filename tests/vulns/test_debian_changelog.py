"""Reading Debian changelogs (the stored ones under data/vulns/debian) into entries."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from assay.assess.vulns.debian import Entry, entries, is_debian_version, newer_or_equal, upstream

DATA = Path(__file__).resolve().parents[2] / "data" / "vulns" / "debian"


def _log(package: str) -> dict[str, Entry]:
    text = gzip.decompress((DATA / f"{package}.changelog.gz").read_bytes()).decode("utf-8")
    return {e.version: e for e in entries(text)}


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("1:1.3.dfsg+really1.3.1-1", "1.3.1"),
        ("2:2.10-12+deb12u3", "2.10"),
        ("1.1.1n-0+deb11u5", "1.1.1n"),
        ("1:9.16.50-1~deb11u6", "9.16.50"),
        ("1.2.13.dfsg-1", "1.2.13"),
    ],
)
def test_upstream_version(version: str, expected: str) -> None:
    assert upstream(version) == expected


def test_debian_revision_and_order() -> None:
    assert is_debian_version("1.1.1n-0+deb11u5") and not is_debian_version("1.1.1n")
    assert newer_or_equal("1.1.1n-0+deb11u5", "1.1.1n-0+deb11u3")
    assert not newer_or_equal("2.85-1", "2.85-1+deb11u1")


def test_new_upstream_entry_names_the_cves_the_release_fixes() -> None:
    entry = _log("dnsmasq")["2.78-1"]
    assert entry.new_upstream and "CVE-2017-14491" in entry.cves
    assert entry.date == "2017-09-29"


def test_security_upload_patches_and_is_no_new_release() -> None:
    entry = _log("dnsmasq")["2.85-1+deb11u1"]
    assert not entry.new_upstream and "CVE-2023-28450" in entry.cves


def test_cve_in_a_bullet_about_patches_on_top_is_not_fixed_by_the_release() -> None:
    entry = _log("ppp")["2.4.8-1+1~exp1"]  # "Import patches since upstream 2.4.8 release"
    assert entry.new_upstream and "CVE-2020-8597" in entry.patched


def test_a_cve_the_entry_says_does_not_apply_is_not_closed_by_it() -> None:
    entry = _log("openssl")["1.0.2f-2"]  # "Not affected by CVE-2015-3197 because SSLv2 is ..."
    assert "CVE-2016-0701" in entry.cves and "CVE-2015-3197" not in entry.cves
