"""The operating system from release files, module trees and binary components."""

from __future__ import annotations

import pytest

from assay.analyze.binaries import system
from assay.assess import system as os_support
from assay.assess.binaries import complete, toolchain
from assay.assess.vulns.db import VulnDB
from assay.assess.vulns.model import Cycle

CYCLES = (
    Cycle("linux", "4.9", "2016-12-11", "2023-01-07", None, None, "4.9.337", "test"),
    Cycle("linux", "6.1", "2022-12-11", "2027-12-31", None, None, "6.1.100", "test"),
    Cycle("openwrt", "21.02", "2021-09-04", "2023-04-30", None, None, "21.02.7", "test"),
    Cycle("gcc", "4.8", "2013-03-22", "2015-06-23", None, None, "4.8.5", "test"),
    Cycle("gcc", "12", "2022-05-06", None, None, None, "12.4", "test"),
)
KB = VulnDB(advisories=(), cycles=CYCLES, exploited=frozenset(), snapshot="2026-11-27")


@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        ("etc/os-release", True), ("rootfs/usr/lib/os-release", True),
        ("etc/openwrt_release", True), ("etc/build", True), ("src/build", False),
        ("docs/os-release", False), ("etc/version", True), ("version", False),
    ],
)  # fmt: skip
def test_release_files(path: str, wanted: bool) -> None:
    assert system.is_release_file(path) is wanted


def test_module_tree_names_the_kernel() -> None:
    assert system.module_kernel("rootfs/lib/modules/5.10.161/kernel/fs/x.ko") == "5.10.161"
    assert system.module_kernel("lib/modulesx/5.10/x") is None


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("openwrt_release", "DISTRIB_ID='OpenWrt'\nDISTRIB_RELEASE='21.02.3'\n",
         {"name": "openwrt", "version": "21.02.3"}),
        ("os-release", 'NAME=Buildroot\nID=buildroot\nVERSION_ID=2023.02.1\n',
         {"name": "buildroot", "version": "2023.02.1"}),
        ("build", "DISTRO = poky\nDISTRO_VERSION = 4.0.13\n",
         {"name": "yocto", "version": "4.0.13"}),
        ("os-release", 'ID=debian\nVERSION_ID="12"\n', {"name": "debian", "version": "12"}),
    ],
)  # fmt: skip
def test_distribution(name: str, text: str, expected: dict[str, str]) -> None:
    found = system.distribution({f"etc/{name}": system.release_fields(name, text)})
    assert found is not None
    assert {k: found[k] for k in ("name", "version")} == expected


def test_end_of_life_from_cycles_and_unknown_names() -> None:
    def status(name: str, version: str) -> object:
        verdict = os_support.end_of_life(name, version, KB)
        assert isinstance(verdict, dict)
        return verdict["status"]

    assert status("linux", "4.9.118") == "end-of-life"
    assert status("linux", "6.1.0-13") == "supported"
    assert status("glibc", "2.36") == "unknown-policy"


def test_complete_describes_os_and_flags_end_of_life() -> None:
    section = {
        "components": [
            {"name": "linux", "version": "4.9.118", "paths": ["boot/vmlinux"], "count": 1},
            {"name": "uclibc", "version": "0.9.33.2", "paths": ["lib/ld-uClibc-0.9.33.2.so"],
             "count": 1},
            {"name": "busybox", "version": "1.24.1", "paths": ["bin/busybox"], "count": 1},
        ],
        "release_files": {"etc/openwrt_release": {"DISTRIB_RELEASE": "21.02.3"}},
        "module_kernels": {"4.9.118": "lib/modules/4.9.118/modules.dep"},
        "toolchains": {"GCC: (GNU) 4.8.3 20140320 (prerelease)": {"binaries": 3, "first": "bin/a"},
                       "GCC: (Debian 12.2.0-14) 12.2.0": {"binaries": 1, "first": "bin/b"}},
    }  # fmt: skip
    done, pairs = complete(section, (), KB, has_source=False)
    os_part = done["os"]
    assert os_part["kernel"]["version"] == "4.9.118"
    assert os_part["libc"]["name"] == "uclibc"
    assert os_part["busybox"]["version"] == "1.24.1"
    assert os_part["distribution"]["support"]["status"] == "end-of-life"
    rules = sorted((path, f.rule_id) for path, f in pairs)
    assert rules == [
        ("bin/a", "binaries/toolchain-end-of-life"),
        ("boot/vmlinux", "binaries/os-end-of-life"),  # the kernel, once (banner and modules)
        ("etc/openwrt_release", "binaries/os-end-of-life"),
    ]
    assert done["toolchains"]["GCC: (Debian 12.2.0-14) 12.2.0"]["support"]["status"] == "supported"
    assert done["source_match"]["compared"] is False


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("GCC: (Debian 12.2.0-14) 12.2.0", ("gcc", "12.2.0")),
        ("GCC: (GNU) 4.8.3 20140320 (prerelease)", ("gcc", "4.8.3")),
        ("Debian clang version 14.0.6", ("clang", "14.0.6")),
        ("Linker: LLD 14.0.6", None),
    ],
)
def test_toolchain_entries(entry: str, expected: tuple[str, str] | None) -> None:
    assert toolchain(entry) == expected


def test_the_kernel_of_two_is_the_oldest_in_release_order() -> None:
    # a dual-image firmware: the text order put 5.10.10 before 5.10.9
    found = [("linux", "5.10.10", "a/kernel"), ("linux", "5.10.9", "b/kernel")]
    kernel = os_support.describe({}, ["5.10.10", "5.10.9"], found, KB)["kernel"]
    assert isinstance(kernel, dict)
    assert (kernel["version"], kernel["banners"], kernel["module_dirs"]) == (
        "5.10.9",
        ["5.10.9", "5.10.10"],
        ["5.10.9", "5.10.10"],
    )
