"""evaluation.json's file manifest: every file evaluated, with the container it came out of."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from assay.engine.manifest import innermost
from support import Run

pytestmark = pytest.mark.usefixtures("need_sandbox")

SCHEMA = Path(__file__).parents[1] / "src" / "assay" / "schemas" / "evaluation.schema.json"


def _rootfs(root: Path, tag: str) -> dict[str, bytes]:
    put = {
        "etc/issue": f"{tag} 1.0\n".encode(),
        "etc/inittab": b"::sysinit:/etc/init.d/rcS\n",
        "usr/share/doc/readme": (f"{tag} " * 400).encode(),
    }
    for rel, data in put.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return put


def _squashfs(root: Path, out: Path) -> bytes:
    subprocess.run(
        ["mksquashfs", str(root), str(out), "-comp", "gzip", "-noappend", "-quiet",
         "-no-progress", "-all-root"], check=True, capture_output=True,
    )  # fmt: skip
    return out.read_bytes()


def test_every_file_is_listed_with_its_innermost_container(
    tmp_path: Path, evaluate: Callable[..., Run]
) -> None:
    release = tmp_path / "release"
    release.mkdir()
    expected: dict[str, tuple[bytes, str | None]] = {}
    # a flash dump: a squashfs at 0x20000 between erased flash
    (tmp_path / "a").mkdir()
    for rel, data in _rootfs(tmp_path / "a", "dump").items():
        expected[f"fw.bin@0x20000:squashfs!/{rel}"] = (data, "fw.bin@0x20000:squashfs")
    image = _squashfs(tmp_path / "a", tmp_path / "a.sqfs")
    dump = bytearray(b"\xff" * (0x20000 + len(image) + 0x10000))
    dump[0x20000 : 0x20000 + len(image)] = image
    (release / "fw.bin").write_bytes(bytes(dump))
    # a squashfs inside a tar.gz, beside a plain member
    (tmp_path / "b").mkdir()
    for rel, data in _rootfs(tmp_path / "b", "bundle").items():
        expected[f"bundle.tar.gz!/rootfs.sqfs!/{rel}"] = (data, "bundle.tar.gz!/rootfs.sqfs")
    members = {"rootfs.sqfs": _squashfs(tmp_path / "b", tmp_path / "b.sqfs"), "notes.txt": b"n\n"}
    expected["bundle.tar.gz!/notes.txt"] = (b"n\n", "bundle.tar.gz")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    (release / "bundle.tar.gz").write_bytes(buffer.getvalue())
    # a folder whose name ends in '!': its files come out of no container
    (release / "odd!").mkdir()
    (release / "odd!" / "x.c").write_bytes(b"int x;\n")
    expected["odd!/x.c"] = (b"int x;\n", None)

    document = evaluate(release).json()

    jsonschema.validate(document, json.loads(SCHEMA.read_text(encoding="utf-8")))
    inventory: dict[str, Any] = document["inventory"]
    manifest = inventory["manifest"]
    assert manifest["columns"] == ["path", "kind", "size", "sha256", "container"]
    containers = [c["path"] for c in inventory["containers"]]
    rows = {row[0]: row for row in manifest["rows"]}
    assert [row[0] for row in manifest["rows"]] == sorted(rows)
    assert len(rows) == inventory["files"]
    for path, (data, container) in expected.items():
        _, _, size, sha256, index = rows[path]
        assert (size, sha256) == (len(data), hashlib.sha256(data).hexdigest()), path
        assert (None if index is None else containers[index]) == container, path
    # the containers are files of the release too, each in its own parent container; the
    # dump's erased flash before and after the image are carved regions of their own
    assert rows["bundle.tar.gz!/rootfs.sqfs"][4] == containers.index("bundle.tar.gz")
    assert rows["bundle.tar.gz"][4] is None
    extra = set(rows) - set(expected)
    assert {"fw.bin", "bundle.tar.gz", "bundle.tar.gz!/rootfs.sqfs"} <= extra
    assert all(p in containers or p.startswith("fw.bin@") for p in extra), extra


def test_innermost_takes_the_longest_container_and_ignores_names_holding_the_separator() -> None:
    index = {"a.tar": 0, "a.tar!/b.img": 1}
    assert innermost("a.tar!/b.img!/etc/x", index) == 1
    assert innermost("a.tar!/c/d", index) == 0
    assert innermost("a.tar!/odd!/e", index) == 0  # a folder named 'odd!' inside the tar
    assert innermost("odd!/e", index) is None
    assert innermost("plain.c", index) is None
