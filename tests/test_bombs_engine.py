"""Files too large to analyse are refused before they are read: a 1.5 GiB sparse ``.c`` is
skipped as ``too-large`` by a run capped at 1 GiB of address space (it was read whole first)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from assay.engine import worker
from assay.model import FileKind
from assay.parse import ParseLimits
from bounded import run_bounded

HUGE = 3 << 29
"""1.5 GiB: more than the child may hold, written as a sparse file (nothing on disk)."""

EVALUATE = """\
from dataclasses import replace
from pathlib import Path
from assay import Options, run
run(replace(Options.default(Path(args["input"]), Path(args["out"])), jobs=1))
print(json.dumps("done"))
"""


def test_worker_refuses_a_file_over_the_limit_before_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "huge.c"
    with path.open("wb") as stream:
        stream.truncate(HUGE)
    body = """\
    from assay.engine import worker
    from assay.model import FileKind
    from assay.parse import ParseLimits
    task = worker.Task(0, args["path"], FileKind.C, ())
    print(json.dumps(worker.run(task, (), ParseLimits()).skip))
    """
    skip = run_bounded(body, path=str(path))
    assert skip == ["too-large", f"{HUGE} bytes > {ParseLimits().max_bytes}"]


def test_read_bounded_stops_one_byte_past_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "a.c"
    path.write_bytes(b"x" * 100)
    assert worker.read_bounded(str(path), 100) == b"x" * 100
    limits = ParseLimits(max_bytes=99)
    outcome = worker.run(worker.Task(0, str(path), FileKind.C, ()), (), limits)
    assert outcome.skip == ("too-large", "100 bytes > 99")


def test_a_run_with_a_huge_sparse_source_completes_with_a_skipped_record(
    tmp_path: Path,
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "ok.c").write_text("int ok(void) { return 0; }\n", encoding="utf-8")
    with (src / "huge.c").open("wb") as stream:
        stream.truncate(HUGE)
    out = tmp_path / "out"
    assert run_bounded(EVALUATE, input=str(src), out=str(out)) == "done"
    doc = json.loads((out / "evaluation.json").read_text(encoding="utf-8"))
    [record] = [s for s in doc["skipped"] if s["path"] == "huge.c"]
    assert (record["stage"], record["reason"]) == ("parse", "too-large")
    assert sorted(os.listdir(src)) == ["huge.c", "ok.c"] and (src / "huge.c").stat().st_size == HUGE
