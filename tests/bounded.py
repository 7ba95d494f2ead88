"""Run a piece of work in a child process whose address space is capped at 1 GiB.

A memory bomb then fails deterministically (``MemoryError`` or a killed child) instead of
depending on the machine: the tests assert what the work returns, never how long it took.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any

MEMORY_CAP = 1 << 30
"""Bytes of address space the child may use."""

_PREAMBLE = f"""\
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({MEMORY_CAP}, {MEMORY_CAP}))
args = json.loads(sys.argv[1])
"""


def run_bounded(body: str, **args: Any) -> Any:
    """Run ``body`` (Python; ``args`` is its dict of arguments) under the 1 GiB cap.

    ``body`` prints one JSON value last; it is returned. The child must exit cleanly, so a
    ``MemoryError`` (or any crash) fails the test with the child's stderr.
    """
    code = _PREAMBLE + textwrap.dedent(body)
    child = subprocess.run(
        [sys.executable, "-c", code, json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert child.returncode == 0, f"child failed ({child.returncode}):\n{child.stderr[-3000:]}"
    return json.loads(child.stdout.splitlines()[-1])


INGEST = """\
from pathlib import Path
from assay.ingest import ArchiveLimits, ingest
result = ingest(Path(args["input"]), Path(args["work"]), ArchiveLimits())
print(json.dumps({
    "files": [[f.path, f.size] for f in result.files],
    "skipped": [[s.path, s.stage, s.reason, s.detail] for s in result.skipped],
}))
"""
"""Ingest ``args["input"]`` into ``args["work"]`` with the default caps; the inventory as JSON."""
