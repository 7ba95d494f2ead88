"""Linux kernel CVEs are bounded by the data on both sides (issue #18): a CVE introduced after
the copy's version, or fixed in the copy's stable series at or before it, is not reported; a
CVE whose data gives no lower bound for the copy's series is counted as "not bounded", not
reported. Each case cites the data row it comes from (``data/vulns/linux-kernel-cves/data``,
``data/vulns/debian/linux.changelog.gz``)."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest

from assay.assess.binaries import complete
from assay.assess.vulns.db import VulnDB, load
from assay.assess.vulns.match import Assessment, assess
from assay.model import Component
from assay.versions import key
from support import Run, write_tree

DATA = Path(__file__).resolve().parents[2] / "data" / "vulns"
KERNEL = DATA / "linux-kernel-cves" / "data"


@cache
def _db() -> VulnDB:
    return load(Path(str(Path(__file__).resolve().parents[2] / "src/assay/data/vulndb.json.gz")))


def _assess(version: str) -> Assessment:
    return assess(Component("linux", version, "boot/vmlinux"), _db())


@cache
def _cves_txt() -> dict[str, str]:
    rows = {}
    for line in (KERNEL / "CVEs.txt").read_text(encoding="utf-8").splitlines():
        cve, sep, rest = line.partition(": ")
        if sep and cve.startswith("CVE-"):
            rows[cve] = rest
    return rows


@cache
def _streams() -> dict[str, dict[str, dict[str, str]]]:
    found: dict[str, dict[str, dict[str, str]]] = json.loads(
        (KERNEL / "stream_fixes.json").read_text(encoding="utf-8")
    )
    return found


# (version, CVE, "finding" | "not bounded" | "absent", the data row that decides it)
CASES = [
    # CVEs.txt: "CVE-2013-2850: ... (v3.1-rc1 to v3.10-rc4)"; stream_fixes 3.2: 3.2.47
    ("3.0.101", "CVE-2013-2850", "absent", "v3.1-rc1 to v3.10-rc4: introduced after 3.0"),
    ("3.4.10", "CVE-2013-2850", "finding", "v3.1-rc1 to v3.10-rc4, no 3.4 stream fix"),
    ("3.2.46", "CVE-2013-2850", "finding", "stream 3.2 fixed in 3.2.47"),
    ("3.2.47", "CVE-2013-2850", "absent", "stream 3.2 fixed in 3.2.47"),
    ("3.10.14", "CVE-2013-2850", "absent", "mainline fix v3.10-rc4"),
    # "CVE-2016-5195: ... (v2.6.22-rc1 to v4.9-rc2)"; streams 4.4: 4.4.26, 4.8: 4.8.3
    ("2.6.21", "CVE-2016-5195", "absent", "v2.6.22-rc1: introduced after 2.6.21"),
    ("4.4.25", "CVE-2016-5195", "finding", "stream 4.4 fixed in 4.4.26"),
    ("4.4.26", "CVE-2016-5195", "absent", "stream 4.4 fixed in 4.4.26"),
    ("3.10.14", "CVE-2016-5195", "finding", "no 3.10 stream fix in the data"),
    # "CVE-2013-6885: (n/a) - ... (unk to v3.14-rc1)"; streams 3.2: 3.2.67, 3.12: 3.12.10
    ("3.12.9", "CVE-2013-6885", "finding", "stream 3.12 fixed in 3.12.10"),
    ("3.12.10", "CVE-2013-6885", "absent", "stream 3.12 fixed in 3.12.10"),
    ("3.0.101", "CVE-2013-6885", "not bounded", "introduction unk, 3.0 below every stream fix"),
    # Debian changelog of linux: 5.10.221-1 and 6.1.98-1 (2024-07-14) close CVE-2024-25741;
    # linux_kernel_cves knows neither end ("unk to unk", no stream fix)
    ("5.10.220", "CVE-2024-25741", "finding", "Debian 5.10.221-1 fixes the 5.10 series"),
    ("5.10.221", "CVE-2024-25741", "absent", "Debian 5.10.221-1"),
    ("6.1.97", "CVE-2024-25741", "finding", "Debian 6.1.98-1 fixes the 6.1 series"),
    ("6.1.98", "CVE-2024-25741", "absent", "Debian 6.1.98-1"),
    ("4.19.300", "CVE-2024-25741", "not bounded", "no 4.19 fix, no introducing version"),
    ("3.10.14", "CVE-2024-25741", "not bounded", "no 3.10 fix, no introducing version"),
]


def test_cited_rows_are_in_the_data() -> None:
    assert _cves_txt()["CVE-2013-2850"].endswith("(v3.1-rc1 to v3.10-rc4)")
    assert _streams()["CVE-2013-2850"]["3.2"]["fixed_version"] == "3.2.47"
    assert _cves_txt()["CVE-2016-5195"].endswith("(v2.6.22-rc1 to v4.9-rc2)")
    assert _streams()["CVE-2016-5195"]["4.4"]["fixed_version"] == "4.4.26"
    assert "3.10" not in _streams()["CVE-2016-5195"]
    assert _cves_txt()["CVE-2013-6885"].endswith("(unk to v3.14-rc1)")
    assert _streams()["CVE-2013-6885"]["3.12"]["fixed_version"] == "3.12.10"
    assert _cves_txt()["CVE-2024-25741"].endswith("(unk to unk)")  # no data: Debian decides
    assert "CVE-2024-25741" not in _streams()
    log = gzip.decompress((DATA / "debian" / "linux.changelog.gz").read_bytes()).decode()
    for version in ("5.10.221-1", "6.1.98-1"):
        entry = log[log.index(f"linux ({version})") :]
        entry = entry[: entry.index("\n -- ")]
        assert "CVE-2024-25741" in entry


@pytest.mark.parametrize(("version", "cve", "expected", "why"), CASES)
def test_kernel_known_answers(version: str, cve: str, expected: str, why: str) -> None:
    result = _assess(version)
    found = {h.id for h in result.hits}
    state = "finding" if cve in found else "not bounded" if cve in result.unbounded else "absent"
    assert state == expected, why


def _v(text: str) -> tuple[object, ...]:
    return key("linux", text.removeprefix("v"))


def test_router_kernel_findings_are_what_the_data_bounds() -> None:
    """Linux 3.10.14 (issue #18): the findings are exactly the linux_kernel_cves rows whose
    introducing version is known and at or before 3.10.14, or unknown but with a stream fix in
    an older series (that series carried the bug, and so did mainline up to its fix), and whose
    mainline fix is later (the data has no 3.10 stream); every other kernel CVE holding it, the
    Debian-changelog ones included, is "not bounded"."""
    version = "3.10.14"
    assert not any("3.10" in streams for streams in _streams().values())
    bounded, open_below = set(), set()
    for cve, rest in _cves_txt().items():
        match = re.search(r"\((\S+) to (\S+)\)$", rest)
        if match is None:
            continue  # "CVE Caused by Backporting": not a mainline bug
        intro, fix = match.groups()
        if fix not in ("unk", "n/a") and _v(fix) <= _v(version):
            continue
        streams = _streams().get(cve, {})
        if intro in ("unk", "n/a"):
            if any(_v(series) < _v(version) for series in streams):
                bounded.add(cve)
            elif fix not in ("unk", "n/a") or streams:
                open_below.add(cve)
        elif _v(intro) <= _v(version):
            bounded.add(cve)
    result = _assess(version)
    assert {h.id for h in result.hits} == bounded
    debian_only = {a.id for a in _db().advisories_of("linux") if a.source == "debian-changelog"}
    assert set(result.unbounded) == open_below | debian_only


def test_router_kernel_in_the_binaries_section_reports_only_bounded_cves() -> None:
    """The kernel found in a firmware's binaries gets one known-cve finding per bounded CVE,
    and its verdict lists the not bounded ones."""
    section = {
        "components": [
            {"name": "linux", "version": "3.10.14", "paths": ["boot/vmlinux"], "count": 1}
        ]
    }
    done, pairs = complete(section, (), _db(), has_source=False)
    expected = _assess("3.10.14")
    cves = {f.properties["cve"] for _, f in pairs if f.rule_id == "binaries/known-cve"}
    assert cves == {h.id for h in expected.hits}
    verdict = done["assessment"]["linux@3.10.14"]
    assert verdict["unbounded"] == list(expected.unbounded)
    assert not cves & set(verdict["unbounded"])


def test_kernel_source_tree_evaluation_counts_not_bounded_cves_apart(
    tmp_path: Path, evaluate: Callable[..., Run]
) -> None:
    """A Linux 3.10.14 source tree, evaluated: its findings are the bounded CVEs only; the
    others are listed and counted in evaluation.json and mentioned in report.html."""
    makefile = "VERSION = 3\nPATCHLEVEL = 10\nSUBLEVEL = 14\nEXTRAVERSION =\n\nall: vmlinux\n"
    tree = write_tree(tmp_path / "kernel", {"Makefile": makefile, "init/main.c": "int x;\n"})
    out = evaluate(tree).out
    doc = json.loads((out / "evaluation.json").read_text(encoding="utf-8"))
    section = doc["vulnerabilities"]
    (copy,) = [c for c in section["copies"].values() if c["name"] == "linux"]
    expected = _assess("3.10.14")
    assert copy["version"] == "3.10.14"
    assert [c["id"] for c in copy["cves"]] == [h.id for h in expected.hits]
    assert copy["unbounded"] == list(expected.unbounded)
    assert section["summary"]["unbounded_cves"] == len(expected.unbounded)
    exploited = _db().exploited
    assert copy["unbounded_exploited"] == [i for i in expected.unbounded if i in exploited]
    assert copy["unbounded_exploited"]  # CISA lists kernel CVEs no 3.10 data bounds
    html = (out / "report.html").read_text(encoding="utf-8")
    assert f"and {len(expected.unbounded)} kernel CVEs the data cannot bound" in html
