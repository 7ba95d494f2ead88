"""Memory stays bounded as findings grow: 200,000 findings under 500 MiB for the process tree."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

LIMIT = 500 * 1024**2
FILES, CALLS = 200, 1000


def _tree_rss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total


def _run_sampled(cmd: list[str]) -> tuple[int, int]:
    """Run ``cmd``; return its exit code and the peak summed RSS of its process tree."""
    child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    proc, peak = psutil.Process(child.pid), 0
    while child.poll() is None:
        with contextlib.suppress(psutil.Error):
            peak = max(peak, _tree_rss(proc))
        time.sleep(0.02)
    return child.returncode, peak


@pytest.mark.slow
def test_200k_findings_keep_peak_memory_under_500_mib(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    body = "".join(f"    strcpy(a, b{i});\n" for i in range(CALLS))
    for n in range(FILES):
        (src / f"f{n:03}.c").write_text(f"/* file {n} */\nvoid f{n}(char *a)\n{{\n{body}}}\n")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "assay", "evaluate", str(src), "-o", str(out), "-j", "2", "-q"]
    code, peak = _run_sampled(cmd)
    assert code == 0
    doc = json.loads((out / "evaluation.json").read_text(encoding="utf-8"))
    assert sum(doc["summary"]["findings"]["unsafe-calls"].values()) == FILES * CALLS
    unsafe = sum(1 for f in doc["findings"] if f["category"] == "unsafe-calls")
    assert unsafe == FILES * CALLS
    print(f"200k findings: peak process-tree RSS {peak / 2**20:.0f} MiB")
    assert peak < LIMIT, f"peak process-tree RSS {peak / 2**20:.0f} MiB"
