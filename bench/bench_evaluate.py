#!/usr/bin/env python3
"""Benchmark ``assay evaluate`` against peers on one tree, in one run.

Usage::

    python bench/bench_evaluate.py TREE [--jobs 2] [--repeat 3]
        [--tools assay,lizard,parse,flawfinder]

Measured, one after the other on the same (warmed) tree:

* ``assay``: ``python -m assay evaluate TREE -o OUT --jobs N`` (every analyzer);
* ``foundation``: the same with ``--only unsafe-calls,safe-defeated,complexity``, the
  analyzers whose targets issue #2 set against lizard and the bare parse;
* ``lizard``: ``lizard -l cpp -t N -i -1 TREE`` (output discarded; ``-i -1`` only keeps
  its exit status at 0 when functions exceed its warning thresholds);
* ``parse``: a bare tree-sitter parse, in a child process, of every unique-content C/C++
  file (tree-sitter-c for ``.c``/``.h``, tree-sitter-cpp for C++ suffixes) and nothing
  else: the floor for anything that parses;
* ``flawfinder``: ``flawfinder --quiet TREE`` (output discarded).

For each: wall time and peak memory, the largest sum of the resident set sizes of the
process and all its descendants over samples taken every 50 ms. The script prints machine
facts, a table and the ratios assay/lizard wall, assay/bare-parse wall and assay peak RSS
against 1 GiB, and writes the results as JSON to ``bench/results/``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]

C_SUFFIXES = frozenset({".c", ".h"})
CPP_SUFFIXES = frozenset({".cc", ".cpp", ".cxx", ".hh", ".hpp"})
TOOLS = ("assay", "foundation", "lizard", "parse", "flawfinder")
FOUNDATION = "unsafe-calls,safe-defeated,complexity"
"""The analyzers of issue #2, whose targets (against lizard and the bare parse) are theirs."""
SAMPLE_INTERVAL_S = 0.05
GIB = 1 << 30
RESULTS_DIR = Path(__file__).resolve().parent / "results"


@dataclass
class Measurement:
    """Wall time and peak process-tree RSS of one tool run."""

    tool: str
    command: list[str]
    wall_s: float
    peak_rss_bytes: int
    returncode: int
    samples: int
    stderr_tail: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    accepted_returncodes: tuple[int, ...] = (0,)

    @property
    def ok(self) -> bool:
        """True when the tool exited with a status meaning it analysed the tree."""
        return self.returncode in self.accepted_returncodes


# --- measuring a process tree ---------------------------------------------------------------


def tree_rss(pid: int) -> int:
    """Sum of the RSS of a process and all its descendants (0 once it is gone)."""
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return 0
    total = 0
    for process in processes:
        try:
            total += int(process.memory_info().rss)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return total


class _Sampler(threading.Thread):
    """Samples a process tree's summed RSS until stopped; keeps the maximum."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0
        self.samples = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        """Sample every SAMPLE_INTERVAL_S seconds until ``stopped`` is set."""
        while not self.stopped.is_set():
            self.peak = max(self.peak, tree_rss(self.pid))
            self.samples += 1
            self.stopped.wait(SAMPLE_INTERVAL_S)


def _tail(text: str, lines: int = 5) -> str:
    """The last few lines of a text."""
    return "\n".join(text.strip().splitlines()[-lines:])


StdoutDigest = Callable[[str], dict[str, Any]]
"""Turns a tool's captured stdout into result details."""


def run_measured(
    tool: str,
    command: list[str],
    digest: StdoutDigest | None = None,
    accepted: tuple[int, ...] = (0,),
) -> Measurement:
    """Run a command, measuring wall time and peak summed RSS of its process tree.

    stdout is discarded unless ``digest`` is given, which then turns it into details.
    """
    with tempfile.TemporaryFile("w+") as stderr, tempfile.TemporaryFile("w+") as stdout:
        start = time.perf_counter()
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=stdout if digest else subprocess.DEVNULL,
            stderr=stderr,
        )
        sampler = _Sampler(process.pid)
        sampler.start()
        returncode = process.wait()
        wall = time.perf_counter() - start
        sampler.stopped.set()
        sampler.join()
        stderr.seek(0)
        stdout.seek(0)
        measurement = Measurement(
            tool, command, wall, sampler.peak, returncode, sampler.samples, _tail(stderr.read())
        )
        measurement.accepted_returncodes = accepted
        if digest and measurement.ok:
            measurement.details = digest(stdout.read())
    return measurement


def _json_or_empty(text: str) -> dict[str, Any]:
    """Parse the last line of a child's stdout as a JSON object, or return {}."""
    lines = text.strip().splitlines()
    try:
        value = json.loads(lines[-1]) if lines else {}
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _failed(tool: str, command: list[str], reason: str) -> Measurement:
    """A measurement for a tool that could not be started."""
    return Measurement(tool, command, 0.0, 0, -1, 0, reason)


# --- the bare parse (runs in a child process) -----------------------------------------------


def _iter_sources(tree: Path) -> list[Path]:
    """Every regular C/C++ file under ``tree`` (symbolic links not followed), sorted."""
    suffixes = C_SUFFIXES | CPP_SUFFIXES
    found = []
    for directory, subdirs, files in os.walk(tree):
        subdirs.sort()
        for name in sorted(files):
            path = Path(directory, name)
            if path.suffix.lower() in suffixes and path.is_file() and not path.is_symlink():
                found.append(path)
    return found


def bare_parse(tree: Path) -> dict[str, Any]:
    """Parse each unique-content C/C++ file once with tree-sitter; return counts."""
    import tree_sitter
    import tree_sitter_c
    import tree_sitter_cpp

    c_parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_c.language()))
    cpp_parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_cpp.language()))
    seen: set[bytes] = set()
    counts = {"files": 0, "unique_files": 0, "unique_lines": 0, "unique_bytes": 0}
    counts["files_with_errors"] = 0
    start = time.perf_counter()
    for path in _iter_sources(tree):
        counts["files"] += 1
        data = path.read_bytes()
        digest = hashlib.sha256(data).digest()
        if digest in seen:
            continue
        seen.add(digest)
        parser = c_parser if path.suffix.lower() in C_SUFFIXES else cpp_parser
        parsed = parser.parse(data)
        counts["unique_files"] += 1
        counts["unique_lines"] += data.count(b"\n") + int(bool(data) and data[-1:] != b"\n")
        counts["unique_bytes"] += len(data)
        counts["files_with_errors"] += int(parsed.root_node.has_error)
    return {**counts, "in_process_s": round(time.perf_counter() - start, 3)}


# --- the four tools -------------------------------------------------------------------------


def _venv_tool(name: str) -> str | None:
    """Path of a console script next to this Python, else on PATH."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name)


def measure_assay(tree: Path, jobs: int, out: Path, only: str | None = None) -> Measurement:
    """Measure ``python -m assay evaluate TREE -o OUT --jobs N`` (cold: no result cache, no
    history); with ``only``, just those analyzers (``--only``)."""
    shutil.rmtree(out, ignore_errors=True)
    command = [sys.executable, "-m", "assay", "evaluate", str(tree), "-o", str(out)]
    command += ["--no-cache", "--no-history", "--jobs", str(jobs)]
    if only:
        return run_measured("foundation", [*command, "--only", only])
    return run_measured("assay", command)


def measure_lizard(tree: Path, jobs: int) -> Measurement:
    """Measure lizard on C/C++ with N worker processes."""
    exe = _venv_tool("lizard")
    command = [exe or "lizard", "-l", "cpp", "-t", str(jobs), "-i", "-1", str(tree)]
    return run_measured("lizard", command) if exe else _failed("lizard", command, "not found")


def measure_parse(tree: Path) -> Measurement:
    """Measure the bare tree-sitter parse in a child process."""
    command = [sys.executable, str(Path(__file__).resolve()), "--bare-parse", str(tree)]
    return run_measured("parse", command, digest=_json_or_empty)


def _flawfinder_digest(text: str) -> dict[str, Any]:
    """Hits and files skipped for their encoding, from flawfinder's report."""
    hits = re.search(r"^Hits = (\d+)", text, re.MULTILINE)
    analysed = re.search(r"^Lines analyzed = (\d+)", text, re.MULTILINE)
    return {
        "hits": int(hits.group(1)) if hits else None,
        "lines_analyzed": int(analysed.group(1)) if analysed else None,
        "files_skipped_for_encoding": len(
            re.findall(r"^Warning: encoding error in ", text, re.MULTILINE)
        ),
    }


def measure_flawfinder(tree: Path) -> Measurement:
    """Measure flawfinder over the tree (status 15 means it skipped undecodable files)."""
    exe = _venv_tool("flawfinder")
    command = [exe or "flawfinder", "--quiet", str(tree)]
    if not exe:
        return _failed("flawfinder", command, "not found")
    return run_measured("flawfinder", command, digest=_flawfinder_digest, accepted=(0, 15))


def warm_cache(tree: Path) -> int:
    """Read every file under the tree once so all tools see a warm page cache."""
    total = 0
    for directory, _, files in os.walk(tree):
        for name in files:
            path = Path(directory, name)
            if path.is_file() and not path.is_symlink():
                total += len(path.read_bytes())
    return total


# --- reporting ------------------------------------------------------------------------------


def _cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo, else the platform's processor string."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_facts() -> dict[str, Any]:
    """CPU, cores, memory, OS and Python facts of this machine."""
    return {
        "cpu": _cpu_model(),
        "logical_cores": os.cpu_count(),
        "physical_cores": psutil.cpu_count(logical=False),
        "ram_bytes": int(psutil.virtual_memory().total),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def _mib(value: int) -> str:
    """Bytes as MiB text."""
    return f"{value / (1 << 20):,.0f} MiB"


def _ratio(numerator: float, denominator: float) -> float | None:
    """numerator / denominator, or None when undefined."""
    return numerator / denominator if denominator > 0 else None


def ratios(results: dict[str, Measurement]) -> dict[str, float | None]:
    """The ratios the benchmark reports, for the whole evaluation (``assay``) and for the
    foundation analyzers alone; None where a run is missing or failed."""
    lizard = results.get("lizard")
    parse = results.get("parse")
    out: dict[str, float | None] = {}
    for name in ("assay", "foundation"):
        run = results.get(name)
        ok = run is not None and run.ok
        out[f"{name}/lizard wall"] = (
            _ratio(run.wall_s, lizard.wall_s) if run and ok and lizard and lizard.ok else None
        )
        out[f"{name}/bare-parse wall"] = (
            _ratio(run.wall_s, parse.wall_s) if run and ok and parse and parse.ok else None
        )
        out[f"{name} RSS/1 GiB"] = run.peak_rss_bytes / GIB if run and ok else None
    return out


def print_report(facts: dict[str, Any], results: dict[str, Measurement]) -> None:
    """Print machine facts, the results table and the ratios."""
    print(f"machine: {facts['cpu']}; {facts['logical_cores']} logical cores", end="")
    print(f" ({facts['physical_cores']} physical); RAM {facts['ram_bytes'] / GIB:.1f} GiB")
    print(f"python {facts['python']} on {facts['platform']}")
    print(f"{'tool':<12}{'wall s':>10}{'peak RSS':>14}{'status':>8}")
    for measurement in results.values():
        status = "ok" if measurement.ok else f"rc={measurement.returncode}"
        print(
            f"{measurement.tool:<12}{measurement.wall_s:>10.1f}"
            f"{_mib(measurement.peak_rss_bytes):>14}{status:>8}"
        )
        if not measurement.ok and measurement.stderr_tail:
            for line in measurement.stderr_tail.splitlines():
                print(f"    {line}")
    for measurement in results.values():
        if measurement.details:
            print(f"{measurement.tool}: {json.dumps(measurement.details)}")
    for name, value in ratios(results).items():
        shown = "n/a (a run is missing or failed)" if value is None else f"{value:.2f}"
        print(f"{name:<30}{shown}")


def write_results(
    tree: Path, jobs: int, facts: dict[str, Any], results: dict[str, Measurement]
) -> Path:
    """Write the run as JSON under bench/results/ and return its path."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    document = {
        "tree": str(tree),
        "jobs": jobs,
        "when": stamp,
        "machine": facts,
        "results": {name: asdict(m) for name, m in results.items()},
        "ratios": ratios(results),
    }
    path = RESULTS_DIR / f"evaluate-{stamp}.json"
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return path


# --- command line ---------------------------------------------------------------------------


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description="Benchmark assay evaluate against peers.")
    parser.add_argument("tree", type=Path, help="the tree to evaluate (see build_tree.py)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument(
        "--tools", default=",".join(TOOLS), help=f"comma-separated subset of {','.join(TOOLS)}"
    )
    parser.add_argument("--out", type=Path, default=None, help="assay output dir (default temp)")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per tool, interleaved; the fastest is kept"
    )
    parser.add_argument("--bare-parse", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def run_tools(
    tree: Path, jobs: int, tools: Sequence[str], out: Path, repeat: int = 1
) -> dict[str, Measurement]:
    """Run the selected tools in turn, ``repeat`` rounds; keep each tool's fastest run.

    Rounds interleave the tools so that a passing disturbance of the machine does not favour
    one of them; the fastest of N is the least disturbed run. Peak memory is the highest seen
    over all runs of the tool.
    """
    runners = {
        "assay": lambda: measure_assay(tree, jobs, out),
        "foundation": lambda: measure_assay(tree, jobs, out, FOUNDATION),
        "lizard": lambda: measure_lizard(tree, jobs),
        "parse": lambda: measure_parse(tree),
        "flawfinder": lambda: measure_flawfinder(tree),
    }
    runs: dict[str, list[Measurement]] = {tool: [] for tool in tools}
    for round_ in range(1, repeat + 1):
        for tool in tools:
            print(f"round {round_}/{repeat}: {tool} ...", file=sys.stderr, flush=True)
            runs[tool].append(runners[tool]())
    return {tool: _best(measured) for tool, measured in runs.items()}


def _best(measured: list[Measurement]) -> Measurement:
    """The fastest successful run, carrying the highest peak RSS and every wall time seen."""
    ok = [m for m in measured if m.ok] or measured
    best = min(ok, key=lambda m: m.wall_s)
    best.peak_rss_bytes = max(m.peak_rss_bytes for m in measured)
    best.details = {**best.details, "walls_s": [round(m.wall_s, 2) for m in measured]}
    return best


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark (or, with the hidden --bare-parse, the bare parse child)."""
    args = _parse_args(argv)
    tree: Path = args.tree.resolve()
    if args.bare_parse:
        print(json.dumps(bare_parse(tree)))
        return 0
    if not tree.is_dir():
        print(f"bench_evaluate: {tree} is not a directory", file=sys.stderr)
        return 2
    tools = [tool.strip() for tool in args.tools.split(",") if tool.strip()]
    unknown = sorted(set(tools) - set(TOOLS))
    if unknown:
        print(f"bench_evaluate: unknown tools {', '.join(unknown)}", file=sys.stderr)
        return 2
    facts = machine_facts()
    print(f"warming the page cache: {warm_cache(tree) / (1 << 20):,.0f} MiB read", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="assay-bench-") as scratch:
        out = args.out.resolve() if args.out else Path(scratch) / "out"
        results = run_tools(tree, args.jobs, tools, out, max(1, args.repeat))
    print_report(facts, results)
    print(f"results: {write_results(tree, args.jobs, facts, results)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
