#!/usr/bin/env python3
"""Fuzz assay's readers longer than CI does: the targets of ``tests/fuzz/fuzz_targets.py``
(ingest of archives and images, the ELF reader, the per-file analyzers) on mutated real seeds.

Usage::

    python bench/fuzz.py [--examples 5000] [--seed 0] [--target elf ...]

Each target runs ``--examples`` examples drawn from ``--seed`` (hypothesis, no deadline, no
example database); a failure prints the shrunk example (seed name and edits) and the exception,
and the script exits 1 after the remaining targets. Every crash found this way is to be fixed and
pinned with its exact bytes in ``tests/fuzz/test_fuzz_regressions.py``. It prints the examples
run and the wall time of each target: not a speed measurement, only how long the budget took.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "fuzz"))

import fuzz_targets as ft  # tests/fuzz is a plain folder


def targets() -> dict[str, Callable[[int, list[ft.Mutation], bool], None]]:
    """Name -> function of (seed pick, edits, flag) for each target."""

    def archives(pick: int, edits: list[ft.Mutation], flag: bool) -> None:
        name, data = ft.seeds().archives[pick % len(ft.seeds().archives)]
        ft.check_ingest(name, ft.mutate(data, edits), as_input=flag)

    def images(pick: int, edits: list[ft.Mutation], flag: bool) -> None:
        name, data = ft.seeds().images[pick % len(ft.seeds().images)]
        ft.check_ingest(name, ft.mutate(data, edits), as_input=flag)

    def elf(pick: int, edits: list[ft.Mutation], flag: bool) -> None:
        ft.check_elf(ft.mutate(ft.seeds().elves[pick % len(ft.seeds().elves)], edits))

    def analyzers(pick: int, edits: list[ft.Mutation], flag: bool) -> None:
        name, data, kind = ft.seeds().sources[pick % len(ft.seeds().sources)]
        ft.check_analyzers(name, ft.mutate(data, edits), kind)

    return {"archives": archives, "images": images, "elf": elf, "analyzers": analyzers}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--target", action="append", choices=sorted(targets()))
    args = parser.parse_args()
    chosen = args.target or list(targets())
    failed = 0
    for name in chosen:
        body = targets()[name]
        run = settings(
            max_examples=args.examples,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )(seed(args.seed)(given(st.integers(0, 1 << 16), ft.MUTATIONS, st.booleans())(body)))
        start = time.monotonic()
        try:
            run()
            outcome = "ok"
        except Exception:  # the shrunk failing example, as hypothesis reports it
            traceback.print_exc()
            outcome = "FAILED"
            failed += 1
        took = time.monotonic() - start
        print(f"{name}: {outcome}, {args.examples} examples, {took:.0f} s", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
