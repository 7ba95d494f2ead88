"""Copy the source twice and build each copy in the sandbox under different conditions.

What is varied (docs/rebuild.md has the table): the build path (directory name and length), the
time (the second build starts at least a second later, and only it has ``SOURCE_DATE_EPOCH``),
``TZ``, the locale, the umask, the order of the environment, the host name and the user id.
File-system ordering is not varied (that needs disorderfs, which assay does not require).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from assay import sandbox
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


def copy_source(source: Path, work: Path, variation: Variation, exclude: Path | None = None
                ) -> Path:  # fmt: skip
    """A fresh copy of ``source`` at ``work/<label>/<directory>`` (symbolic links kept as such).

    ``exclude`` (the output directory) is left out when it lies inside ``source``.
    """
    if not source.is_dir():
        raise RebuildError(f"source {source} is not a directory")
    parent = work / variation.label
    shutil.rmtree(parent, ignore_errors=True)
    parent.mkdir(parents=True)
    target = parent / variation.directory
    shutil.copytree(source, target, symlinks=True, ignore=_skip_inside(source, exclude or work))
    return target.resolve()


def _skip_inside(source: Path, output: Path) -> Callable[[str, list[str]], list[str]]:
    """A ``copytree`` ignore function that leaves out ``output``."""
    output = output.resolve()
    inside = output.is_relative_to(source.resolve())

    def ignore(directory: str, names: list[str]) -> list[str]:
        if not inside or Path(directory).resolve() != output.parent:
            return []
        return [n for n in names if n == output.name]

    return ignore


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
) -> tuple[Build, Build]:
    """Both builds, one after the other, at least one second apart (``exclude``: not copied)."""
    builds = []
    for variation in VARIATIONS:
        started = time.monotonic()
        root = copy_source(source, work, variation, exclude)
        builds.append(run_build(root, command, variation, timeout))
        time.sleep(max(0.0, 1.1 - (time.monotonic() - started)))
    return builds[0], builds[1]


def _tail(stderr: bytes, stdout: bytes) -> str:
    """The last lines of the build's output, stderr first."""
    lines = []
    for stream in (stderr, stdout):
        lines += stream.decode("utf-8", "replace").splitlines()[-_TAIL_LINES // 2 :]
    return "\n".join(lines)
