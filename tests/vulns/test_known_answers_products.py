# ruff: noqa: E501  (one row per known answer, each with its advisory URL)
"""Known answers at the version boundaries, at least three per product for the 25 products most
often found in firmware, on the pinned data (src/assay/data/vulndb.json.gz).

Each row states what the publisher's advisory (cited beside it) says about one version: the
expected answer comes from the advisory, not from assay's data, so a wrong range in the data
fails here.
"""

from __future__ import annotations

from collections import Counter

import pytest

from assay.assess.vulns import db
from assay.assess.vulns.match import assess
from assay.model import Component

DB = db.load(db.default_path())

W1 = "https://w1.fi/security/"
KNOWN: tuple[tuple[str, str, str, bool, str], ...] = (
    # product, version, CVE, affected?, advisory
    ("dnsmasq", "2.77", "CVE-2017-14491", True, "https://security.googleblog.com/2017/10/behind-masq-yet-more-dns-and-dhcp.html"),
    ("dnsmasq", "2.78", "CVE-2017-14491", False, "same advisory: fixed in 2.78"),
    ("dnsmasq", "2.82", "CVE-2020-25681", True, "https://www.jsof-tech.com/disclosures/dnspooq/"),
    ("dnsmasq", "2.83", "CVE-2020-25681", False, "DNSpooq: fixed in 2.83"),
    ("openssh", "8.4p1", "CVE-2024-6387", False, "https://www.openssh.com/txt/release-9.8 (8.5p1 to 9.7p1)"),
    ("openssh", "8.5p1", "CVE-2024-6387", True, "https://www.openssh.com/txt/release-9.8"),
    ("openssh", "9.7p1", "CVE-2024-6387", True, "https://www.openssh.com/txt/release-9.8"),
    ("openssh", "9.8p1", "CVE-2024-6387", False, "https://www.openssh.com/txt/release-9.8"),
    ("openssh", "9.3p1", "CVE-2023-38408", True, "https://www.openssh.com/txt/release-9.3p2"),
    ("openssh", "9.3p2", "CVE-2023-38408", False, "https://www.openssh.com/txt/release-9.3p2"),
    ("hostapd", "2.6", "CVE-2017-13082", True, W1 + "2017-1/ (KRACK; fixed in 2.7)"),
    ("hostapd", "2.7", "CVE-2017-13082", False, W1 + "2017-1/"),
    ("hostapd", "2.7", "CVE-2019-9494", True, W1 + "2019-1/ (SAE side channel; fixed in 2.8)"),
    ("hostapd", "2.8", "CVE-2019-9494", False, W1 + "2019-1/"),
    ("wpa_supplicant", "2.6", "CVE-2017-13077", True, W1 + "2017-1/ (KRACK; fixed in 2.7)"),
    ("wpa_supplicant", "2.7", "CVE-2017-13077", False, W1 + "2017-1/"),
    ("wpa_supplicant", "2.9", "CVE-2021-27803", True, W1 + "2021-1/ (P2P; fixed in 2.10)"),
    ("wpa_supplicant", "2.10", "CVE-2021-27803", False, W1 + "2021-1/"),
    ("openssl", "1.0.1f", "CVE-2014-0160", True, "https://www.openssl.org/news/secadv/20140407.txt"),
    ("openssl", "1.0.1g", "CVE-2014-0160", False, "https://www.openssl.org/news/secadv/20140407.txt"),
    ("openssl", "3.0.6", "CVE-2022-3602", True, "https://www.openssl.org/news/secadv/20221101.txt"),
    ("openssl", "3.0.7", "CVE-2022-3602", False, "https://www.openssl.org/news/secadv/20221101.txt"),
    ("openssl", "1.1.1s", "CVE-2022-3602", False, "same advisory: 1.1.1 not affected"),
    ("curl", "7.68.0", "CVE-2023-38545", False, "https://curl.se/docs/CVE-2023-38545.html (7.69.0 to 8.3.0)"),
    ("curl", "7.69.0", "CVE-2023-38545", True, "https://curl.se/docs/CVE-2023-38545.html"),
    ("curl", "8.3.0", "CVE-2023-38545", True, "https://curl.se/docs/CVE-2023-38545.html"),
    ("curl", "8.4.0", "CVE-2023-38545", False, "https://curl.se/docs/CVE-2023-38545.html"),
    ("zlib", "1.2.11", "CVE-2018-25032", True, "https://github.com/madler/zlib/blob/master/ChangeLog (1.2.12)"),
    ("zlib", "1.2.12", "CVE-2018-25032", False, "zlib ChangeLog 1.2.12"),
    ("zlib", "1.2.12", "CVE-2022-37434", True, "zlib ChangeLog 1.2.13"),
    ("zlib", "1.2.13", "CVE-2022-37434", False, "zlib ChangeLog 1.2.13"),
    ("busybox", "1.32.1", "CVE-2021-42378", True, "https://jfrog.com/blog/unboxing-busybox-14-new-vulnerabilities-uncovered-by-claroty-and-jfrog/"),
    ("busybox", "1.35.0", "CVE-2021-42378", False, "same report: fixed in 1.34.0"),
    ("busybox", "1.35.0", "CVE-2022-30065", True, "https://bugs.busybox.net/show_bug.cgi?id=14781"),
    ("busybox", "1.36.1", "CVE-2022-30065", False, "fixed in 1.36.0"),
    ("sqlite", "3.30.1", "CVE-2019-19646", True, "https://www.sqlite.org/cves.html"),
    ("sqlite", "3.31.0", "CVE-2019-19646", False, "https://www.sqlite.org/cves.html"),
    ("sqlite", "3.39.1", "CVE-2022-35737", True, "https://www.sqlite.org/cves.html (fixed 3.39.2)"),
    ("sqlite", "3.39.2", "CVE-2022-35737", False, "https://www.sqlite.org/cves.html"),
    ("expat", "2.4.9", "CVE-2022-43680", True, "https://github.com/libexpat/libexpat/blob/master/expat/Changes (2.5.0)"),
    ("expat", "2.5.0", "CVE-2022-43680", False, "expat Changes 2.5.0"),
    ("expat", "2.4.4", "CVE-2022-25235", True, "expat Changes 2.4.5"),
    ("expat", "2.4.5", "CVE-2022-25235", False, "expat Changes 2.4.5"),
    ("libpng", "1.6.36", "CVE-2019-7317", True, "http://www.libpng.org/pub/png/libpng.html (1.6.37)"),
    ("libpng", "1.6.37", "CVE-2019-7317", False, "libpng CHANGES 1.6.37"),
    ("libpng", "1.6.18", "CVE-2015-8126", True, "libpng CHANGES 1.6.19"),
    ("libpng", "1.6.19", "CVE-2015-8126", False, "libpng CHANGES 1.6.19"),
    ("linux", "5.10.101", "CVE-2022-0847", True, "https://dirtypipe.cm4all.com/ (fixed 5.16.11, 5.15.25, 5.10.102)"),
    ("linux", "5.10.102", "CVE-2022-0847", False, "https://dirtypipe.cm4all.com/"),
    ("linux", "5.16.11", "CVE-2022-0847", False, "https://dirtypipe.cm4all.com/"),
    ("linux", "5.7.19", "CVE-2022-0847", False, "https://dirtypipe.cm4all.com/ (since 5.8)"),
    ("linux", "4.8.2", "CVE-2016-5195", True, "https://dirtycow.ninja/ (Dirty COW: fixed 4.8.3, 4.7.9, 4.4.26)"),
    ("linux", "4.8.3", "CVE-2016-5195", False, "https://dirtycow.ninja/"),
    ("linux", "4.4.26", "CVE-2016-5195", False, "https://dirtycow.ninja/"),
    ("glibc", "2.22", "CVE-2015-7547", True, "https://sourceware.org/bugzilla/show_bug.cgi?id=18665 (fixed 2.23)"),
    ("glibc", "2.23", "CVE-2015-7547", False, "glibc 2.23 NEWS"),
    ("glibc", "2.38", "CVE-2023-4911", True, "https://www.qualys.com/2023/10/03/cve-2023-4911/looney-tunables-local-privilege-escalation-glibc-ld-so.txt"),
    ("glibc", "2.39", "CVE-2023-4911", False, "glibc 2.39 NEWS"),
    ("dropbear", "2016.73", "CVE-2016-7406", True, "https://matt.ucc.asn.au/dropbear/CHANGES (2016.74)"),
    ("dropbear", "2016.74", "CVE-2016-7406", False, "dropbear CHANGES 2016.74"),
    ("dropbear", "2016.74", "CVE-2016-7407", False, "dropbear CHANGES 2016.74"),
    ("dropbear", "2016.72", "CVE-2016-7407", True, "dropbear CHANGES 2016.74"),
    ("libxml2", "2.10.2", "CVE-2022-40303", True, "https://gitlab.gnome.org/GNOME/libxml2/-/releases/v2.10.3"),
    ("libxml2", "2.10.3", "CVE-2022-40303", False, "libxml2 2.10.3 release notes"),
    ("libxml2", "2.10.2", "CVE-2022-40304", True, "libxml2 2.10.3 release notes"),
    ("libxml2", "2.10.3", "CVE-2022-40304", False, "libxml2 2.10.3 release notes"),
    ("lighttpd", "1.4.63", "CVE-2022-22707", True, "https://redmine.lighttpd.net/issues/3134 (fixed 1.4.64)"),
    ("lighttpd", "1.4.64", "CVE-2022-22707", False, "lighttpd 1.4.64 release notes"),
    ("lighttpd", "1.4.65", "CVE-2022-22707", False, "lighttpd 1.4.64 release notes"),
    ("nginx", "1.20.0", "CVE-2021-23017", True, "https://nginx.org/en/security_advisories.html (fixed 1.21.0, 1.20.1)"),
    ("nginx", "1.20.1", "CVE-2021-23017", False, "https://nginx.org/en/security_advisories.html"),
    ("nginx", "1.21.0", "CVE-2021-23017", False, "https://nginx.org/en/security_advisories.html"),
    ("samba", "4.6.3", "CVE-2017-7494", True, "https://www.samba.org/samba/security/CVE-2017-7494.html (fixed 4.6.4)"),
    ("samba", "4.6.4", "CVE-2017-7494", False, "https://www.samba.org/samba/security/CVE-2017-7494.html"),
    ("samba", "4.7.0", "CVE-2017-7494", False, "https://www.samba.org/samba/security/CVE-2017-7494.html"),
    ("ppp", "2.4.8", "CVE-2020-8597", True, "https://www.kb.cert.org/vuls/id/782301 (fixed 2.4.9)"),
    ("ppp", "2.4.9", "CVE-2020-8597", False, "https://www.kb.cert.org/vuls/id/782301"),
    ("ppp", "2.5.0", "CVE-2020-8597", False, "https://www.kb.cert.org/vuls/id/782301"),
    ("sudo", "1.9.5p1", "CVE-2021-3156", True, "https://www.sudo.ws/security/advisories/unescape_overflow/"),
    ("sudo", "1.9.5p2", "CVE-2021-3156", False, "https://www.sudo.ws/security/advisories/unescape_overflow/"),
    ("sudo", "1.8.31p2", "CVE-2021-3156", True, "https://www.sudo.ws/security/advisories/unescape_overflow/"),
    ("bind", "9.16.2", "CVE-2020-8617", True, "https://kb.isc.org/docs/cve-2020-8617 (fixed 9.16.3)"),
    ("bind", "9.16.3", "CVE-2020-8617", False, "https://kb.isc.org/docs/cve-2020-8617"),
    ("bind", "9.18.0", "CVE-2020-8617", False, "https://kb.isc.org/docs/cve-2020-8617"),
    ("unbound", "1.10.0", "CVE-2020-12662", True, "https://nlnetlabs.nl/downloads/unbound/CVE-2020-12662_2020-12663.txt"),
    ("unbound", "1.10.1", "CVE-2020-12662", False, "same advisory: fixed in 1.10.1"),
    ("unbound", "1.10.1", "CVE-2020-12663", False, "same advisory: fixed in 1.10.1"),
    ("libssh", "0.8.3", "CVE-2018-10933", True, "https://www.libssh.org/security/advisories/CVE-2018-10933.txt"),
    ("libssh", "0.8.4", "CVE-2018-10933", False, "same advisory: fixed in 0.8.4 and 0.7.6"),
    ("libssh", "0.9.0", "CVE-2018-10933", False, "same advisory"),
    ("tcpdump", "4.9.1", "CVE-2017-13011", True, "https://www.tcpdump.org/public-cve-list.txt (fixed 4.9.2)"),
    ("tcpdump", "4.9.2", "CVE-2017-13011", False, "https://www.tcpdump.org/public-cve-list.txt"),
    ("tcpdump", "4.9.3", "CVE-2017-13011", False, "https://www.tcpdump.org/public-cve-list.txt"),
    ("xz", "5.4.6", "CVE-2024-3094", False, "https://tukaani.org/xz-backdoor/ (5.6.0 and 5.6.1 only)"),
    ("xz", "5.6.0", "CVE-2024-3094", True, "https://tukaani.org/xz-backdoor/"),
    ("xz", "5.6.1", "CVE-2024-3094", True, "https://tukaani.org/xz-backdoor/"),
    ("xz", "5.6.2", "CVE-2024-3094", False, "https://tukaani.org/xz-backdoor/"),
)  # fmt: skip


def _reported(name: str, version: str) -> set[str]:
    return {h.id for h in assess(Component(name=name, version=version, root=""), DB).hits}


@pytest.mark.parametrize(("name", "version", "cve", "expected", "advisory"), KNOWN)
def test_cve_reported_exactly_as_the_advisory_says(
    name: str, version: str, cve: str, expected: bool, advisory: str
) -> None:
    assert (cve in _reported(name, version)) is expected, advisory


def test_at_least_three_answers_for_each_of_25_products() -> None:
    per_product = Counter(row[0] for row in KNOWN)
    assert len(per_product) >= 25
    assert min(per_product.values()) >= 3


def test_every_hit_cites_its_source() -> None:
    for name, version, *_ in KNOWN:
        for hit in assess(Component(name=name, version=version, root=""), DB).hits:
            assert hit.source and hit.reference, (name, version, hit.id)


DEB = "https://security-tracker.debian.org/tracker/"
BACKPORTS: tuple[tuple[str, str, str, bool, str], ...] = (
    # product, version as a package manager reports it, CVE, reported?, where the fix is stated
    ("openssl", "1.1.1n", "CVE-2022-2068", True, "https://www.openssl.org/news/secadv/20220621.txt (fixed 1.1.1p)"),
    ("openssl", "1.1.1n-0+deb11u2", "CVE-2022-2068", True, DEB + "CVE-2022-2068 (bullseye: 1.1.1n-0+deb11u3)"),
    ("openssl", "1.1.1n-0+deb11u5", "CVE-2022-2068", False, DEB + "CVE-2022-2068 (bullseye: 1.1.1n-0+deb11u3)"),
    ("dnsmasq", "2.85-1", "CVE-2023-28450", True, DEB + "CVE-2023-28450 (bullseye: 2.85-1+deb11u1)"),
    ("dnsmasq", "2.85-1+deb11u1", "CVE-2023-28450", False, DEB + "CVE-2023-28450 (bullseye: 2.85-1+deb11u1)"),
)  # fmt: skip


@pytest.mark.parametrize(("name", "version", "cve", "expected", "advisory"), BACKPORTS)
def test_debian_backport_in_the_version_string_is_recognised(
    name: str, version: str, cve: str, expected: bool, advisory: str
) -> None:
    result = assess(Component(name=name, version=version, root=""), DB)
    assert (cve in {h.id for h in result.hits}) is expected, advisory
    assert (cve in result.backported) is not expected
