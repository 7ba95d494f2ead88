"""Exploited-in-the-wild and severity reach every product, whatever source named the CVE."""

from __future__ import annotations

from assay.assess.vulns import db, findings
from assay.assess.vulns.db import VulnDB
from assay.assess.vulns.match import assess
from assay.assess.vulns.model import Advisory, Range
from assay.model import Component, Severity

PINNED = db.load(db.default_path())


def test_kev_marks_a_cve_from_a_debian_changelog_and_raises_its_finding() -> None:
    # Baron Samedit: sudo's advisory (https://www.sudo.ws/security/advisories/unescape_overflow/);
    # the data has it from Debian's changelog only (no severity), CISA lists it as exploited.
    assert "CVE-2021-3156" in PINNED.exploited
    copy = Component(name="sudo", version="1.9.5p1", root="fw/usr/bin")
    result = assess(copy, PINNED)
    [hit] = [h for h in result.hits if h.id == "CVE-2021-3156"]
    assert hit.exploited and hit.source == "debian-changelog"
    [(_, finding)] = [
        (p, f) for p, f in findings.findings([copy], {copy.key: result})
        if f.properties.get("cve") == "CVE-2021-3156"
    ]  # fmt: skip
    assert finding.severity is not None and finding.severity >= Severity.HIGH
    assert "CISA KEV" in finding.message


def test_every_product_with_advisories_gets_kev_by_id() -> None:
    exploited_products = {a.library for a in PINNED.advisories if a.id in PINNED.exploited}
    assert {"sudo", "glibc", "bash", "linux", "openssl"} <= exploited_products


def test_a_publisher_severity_carries_over_to_another_product() -> None:
    known = VulnDB(
        advisories=(
            Advisory("CVE-2099-0001", "curl", (Range(fixed="8.0"),), "curl-vuln", "t", "critical"),
            Advisory("CVE-2099-0001", "wget", (Range(fixed="2.0"),), "debian-changelog", "t"),
        ),
        cycles=(), exploited=frozenset(), snapshot="2026-01-01",
    )  # fmt: skip
    [hit] = assess(Component(name="wget", version="1.21", root=""), known).hits
    assert hit.severity == "critical"
