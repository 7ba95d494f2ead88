"""The output directory: checked against the input, and held by one run at a time.

``check_apart(input, output_dir)`` refuses an input that is the output directory or lies inside
it (the run would delete or overwrite its own input and evaluate its own outputs); an output
directory inside the input is allowed, because ingest leaves it out of the walk. Both are
compared as real paths, so a symbolic link spelling the same directory counts as the same.

``hold(output_dir)`` takes an exclusive, non-blocking ``flock`` on ``OUTDIR/.assay/lock`` for
the duration of a ``with`` block: a second run on the same output directory (another process,
or another open of the lock in this one) fails at once with an ``OutputDirError`` naming it,
instead of deleting the first run's work. The lock is released when the block ends, whether it
returns or raises (``KeyboardInterrupt`` included), and by the kernel when the process dies.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from assay.errors import OutputDirError
from assay.storage.findings import WORK_DIR

LOCK_NAME = "lock"
"""The lock file inside the work area ``OUTDIR/.assay``."""


def check_apart(input: Path, output_dir: Path) -> None:
    """Raise ``OutputDirError`` when ``input`` is ``output_dir`` or inside it (real paths)."""
    real_in = Path(os.path.realpath(input))
    real_out = Path(os.path.realpath(output_dir))
    if real_in == real_out:
        raise OutputDirError(f"the input {input} is the output directory {output_dir}")
    if real_out in real_in.parents:
        raise OutputDirError(f"the input {input} is inside the output directory {output_dir}")


def _work_area(output_dir: Path) -> Path:
    """``OUTDIR/.assay``, created; ``OutputDirError`` when the output directory is not a
    writable directory."""
    if os.path.lexists(output_dir) and not output_dir.is_dir():
        raise OutputDirError(f"the output directory {output_dir} is not a directory")
    work = output_dir / WORK_DIR
    try:
        work.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputDirError(
            f"the output directory {output_dir} is not a writable directory: {exc.strerror}"
        ) from exc
    if not os.access(output_dir, os.W_OK | os.X_OK):
        raise OutputDirError(f"the output directory {output_dir} is not writable")
    return work


@contextmanager
def hold(output_dir: Path) -> Iterator[Path]:
    """Create the work area of ``output_dir`` and hold its lock inside the ``with`` block;
    yields the lock file's path. ``OutputDirError`` when the directory cannot be written or
    another run holds the lock."""
    path = _work_area(output_dir) / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o644)
    except OSError as exc:
        raise OutputDirError(f"cannot open the lock {path}: {exc.strerror}") from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OutputDirError(
                f"the output directory {output_dir} is in use by another run (lock {path})"
            ) from None
        yield path
    finally:
        os.close(fd)  # closing the only descriptor releases the flock
