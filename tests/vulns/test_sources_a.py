from pathlib import Path

import pytest

from assay.assess.vulns import curl, endoflife, kev, openssl
from assay.assess.vulns.model import OPEN, Advisory, Cycle, Range
from assay.versions import affected

DATA = Path(__file__).parents[2] / "data" / "vulns"


@pytest.fixture(scope="module")
def openssl_by_id() -> dict[str, Advisory]:
    return {a.id: a for a in openssl.load()}


@pytest.fixture(scope="module")
def curl_by_id() -> dict[str, Advisory]:
    return {a.id: a for a in curl.load()}


def test_data_copies_carry_their_provenance() -> None:
    for folder in ("openssl-release-metadata", "curl-vuln", "cisa-kev", "endoflife"):
        assert (DATA / folder / "SOURCE").is_file()
    for folder in ("curl-vuln", "cisa-kev", "endoflife"):
        assert (DATA / folder / "LICENSE").is_file()


def test_openssl_counts_and_order() -> None:
    advisories = openssl.load()
    assert len(advisories) == 275  # 272 CVE records + 3 disputed statements
    assert advisories == sorted(advisories, key=lambda a: (a.id, a.library))
    assert sum(a.withdrawn for a in advisories) == 3


def test_heartbleed(openssl_by_id: dict[str, Advisory]) -> None:
    heartbleed = openssl_by_id["CVE-2014-0160"]
    assert heartbleed.library == "openssl"
    assert heartbleed.ranges == (Range(introduced="1.0.1", fixed="1.0.1g"),)
    assert heartbleed.reference == "https://www.openssl.org/news/secadv/20140407.txt"
    assert affected("openssl", "1.0.1", heartbleed.ranges)
    assert affected("openssl", "1.0.1f", heartbleed.ranges)
    assert not affected("openssl", "1.0.1g", heartbleed.ranges)
    assert not affected("openssl", "1.0.0t", heartbleed.ranges)
    assert not affected("openssl", "1.0.2", heartbleed.ranges)


def test_openssl_cve_2017_3731(openssl_by_id: dict[str, Advisory]) -> None:
    record = openssl_by_id["CVE-2017-3731"]
    assert record.ranges == (Range("1.1.0", "1.1.0d"), Range("1.0.2", "1.0.2k"))
    assert affected("openssl", "1.0.2j", record.ranges)
    assert not affected("openssl", "1.0.2k", record.ranges)
    assert affected("openssl", "1.1.0c", record.ranges)
    assert not affected("openssl", "1.1.0d", record.ranges)


def test_openssl_letter_releases_past_z(openssl_by_id: dict[str, Advisory]) -> None:
    ranges = openssl_by_id["CVE-2014-0195"].ranges
    assert Range("0.9.8o", "0.9.8za") in ranges
    assert affected("openssl", "0.9.8zh", ranges) is False
    assert affected("openssl", "0.9.8y", ranges)
    assert not affected("openssl", "0.9.8n", ranges)


def test_openssl_metadata_fields(openssl_by_id: dict[str, Advisory]) -> None:
    record = openssl_by_id["CVE-2022-3996"]
    assert record.ranges == (Range(introduced="3.0.0", last_affected="3.0.7"),)
    assert record.severity == "low"
    assert record.cwe == "CWE-667"
    assert record.summary == "X.509 Policy Constraints Double Locking"
    assert affected("openssl", "3.0.7", record.ranges)
    assert not affected("openssl", "3.0.8", record.ranges)


def test_openssl_fips_and_disputed(openssl_by_id: dict[str, Advisory]) -> None:
    fips = openssl_by_id["CVE-2007-5502"]
    assert fips.library == "openssl-fips"
    assert fips.ranges == (Range("1.1.1", "1.1.2"),)
    disputed = openssl_by_id["CVE-2010-0928"]
    assert disputed.withdrawn
    assert disputed.ranges == ()
    assert not openssl_by_id["CVE-2014-0160"].withdrawn


def test_openssl_cycles() -> None:
    cycles = {c.cycle: c for c in openssl.load_cycles()}
    assert cycles["3.0"] == Cycle(
        library="openssl",
        cycle="3.0",
        released="2021-09-07",
        eol="2026-09-07",
        lts=True,
        source="openssl-release-metadata",
    )
    assert cycles["1.0.2"].eol == "2019-12-31"
    assert cycles["1.1.0"].eol == "2019-09-11"
    assert cycles["4.2"].released == "2027-04"
    assert "0.9.6" not in cycles
    assert "1.1.1" not in cycles


def test_curl_counts(curl_by_id: dict[str, Advisory]) -> None:
    advisories = curl.load()
    assert len(advisories) == 210
    assert len(curl_by_id) == 210
    assert sum(a.withdrawn for a in advisories) == 4


def test_curl_socks5_heap_overflow_boundaries(curl_by_id: dict[str, Advisory]) -> None:
    record = curl_by_id["CVE-2023-38545"]
    assert record == Advisory(
        id="CVE-2023-38545",
        library="curl",
        ranges=(Range(introduced="7.69.0", last_affected="8.3.0"),),
        source="curl-vuln.pm",
        reference="https://curl.se/docs/CVE-2023-38545.html",
        severity="high",
        cwe="CWE-122",
        summary="SOCKS5 heap buffer overflow",
    )
    assert not affected("curl", "7.68.0", record.ranges)
    assert affected("curl", "7.69.0", record.ranges)
    assert affected("curl", "8.3.0", record.ranges)
    assert not affected("curl", "8.4.0", record.ranges)


def test_curl_old_short_entry(curl_by_id: dict[str, Advisory]) -> None:
    record = curl_by_id["CVE-2000-0973"]
    assert record.ranges == (Range(introduced="6.0", last_affected="7.4"),)
    assert record.severity == "critical"
    assert affected("curl", "7.4", record.ranges)
    assert not affected("curl", "7.4.1", record.ranges)


def test_curl_withdrawn(curl_by_id: dict[str, Advisory]) -> None:
    retracted = curl_by_id["CVE-2019-15601"]
    assert retracted.withdrawn
    assert retracted.source == "curl-novuln.pm"
    bogus = curl_by_id["CVE-2023-52071"]
    assert bogus.withdrawn
    assert bogus.ranges == ()
    assert not curl_by_id["CVE-2023-38545"].withdrawn


def test_kev() -> None:
    catalog = kev.load()
    assert len(catalog.cves) == 1404
    assert catalog.version == "2025.08.25"
    assert catalog.released == "2025-08-25"
    assert "CVE-2014-0160" in kev.exploited()
    assert "CVE-2023-38545" not in kev.exploited()


def test_endoflife_openssl_1_1_1() -> None:
    cycles = {(c.library, c.cycle): c for c in endoflife.load()}
    assert cycles["openssl", "1.1.1"] == Cycle(
        library="openssl",
        cycle="1.1.1",
        released="2018-09-11",
        eol="2023-09-11",
        lts=True,
        latest="1.1.1w",
        extended_support=OPEN,
        source="endoflife.date",
    )
    assert cycles["openssl", "1.0.2"].eol == "2019-12-31"
    assert cycles["sqlite", "3"].eol is None
    assert cycles["openwrt", "24.10"].eol == "2026-09-05"
    assert cycles["yocto", "5.0"].lts
    assert {library for library, _ in cycles} >= {
        "linux-kernel",
        "openssl",
        "openwrt",
        "sqlite",
        "yocto",
    }


def test_endoflife_front_matter_parser() -> None:
    text = (
        "---\ntitle: X\nauto:\n  methods:\n    - git: https://x\nreleases:\n"
        '  - releaseCycle: "2.1"\n    releaseDate: 2020-01-02\n    eol: true\n'
        "    eoes: 2030-01-01 # paid\n    latest: '2.1.9'\n\n"
        "  - releaseCycle: 3\n    eol: false\n    lts: true\n---\nbody: ignored\n"
    )
    assert endoflife.parse("x", text) == [
        Cycle(
            library="x",
            cycle="2.1",
            released="2020-01-02",
            eol="unknown",
            extended_support="2030-01-01",
            latest="2.1.9",
            source="endoflife.date",
        ),
        Cycle(library="x", cycle="3", lts=True, source="endoflife.date"),
    ]


def test_loaders_accept_another_root(tmp_path: Path) -> None:
    products = tmp_path / "endoflife" / "products"
    products.mkdir(parents=True)
    (products / "zlib.md").write_text("---\nreleases:\n  - releaseCycle: '1.3'\n---\n")
    assert endoflife.load(tmp_path) == [Cycle(library="zlib", cycle="1.3", source="endoflife.date")]
