"""Support policies on the pinned data: every canonical product has one, with its source, and
the four kinds (branches, newest series, newest release, stopped) give the statuses their
publishers' statements imply."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assay.assess.vulns import db
from assay.assess.vulns.match import Assessment, assess
from assay.assess.vulns.policy import Support
from assay.model import Component

DB = db.load(db.default_path())
REPO = Path(__file__).resolve().parents[2]
CANONICAL = re.findall(
    r"\S+",
    """openssl libressl boringssl wolfssl mbedtls polarssl gnutls libgcrypt nettle libtomcrypt
nss zlib bzip2 xz zstd lz4 lzo dnsmasq hostapd wpa_supplicant lighttpd nginx uhttpd mini_httpd
thttpd boa goahead civetweb libmicrohttpd miniupnpd libupnp ppp ntp chrony avahi mosquitto vsftpd
proftpd dropbear openssh samba quagga frr bind unbound dhcpcd isc-dhcp radvd openvpn strongswan
openswan libreswan socat rsync net-snmp tcpdump libpcap busybox toybox util-linux e2fsprogs
iptables nftables iproute2 sudo linux glibc uclibc uclibc-ng musl u-boot gcc curl expat libxml2
sqlite json-c cjson libevent pcre pcre2 lua ncurses readline dbus bluez libssh libssh2 nghttp2
c-ares openldap libpng libjpeg libjpeg-turbo libtiff lwip freertos zephyr threadx netx nucleus
libnl libubox ubus uci netifd odhcpd odhcp6c libusb libffi libcap libnetfilter_conntrack libmnl
ipset keepalived haproxy squid wireguard-tools xl2tpd igmpproxy lldpd libsodium krb5 cyrus-sasl
libidn2 gmp libarchive jansson libyaml protobuf-c libwebsockets libuv iw ethtool ebtables
conntrack-tools bash coreutils wget""",
)
"""The canonical product names every helper shares (binaries, source, SBOM, vulnerabilities)."""


def _assess(name: str, version: str) -> Assessment:
    return assess(Component(name=name, version=version, root=""), DB)


def test_every_canonical_product_has_a_policy_citing_its_source() -> None:
    for name in CANONICAL:
        policy = DB.policy(name)
        assert policy is not None, name
        assert policy.source.startswith(("https://", "http://")), name


def test_products_without_a_published_policy_are_listed_in_the_docs() -> None:
    docs = (REPO / "docs" / "vulnerabilities.md").read_text(encoding="utf-8")
    unknown = [p.product for p in DB.policies if p.kind == "unknown"]
    assert unknown
    for name in unknown:
        assert re.search(rf"`{re.escape(name)}`", docs), name


def test_stopped_project_is_end_of_life_since_its_last_release() -> None:
    result = _assess("uclibc", "0.9.33.2")  # uclibc.org: 0.9.33.2 of 2012-05-15 is the last
    assert result.support is Support.END_OF_LIFE
    assert result.since == "2012-05-15"
    assert "0.9.33.2" in result.reason and result.policy_source == "https://www.uclibc.org/"


def test_kernel_branch_older_than_the_oldest_listed_is_end_of_life() -> None:
    result = _assess("linux", "3.10.14")  # the 3.10 branch ended in 2017; the data lists 4.9 on
    assert result.support is Support.END_OF_LIFE
    assert "oldest branch" in result.reason


def test_kernel_branch_with_an_end_date() -> None:
    result = _assess("linux", "4.9.337")  # kernel.org: 4.9 ended 2023-01-07
    assert (result.support, result.cycle, result.since) == (
        Support.END_OF_LIFE,
        "4.9",
        "2023-01-07",
    )


def test_only_newest_release_supported_names_the_release_that_superseded_it() -> None:
    result = _assess("dnsmasq", "2.77")  # one release line; 2.78 followed 2.77
    assert result.support is Support.END_OF_LIFE
    assert result.superseded_by == "2.78"
    assert result.since is not None and result.since.startswith("2017")
    assert "superseded by 2.78" in result.reason


def test_newest_release_the_data_knows_is_supported() -> None:
    newest = max(DB.releases_of("dnsmasq"), key=lambda r: r.date or "")
    assert _assess("dnsmasq", newest.version).support is Support.SUPPORTED


def test_compiler_series_out_of_the_newest_three_is_end_of_life() -> None:
    result = _assess("gcc", "4.6.3")  # GCC maintains the three newest release series
    assert result.support is Support.END_OF_LIFE
    assert result.superseded_by is not None


@pytest.mark.parametrize(
    ("name", "version", "status"),
    [
        ("busybox", "1.12.1", Support.END_OF_LIFE),  # the 2008 release of the issue
        ("openssl", "1.1.1w", Support.PAID_ONLY),  # public end 2023-09-11, premium support on
        ("openssl", "1.0.1f", Support.END_OF_LIFE),
        ("pcre", "8.45", Support.END_OF_LIFE),  # pcre.org: PCRE1 is at end of life
        ("quagga", "1.2.4", Support.END_OF_LIFE),
        ("openwrt", "19.07.10", Support.END_OF_LIFE),  # endoflife.date: 19.07 ended 2022-04-30
        (
            "freertos",
            "10.4.3",
            Support.UNKNOWN,
        ),  # LTS is per bundle: no published policy per kernel
    ],
)
def test_support_status(name: str, version: str, status: Support) -> None:
    assert _assess(name, version).support is status


def test_debian_revision_is_judged_by_its_upstream_release() -> None:
    assert _assess("dnsmasq", "2.77-2").superseded_by == "2.78"
