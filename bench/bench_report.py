#!/usr/bin/env python3
"""Benchmark report.html for a 100,000-finding evaluation: file size and load time in Debian's
headless chromium (issue #8 item 3).

Usage::

    python bench/bench_report.py [--files 100] [--calls 1000] [--work DIR] [--runs 3]

Builds a tree of generated C files with ``--calls`` strcpy calls each (one finding per call),
evaluates it (``-j 2``), then opens ``report.html`` in ``/usr/bin/chromium`` through Playwright
(no browser download) ``--runs`` times with a fresh page and prints, for each run, the time from
navigation to the load event and to the first page of findings rendered by the inline script,
plus the file size, the render time of the report alone and the load average.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from assay import engine
from assay.config import Options
from assay.report import html
from assay.storage.findings import FindingStore, store_path

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def build(src: Path, files: int, calls: int) -> None:
    """Generated C files, ``calls`` unbounded copies each."""
    src.mkdir(parents=True)
    body = "".join(f"    strcpy(a, b{i});\n" for i in range(calls))
    for n in range(files):
        (src / f"f{n:03}.c").write_text(f"/* file {n} */\nvoid f{n}(char *a)\n{{\n{body}}}\n")


def write_report(src: Path, out: Path) -> tuple[Path, int, float]:
    """Evaluate and write report.html only; returns its path, findings and render seconds."""
    evaluation = engine.evaluate(Options(input=src, output_dir=out, jobs=2))
    store = FindingStore(store_path(out))
    target = out / "report.html"
    start = time.perf_counter()
    try:
        with target.open("w", encoding="utf-8") as handle:
            html.write(evaluation, store, handle)
    finally:
        store.close()
    return target, evaluation.total_findings, time.perf_counter() - start


def load_times(report: Path, runs: int) -> list[tuple[float, float]]:
    """(load event, first page rendered) in seconds for each run, in a fresh page."""
    from playwright.sync_api import sync_playwright

    times = []
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=ARGS, headless=True
        )
        for _ in range(runs):
            page = context.new_page()
            start = time.perf_counter()
            page.goto(report.as_uri(), wait_until="load")
            loaded = time.perf_counter() - start
            page.wait_for_selector("#f-page:has-text('page 1 of')")
            times.append((loaded, time.perf_counter() - start))
            page.close()
        context.close()
    return times


def main() -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path, help="work directory (default: a temporary one)")
    args = parser.parse_args()
    if not Path(CHROMIUM).is_file():
        print(f"{CHROMIUM} is missing: install the Debian package 'chromium'", file=sys.stderr)
        return 2
    work = args.work or Path(tempfile.mkdtemp(prefix="assay-bench-report-"))
    try:
        build(work / "src", args.files, args.calls)
        report, findings, render = write_report(work / "src", work / "out")
        print(f"findings: {findings}")
        print(f"report.html: {report.stat().st_size / 2**20:.1f} MiB, written in {render:.2f} s")
        for n, (loaded, shown) in enumerate(load_times(report, args.runs), 1):
            print(f"run {n}: load event {loaded:.2f} s, first page rendered {shown:.2f} s")
        print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
