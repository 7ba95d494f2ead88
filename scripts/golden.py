#!/usr/bin/env python3
"""Golden outputs of the built-in example, and the runs the byte-identity tests compare.

Usage::

    python scripts/golden.py [--commit REV]

Runs ``assay example`` (``-q --no-history --no-cache``, an empty user data directory so no
knowledge-base overlay of the machine leaks in) with the code of this checkout's ``src/``, or
with ``--commit`` the code of that commit (``git archive REV src`` into a temporary directory),
in a child process whose ``PYTHONPATH`` is that ``src/`` alone; the child checks that ``assay``
really is imported from there, so an editable install of another checkout cannot answer
instead. It writes ``evaluation.json``, ``results.sarif`` and ``sbom.cdx.json`` to
``tests/data/golden/example/``, the SBOM with its ``serialNumber`` and ``metadata.timestamp``
normalised (the only bytes that differ between two runs).

The golden files say that a change leaves every output byte as it was (``tests/test_golden.py``).
``--commit`` also serves to compare the outputs of two revisions on any tree. A change
that means to alter the outputs (a new rule, a fixed finding, new data) regenerates them
with this script in the same commit, and the reviewer reads the diff of ``tests/data/golden/``.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GOLDEN = REPO / "tests" / "data" / "golden" / "example"
OUTPUTS = ("evaluation.json", "results.sarif", "sbom.cdx.json")
"""The outputs compared byte for byte (report.html is a rendering of evaluation.json)."""

_SERIAL = re.compile(rb'"serialNumber": "urn:uuid:[0-9a-f-]{36}"')
_TIMESTAMP = re.compile(rb'"timestamp": "[^"]*"')
_NORMAL_SERIAL = b'"serialNumber": "urn:uuid:00000000-0000-0000-0000-000000000000"'
_NORMAL_TIMESTAMP = b'"timestamp": "1970-01-01T00:00:00+00:00"'

_RUNNER = """\
import sys
from pathlib import Path
import assay
where = Path(assay.__file__).resolve()
expected = Path(sys.argv[1]).resolve()
if not where.is_relative_to(expected):
    sys.exit(f"assay imported from {where}, not from {expected}")
from assay.cli import main
raise SystemExit(main(sys.argv[2:]))
"""
"""Child process: check where ``assay`` comes from, then run its command line."""


class RunError(RuntimeError):
    """A run of assay (or the extraction of a commit) failed; the message says how."""


def normalise_sbom(data: bytes) -> bytes:
    """The SBOM's bytes with its serial number and timestamp replaced by fixed values."""
    for pattern, fixed in ((_SERIAL, _NORMAL_SERIAL), (_TIMESTAMP, _NORMAL_TIMESTAMP)):
        data, count = pattern.subn(fixed, data)
        if count != 1:
            raise RunError(f"expected one {pattern.pattern!r} in the SBOM, found {count}")
    return data


def outputs(out: Path) -> dict[str, bytes]:
    """The compared outputs of one run, by file name, the SBOM normalised."""
    found = {name: (out / name).read_bytes() for name in OUTPUTS}
    found["sbom.cdx.json"] = normalise_sbom(found["sbom.cdx.json"])
    return found


def extract(commit: str, dest: Path) -> Path:
    """``git archive`` the ``src/`` of ``commit`` into ``dest``; returns ``dest/src``."""
    present = subprocess.run(
        ["git", "-C", str(REPO), "cat-file", "-e", f"{commit}^{{commit}}"],
        capture_output=True,
    )
    if present.returncode != 0:
        raise RunError(
            f"commit {commit} is not in the repository at {REPO} (a shallow clone?): "
            "fetch the full history to compare with it"
        )
    dest.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", commit, "src"],
        capture_output=True,
        check=True,
    )
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    return dest / "src"


def run(src: Path, args: Sequence[str], cwd: Path, env: Mapping[str, str] | None = None) -> None:
    """Run ``assay ARGS`` with the package under ``src`` only, in ``cwd``; raise on failure."""
    child_env = dict(os.environ if env is None else env)
    child_env["PYTHONPATH"] = str(src)
    done = subprocess.run(
        [sys.executable, "-c", _RUNNER, str(src / "assay"), *args],
        cwd=cwd,
        env=child_env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RunError(
            f"assay {' '.join(args)} (code of {src}) exited {done.returncode}:\n{done.stderr}"
        )


def example(src: Path, work: Path) -> dict[str, bytes]:
    """Evaluate the built-in example with the code under ``src``; its compared outputs."""
    data = work / "xdg-data"
    data.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, XDG_DATA_HOME=str(data))
    out = work / "out"
    run(src, ["example", "-o", str(out), "-q", "--no-history", "--no-cache"], work, env)
    return outputs(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commit", help="run the code of this commit instead of src/")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="assay-golden-") as tmp:
        work = Path(tmp)
        src = extract(args.commit, work / "code") if args.commit else REPO / "src"
        written = example(src, work / "run")
    GOLDEN.mkdir(parents=True, exist_ok=True)
    for name, data in written.items():
        (GOLDEN / name).write_bytes(data)
        print(f"wrote {(GOLDEN / name).relative_to(REPO)} ({len(data)} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
