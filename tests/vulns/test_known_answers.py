"""Known answers on the pinned data: CVEs that must and must not be reported, at the boundaries."""

from __future__ import annotations

import pytest

from assay.assess.vulns import db
from assay.assess.vulns.match import Assessment, Support, assess
from assay.model import Component

DB = db.load()


def _assess(name: str, version: str) -> Assessment:
    copy = Component(name=name, version=version, root="")
    return assess(copy, DB)


@pytest.mark.parametrize(
    ("name", "version", "cve", "expected"),
    [
        ("openssl", "1.0.1f", "CVE-2014-0160", True),  # Heartbleed: 1.0.1 to 1.0.1f
        ("openssl", "1.0.1g", "CVE-2014-0160", False),
        ("openssl", "1.0.0", "CVE-2014-0160", False),
        ("openssl", "1.0.2g", "CVE-2016-2107", True),  # letter releases: fixed in 1.0.2h
        ("openssl", "1.0.2h", "CVE-2016-2107", False),
        ("openssl", "1.0.1s", "CVE-2016-2107", True),  # and in 1.0.1t on the older branch
        ("openssl", "1.0.1t", "CVE-2016-2107", False),
        ("curl", "7.68.0", "CVE-2023-38545", False),  # SOCKS5 overflow: 7.69.0 to 8.3.0
        ("curl", "7.69.0", "CVE-2023-38545", True),
        ("curl", "8.3.0", "CVE-2023-38545", True),
        ("curl", "8.4.0", "CVE-2023-38545", False),
        ("expat", "2.4.9", "CVE-2022-43680", True),  # fixed in 2.5.0
        ("expat", "2.5.0", "CVE-2022-43680", False),
        ("zlib", "1.2.11", "CVE-2018-25032", True),  # curated: fixed in 1.2.12
        ("zlib", "1.2.12", "CVE-2018-25032", False),
        ("zlib", "1.2.12", "CVE-2022-37434", True),  # fixed in 1.2.13
        ("zlib", "1.2.13", "CVE-2022-37434", False),
        ("zlib", "1.2.8", "CVE-2016-9841", True),
        ("zlib", "1.2.9", "CVE-2016-9841", False),
        ("busybox", "1.35.0", "CVE-2022-30065", True),  # curated: fixed in 1.36.0
        ("busybox", "1.36.1", "CVE-2022-30065", False),
        ("lwip", "2.1.3", "CVE-2020-8597", True),  # curated: fixed in 2.2.0
        ("lwip", "2.2.0", "CVE-2020-8597", False),
        ("sqlite", "3.30.1", "CVE-2019-19646", True),  # SQLite's own table: fixed in 3.31.0
        ("sqlite", "3.31.0", "CVE-2019-19646", False),
    ],
)
def test_cve_reported_exactly_for_affected_versions(
    name: str, version: str, cve: str, expected: bool
) -> None:
    assert (cve in {h.id for h in _assess(name, version).hits}) is expected


def test_heartbleed_is_flagged_exploited_with_its_fix() -> None:
    [hit] = [h for h in _assess("openssl", "1.0.1f").hits if h.id == "CVE-2014-0160"]
    assert hit.exploited and hit.fixed_in == "1.0.1g"


def test_sqlite_not_a_bug_verdicts_suppress_reports() -> None:
    withdrawn = {a.id for a in DB.advisories if a.library == "sqlite" and a.withdrawn}
    assert withdrawn
    reported = {h.id for h in _assess("sqlite", "3.30.0").hits}
    assert reported.isdisjoint(withdrawn)


@pytest.mark.parametrize(
    ("name", "version", "status"),
    [
        ("openssl", "1.1.1w", Support.PAID_ONLY),  # public EOL 2023-09-11, premium support on
        ("openssl", "1.0.1f", Support.END_OF_LIFE),
        ("openssl", "3.5.1", Support.SUPPORTED),
        ("zlib", "1.2.11", Support.END_OF_LIFE),  # zlib.net: only the newest release
    ],
)
def test_support_status(name: str, version: str, status: Support) -> None:
    assert _assess(name, version).support is status
