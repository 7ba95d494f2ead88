import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from assay.assess.vulns import osv, osv_record
from assay.assess.vulns.db import VulnDB
from assay.assess.vulns.model import Advisory, Range
from assay.errors import IngestError

ECOSYSTEM_RECORD: dict[str, Any] = {
    "id": "DEBIAN-CVE-2023-0001",
    "aliases": ["GHSA-xxxx", "CVE-2023-0001"],
    "summary": "Buffer overflow in inflate",
    "affected": [
        {
            "package": {"ecosystem": "Debian:12", "name": "zlib"},
            "ranges": [
                {
                    "type": "ECOSYSTEM",
                    "events": [
                        {"introduced": "0"},
                        {"fixed": "1.2.12"},
                        {"introduced": "1.3"},
                        {"fixed": "1.3.1"},
                    ],
                }
            ],
        }
    ],
    "database_specific": {"severity": "HIGH"},
}

SEMVER_RECORD: dict[str, Any] = {
    "id": "GHSA-semv-er00-0000",
    "details": "First line.\nSecond line.",
    "affected": [
        {
            "package": {"ecosystem": "GitHub Actions", "name": "libcurl"},
            "ranges": [
                {
                    "type": "SEMVER",
                    "events": [{"introduced": "7.50.0"}, {"last_affected": "8.4.0"}],
                }
            ],
            "ecosystem_specific": {"severity": "Moderate"},
        }
    ],
}

VERSIONS_RECORD: dict[str, Any] = {
    "id": "OSV-2020-1",
    "affected": [
        {
            "package": {"ecosystem": "OSS-Fuzz", "name": "libexpat"},
            "versions": ["R_2_2_9", "R_2_2_10"],
        }
    ],
    "database_specific": {"severity": "CVSS:3.1/AV:N"},
}

GIT_RECORD: dict[str, Any] = {
    "id": "OSV-2022-9",
    "affected": [
        {
            "package": {"ecosystem": "OSS-Fuzz", "name": "libpng"},
            "ranges": [
                {
                    "type": "GIT",
                    "repo": "https://github.com/glennrp/libpng",
                    "events": [{"introduced": "aaaa"}, {"fixed": "bbbb"}],
                }
            ],
        }
    ],
}

UNKNOWN_RECORD: dict[str, Any] = {
    "id": "PYSEC-2021-1",
    "affected": [{"package": {"ecosystem": "PyPI", "name": "requests"}, "versions": ["2.0"]}],
}

WITHDRAWN_RECORD: dict[str, Any] = {
    "id": "CVE-2019-9999",
    "withdrawn": "2020-01-01T00:00:00Z",
    "affected": [
        {
            "package": {"ecosystem": "Debian", "name": "sqlite3"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "3.0"}]}],
        }
    ],
}

PURL_RECORD: dict[str, Any] = {
    "id": "OSV-PURL-1",
    "aliases": ["cve-2024-1111"],
    "affected": [
        {
            "package": {"purl": "pkg:deb/debian/xz-utils@5.6.0?arch=amd64"},
            "versions": ["5.6.0", "5.6.1"],
        }
    ],
}

# Mirrors vulns/zstd/OSV-2021-859.yaml of google/oss-fuzz-vulns (data/oss-fuzz-vulns), as JSON.
OSS_FUZZ_RECORD: dict[str, Any] = {
    "id": "OSV-2021-859",
    "summary": "Heap-buffer-overflow in FSE_writeNCount_generic",
    "details": "OSS-Fuzz report: https://bugs.chromium.org/p/oss-fuzz/issues/detail?id=35209\n\n"
    "```\nCrash type: Heap-buffer-overflow WRITE 1\nCrash state:\nFSE_writeNCount_generic\n"
    "FSE_writeNCount\nHUF_compressWeights\n```\n",
    "modified": "2022-04-13T03:04:31.643603Z",
    "published": "2021-06-15T00:00:25.249054Z",
    "references": [
        {"type": "REPORT", "url": "https://bugs.chromium.org/p/oss-fuzz/issues/detail?id=35209"}
    ],
    "affected": [
        {
            "package": {"name": "zstd", "ecosystem": "OSS-Fuzz"},
            "ranges": [
                {
                    "type": "GIT",
                    "repo": "https://github.com/facebook/zstd",
                    "events": [
                        {"introduced": "939276cd0c8f6f5b6eede93bb4db3779742ca778"},
                        {"fixed": "05b6773fbcce1075edbe498a821f9a41249cf384"},
                    ],
                }
            ],
            "ecosystem_specific": {"severity": "HIGH"},
            "versions": [],
        }
    ],
}

ALL = {
    "debian/zlib.json": ECOSYSTEM_RECORD,
    "ghsa/curl.json": SEMVER_RECORD,
    "expat.json": VERSIONS_RECORD,
    "oss-fuzz/libpng/OSV-2022-9.json": GIT_RECORD,
    "pypi/requests.json": UNKNOWN_RECORD,
    "sqlite.json": WITHDRAWN_RECORD,
    "purl.json": PURL_RECORD,
}


def _write_tree(root: Path, records: dict[str, Any]) -> Path:
    for name, record in records.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(record), encoding="utf-8")
    return root


@pytest.fixture
def tree_report(tmp_path: Path) -> osv.ImportReport:
    root = _write_tree(tmp_path / "osv", ALL)
    (root / "broken.json").write_text("{not json", encoding="utf-8")
    (root / "list.json").write_text("[1, 2]", encoding="utf-8")
    (root / "notes.txt").write_text("ignored", encoding="utf-8")
    return osv.read(root)


def _by_id(report: osv.ImportReport) -> dict[str, Advisory]:
    return {a.id: a for a in report.advisories}


def test_directory_counts(tree_report: osv.ImportReport) -> None:
    assert tree_report.files == 9
    assert tree_report.matched == 6
    assert len(tree_report.advisories) == 6
    assert tree_report.unknown_packages == ("PYSEC-2021-1",)
    assert tree_report.git_only == ("OSV-2022-9",)


def test_invalid_files_are_recorded_and_others_still_read(tree_report: osv.ImportReport) -> None:
    assert len(tree_report.errors) == 2
    assert tree_report.errors[0].startswith("broken.json: invalid JSON")
    assert tree_report.errors[1] == "list.json: not a JSON object"


def test_ecosystem_ranges_pair_in_event_order(tree_report: osv.ImportReport) -> None:
    zlib = _by_id(tree_report)["CVE-2023-0001"]
    assert zlib.library == "zlib"
    assert zlib.ranges == (
        Range(introduced=None, fixed="1.2.12"),
        Range(introduced="1.3", fixed="1.3.1"),
    )
    assert zlib.source == "osv-import"
    assert zlib.reference == "DEBIAN-CVE-2023-0001 (debian/zlib.json)"
    assert zlib.severity == "high"
    assert zlib.summary == "Buffer overflow in inflate"


def test_semver_last_affected_and_ecosystem_severity(tree_report: osv.ImportReport) -> None:
    curl = _by_id(tree_report)["GHSA-semv-er00-0000"]
    assert curl.library == "curl"
    assert curl.ranges == (Range(introduced="7.50.0", last_affected="8.4.0"),)
    assert curl.severity == "moderate"
    assert curl.summary == "First line."


def test_explicit_versions_become_single_version_ranges(tree_report: osv.ImportReport) -> None:
    expat = _by_id(tree_report)["OSV-2020-1"]
    assert expat.library == "expat"
    assert expat.ranges == (
        Range(introduced="R_2_2_9", last_affected="R_2_2_9"),
        Range(introduced="R_2_2_10", last_affected="R_2_2_10"),
    )
    assert expat.severity is None  # a CVSS vector is not a severity word


def test_git_only_record_is_kept_without_ranges(tree_report: osv.ImportReport) -> None:
    png = _by_id(tree_report)["OSV-2022-9"]
    assert png.library == "libpng"
    assert png.ranges == ()
    assert not png.withdrawn


def test_withdrawn_record(tree_report: osv.ImportReport) -> None:
    sqlite = _by_id(tree_report)["CVE-2019-9999"]
    assert sqlite.withdrawn
    assert sqlite.library == "sqlite"
    assert sqlite.ranges == (Range(introduced="3.0"),)


def test_purl_only_package(tree_report: osv.ImportReport) -> None:
    xz = _by_id(tree_report)["CVE-2024-1111"]
    assert xz.library == "xz"
    assert xz.reference == "OSV-PURL-1 (purl.json)"
    assert [r.introduced for r in xz.ranges] == ["5.6.0", "5.6.1"]


def test_output_is_sorted_and_round_trips(tree_report: osv.ImportReport) -> None:
    keys = [(a.library, a.id) for a in tree_report.advisories]
    assert keys == sorted(keys)
    db = VulnDB(tree_report.advisories, (), frozenset(), "2026-01-01", ("osv-import",))
    assert VulnDB.from_json(json.loads(json.dumps(db.to_json()))) == db


def test_zip_matches_directory_and_skips_oversize(
    tmp_path: Path, tree_report: osv.ImportReport, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = tmp_path / "all.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, record in ALL.items():
            zf.writestr(name, json.dumps(record))
        zf.writestr("big.json", json.dumps({"id": "BIG", "details": "x" * 4096}))
        zf.writestr("broken.json", "{not json")
        zf.writestr("README.md", "not a record")
    monkeypatch.setattr(osv, "MAX_MEMBER_BYTES", 2048)
    before = sorted(tmp_path.rglob("*"))
    report = osv.read(archive)
    assert sorted(tmp_path.rglob("*")) == before  # nothing extracted
    assert report.advisories == tree_report.advisories
    assert report.git_only == tree_report.git_only
    assert report.unknown_packages == tree_report.unknown_packages
    assert report.files == 8
    assert report.errors[0] == "big.json: larger than 2048 bytes"
    assert report.errors[1].startswith("broken.json: invalid JSON")
    assert len(report.errors) == 2


def test_zip_member_count_is_capped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive = tmp_path / "many.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for index in range(3):
            zf.writestr(f"r{index}.json", json.dumps({**GIT_RECORD, "id": f"OSV-{index}"}))
    monkeypatch.setattr(osv, "MAX_MEMBERS", 2)
    report = osv.read(archive)
    assert report.files == 2
    assert report.git_only == ("OSV-0", "OSV-1")
    assert report.errors == ("(zip): 1 members beyond the first 2 skipped",)


def test_corrupt_zip_is_an_error_not_a_crash(tmp_path: Path) -> None:
    archive = tmp_path / "bad.zip"
    archive.write_bytes(b"not a zip at all")
    report = osv.read(archive)
    assert report.advisories == ()
    assert report.errors[0].startswith("bad.zip: unreadable zip")


def test_missing_path_raises(tmp_path: Path) -> None:
    with pytest.raises(IngestError):
        osv.read(tmp_path / "nowhere")


def test_real_oss_fuzz_record_with_only_git_ranges(tmp_path: Path) -> None:
    root = _write_tree(tmp_path / "oss-fuzz", {"zstd/OSV-2021-859.json": OSS_FUZZ_RECORD})
    report = osv.read(root)
    assert report.git_only == ("OSV-2021-859",)
    assert report.matched == 1
    (zstd,) = report.advisories
    assert zstd == Advisory(
        id="OSV-2021-859",
        library="zstd",
        ranges=(),
        source="osv-import",
        reference="OSV-2021-859 (zstd/OSV-2021-859.json)",
        severity="high",
        summary="Heap-buffer-overflow in FSE_writeNCount_generic",
    )


def test_git_ranges_alongside_versions_are_not_git_only() -> None:
    record = {**GIT_RECORD, "affected": [{**GIT_RECORD["affected"][0], "versions": ["v1.6.37"]}]}
    parsed = osv_record.parse(record, "x.json")
    assert not parsed.git_only
    assert parsed.advisories[0].ranges == (Range("v1.6.37", last_affected="v1.6.37"),)


@pytest.mark.parametrize(
    ("purl", "name"),
    [
        ("pkg:generic/zlib@1.3", "zlib"),
        ("pkg:deb/debian/libexpat?distro=bookworm", "libexpat"),
        ("pkg:github/curl/curl@curl-8_4_0#lib", "curl"),
        ("pkg:github/Mbed-TLS/MbedTLS", "mbedtls"),
    ],
)
def test_purl_name(purl: str, name: str) -> None:
    assert osv_record.purl_name(purl) == name


def test_events_without_introduced_and_open_ends() -> None:
    events = [{"fixed": "1.0"}, {"introduced": "2.0"}, {"limit": "x"}, {"introduced": "3.0"}]
    assert osv_record.events_to_ranges(events) == [
        Range(fixed="1.0"),
        Range(introduced="2.0"),
        Range(introduced="3.0"),
    ]


def test_package_names_table() -> None:
    assert osv_record.PACKAGE_NAMES["libcurl"] == "curl"
    assert osv_record.PACKAGE_NAMES["xz-utils"] == "xz"
    assert osv_record.PACKAGE_NAMES["sqlite3"] == "sqlite"
    assert all(key == key.lower() for key in osv_record.PACKAGE_NAMES)
