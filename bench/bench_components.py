#!/usr/bin/env python3
"""Benchmark the component pass, vulnerability matching and ``kb add`` (issue targets: at most
30% of an evaluation's wall time; matching under 2 s; ``kb add`` of OpenSSL under 30 s).

Usage::

    python bench/bench_components.py TREE OPENSSL_RELEASE_DIR [--jobs 2]

Runs, in one process: a whole ``assay evaluate`` of TREE (wall time), then the component pass
alone on the same ingested tree (version evidence plus the knowledge-base lookups, exactly
what the engine runs), then ``kb add`` of the given OpenSSL release into a temporary KB.
Prints the times and the component pass as a share of the evaluation.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from assay import engine
from assay.assess.vulns import db as vulndb
from assay.assess.vulns.match import assess
from assay.config import Options
from assay.correlate.components.copies import identify
from assay.correlate.components.kb import add_release, open_default
from assay.correlate.components.matching import correlate
from assay.ingest import ArchiveLimits
from assay.ingest.tree import ingest


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tree", type=Path)
    parser.add_argument("openssl", type=Path)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="assay-bench-") as scratch:
        work = Path(scratch)
        start = time.perf_counter()
        engine.evaluate(Options(args.tree, work / "out", jobs=args.jobs))
        evaluation_s = time.perf_counter() - start
        files = ingest(args.tree, work / "extract", ArchiveLimits()).files
        start = time.perf_counter()
        found, _ = identify(files)
        with open_default() as kb:
            copies = correlate(found, files, kb)
        component_s = time.perf_counter() - start
        start = time.perf_counter()
        known = vulndb.load()
        results = [
            assess(c, known.advisories, known.cycles, known.exploited, known.snapshot)
            for c in copies
        ]
        match_s = time.perf_counter() - start
        start = time.perf_counter()
        added = add_release(work / "kb.sqlite", args.openssl, "openssl", "bench", "bench")
        kb_add_s = time.perf_counter() - start
    print(f"evaluation ({args.jobs} jobs): {evaluation_s:.1f} s; {len(copies)} copies found")
    print(f"component pass: {component_s:.2f} s = {100 * component_s / evaluation_s:.1f}% "
          "of the evaluation (target at most 30%)")  # fmt: skip
    cves = sum(len(r.hits) for r in results)
    print(f"vulnerability matching (load + assess {len(copies)} copies, {cves} CVEs): "
          f"{match_s:.2f} s (target < 2 s)")  # fmt: skip
    print(f"kb add {args.openssl.name}: {kb_add_s:.1f} s for {added.files} files (target < 30 s)")


if __name__ == "__main__":
    main()
