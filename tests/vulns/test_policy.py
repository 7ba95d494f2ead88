"""Support policies on the pinned data: every canonical product has one, with its source, and
the four kinds (branches, newest series, newest release, stopped) give the statuses their
publishers' statements imply."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest

from assay.assess.vulns import db, debian
from assay.assess.vulns.debian_data import read_changelog
from assay.assess.vulns.match import Assessment, assess
from assay.assess.vulns.model import Cycle
from assay.assess.vulns.policy import Status, Support, cycle_of, status
from assay.model import Component
from assay.versions import key

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


# --- long-term lines beside `latest`: NSS's ESR lines (data/vulns/upstream/release-dates.toml) --

ESR_LINES = tuple(c for c in DB.cycles_of("nss") if c.lts)
NSS_CHANGELOG = read_changelog(REPO / "data" / "vulns", "nss")


def _esr_line(version: str) -> Cycle | None:
    return cycle_of(debian.upstream(version) if debian.is_debian_version(version) else version,
                    ESR_LINES)  # fmt: skip


def _debian_suites() -> dict[str, str]:
    """Suite -> the Debian version of nss the data read (data/vulns/debian/SOURCE)."""
    text = (REPO / "data" / "vulns" / "debian" / "SOURCE").read_text(encoding="utf-8")
    return {suite: version for version, suite in re.findall(r"^nss (\S+) \((\w+)\):", text, re.M)}


def _on(version: str, today: str, cycles: tuple[Cycle, ...] = ESR_LINES) -> Status:
    upstream = debian.upstream(version) if debian.is_debian_version(version) else version
    return status(DB.policy("nss"), upstream, cycles, DB.releases_of("nss"), today)


def _day_before(iso: str) -> str:
    return (datetime.date.fromisoformat(iso) - datetime.timedelta(days=1)).isoformat()


def _packaged_in_lines() -> list[str]:
    """Debian versions of nss (its changelog) whose upstream release is in an ESR line."""
    return [e.version for e in NSS_CHANGELOG if e.new_upstream and _esr_line(e.version)]


def test_nss_policy_is_latest_with_dated_esr_lines() -> None:
    policy = DB.policy("nss")
    assert policy is not None and policy.kind == "latest"
    assert {c.cycle for c in ESR_LINES} >= {"3.90", "3.101", "3.112"}
    assert all(c.eol for c in ESR_LINES)  # a line whose end no stored copy dates is not listed


def test_debian_nss_outside_esr_lines_is_still_superseded_by_the_next_release() -> None:
    suites = _debian_suites()
    assert "bookworm" in suites  # bookworm ships a 3.87.x: no ESR line
    judged = 0
    for suite, version in sorted(suites.items()):
        if _esr_line(version) is not None:
            continue
        upstream = debian.upstream(version)
        newer = sorted(
            (r for r in DB.releases_of("nss") if key("nss", r.version) > key("nss", upstream)),
            key=lambda r: key("nss", r.version),
        )
        result = _assess("nss", version)
        if not newer:  # the newest release the data knows (sid)
            assert result.support is Support.SUPPORTED, suite
            continue
        judged += 1
        assert (result.support, result.cycle, result.superseded_by, result.since) == (
            Support.END_OF_LIFE, None, newer[0].version, newer[0].date), suite  # fmt: skip
    assert judged >= 2 and _esr_line(suites["bookworm"]) is None


def test_esr_copy_inside_its_line_window_is_supported_not_superseded_by_the_main_line() -> None:
    packaged = _packaged_in_lines()
    assert any(debian.upstream(v).startswith("3.90") for v in packaged)
    for line in ESR_LINES:
        mine = [v for v in packaged if _esr_line(v) is line]
        if not mine:
            continue
        newest = max(mine, key=lambda v: key("nss", debian.upstream(v)))
        inside = _day_before(line.eol or "")
        result = _on(newest, inside)
        assert (result.support, result.cycle) == (Support.SUPPORTED, line.cycle), newest
        assert result.superseded_by is None
        # the same copy judged by `latest` alone (no lines): superseded by the main line
        plain = _on(newest, inside, ())
        assert plain.support is Support.END_OF_LIFE and plain.superseded_by is not None
        assert _esr_line(plain.superseded_by) is not line


def test_older_release_of_an_esr_line_is_superseded_only_by_its_line() -> None:
    line = _esr_line("3.53")  # Debian packaged 3.53 and then 3.53.1 (ESR 78's line)
    assert line is not None and line.eol
    in_line = sorted(
        (r for r in DB.releases_of("nss") if cycle_of(r.version, [line]) is line),
        key=lambda r: key("nss", r.version),
    )
    assert len(in_line) >= 2
    result = _on(in_line[0].version, _day_before(line.eol))
    assert (result.support, result.cycle, result.superseded_by, result.since) == (
        Support.END_OF_LIFE, line.cycle, in_line[1].version, in_line[1].date)  # fmt: skip


def test_esr_copy_after_its_line_ended_is_end_of_life_since_the_line_end() -> None:
    ended = [c for c in ESR_LINES if c.eol and c.eol <= DB.snapshot]
    assert ended
    checked = 0
    for version in _packaged_in_lines():
        line = _esr_line(version)
        assert line is not None
        if line not in ended:
            continue
        result = _assess("nss", version)
        assert (result.support, result.cycle, result.since, result.superseded_by) == (
            Support.END_OF_LIFE, line.cycle, line.eol, None), version  # fmt: skip
        assert f"long-term line {line.cycle} ended" in result.reason
        assert ("estimate" in result.reason) == line.eol_estimated  # 3.112: Firefox 140's end
        checked += 1
    assert checked
