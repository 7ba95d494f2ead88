"""The ``binaries`` aggregator's component paths do not depend on the order paths arrive in
(a process pool delivers them in completion order)."""

from __future__ import annotations

from typing import Any

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
