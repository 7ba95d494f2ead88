"""``--scheduler``: the per-file work on a two-worker local Dask cluster gives the same results
as the local pool, whether contents are shipped in batches or read from a shared path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from distributed import Client, LocalCluster, get_task_stream

from assay import cli
from assay.engine.plan import BATCH_FILES
from support import golden_findings, run_evaluation, write_tree


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """Address of a local Dask cluster of two worker processes, one thread each."""
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:
        yield str(cluster.scheduler_address)


def test_cluster_results_equal_local_results(
    example_tree: Path, tmp_path: Path, scheduler: str
) -> None:
    local = run_evaluation(example_tree, tmp_path / "local", jobs=2)
    shipped = run_evaluation(example_tree, tmp_path / "shipped", scheduler=scheduler)
    shared = run_evaluation(
        example_tree, tmp_path / "shared", scheduler=scheduler, shared_path=True
    )
    assert local.json()["inventory"]["analyzed"]["unique_contents"] > 5
    assert local.findings() == golden_findings()
    assert shipped.json() == local.json()
    assert shared.json() == local.json()
    assert shipped.sarif() == local.sarif()


def test_work_goes_to_the_cluster_in_batches(tmp_path: Path, scheduler: str) -> None:
    """Every batch is a task of its own, free to run on either worker (which one takes it is
    the scheduler's choice and depends on the machine's load, so it is not asserted)."""
    body = "int f{n}(char *d, const char *s) {{\n  strcpy(d, s);\n  return {n};\n}}\n"
    files = {f"src/mod{n}.c": body.format(n=n) for n in range(100)}
    tree = write_tree(tmp_path / "tree", files)
    local = run_evaluation(tree, tmp_path / "local")
    with Client(scheduler) as client, get_task_stream(client) as stream:
        remote = run_evaluation(tree, tmp_path / "remote", scheduler=scheduler)
        workers = set(client.scheduler_info()["workers"])
    ran = [task["worker"] for task in stream.data if "run_shipped" in task["key"]]
    assert len(ran) == -(-len(files) // BATCH_FILES) == 4
    assert set(ran) <= workers and len(workers) == 2
    assert remote.json() == local.json()
    assert len(remote.findings("unsafe-calls")) == 100


def test_cli_scheduler_flag(tmp_path: Path, scheduler: str) -> None:
    assert cli.main(["example", "-o", str(tmp_path / "a"), "-q", "--no-cache", "-j", "1"]) == 0
    code = cli.main(["example", "-o", str(tmp_path / "b"), "-q", "--no-cache",
                     "--scheduler", scheduler])  # fmt: skip
    assert code == 0
    a = (tmp_path / "a" / "evaluation.json").read_text()
    assert a == (tmp_path / "b" / "evaluation.json").read_text()


def test_shared_path_needs_a_scheduler(tmp_path: Path) -> None:
    assert cli.main(["example", "-o", str(tmp_path / "a"), "-q", "--shared-path"]) == 2
