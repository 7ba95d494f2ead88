#!/usr/bin/env python3
"""Benchmark the ``binaries`` analyzer: ``assay evaluate`` on a firmware-like file system of
2,000 ELF files (issue #6 item 7: under 30 s on the 2-core reference machine).

Usage::

    python bench/bench_binaries.py [--files 2000] [--jobs 2] [--work DIR] [--no-cache]

The tree is built from real Debian bookworm binary packages of several architectures
(``tools/debian_binaries.py``, cached): every ELF file they hold is copied into a
``rootfs/`` layout, then copied again with a distinct suffix appended after the ELF image
(so each copy is a distinct content, analyzed on its own) until there are ``--files`` ELF
files. ``etc/os-release`` and a ``lib/modules/<version>/`` tree are added. The script prints
wall time, peak summed RSS of the process tree (psutil samples every 50 ms, see
``bench_evaluate.py``), the CPU time of the process tree (user + sys of every process of
the tree, sampled likewise: on a shared, overloaded machine, CPU time per core approximates
an idle machine's wall time), the load average, and the binaries section's headline figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psutil  # type: ignore[import-untyped]

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tools"))

import debian_binaries  # noqa: E402  (tools/ is a plain script folder)
from bench_evaluate import Measurement  # noqa: E402

SPECS = [
    *(f"{p}/bookworm/{a}" for a in ("amd64", "arm64", "armhf", "mips64el", "i386", "s390x")
      for p in ("zlib1g", "libssl3", "libcurl4", "busybox-static")),
    "libc6/bookworm/amd64", "libc6/bookworm/arm64", "libexpat1/bookworm/amd64",
    "libsqlite3-0/bookworm/amd64", "libpng16-16/bookworm/amd64", "libxml2/bookworm/amd64",
    "libzstd1/bookworm/amd64", "liblzma5/bookworm/amd64", "dropbear-bin/bookworm/armhf",
]  # fmt: skip
TARGET_S = 30.0


def _elves() -> list[tuple[str, bytes]]:
    """(relative path, bytes) of every ELF file of the packages, in a stable order."""
    found = []
    for spec in SPECS:
        binary = debian_binaries.fetch(*debian_binaries.parse_spec(spec))
        for path in sorted(binary.path.rglob("*")):
            if path.is_file() and not path.is_symlink():
                data = path.read_bytes()
                if data[:4] == b"\x7fELF":
                    rel = path.relative_to(binary.path).as_posix()
                    found.append((f"{binary.arch}/{rel}", data))
    return found


def build_tree(root: Path, count: int) -> int:
    """Write ``count`` distinct ELF files (plus release files) below ``root/rootfs``."""
    shutil.rmtree(root, ignore_errors=True)
    rootfs = root / "rootfs"
    elves = _elves()
    for index in range(count):
        rel, data = elves[index % len(elves)]
        round_ = index // len(elves)
        target = rootfs / (f"copy{round_}/{rel}" if round_ else rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data + f"\0assay-bench-{index}\0".encode() if round_ else data)
    etc = rootfs / "etc"
    etc.mkdir(parents=True, exist_ok=True)
    (etc / "os-release").write_text('ID=buildroot\nVERSION_ID="2023.02.1"\n', encoding="utf-8")
    modules = rootfs / "lib" / "modules" / "5.10.161"
    modules.mkdir(parents=True, exist_ok=True)
    (modules / "modules.dep").write_text("kernel/drivers/x.ko:\n", encoding="utf-8")
    return count


def _measure(command: list[str]) -> tuple[Measurement, float]:
    """Wall time, peak summed RSS and CPU time (user + sys) of the command's process tree.

    CPU time is the sum over every process seen of its last sampled CPU times (pool workers
    are children of the forkserver, which nobody reaps, so ``getrusage`` misses them).
    """
    cpu: dict[int, float] = {}
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = samples = 0
    while process.poll() is None:
        try:
            tree = [psutil.Process(process.pid)]
            tree += tree[0].children(recursive=True)
        except psutil.Error:
            break
        rss = 0
        for member in tree:
            try:
                times = member.cpu_times()
                cpu[member.pid] = times.user + times.system
                rss += member.memory_info().rss
            except psutil.Error:
                continue
        peak, samples = max(peak, rss), samples + 1
        time.sleep(0.05)
    _, stderr = process.communicate()
    wall = time.perf_counter() - start
    tail = "\n".join(stderr.decode("utf-8", "replace").strip().splitlines()[-5:])
    measured = Measurement("assay", command, wall, peak, process.returncode, samples, tail)
    measured.accepted_returncodes = (0, 1)
    return measured, sum(cpu.values())


def main(argv: list[str] | None = None) -> int:
    """Build the tree, evaluate it once, print the figures; exit 1 above the target."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--work", type=Path, default=Path("/tmp/assay-bench-binaries"))
    parser.add_argument("--no-cache", action="store_true", help="pass --no-cache to assay")
    args = parser.parse_args(argv)
    tree, out = args.work / "tree", args.work / "out"
    build_tree(tree, args.files)
    shutil.rmtree(out, ignore_errors=True)
    command = [sys.executable, "-m", "assay", "evaluate", str(tree), "-o", str(out), "-q",
               "--jobs", str(args.jobs), "--no-history"]  # fmt: skip
    if args.no_cache:
        command.append("--no-cache")
    measured, cpu = _measure(command)
    section = json.loads((out / "evaluation.json").read_text(encoding="utf-8"))["binaries"]
    overall = section["hardening"]["overall"]
    print(f"command: {' '.join(command)}")
    print(f"ELF files: {args.files}; load average: {os.getloadavg()}")
    rss = measured.peak_rss_bytes / 2**20
    print(f"wall: {measured.wall_s:.1f} s (target {TARGET_S:.0f} s); peak RSS: {rss:.0f} MiB")
    print(f"CPU (user+sys, whole process tree): {cpu:.1f} s = {cpu / args.jobs:.1f} s per core")
    print(f"exit: {measured.returncode}; binaries in the matrix: {overall['binaries']}")
    print(f"architectures: {json.dumps(section['architectures'])}")
    print(f"components: {sorted({(c['name'], c['version']) for c in section['components']})}")
    if not measured.ok:
        print(measured.stderr_tail, file=sys.stderr)
    return 0 if measured.ok and measured.wall_s < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
