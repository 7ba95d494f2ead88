#!/usr/bin/env python3
"""Benchmark how ``assay evaluate`` scales, on one tree, and print the ratios.

Usage::

    python bench/bench_scale.py TREE [--work DIR] [--skip dask,warm,4x]

Measured one after the other (``--no-cache`` unless said otherwise; every run is a child
process, wall time and peak RSS of its process tree sampled as in ``bench_evaluate.py``):

* ``j1`` and ``j2``: cold evaluations with 1 and 2 local processes;
* ``dask``: a cold evaluation on a two-worker ``LocalCluster`` (one thread per worker) started
  by this script (``--scheduler``; contents shipped in batches). The workers are not children
  of the measured process, so its RSS is the client's only;
* ``warm``: release N+1 of a copy of the tree with 5% of its C/C++ files changed by a real
  token, evaluated with the result cache filled by release N (the unchanged copy), against
  ``cold-n1``, the same tree evaluated without the cache; both outputs are compared;
* ``4x``: four copies of the tree, every file's content changed by a distinct token (so no
  two copies share a hash), evaluated cold with 2 processes: peak RSS and wall time against
  ``j2``.

The load average is recorded with every figure, and the CPU seconds of each run's process
tree (sampled; for ``dask`` the Dask workers started by this script are included), which a
busy machine disturbs less than wall time. Results go to ``bench/results/scale-*.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import threading
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_evaluate import Measurement, machine_facts, run_measured, warm_cache

RESULTS_DIR = Path(__file__).resolve().parent / "results"
SOURCE_SUFFIXES = frozenset({".c", ".h", ".cc", ".cpp", ".cxx", ".hh", ".hpp"})
CHANGED_SHARE = 20
"""One C/C++ file in this many is changed for release N+1 (5%)."""
GIB = 1 << 30


def assay(tree: Path, out: Path, *flags: str) -> list[str]:
    """The command line of one evaluation."""
    return [sys.executable, "-m", "assay", "evaluate", str(tree), "-o", str(out), "-q", *flags]


class _CpuSampler(threading.Thread):
    """CPU seconds (user + system) of every process below this one, sampled every 50 ms: the
    last sample of each process counts, so a pool's workers are included."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.seen: dict[tuple[int, float], float] = {}
        self.stopped = threading.Event()

    def __enter__(self) -> _CpuSampler:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.join()

    def run(self) -> None:
        """Sample until stopped."""
        me = psutil.Process()
        while not self.stopped.wait(0.05):
            for process in me.children(recursive=True):
                try:
                    times = process.cpu_times()
                    self.seen[(process.pid, process.create_time())] = times.user + times.system
                except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                    continue

    def total(self) -> float:
        """CPU seconds of every process seen."""
        return sum(self.seen.values())


def measure(name: str, command: list[str]) -> Measurement:
    """Run and measure one evaluation, with the load average before it."""
    load = os.getloadavg()[0]
    print(f"  {name}: {' '.join(command[2:])} (load {load:.2f})", flush=True)
    with _CpuSampler() as sampler:
        result = run_measured(name, command, accepted=(0, 1))
    cpu = sampler.total()
    result.details["cpu_s"] = round(cpu, 2)
    result.details["load_before"] = round(load, 2)
    result.details["load_after"] = round(os.getloadavg()[0], 2)
    if not result.ok:
        raise SystemExit(f"{name} failed ({result.returncode}): {result.stderr_tail}")
    mib = result.peak_rss_bytes / (1 << 20)
    print(f"    {result.wall_s:.1f} s wall, {cpu:.1f} s CPU, peak {mib:.0f} MiB", flush=True)
    return result


def _token(path: Path, n: int) -> bytes:
    """A real token that changes a file's hash: a C declaration in source, a word elsewhere."""
    if path.suffix.lower() in SOURCE_SUFFIXES:
        return f"\nstatic const int assay_bench_copy_{n} = {n};\n".encode()
    return f"\nassay_bench_copy_{n}\n".encode()


def _sources(tree: Path) -> list[Path]:
    """Every regular C/C++ file below ``tree``, sorted."""
    found = []
    for directory, subdirs, files in os.walk(tree):
        subdirs.sort()
        for name in sorted(files):
            path = Path(directory, name)
            if path.suffix.lower() in SOURCE_SUFFIXES and path.is_file() and not path.is_symlink():
                found.append(path)
    return found


def copy_tree(source: Path, dest: Path) -> None:
    """A real copy (no hard links: files are changed in place afterwards)."""
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(source, dest, symlinks=True)


def change_share(tree: Path) -> int:
    """Append a token to every ``CHANGED_SHARE``-th C/C++ file; how many were changed."""
    changed = _sources(tree)[::CHANGED_SHARE]
    for path in changed:
        with path.open("ab") as fh:
            fh.write(_token(path, 1))
    return len(changed)


def change_all(tree: Path, n: int) -> int:
    """Append copy ``n``'s token to every regular file; how many were changed."""
    count = 0
    for directory, _, files in os.walk(tree):
        for name in files:
            path = Path(directory, name)
            if path.is_file() and not path.is_symlink():
                with path.open("ab") as fh:
                    fh.write(_token(path, n))
                count += 1
    return count


def comparable(out: Path) -> dict[str, Any]:
    """evaluation.json of a run, without the input's path (the trees differ in name only)."""
    doc: dict[str, Any] = json.loads((out / "evaluation.json").read_text(encoding="utf-8"))
    doc.pop("input", None)
    return doc


def run_dask(tree: Path, work: Path) -> Measurement:
    """A cold evaluation on a two-worker local Dask cluster."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:
        address = str(cluster.scheduler_address)
        return measure("dask", assay(tree, work / "dask", "--no-cache", "--scheduler", address))


def run_warm(tree: Path, work: Path) -> tuple[Measurement, Measurement, int, bool]:
    """Release N fills the cache; release N+1 (5% changed) warm and cold; equal outputs?"""
    cache = work / "cache"
    shutil.rmtree(cache, ignore_errors=True)
    release = work / "release"
    copy_tree(tree, release)
    measure("fill", assay(release, work / "fill", "-j", "2", "--cache-dir", str(cache)))
    changed = change_share(release)
    warm = measure("warm", assay(release, work / "warm", "-j", "2", "--cache-dir", str(cache)))
    cold = measure("cold-n1", assay(release, work / "cold-n1", "-j", "2", "--no-cache"))
    equal = comparable(work / "warm") == comparable(work / "cold-n1")
    shutil.rmtree(release)
    shutil.rmtree(cache)
    return warm, cold, changed, equal


def run_4x(tree: Path, work: Path) -> tuple[Measurement, int]:
    """Four copies of the tree, every file changed by a distinct token."""
    big = work / "4x"
    shutil.rmtree(big, ignore_errors=True)
    changed = 0
    for n in range(1, 5):
        copy_tree(tree, big / f"copy{n}")
        changed += change_all(big / f"copy{n}", n)
    warm_cache(big)
    result = measure("4x", assay(big, work / "out-4x", "-j", "2", "--no-cache"))
    shutil.rmtree(big)
    return result, changed


def _ratio(a: Measurement | None, b: Measurement | None) -> float | None:
    return round(a.wall_s / b.wall_s, 3) if a and b and b.wall_s else None


def _cpu_ratio(a: Measurement | None, b: Measurement | None) -> float | None:
    """CPU seconds of the whole process tree (the Dask workers excepted): less load-bound."""
    if not a or not b or not b.details["cpu_s"]:
        return None
    return round(a.details["cpu_s"] / b.details["cpu_s"], 3)


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, print the table of ratios, write the JSON results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tree", type=Path)
    parser.add_argument("--work", type=Path, default=Path("/tmp/assay-bench-scale"))
    parser.add_argument("--skip", default="", help="comma list of dask, warm, 4x")
    args = parser.parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))
    work: Path = args.work
    work.mkdir(parents=True, exist_ok=True)
    facts = machine_facts()
    print(f"machine: {facts['cpu']}, {facts['logical_cores']} logical cores; tree {args.tree}")
    warm_cache(args.tree)
    runs: dict[str, Measurement] = {}
    runs["j1"] = measure("j1", assay(args.tree, work / "j1", "-j", "1", "--no-cache"))
    runs["j2"] = measure("j2", assay(args.tree, work / "j2", "-j", "2", "--no-cache"))
    extra: dict[str, Any] = {}
    if "dask" not in skip:
        runs["dask"] = run_dask(args.tree, work)
        extra["dask_equals_j2"] = comparable(work / "dask") == comparable(work / "j2")
    if "warm" not in skip:
        runs["warm"], runs["cold-n1"], extra["changed_files"], extra["warm_equals_cold"] = run_warm(
            args.tree, work
        )
    if "4x" not in skip:
        runs["4x"], extra["4x_changed_files"] = run_4x(args.tree, work)
    ratios = {
        "j2 / j1 wall": _ratio(runs.get("j2"), runs.get("j1")),
        "dask(2 workers) / j1 wall": _ratio(runs.get("dask"), runs.get("j1")),
        "dask(2 workers) / j2 wall": _ratio(runs.get("dask"), runs.get("j2")),
        "warm (5% changed) / cold wall": _ratio(runs.get("warm"), runs.get("cold-n1")),
        "4x / 1x wall (j2)": _ratio(runs.get("4x"), runs.get("j2")),
        "warm / cold CPU": _cpu_ratio(runs.get("warm"), runs.get("cold-n1")),
        "4x / 1x CPU (j2)": _cpu_ratio(runs.get("4x"), runs.get("j2")),
    }
    print(f"\n{'run':<10}{'wall s':>10}{'CPU s':>10}{'peak MiB':>10}{'load':>7}")
    for name, m in runs.items():
        mib, cpu = m.peak_rss_bytes / (1 << 20), m.details["cpu_s"]
        print(
            f"{name:<10}{m.wall_s:>10.1f}{cpu:>10.1f}{mib:>10.0f}{m.details['load_before']:>7.2f}"
        )
    print()
    for name, value in ratios.items():
        print(f"{name:<32}{value if value is not None else '-':>8}")
    for name, value in extra.items():
        print(f"{name:<32}{value!s:>8}")
    if "4x" in runs:
        print(f"{'4x peak RSS < 2 GiB':<32}{runs['4x'].peak_rss_bytes < 2 * GIB!s:>8}")
    when = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    RESULTS_DIR.mkdir(exist_ok=True)
    target = RESULTS_DIR / f"scale-{when}.json"
    document = {
        "tree": str(args.tree),
        "when": when,
        "machine": facts,
        "runs": {k: asdict(v) for k, v in runs.items()},
        "ratios": ratios,
        **extra,
    }
    target.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {target}")
    ok = extra.get("warm_equals_cold", True) and extra.get("dask_equals_j2", True)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
