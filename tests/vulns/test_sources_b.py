"""Mbed TLS advisories, expat / libpng change logs, SQLite's CVE verdicts (shipped data)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assay.assess.vulns import changelogs, mbedtls, mbedtls_branches, sqlite
from assay.assess.vulns.model import Advisory, Cycle, Range


def _by_id(records: list[Advisory]) -> dict[str, Advisory]:
    return {record.id: record for record in records}


def _vt(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


# --- Mbed TLS ---------------------------------------------------------------------------------


def test_mbedtls_loads_every_advisory_sorted() -> None:
    records = mbedtls.load()
    assert len(records) == 85
    assert [r.id for r in records] == sorted(r.id for r in records)
    assert {r.library for r in records} == {"mbedtls"}
    assert records == mbedtls.load()


def test_mbedtls_single_version_advisory() -> None:
    record = _by_id(mbedtls.load())["CVE-2024-45158"]
    assert record.ranges == (Range(introduced="3.6.0", last_affected="3.6.0"),)
    assert record.severity == "high"
    assert record.summary == "Stack buffer overflow in ECDSA signature conversion functions"
    assert record.reference == "security-advisories/mbedtls-security-advisory-2024-08-2.md"


def test_mbedtls_two_branches_up_to_and_including() -> None:
    record = _by_id(mbedtls.load())["CVE-2022-35409"]
    assert record.ranges == (
        Range(last_affected="2.28.0"),
        Range(introduced="3.0.0", last_affected="3.1.0"),
    )
    assert record.severity == "medium"


def test_mbedtls_two_from_to_ranges() -> None:
    record = _by_id(mbedtls.load())["CVE-2024-28960"]
    assert record.ranges == (
        Range(introduced="2.18.0", last_affected="2.28.7"),
        Range(introduced="3.0.0", last_affected="3.5.2"),
    )


def test_mbedtls_all_versions_bounded_by_resolution() -> None:
    record = _by_id(mbedtls.load())["CVE-2020-10932"]
    assert record.ranges == (
        Range(fixed="2.7.15"),
        Range(introduced="2.8.0", fixed="2.16.6"),
        Range(introduced="2.17.0", fixed="2.22.0"),
    )


def test_mbedtls_prior_to_list_keeps_later_branch_start_past_introduced() -> None:
    record = _by_id(mbedtls.load())["CVE-2017-2784"]
    assert record.ranges == (
        Range(introduced="1.4.0", fixed="2.1.7"),
        Range(introduced="2.2.0", fixed="2.4.2"),
    )
    assert _vt("2.1.7") < _vt("2.2.0") < _vt("2.4.2")


def test_mbedtls_advisory_without_cve_keeps_publisher_id() -> None:
    ids = _by_id(mbedtls.load())
    assert "mbedtls-security-advisory-2017-01#2" in ids
    assert ids["mbedtls-security-advisory-2017-01#2"].ranges == (
        Range(introduced="2.4.0", last_affected="2.4.0"),
        Range(introduced="2.4.1", last_affected="2.4.1"),
    )


def test_mbedtls_not_affected_is_withdrawn() -> None:
    record = _by_id(mbedtls.load())["CVE-2014-0160"]
    assert record.withdrawn
    assert record.ranges == ()


def test_mbedtls_unparsed_are_kept_and_counted() -> None:
    assert mbedtls.unparsed() == ["CVE-2014-3566"]
    record = _by_id(mbedtls.load())["CVE-2014-3566"]
    assert record.ranges == ()
    assert not record.withdrawn


def test_mbedtls_branches() -> None:
    assert mbedtls_branches.load() == [
        Cycle(
            "mbedtls",
            "3.6",
            eol="2027-03-31",
            lts=True,
            latest="3.6.6",
            source="mbedtls-BRANCHES.md",
        ),
        Cycle(
            "mbedtls",
            "4.1",
            eol="2029-03-31",
            lts=True,
            latest="4.1.0",
            source="mbedtls-BRANCHES.md",
        ),
    ]


# --- expat / libpng -----------------------------------------------------------------------------


def test_expat_cve_fixed_in_release() -> None:
    record = _by_id(changelogs.load_expat())["CVE-2022-43680"]
    assert record.library == "expat"
    assert record.ranges == (Range(fixed="2.5.0"),)
    assert record.source == "expat-Changes"
    assert record.reference == "expat-Changes: Release 2.5.0"


def test_expat_cve_span_is_expanded() -> None:
    records = _by_id(changelogs.load_expat())
    for number in range(22822, 22828):
        assert records[f"CVE-2022-{number}"].ranges == (Range(fixed="2.4.3"),)


def test_expat_passing_mentions_are_not_fixes() -> None:
    records = _by_id(changelogs.load_expat())
    # "Fix regression from fix to CVE-2016-0718" (2.2.1) does not move the fix from 2.2.0
    assert records["CVE-2016-0718"].ranges == (Range(fixed="2.2.0"),)
    # only named as "introduced with Expat 2.1.1" in the 2.2.0 notes, never fixed there
    assert "CVE-2015-2716" not in records
    assert len(records) == 64


def test_libpng_cve_fixed_in_release() -> None:
    record = _by_id(changelogs.load_libpng())["CVE-2019-7317"]
    assert record.ranges == (Range(fixed="1.6.37"),)
    assert record.reference == "libpng-CHANGES: Version 1.6.37"


def test_libpng_prerelease_fix_goes_to_final_release() -> None:
    record = _by_id(changelogs.load_libpng())["CVE-2015-8126"]
    assert record.ranges == (Range(fixed="1.6.19"),)
    assert record.reference == "libpng-CHANGES: Version 1.6.19rc04"


def test_libpng_fix_on_two_branches_is_one_range_per_branch() -> None:
    record = _by_id(changelogs.load_libpng())["CVE-2004-0597"]
    assert record.ranges == (Range(fixed="1.0.16"), Range(introduced="1.1.0", fixed="1.2.6"))
    # 1.0.17 is past the 1.0 fix and before the 1.2 branch: not in any range
    assert _vt("1.0.16") <= _vt("1.0.17") < _vt("1.1.0")


@pytest.mark.parametrize("cve", ["CVE-2015-7981", "CVE-2016-5735", "CVE-2004-0421"])
def test_libpng_mentions_in_passing_are_skipped(cve: str) -> None:
    assert cve not in _by_id(changelogs.load_libpng())


def test_fixed_ranges_keeps_earliest_point_per_branch() -> None:
    assert changelogs.fixed_ranges(["1.6.20", "1.6.19", "1.5.26"]) == (
        Range(fixed="1.5.26"),
        Range(introduced="1.6.0", fixed="1.6.19"),
    )


def test_changelogs_load_is_sorted() -> None:
    records = changelogs.load()
    assert [(r.library, r.id) for r in records] == sorted((r.library, r.id) for r in records)
    assert len(records) == 64 + 42


# --- SQLite -------------------------------------------------------------------------------------


def test_sqlite_not_a_bug_is_withdrawn() -> None:
    records = _by_id(sqlite.load())
    assert records["CVE-2022-24854"].withdrawn
    assert records["CVE-2022-24854"].ranges == ()
    assert records["CVE-2022-46908"].withdrawn  # "Bug not in the SQLite library"


def test_sqlite_fixed_version() -> None:
    record = _by_id(sqlite.load())["CVE-2022-35737"]
    assert not record.withdrawn
    assert record.ranges == (Range(fixed="3.39.2"),)
    assert record.library == "sqlite"


def test_sqlite_counts() -> None:
    records = sqlite.load()
    assert len(records) == 30
    assert sum(r.withdrawn for r in records) == 8
    assert [r.id for r in records] == sorted(r.id for r in records)


def test_sqlite_reads_given_root(tmp_path: Path) -> None:
    folder = tmp_path / "sqlite" / "www"
    folder.mkdir(parents=True)
    (folder / "cves.html").write_text(
        "<table><tr><td><a href='x'>CVE-2020-0001</a></td><td>Not applicable</td><td>c</td></tr>"
        "<tr><td>CVE-2020-0002</td><td><a>3.32.0</a><br>(2020-05-22)</td><td>d</td></tr></table>",
        encoding="utf-8",
    )
    records = sqlite.load(tmp_path)
    assert [(r.id, r.withdrawn, r.ranges) for r in records] == [
        ("CVE-2020-0001", True, ()),
        ("CVE-2020-0002", False, (Range(fixed="3.32.0"),)),
    ]
