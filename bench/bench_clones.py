#!/usr/bin/env python3
"""Benchmark the ``clones`` analyzer against jscpd on one tree, and its growth at 4x.

Usage::

    python bench/bench_clones.py [TREE] [--jobs 2] [--tools clones,bare,assay,jscpd]
        [--scaled DIR [--build-scaled]] [--jscpd PATH]

Measured, one after the other on the same (warmed) tree (default ``/work/bench-tree``):

* ``clones``: ``assay evaluate`` with only the clones analyzer configured (ingest, component
  identification and the parse still run: this is what the pass costs inside assay);
* ``bare``: ``assay evaluate`` with every analyzer but clones (the whole evaluation before
  this analyzer), so that ``assay - bare`` is the extra cost of clones;
* ``assay``: the whole ``python -m assay evaluate TREE -o OUT --no-cache --jobs N`` (the
  result cache would replay earlier runs);
* ``jscpd``: jscpd 5.3.3 on C/C++ with the same minimums (``--min-tokens 50 --min-lines 5``),
  comments skipped (``--mode weak``), no size cap, ``--workers N``, JSON report.

With ``--scaled DIR`` the ``clones`` and ``assay`` runs (and jscpd unless left out of
``--tools``) are repeated on DIR, a tree of four copies of TREE in which every C/C++ file
ends with a declaration naming its copy, so no two files have the same content
(``--build-scaled`` makes it). Wall time and peak memory (summed RSS of the process tree,
sampled every 50 ms) are printed with the ratios, and the results written as JSON to
``bench/results/``. Reported: the machine's load average before and after.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_evaluate import (  # bench/ is a script folder, not a package
    C_SUFFIXES,
    CPP_SUFFIXES,
    RESULTS_DIR,
    Measurement,
    _json_or_empty,
    machine_facts,
    run_measured,
    warm_cache,
)

DEFAULT_TREE = Path("/work/bench-tree")
JSCPD = Path.home() / ".cache/assay/tools/jscpd-5.3.3/node_modules/jscpd-linux-x64-gnu/bin/jscpd"
TOOLS = ("clones", "bare", "assay", "jscpd")
COPIES = 4


# --- child modes: assay with a chosen set of analyzers --------------------------------------


def evaluate_with(tree: Path, out: Path, jobs: int, keep: str) -> dict[str, Any]:
    """Run the engine with only clones (``keep="clones"``) or all but clones (``"bare"``)."""
    from assay import analyze as analyzers
    from assay import engine
    from assay.config import Options

    build = analyzers.build

    def chosen(settings: Any) -> Any:
        every = build(settings)
        return tuple(a for a in every if (a.id == "clones") == (keep == "clones"))

    analyzers.build = chosen
    shutil.rmtree(out, ignore_errors=True)
    evaluation = engine.evaluate(replace(Options.default(tree, out), jobs=jobs))
    section = evaluation.sections.get("clones", {})
    return {
        "totals": section.get("totals", {}),
        "component_copies": section.get("component_copies"),
    }


# --- tools ----------------------------------------------------------------------------------


def measure_child(tool: str, tree: Path, out: Path, jobs: int) -> Measurement:
    """Measure this script in a child process, keeping ``tool``'s analyzers."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", tool, str(tree),
               "--jobs", str(jobs), "--out", str(out)]  # fmt: skip
    return run_measured(tool, command, digest=_json_or_empty)


def measure_assay(tree: Path, out: Path, jobs: int) -> Measurement:
    """Measure the whole ``python -m assay evaluate``."""
    shutil.rmtree(out, ignore_errors=True)
    command = [sys.executable, "-m", "assay", "evaluate", str(tree), "-o", str(out), "--no-cache"]
    measurement = run_measured("assay", [*command, "--jobs", str(jobs)], accepted=(0, 1))
    report = out / "evaluation.json"
    if report.exists():
        section = json.loads(report.read_text(encoding="utf-8")).get("clones", {})
        measurement.details = {"totals": section.get("totals", {})}
    return measurement


def measure_jscpd(tree: Path, out: Path, jobs: int, binary: Path) -> Measurement:
    """Measure jscpd with assay's minimums; details from its JSON report."""
    shutil.rmtree(out, ignore_errors=True)
    command = [str(binary), "--format", "c,c-header,cpp,cpp-header", "--mode", "weak",
               "--min-tokens", "50", "--min-lines", "5", "--max-size", "1000mb",
               "--workers", str(jobs), "--no-gitignore", "--silent", "--reporters", "json",
               "-o", str(out), str(tree)]  # fmt: skip
    if not binary.exists():
        return Measurement("jscpd", command, 0.0, 0, -1, 0, f"{binary} not found")
    measurement = run_measured("jscpd", command)
    report = out / "jscpd-report.json"
    if report.exists():
        stats = json.loads(report.read_text(encoding="utf-8"))["statistics"]["total"]
        measurement.details = {"statistics": stats}
    return measurement


# --- the 4x tree ----------------------------------------------------------------------------


def build_scaled(tree: Path, dest: Path, copies: int = COPIES) -> None:
    """``copies`` copies of ``tree`` under ``dest/copy-N``; each C/C++ file gets a last line
    ``typedef int assay_bench_copy_N;`` so that no two files have the same content."""
    suffixes = C_SUFFIXES | CPP_SUFFIXES
    for number in range(1, copies + 1):
        root = dest / f"copy-{number}"
        for directory, subdirs, files in os.walk(tree):
            subdirs.sort()
            target_dir = root / Path(directory).relative_to(tree)
            target_dir.mkdir(parents=True, exist_ok=True)
            for name in files:
                source = Path(directory, name)
                if source.is_symlink() or not source.is_file():
                    continue
                data = source.read_bytes()
                if source.suffix.lower() in suffixes:
                    data += f"\ntypedef int assay_bench_copy_{number};\n".encode()
                (target_dir / name).write_bytes(data)


# --- driver ---------------------------------------------------------------------------------


def run_round(
    label: str, tree: Path, tools: Sequence[str], jobs: int, binary: Path, work: Path
) -> dict[str, Measurement]:
    """Measure every tool once on ``tree``."""
    print(f"[{label}] warming {tree} ({warm_cache(tree) / (1 << 20):,.0f} MiB)", flush=True)
    results: dict[str, Measurement] = {}
    for tool in tools:
        out = work / f"{label}-{tool}"
        if tool == "jscpd":
            results[tool] = measure_jscpd(tree, out, jobs, binary)
        elif tool == "assay":
            results[tool] = measure_assay(tree, out, jobs)
        else:
            results[tool] = measure_child(tool, tree, out, jobs)
        shutil.rmtree(out, ignore_errors=True)
        m = results[tool]
        peak = m.peak_rss_bytes / (1 << 20)
        print(
            f"[{label}] {tool:7s} wall {m.wall_s:8.1f} s  peak {peak:8,.0f} MiB  rc {m.returncode}"
        )
    return results


def ratios(one: dict[str, Measurement], four: dict[str, Measurement]) -> dict[str, float | None]:
    """Ratios against jscpd and growth from 1x to 4x."""

    def r(a: float | None, b: float | None) -> float | None:
        return round(a / b, 3) if a is not None and b else None

    def wall(d: dict[str, Measurement], k: str) -> float | None:
        return d[k].wall_s if k in d and d[k].ok else None

    def rss(d: dict[str, Measurement], k: str) -> float | None:
        return float(d[k].peak_rss_bytes) if k in d and d[k].ok else None

    return {
        "clones/jscpd wall": r(wall(one, "clones"), wall(one, "jscpd")),
        "assay/jscpd wall": r(wall(one, "assay"), wall(one, "jscpd")),
        "clones/jscpd peak RSS": r(rss(one, "clones"), rss(one, "jscpd")),
        "assay/jscpd peak RSS": r(rss(one, "assay"), rss(one, "jscpd")),
        "assay-bare extra wall s": (
            round(one["assay"].wall_s - one["bare"].wall_s, 1)
            if wall(one, "assay") and wall(one, "bare") else None
        ),
        "clones 4x/1x wall": r(wall(four, "clones"), wall(one, "clones")),
        "assay 4x/1x wall": r(wall(four, "assay"), wall(one, "assay")),
        "jscpd 4x/1x wall": r(wall(four, "jscpd"), wall(one, "jscpd")),
        "clones 4x/1x peak RSS": r(rss(four, "clones"), rss(one, "clones")),
        "assay 4x/1x peak RSS": r(rss(four, "assay"), rss(one, "assay")),
        "jscpd 4x/1x peak RSS": r(rss(four, "jscpd"), rss(one, "jscpd")),
    }  # fmt: skip


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tree", type=Path, nargs="?", default=DEFAULT_TREE)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--tools", default=",".join(TOOLS))
    parser.add_argument("--scaled", type=Path, help="the 4x tree (measured after TREE)")
    parser.add_argument("--scaled-tools", default="clones,assay,jscpd")
    parser.add_argument("--build-scaled", action="store_true", help="(re)build --scaled first")
    parser.add_argument("--jscpd", type=Path, default=JSCPD)
    parser.add_argument("--child", choices=("clones", "bare"), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark (or one child measurement) and print the figures."""
    args = _parse_args(argv)
    if args.child:
        print(json.dumps(evaluate_with(args.tree, args.out, args.jobs, args.child)))
        return 0
    if args.scaled and args.build_scaled:
        shutil.rmtree(args.scaled, ignore_errors=True)
        build_scaled(args.tree, args.scaled)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-clones-") as work:
        one = run_round("1x", args.tree, args.tools.split(","), args.jobs, args.jscpd, Path(work))
        four = (
            run_round("4x", args.scaled, args.scaled_tools.split(","), args.jobs, args.jscpd,
                      Path(work))
            if args.scaled else {}
        )  # fmt: skip
    figures = ratios(one, four)
    for name, value in figures.items():
        print(f"{name:26s} {value}")
    print(f"load average before {load_before}, after {os.getloadavg()}")
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    result = {
        "machine": machine_facts(), "tree": str(args.tree), "scaled": str(args.scaled),
        "jobs": args.jobs, "load_before": load_before, "load_after": os.getloadavg(),
        "1x": {k: asdict(v) for k, v in one.items()}, "4x": {k: asdict(v) for k, v in four.items()},
        "ratios": figures,
    }  # fmt: skip
    (RESULTS_DIR / f"clones-{stamp}.json").write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
