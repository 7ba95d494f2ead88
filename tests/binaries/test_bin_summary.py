"""The ``binaries`` aggregator's component paths do not depend on the order paths arrive in
(a process pool delivers them in completion order)."""

from __future__ import annotations

from typing import Any

from assay.analyze.binaries.signatures import detect
from assay.analyze.binaries.summary import BinariesAggregator
from assay.analyze.interface import FileResult, PathContext

PATHS = [f"bin/tool{i:02d}" for i in range(30)] + ["lib/modules/5.10.0/kernel/b.ko",
                                                    "lib/modules/5.10.0/kernel/a.ko"]  # fmt: skip


def _section(paths: list[str]) -> dict[str, Any]:
    aggregator = BinariesAggregator()
    for path in paths:
        evidence = f"deflate 1.2.13 from {path}"
        result = FileResult(data={"components": [["zlib", "1.2.13", evidence]]})
        aggregator.add(PathContext(path, path.partition("/")[0]), result)
    section, _ = aggregator.finish()
    return dict(section)


def test_first_paths_and_evidence_are_the_smallest_whatever_the_arrival_order() -> None:
    forward, backward = _section(PATHS), _section(list(reversed(PATHS)))
    assert forward == backward
    (zlib,) = forward["components"]
    assert zlib["count"] == len(PATHS)
    assert zlib["paths"] == sorted(PATHS)[:20]
    assert zlib["evidence"] == "deflate 1.2.13 from bin/tool00"
    assert forward["module_kernels"] == {"5.10.0": "lib/modules/5.10.0/kernel/a.ko"}


def test_toolchain_first_path_is_the_smallest_whatever_the_arrival_order() -> None:
    def section(paths: list[str]) -> dict[str, Any]:
        aggregator = BinariesAggregator()
        for path in paths:
            elf = {"type": "relocatable", "machine": "x86-64", "bits": 64, "endian": "little",
                   "toolchain": ["GCC: (Debian 12.2.0-14) 12.2.0"], "unbounded": {}}  # fmt: skip
            aggregator.add(PathContext(path, "."), FileResult(data={"elf": elf}))
        return dict(aggregator.finish()[0])

    forward, backward = section(PATHS[:30]), section(list(reversed(PATHS[:30])))
    assert forward["toolchains"] == backward["toolchains"]
    assert forward["toolchains"] == {
        "GCC: (Debian 12.2.0-14) 12.2.0": {"binaries": 30, "first": "bin/tool00"}
    }


def _hits(data: bytes, name: str) -> list[list[Any]]:
    return [[h.library, h.version, h.evidence] for h in detect(data, name)]


def test_modules_of_a_kernel_image_in_the_tree_take_its_version() -> None:
    # Debian's release names carry an ABI number: vermagic "6.1.0-50-mips32r2el" is Linux
    # 6.1.176, as the image's banner says; read alone, the module row says 6.1.0 (thousands of
    # CVEs fixed before 6.1.176 reported against the tree, two kernels listed)
    banner = (
        b"Linux version 6.1.0-50-mips32r2el (debian-kernel@lists.debian.org) (gcc-12 "
        b"(Debian 12.2.0-14+deb12u1) 12.2.0) #1 SMP Debian 6.1.176-1 (2026-07-02)\n\0"
    )
    module = b"\0vermagic=6.1.0-50-mips32r2el SMP mod_unload MIPS32_R2 32BIT \0"
    other = b"\0vermagic=5.10.0-23-amd64 SMP mod_unload modversions \0"
    paths = {
        "fw.bin@0x240:lzma!/lzma.uncompressed": _hits(banner, "lzma.uncompressed"),
        "rootfs/lib/modules/6.1.0-50-mips32r2el/kernel/net/bridge/bridge.ko": _hits(
            module, "bridge.ko"),
        "rootfs/lib/modules/6.1.0-50-mips32r2el/kernel/net/nf_nat.ko": _hits(module, "nf_nat.ko"),
        "old/lib/modules/5.10.0-23-amd64/kernel/x.ko": _hits(other, "x.ko"),
    }  # fmt: skip
    sections = []
    for order in (sorted(paths), sorted(paths, reverse=True)):
        aggregator = BinariesAggregator()
        for path in order:
            result = FileResult(data={"components": paths[path]})
            aggregator.add(PathContext(path, path.partition("/")[0]), result)
        sections.append(dict(aggregator.finish()[0]))
    assert sections[0] == sections[1]
    linux = {c["version"]: c for c in sections[0]["components"] if c["name"] == "linux"}
    # the amd64 module's kernel is not in the tree: a Debian release names no patch level
    assert set(linux) == {None, "6.1.176"}
    assert linux["6.1.176"]["count"] == 3
    assert linux["6.1.176"]["paths"] == sorted(p for p in paths if "6.1.0-50" in p or "@" in p)
    assert linux[None]["paths"] == ["old/lib/modules/5.10.0-23-amd64/kernel/x.ko"]


def test_a_module_of_an_upstream_release_keeps_its_version_without_an_image() -> None:
    # OpenWrt and vendor kernels name the upstream version; Debian's and Ubuntu's only the series
    modules = {
        "a/openwrt.ko": b"\0vermagic=5.10.176 SMP mod_unload MIPS32_R2 32BIT \0",
        "b/ubuntu.ko": b"\0vermagic=5.15.0-91-generic SMP mod_unload modversions \0",
        "c/vendor.ko": b"\0vermagic=4.4.60-rt1 SMP preempt mod_unload ARMv7 p2v8 \0",
    }
    aggregator = BinariesAggregator()
    for path, data in modules.items():
        result = FileResult(data={"components": _hits(data, path.rpartition("/")[2])})
        aggregator.add(PathContext(path, path.partition("/")[0]), result)
    section = dict(aggregator.finish()[0])
    found = {c["paths"][0]: c["version"] for c in section["components"] if c["name"] == "linux"}
    assert found == {"a/openwrt.ko": "5.10.176", "b/ubuntu.ko": None, "c/vendor.ko": "4.4.60"}
