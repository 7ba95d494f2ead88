# ruff: noqa: E501  (rows cite their sources)
"""The gaps of issue 18 closed on the pinned data (src/assay/data/vulndb.json.gz, built from
data/vulns): Debian changelogs of ntp, dhcpcd, toybox and libnetfilter_conntrack read from
binary packages where the mirror lacks the source package's files; release dates from the
upstream notes those packages ship; Debian-derived dates labelled as upper bounds; the
publishers' severities in expat's and libpng's change logs; unrated CVEs said to be unrated.

Each expected value is stated by the cited page or file, not taken from assay's data."""

from __future__ import annotations

from pathlib import Path

import pytest

from assay.assess.vulns import changelogs, coverage, db, debian_data, release_dates
from assay.assess.vulns.findings import findings
from assay.assess.vulns.match import UNRATED, assess
from assay.assess.vulns.policy import Support, status
from assay.model import Component

DB = db.load(db.default_path())
DATA = Path(__file__).resolve().parents[2] / "data" / "vulns"


def _status(product: str, version: str):  # type: ignore[no-untyped-def]
    return status(DB.policy(product), version, DB.cycles_of(product), DB.releases_of(product),
                  DB.snapshot)  # fmt: skip


def _reported(product: str, version: str) -> set[str]:
    return {h.id for h in assess(Component(name=product, version=version, root=""), DB).hits}


# --- Debian changelogs read from binary packages (the mirror lacks these source files) -------


def test_no_suite_is_left_unread_and_the_binary_fallback_is_recorded() -> None:
    source = (DATA / "debian" / "SOURCE").read_text(encoding="utf-8")
    assert "not read" not in source
    # ntp left Debian after bullseye; its changelog comes from the ntp binary package
    assert "ntp 1:4.2.8p15+dfsg-1 (bullseye): binary ntp " in source
    for package in ("ntp", "dhcpcd", "dhcpcd5", "toybox", "libnetfilter-conntrack"):
        assert (DATA / "debian" / f"{package}.changelog.gz").is_file(), package


KNOWN: tuple[tuple[str, str, str, bool, str], ...] = (
    # product, version, CVE, affected?, advisory
    ("ntp", "4.2.8p8", "CVE-2016-7426", True, "https://www.ntp.org/support/securitynotice/ (NTP 4.2.8p9, 2016-11-21: client rate limiting and server responses)"),
    ("ntp", "4.2.8p9", "CVE-2016-7426", False, "same notice: fixed in 4.2.8p9"),
    ("ntp", "4.2.8p3", "CVE-2015-7704", True, "https://www.ntp.org/support/securitynotice/ (NTP 4.2.8p4, 2015-10-21: KoD spoofing)"),
    ("ntp", "4.2.8p4", "CVE-2015-7704", False, "same notice: fixed in 4.2.8p4"),
    ("dhcpcd", "7.1.0", "CVE-2019-11577", True, "https://roy.marples.name/blog/dhcpcd-7-2-1-released (fixed in 7.2.1)"),
    ("dhcpcd", "7.1.0-2", "CVE-2019-11577", False, "Debian dhcpcd5 7.1.0-2 changelog: upstream patches applied (a back-port)"),
)  # fmt: skip


@pytest.mark.parametrize(("product", "version", "cve", "expected", "advisory"), KNOWN)
def test_cves_from_the_newly_read_changelogs(
    product: str, version: str, cve: str, expected: bool, advisory: str
) -> None:
    assert (cve in _reported(product, version)) is expected, advisory


def test_an_older_package_names_numbering_is_no_release() -> None:
    # ntp's Debian changelog goes back to xntp3 (5.93-...): those are no ntp releases after 4.2.8
    assert not [r for r in DB.releases_of("ntp") if r.version.startswith("5.")]
    product = next(p for p in debian_data.products(DATA) if p.name == "ntp")
    log = debian_data.read_changelog(DATA, "ntp")
    assert any(e.package == "xntp3" for e in log)
    assert "5.93" in debian_data._renamed_newer(product, log)


# --- release dates of the products whose status was unknown ----------------------------------


def test_ntp_release_dates_from_its_changelog() -> None:
    dated = {r.version: r.date for r in release_dates.ntp(DATA)}
    # ChangeLog: "(4.2.8p15) 2020/06/23 Released by Harlan Stenn", "(4.2.8p9) 2016/11/21 ..."
    assert dated["ntp 4.2.8p15"] == "2020-06-23"
    assert dated["ntp 4.2.8p9"] == "2016-11-21"
    assert "ntp 4.2.5p124" not in dated  # 4.2.5: a development snapshot (odd middle number)
    state = _status("ntp", "4.2.8p14")
    assert (state.support, state.superseded_by, state.since) == (
        Support.END_OF_LIFE,
        "4.2.8p15",
        "2020-06-23",
    )


def test_toybox_release_dates_from_its_news_page() -> None:
    # toybox news.html: "January 8, 2023" heading announcing Toybox 0.8.9, "August 12, 2022" 0.8.8
    dated = {r.version: r.date for r in release_dates.toybox(DATA)}
    assert dated["toybox 0.8.9"] == "2023-01-08"
    assert dated["toybox 0.8.8"] == "2022-08-12"
    state = _status("toybox", "0.8.8")
    assert (state.support, state.superseded_by, state.since) == (
        Support.END_OF_LIFE,
        "0.8.9",
        "2023-01-08",
    )


def test_a_date_debian_gives_is_labelled_as_an_upper_bound() -> None:
    # dhcpcd 9.4.1 was first packaged by Debian (dhcpcd5 9.4.1-1) on 2022-03-04
    state = _status("dhcpcd", "9.4.0")
    assert (state.support, state.superseded_by) == (Support.END_OF_LIFE, "9.4.1")
    assert "released by 2022-03-04 at the latest: Debian packaged it then" in state.reason
    state = _status("libnetfilter_conntrack", "1.0.9")
    assert state.support is Support.END_OF_LIFE and "at the latest" in state.reason
    # a publisher's date is stated as it is
    assert "at the latest" not in _status("ntp", "4.2.8p14").reason


# --- severities ---------------------------------------------------------------------------------


def test_severities_the_publishers_change_logs_state() -> None:
    rated = {(a.library, a.id): a.severity for a in changelogs.load(DATA)}
    # libpng CHANGES, Version 1.6.51: "Fixed CVE-2025-64505 (moderate severity)", "Fixed CVE-2025-64720 (high severity)"
    assert rated["libpng", "CVE-2025-64505"] == "moderate"
    assert rated["libpng", "CVE-2025-64720"] == "high"
    # expat Changes, Release 2.8.3: CVE-2026-72522 "(CVSS score: 7.5)" -> high on the CVSS 3.1 scale
    assert rated["expat", "CVE-2026-72522"] == "high"
    assert changelogs.cvss_rating(9.8) == "critical" and changelogs.cvss_rating(3.9) == "low"
    assert {
        h.id: h.severity
        for h in assess(Component(name="libpng", version="1.6.50", root=""), DB).hits
    }["CVE-2025-64720"] == "high"


def test_an_unrated_cve_is_said_to_be_unrated() -> None:
    # dnsmasq's CVE-2017-14491 comes from Debian's changelog, which rates nothing
    component = Component(name="dnsmasq", version="2.77", root="third_party/dnsmasq")
    result = assess(component, DB)
    hit = next(h for h in result.hits if h.id == "CVE-2017-14491")
    assert hit.severity is None
    messages = [f.message for _, f in findings([component], {component.key: result})
                if f.properties.get("cve") == "CVE-2017-14491"]  # fmt: skip
    assert messages and UNRATED in messages[0]


# --- policies checked against stored public copies --------------------------------------------


def test_every_policy_says_whether_a_stored_copy_confirmed_it() -> None:
    for policy in DB.policies:
        assert bool(policy.verified) != bool(policy.unverified), policy.product
        assert not policy.verified or policy.verified.startswith("http"), policy.product
    table = coverage.table(DB)
    confirmed = sum(1 for p in DB.policies if p.verified)
    assert f"policies confirmed by a stored public copy: {confirmed} of {len(DB.policies)}" in table
    assert (
        "| zephyr | branches (10 branches) " in table
        and "yes: https://github.com/zephyrproject-rtos/zephyr/security" in table
    )


CONFIRMED: tuple[tuple[str, str, int | None, str], ...] = (
    # product, policy kind, newest N, what the stored copy says
    ("zephyr", "branches", None, "zephyr .github/SECURITY.md: the most recent release, the one before it, and active LTS releases; docs releases page: a table of branches with end dates"),
    ("samba", "newest", 3, "wiki.samba.org Samba_Release_Planning: current, maintenance, security-fixes-only series"),
    ("libressl", "newest", 2, "libressl.org releases page as quoted in ruby/openssl#636: 3.6 and 3.7 supported, one year each"),
    ("libuv", "latest", None, "libuv SECURITY.md: security updates for the latest v1.x release"),
    ("libjpeg-turbo", "unknown", None, "libjpeg-turbo .github/SECURITY.md: fixes for every series in a supported category, not only the latest"),
    ("uclibc", "stopped", None, "uClibc's final release 0.9.33.2, May 15, 2012"),
    ("xz", "latest", None, "xz .github/SECURITY.md: security updates are applied only to the latest release"),
    ("rsync", "latest", None, "rsync SECURITY.md: only the current release is actively supported"),
    ("threadx", "latest", None, "ThreadX SECURITY.md: 6.5.x supported, no long-term branches or back-ports"),
)  # fmt: skip


@pytest.mark.parametrize(("product", "kind", "branches", "page"), CONFIRMED)
def test_policies_as_the_stored_pages_state_them(
    product: str, kind: str, branches: int | None, page: str
) -> None:
    policy = DB.policy(product)
    assert policy is not None and policy.verified, page
    assert (policy.kind, policy.branches) == (kind, branches), page
