# ruff: noqa: E501  (rows cite their sources)
"""Release dates read from the publishers' own pages (data/vulns/upstream/release-dates.toml) on
the shipped data (src/assay/data/vulndb.json.gz): LibreSSL's releases page, ThreadX's and NetX
Duo's CHANGELOG.md, GoAhead's release notes, thttpd 2.29's README, Zephyr's "Supported Releases"
tables; and the policies confirmed from stored copies of the projects' own statements.

Each expected date and version is the one the cited page states (read by hand), not taken from
assay's output; the status follows from the product's policy row."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from assay.analyze.binaries.signatures import detect
from assay.assess.vulns import coverage, db, upstream_dates
from assay.assess.vulns.match import assess
from assay.assess.vulns.model import Cycle
from assay.assess.vulns.policy import Policy, Support, status
from assay.model import Component

DB = db.load(db.default_path())
DATA = Path(__file__).resolve().parents[2] / "data" / "vulns"


def _status(product: str, version: str):  # type: ignore[no-untyped-def]
    return status(DB.policy(product), version, DB.cycles_of(product), DB.releases_of(product),
                  DB.snapshot)  # fmt: skip


SUPERSEDED: tuple[tuple[str, str, str, str, str], ...] = (
    # product, version, superseded by, since, page that states the date
    # LibreSSL: newest 2 series; 3.7 fell out when the 3.9 series began:
    # releases.html "LibreSSL 3.8.3, 3.9.0 (March 9th, 2024)"
    ("libressl", "3.7.3", "3.9.0", "2024-03-09", "libressl.org/releases.html: 3.8.3, 3.9.0 (March 9th, 2024)"),
    ("libressl", "4.1.2", "4.3.0", "2026-04-18", "libressl.org/releases.html: 4.3.0 (Apr 18th, 2026)"),
    ("libressl", "2.0.5", "2.2.0", "2015-06-11", "openbsd/www libressl/releases.html: 2.2.0 (Jun 11, 2015)"),
    # ThreadX: latest; CHANGELOG.md "ThreadX Release | Closed | 6.1.11 | ... | 26/04/2022"
    ("threadx", "6.1.10", "6.1.11", "2022-04-26", "threadx CHANGELOG.md: 6.1.11 release 26/04/2022"),
    ("threadx", "6.3.0", "6.4.0", "2024-01-01", "threadx CHANGELOG.md: 6.4.0 release 01/01/2024"),
    # NetX Duo: CHANGELOG.md "NetX Duo Release | Closed | 6.4.3 | ... | 18/03/2025"
    ("netx", "6.4.2", "6.4.3", "2025-03-18", "netxduo CHANGELOG.md: 6.4.3 release 18/03/2025"),
    # GoAhead: AI/releases/v6.1.0.md "Release Date: November 3, 2025"
    ("goahead", "6.0.4", "6.1.0", "2025-11-03", "goahead v6.1.0 release notes: November 3, 2025"),
    # thttpd: latest; a copy of the 2.29 README "version 2.29 of 23May2018" (larryhe/tinyhttpd@b3c84edc)
    ("thttpd", "2.28", "2.29", "2018-05-23", "thttpd 2.29 README: version 2.29 of 23May2018"),
    ("thttpd", "2.25b", "2.29", "2018-05-23", "thttpd 2.29 README: the only dated release, so an upper bound"),
)  # fmt: skip


@pytest.mark.parametrize(("product", "version", "by", "since", "page"), SUPERSEDED)
def test_an_older_release_is_superseded_on_the_date_the_page_states(
    product: str, version: str, by: str, since: str, page: str
) -> None:
    state = _status(product, version)
    assert (state.support, state.superseded_by, state.since) == (Support.END_OF_LIFE, by, since), (
        page
    )
    assert "at the latest: Debian packaged it" not in state.reason  # a publisher's own date


@pytest.mark.parametrize(
    ("product", "version"),
    [
        ("libressl", "4.2.1"),  # 4.2 and 4.3 are the newest two series on the page
        ("libressl", "4.3.2"),  # the newest release the page lists (May 25th, 2026)
        ("threadx", "6.4.2"),  # the newest ThreadX release row of the stored CHANGELOG.md
        ("thttpd", "2.29"),  # the last thttpd release (23May2018)
    ],
)
def test_the_newest_releases_are_supported(product: str, version: str) -> None:
    assert _status(product, version).support is Support.SUPPORTED


ZEPHYR: tuple[tuple[str, Support, str | None, str], ...] = (
    # version, status, since (the table's EOL), page
    ("3.7.5", Support.SUPPORTED, None, "docs releases page: 3.7.0 (LTS3) released 2024-07-26, EOL 2029-07-27"),
    ("4.4.1", Support.SUPPORTED, None, "doc/releases/index.rst at 4.4.0: 4.4.0 released 2026-04-14, EOL 2027-04-12"),
    ("4.1.0", Support.END_OF_LIFE, "2025-11-14", "doc/releases/index.rst@d9bf5edb: 4.1.0 EOL 2025-11-14"),
    ("4.3.0", Support.END_OF_LIFE, "2026-10-15", "docs releases page: 4.3.0 EOL 2026-10-15"),
    ("3.5.0", Support.END_OF_LIFE, "2024-07-26", "doc/releases/index.rst@04836856: 3.5.0 EOL 2024-07-26"),
    ("2.7.6", Support.END_OF_LIFE, "2025-01-26", "docs releases page, Previous LTS: 2.7.6 (LTS2) EOL 2025-01-26"),
    # 3.4 is listed among the end-of-life releases, without a date; older than 3.5 and not LTS
    ("3.4.0", Support.END_OF_LIFE, None, "docs eol_releases page lists Zephyr 3.4.0"),
    # older than 1.14 (LTS1), the oldest branch the tables name
    ("1.13.0", Support.END_OF_LIFE, None, "docs eol_releases page lists Zephyr Kernel 1.13.0"),
)  # fmt: skip


@pytest.mark.parametrize(("version", "support", "since", "page"), ZEPHYR)
def test_zephyr_branches_end_on_the_dates_its_tables_give(
    version: str, support: Support, since: str | None, page: str
) -> None:
    state = _status("zephyr", version)
    assert (state.support, state.since) == (support, since), page


def test_a_zephyr_boot_banner_is_assessed_end_to_end() -> None:
    # the banner Zephyr 3.5.0 prints; its branch ended 2024-07-26 (index.rst@04836856)
    (hit,) = detect(b"*** Booting Zephyr OS build v3.5.0 ***\n", "zephyr.elf")
    result = assess(Component(name=hit.library, version=hit.version, root="fw"), DB)
    assert (result.support, result.cycle, result.since) == (
        Support.END_OF_LIFE,
        "3.5",
        "2024-07-26",
    )


def test_a_threadx_banner_is_assessed_end_to_end() -> None:
    banner = (b"Copyright (c) Microsoft Corporation. All rights reserved.  *  ThreadX Cortex-M3/AC5 "
              b"Version 6.1.12 *")  # fmt: skip
    (hit,) = detect(banner, "fw.elf")
    result = assess(Component(name=hit.library, version=hit.version, root="fw"), DB)
    # CHANGELOG.md: "ThreadX Release | Closed | 6.2.0 | ... | 28/10/2022"
    assert (result.support, result.superseded_by, result.since) == (
        Support.END_OF_LIFE, "6.2.0", "2022-10-28",
    )  # fmt: skip


def test_the_table_is_read_with_its_sources() -> None:
    dated = {r.version: r for r in upstream_dates.releases(DATA)}
    assert sum(1 for v in dated if v.startswith("libressl ")) == 129
    assert dated["libressl 2.0.0"].date == "2014-07-11"  # "First LibreSSL release"
    assert "PuffSpace/puffspace.github.io@637e82dc" in dated["libressl 3.9.0"].source
    assert "eclipse-threadx/threadx@9b446713" in dated["threadx 6.1.2"].source
    assert dated["thttpd 2.29"].date == "2018-05-23"  # "version 2.29 of 23May2018"
    assert "larryhe/tinyhttpd@b3c84edc" in dated["thttpd 2.29"].source
    zephyr = {c.cycle: c for c in upstream_dates.cycles(DATA)}
    assert (zephyr["3.7"].lts, zephyr["3.7"].eol) == (True, "2029-07-27")
    assert zephyr["2.7"].released is None  # the table gives 2.7.6's date, not the branch's first
    assert all(c.source.startswith(upstream_dates.SOURCE) for c in zephyr.values())


def test_a_row_that_is_not_a_date_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "upstream").mkdir()
    (tmp_path / "upstream" / "release-dates.toml").write_text(
        '[x]\nsource = "s"\n[x.releases]\n"1.0" = "2020-01-01"\n', encoding="utf-8"
    )
    with pytest.raises(upstream_dates.DataError, match=r"x 1\.0"):
        list(upstream_dates.releases(tmp_path))


def test_a_missing_table_gives_nothing(tmp_path: Path) -> None:
    assert list(upstream_dates.releases(tmp_path)) == []
    assert list(upstream_dates.cycles(tmp_path)) == []


def test_only_two_products_stay_undated() -> None:
    # no stored copy of their own pages dates a release (docs/vulnerabilities.md says why)
    assert coverage.undated(DB) == ["uclibc-ng", "zlib-ng"]


def test_a_regular_branch_missing_between_listed_branches_has_ended() -> None:
    policy = Policy("p", "branches", "https://example.invalid/policy")
    cycles = [Cycle("p", "1.0", "2019-01-01", "2025-01-01", lts=True),
              Cycle("p", "3.0", "2023-01-01", None)]  # fmt: skip
    gap = status(policy, "2.4.1", cycles, [], "2026-01-01")
    assert (gap.support, gap.since) == (Support.END_OF_LIFE, None)
    assert "older than 3.0, the oldest non-LTS branch listed" in gap.reason
    # newer than every listed branch: not known to the data
    assert status(policy, "4.0.0", cycles, [], "2026-01-01").support is Support.UNKNOWN


CONFIRMED_NOW: tuple[tuple[str, str, int | None, str], ...] = (
    # product, policy kind, newest N, what the stored copy says
    ("unbound", "latest", None, "NLnet Labs SECURITY.md (NSD repository): the latest release only, no back-ports to older minor versions"),
    ("openldap", "newest", 2, "OpenLDAP release maintenance policy (Symas copy): the current LTS and the current feature release"),
    ("jansson", "latest", None, "jansson SECURITY.md@60097f00: supported versions: latest released version"),
    ("libyaml", "newest", 1, "libyaml Security.md@3774f9b0: 0.2.x supported, older than 0.2 not (was latest)"),
    ("libmicrohttpd", "newest", 1, "GNU libmicrohttpd SECURITY.md: the most recent stable series, 1.x, and the development series (was latest)"),
    ("boa", "stopped", None, "boa.org news.html: newest entry 23 Feb 2005, 0.94.14rc21 released"),
)  # fmt: skip


@pytest.mark.parametrize(("product", "kind", "branches", "page"), CONFIRMED_NOW)
def test_policies_confirmed_from_stored_copies(
    product: str, kind: str, branches: int | None, page: str
) -> None:
    policy = DB.policy(product)
    assert policy is not None and policy.verified.startswith(("https://", "http://")), page
    assert (policy.kind, policy.branches, policy.unverified) == (kind, branches, ""), page


def test_nss_latest_release_and_esr_lines_are_both_encoded() -> None:
    # the stored NSS release index names the latest release and the latest ESR release: the
    # policy is `latest` and the ESR lines are long-term rows of release-dates.toml
    policy = DB.policy("nss")
    assert policy is not None and policy.kind == "latest" and policy.unverified == ""
    assert "(ESR) is the latest ESR version" in policy.verified
    lines = [c for c in DB.cycles_of("nss") if c.lts]
    assert lines and all(c.source.startswith(upstream_dates.SOURCE) for c in lines)
    table = tomllib.loads((DATA / upstream_dates.FILE).read_text(encoding="utf-8"))
    assert {c.cycle for c in lines} == {row["series"] for row in table["nss"]["branch"]}


SERIES: tuple[tuple[str, str, Support, str, str], ...] = (
    # product, version, status, the series that pushed it out ("" when supported), statement
    ("libyaml", "0.2.2", Support.SUPPORTED, "", "Security.md: 0.2.x supported"),
    ("libyaml", "0.1.7", Support.END_OF_LIFE, "0.2.", "Security.md: versions before 0.2 not supported"),
    ("libmicrohttpd", "1.0.1", Support.SUPPORTED, "", "SECURITY.md: the most recent stable series (1.x)"),
    ("libmicrohttpd", "0.9.77", Support.END_OF_LIFE, "1.0.", "SECURITY.md: only the most recent stable series"),
)  # fmt: skip


@pytest.mark.parametrize(("product", "version", "support", "pushed_by", "page"), SERIES)
def test_a_series_statement_keeps_an_older_release_of_the_series_supported(
    product: str, version: str, support: Support, pushed_by: str, page: str
) -> None:
    # a release of a supported series is not reported superseded by the next release of the
    # series (as `latest` did), and a release of an older series has ended
    state = _status(product, version)
    assert state.support is support, page
    if pushed_by:
        assert state.superseded_by is not None and state.superseded_by.startswith(pushed_by), page
    else:
        assert state.superseded_by is None, page


def test_boa_is_end_of_life_since_its_last_release() -> None:
    # boa.org/news.html: "23 Feb 2005 - Version 0.94.14rc21 released!", no later entry
    state = _status("boa", "0.94.13")
    assert (state.support, state.since) == (Support.END_OF_LIFE, "2005-02-23")
    assert "0.94.14rc21" in state.reason
