"""``assay rebuild`` names its input by the same tree hash as ``assay evaluate``."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from assay import sandbox
from assay.ingest import ArchiveLimits, ingest
from assay.rebuild.engine import RebuildOptions, rebuild
from support import write_tree

#: Names whose sorted order differs from the order of a directory walk: ``a.txt`` sorts before
#: ``a/x`` (``.`` < ``/``) and ``a/x`` before ``b``, while a walk lists a folder's files first.
TREE: dict[str, str | bytes] = {
    "a.txt": "top\n",
    "b": b"\x00binary\x01",
    "a/x": "one down\n",
    "a/deeper/y.c": "int y;\n",
    "a/deeper/z/last": "three down\n",
    "a-b/c": "dash\n",
}


def test_rebuild_input_hash_is_the_ingest_tree_hash(tmp_path: Path) -> None:
    reason = sandbox.available()
    assert reason is None, f"the sandbox is needed (install bubblewrap): {reason}"
    source = write_tree(tmp_path / "src", TREE)
    walked = [
        (Path(folder) / name).relative_to(source).as_posix()
        for folder, _dirs, names in os.walk(source)
        for name in names
    ]
    assert walked != sorted(walked), "the tree must tell walk order from sorted order"
    lines = sorted(
        f"{path}\0{hashlib.sha256((source / path).read_bytes()).hexdigest()}\n" for path in TREE
    )
    expected = hashlib.sha256("".join(lines).encode()).hexdigest()

    evaluated = ingest(source, tmp_path / "work", ArchiveLimits()).input.sha256
    rebuilt = rebuild(RebuildOptions(source, "true", ("*.none",), tmp_path / "out", timeout=60.0))

    assert rebuilt.input.sha256 == evaluated == expected
