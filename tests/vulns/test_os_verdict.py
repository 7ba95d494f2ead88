"""An end-of-life operating system is singled out in the verdict, on the pinned data."""

from __future__ import annotations

import sys
from pathlib import Path

from assay.assess.binaries import complete
from assay.assess.rating import OS_END_OF_LIFE, Facts, rate
from assay.assess.vulns import db
from support import run_evaluation, write_tree


def _ld_so() -> bytes:
    """A real ELF file (the Python interpreter's) to stand in under the uClibc loader's name."""
    return Path(sys.executable).resolve().read_bytes()


def test_end_of_life_kernel_and_c_library_decide_and_are_named_in_the_verdict(
    tmp_path: Path,
) -> None:
    tree = write_tree(tmp_path / "fw", {
        "etc/openwrt_release": "DISTRIB_ID='OpenWrt'\nDISTRIB_RELEASE='15.05.1'\n",
        "lib/modules/3.10.14/modules.dep": "kernel/x.ko:\n",
        "main.c": "int main(void) { return 0; }\n",
    })  # fmt: skip
    (tree / "lib" / "ld-uClibc-0.9.33.2.so").write_bytes(_ld_so())
    run = run_evaluation(tree, tmp_path / "out")
    doc = run.json()
    os_part = doc["binaries"]["os"]
    kernel = os_part["kernel"]["support"]
    assert kernel["status"] == "end-of-life" and "oldest branch" in kernel["reason"]
    assert kernel["source"].startswith("https://")
    libc = os_part["libc"]
    assert (libc["name"], libc["support"]["status"]) == ("uclibc", "end-of-life")
    assert libc["support"]["eol"] == "2012-05-15"
    flagged = {f["path"] for f in run.findings("binaries")
               if f["rule_id"] == "binaries/os-end-of-life"}  # fmt: skip
    assert {"etc/openwrt_release", "lib/modules/3.10.14/modules.dep"} <= flagged
    assert any("uClibc" in p for p in flagged)
    rating = doc["rating"]
    assert rating["verdict"] == "no assurance"
    assert OS_END_OF_LIFE in rating["why"]


def test_os_condition_is_named_even_when_another_row_decides() -> None:
    facts = Facts(
        sections={"vulnerabilities": {}, "binaries": {}},
        counts={("binaries", "binaries/os-end-of-life", "high"): 1,
                ("vulnerabilities", "vulnerabilities/known-cve", "critical"): 2},
    )  # fmt: skip
    rating = rate(facts)
    assert rating.verdict.value == "no assurance"
    assert OS_END_OF_LIFE in rating.why


def test_no_os_condition_no_mention() -> None:
    facts = Facts(
        sections={"vulnerabilities": {}},
        counts={("vulnerabilities", "vulnerabilities/known-cve", "critical"): 1},
    )
    assert OS_END_OF_LIFE not in rate(facts).why


def test_the_router_of_the_issue_is_end_of_life_throughout() -> None:
    # BusyBox 1.12.1 (2008), Linux 3.10.14, uClibc 0.9.33.2 and GCC 4.6.3: before this data,
    # all four were "unknown-policy".
    section = {
        "components": [
            {"name": "linux", "version": "3.10.14", "paths": ["boot/vmlinux"], "count": 1},
            {"name": "uclibc", "version": "0.9.33.2", "paths": ["lib/libuClibc-0.9.33.2.so"],
             "count": 1},
            {"name": "busybox", "version": "1.12.1", "paths": ["bin/busybox"], "count": 1},
        ],
        "toolchains": {"GCC: (GNU) 4.6.3": {"binaries": 9, "first": "bin/busybox"}},
    }  # fmt: skip
    done, pairs = complete(section, (), db.load(db.default_path()), has_source=False)
    os_part = done["os"]
    for part in ("kernel", "libc", "busybox"):
        assert os_part[part]["support"]["status"] == "end-of-life", part
    assert os_part["busybox"]["support"]["superseded_by"] is not None
    assert done["toolchains"]["GCC: (GNU) 4.6.3"]["support"]["status"] == "end-of-life"
    rules = {(path, f.rule_id) for path, f in pairs}
    assert {("boot/vmlinux", "binaries/os-end-of-life"),
            ("lib/libuClibc-0.9.33.2.so", "binaries/os-end-of-life"),
            ("bin/busybox", "binaries/end-of-life"),
            ("bin/busybox", "binaries/toolchain-end-of-life")} <= rules  # fmt: skip
