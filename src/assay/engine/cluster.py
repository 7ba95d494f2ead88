"""Per-file work on an existing Dask distributed cluster (``--scheduler ADDRESS``).

The same ``assay.engine.worker`` code runs on the Dask workers as in the local pool, so results do
not depend on the executor. Input reaches the workers in one of two ways:

* shipped in batches (default): the main process reads each batch's files and sends their
  bytes with the batch, so workers need no access to the evaluated tree;
* shared path (``shared_path=True``): batches carry only paths, for clusters where every
  worker sees the input (and the output directory, where archives are extracted) at the same
  path.

At most ``2 * worker threads`` batches are in flight, which bounds the memory of both sides.
A batch whose worker dies is retried one task at a time; a lone task that kills its worker
again is reported through ``crashed``.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

from assay import __version__
from assay.analyze.interface import FileAnalyzer
from assay.engine.worker import Outcome, Task, TooLarge, crashed, read_bounded, run_shipped
from assay.errors import AssayError
from assay.parse import ParseLimits

CONNECT_TIMEOUT_S = 30


def worker_version() -> str:
    """The assay version installed on a worker (run there to check the installation)."""
    return __version__


def run(
    address: str,
    batches: list[list[Task]],
    chosen: tuple[FileAnalyzer, ...],
    limits: ParseLimits,
    shared_path: bool,
) -> Iterator[Outcome]:
    """Run ``batches`` on the cluster at ``address``; outcomes in completion order. A batch
    whose worker is killed is retried task by task; a lone task killed again becomes a crash
    outcome."""
    if not batches:
        return
    dask: Any = importlib.import_module("distributed")  # untyped; imported only when used
    killed: type[Exception] = dask.KilledWorker

    try:
        client: Any = dask.Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise AssayError(f"cannot reach the Dask scheduler at {address}: {exc}") from exc
    with client, client.as_current():
        _check_workers(client)
        [analyzers] = client.scatter([chosen], broadcast=True)
        limit = max(2, 2 * sum(client.nthreads().values()))
        pending = list(reversed(batches))
        inflight: dict[Any, list[Task]] = {}
        while pending or inflight:
            while pending and len(inflight) < limit:
                items, unread = _ship(pending.pop(), shared_path, limits.max_bytes)
                yield from unread
                if items:
                    future = client.submit(run_shipped, items, analyzers, limits, pure=False)
                    inflight[future] = [task for task, _ in items]
            if not inflight:
                continue
            done, _ = dask.wait(list(inflight), return_when="FIRST_COMPLETED")
            for future in done:
                yield from _collect(future, inflight.pop(future), pending, killed)


def _collect(
    future: Any,
    batch: list[Task],
    pending: list[list[Task]],
    killed: type[Exception],
) -> list[Outcome]:
    """The outcomes of a finished batch; a batch whose worker died is requeued task by task."""
    try:
        outcomes: list[Outcome] = future.result()
    except killed:
        if len(batch) > 1:
            pending.extend([task] for task in batch)
            return []
        return [crashed(batch[0])]
    except Exception as exc:
        raise AssayError(
            f"the Dask cluster failed: {type(exc).__name__}: {exc} (the scheduler and every "
            "worker need the same versions of assay and distributed as this machine)"
        ) from exc
    finally:
        future.release()
    return outcomes


def _check_workers(client: Any) -> None:
    """Fail early, with the reason, when a worker lacks assay or runs another version."""
    try:
        versions: dict[str, str] = client.run(worker_version)
    except Exception as exc:
        raise AssayError(f"Dask workers cannot run assay (is it installed there?): {exc}") from exc
    if not versions:
        raise AssayError("the Dask cluster has no workers")
    other = {w: v for w, v in versions.items() if v != __version__}
    if other:
        raise AssayError(f"Dask workers run another assay version than {__version__}: {other}")


def _ship(
    batch: list[Task], shared_path: bool, limit: int
) -> tuple[list[tuple[Task, bytes | None]], list[Outcome]]:
    """The batch with its contents (or ``None`` for a shared path), and the files not read
    (unreadable, or over ``limit`` bytes: read as the workers read, ``worker.read_bounded``)."""
    if shared_path:
        return [(task, None) for task in batch], []
    items: list[tuple[Task, bytes | None]] = []
    unread: list[Outcome] = []
    for task in batch:
        try:
            items.append((task, read_bounded(task.disk_path, limit)))
        except OSError as exc:
            unread.append(Outcome(task.key, skip=("unreadable", str(exc))))
        except TooLarge as exc:
            unread.append(Outcome(task.key, skip=("too-large", f"{exc.size} bytes > {limit}")))
    return items, unread
