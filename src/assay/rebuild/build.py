"""Copy the source twice and build each copy in the sandbox under different conditions.

What is varied (docs/rebuild.md has the table): the build path (directory name and length), the
time (the second build starts at least a second later, and only it has ``SOURCE_DATE_EPOCH``),
``TZ``, the locale, the umask, the order of the environment, the host name and the user id.
File-system ordering is not varied (that needs disorderfs, which assay does not require).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Sequence
from pathlib import Path

from assay import sandbox
from assay.model import Skipped
from assay.rebuild.copy import copy_tree
from assay.rebuild.interface import Build, RebuildError, Variation

#: The ``SOURCE_DATE_EPOCH`` given to the second build (2023-11-14 22:13:20 UTC).
FIXED_EPOCH = 1_700_000_000

VARIATIONS: tuple[Variation, Variation] = (
    Variation("rebuild-1", "src", None, "UTC", "C", "022", "assay-one", 1000, False),
    Variation(
        "rebuild-2", "rebuild-second-src", FIXED_EPOCH, "Pacific/Auckland", "C.UTF-8", "002",
        "assay-two-host", 1001, True,
    ),
)  # fmt: skip

#: Variations not applied, and why (recorded in the report).
NOT_VARIED: dict[str, str] = {
    "file-system ordering": "needs disorderfs (FUSE), not required by assay",
    "kernel and CPU": "both builds run on this machine",
}

_TAIL_LINES = 40


def copy_source(
    source: Path, work: Path, variation: Variation, exclude: Path | None = None
) -> tuple[Path, tuple[Skipped, ...]]:
    """A fresh copy of ``source`` at ``work/<label>/<directory>`` (symbolic links kept as such),
    and the special files refused (``rebuild.copy``: never read, not copied).

    ``exclude`` (the output directory; else ``work``) is left out when it lies inside ``source``.
    """
    if not source.is_dir():
        raise RebuildError(f"source {source} is not a directory")
    parent = work / variation.label
    shutil.rmtree(parent, ignore_errors=True)
    parent.mkdir(parents=True)
    target = parent / variation.directory
    refused = copy_tree(source, target, exclude or work)
    return target.resolve(), refused


def environment(variation: Variation, extra: Sequence[tuple[str, str]] = ()) -> dict[str, str]:
    """The whole environment of one build, in the order the variation asks for."""
    pairs = [
        ("PATH", "/usr/local/bin:/usr/bin:/bin"),
        ("HOME", "/tmp"),
        ("TMPDIR", "/tmp"),
        ("TZ", variation.tz),
        ("LC_ALL", variation.locale),
        ("LANG", variation.locale),
        ("USER", f"builder{variation.uid}"),
        ("LOGNAME", f"builder{variation.uid}"),
        *extra,
    ]
    if variation.source_date_epoch is not None:
        pairs.append(("SOURCE_DATE_EPOCH", str(variation.source_date_epoch)))
    if variation.env_reversed:
        pairs.reverse()
    return dict(pairs)


def run_build(root: Path, command: str, variation: Variation, timeout: float) -> Build:
    """Run ``command`` with ``sh -c`` in ``root``, writable only there, under ``variation``."""
    result = sandbox.run(
        ["sh", "-c", f"umask {variation.umask} && {command}"],
        cwd=root,
        writable=[root],
        env=environment(variation),
        timeout=timeout,
        hostname=variation.hostname,
        uid=variation.uid,
    )
    status = "timed-out" if result.timed_out else "ok" if result.returncode == 0 else "failed"
    return Build(variation, root, status, result.returncode, result.duration,
                 _tail(result.stderr, result.stdout))  # fmt: skip


def build_twice(
    source: Path, work: Path, command: str, timeout: float, exclude: Path | None = None
) -> tuple[tuple[Build, Build], tuple[Skipped, ...]]:
    """Both builds, one after the other, at least one second apart (``exclude``: not copied),
    and the special files the copies left out (listed once)."""
    builds = []
    refused: dict[str, Skipped] = {}
    for variation in VARIATIONS:
        started = time.monotonic()
        root, left_out = copy_source(source, work, variation, exclude)
        refused.update((record.path, record) for record in left_out)
        builds.append(run_build(root, command, variation, timeout))
        time.sleep(max(0.0, 1.1 - (time.monotonic() - started)))
    return (builds[0], builds[1]), tuple(sorted(refused.values(), key=lambda r: r.path))


def _tail(stderr: bytes, stdout: bytes) -> str:
    """The last lines of the build's output, stderr first."""
    lines = []
    for stream in (stderr, stdout):
        lines += stream.decode("utf-8", "replace").splitlines()[-_TAIL_LINES // 2 :]
    return "\n".join(lines)
