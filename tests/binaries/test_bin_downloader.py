"""tools/debian_binaries.py: specs, versions and safe unpacking of a hand-made ``.deb``."""

from __future__ import annotations

import io
import sys
import tarfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))

import debian_binaries


@pytest.mark.parametrize(
    ("version", "upstream"),
    [
        ("1:1.2.13.dfsg-1", "1.2.13"), ("3.0.20-1~deb12u2", "3.0.20"),
        ("1:1.35.0-4+deb12u1+b1", "1.35.0"), ("1.5.4+dfsg2-5", "1.5.4"),
        ("2.9.14+dfsg-1.3~deb12u6", "2.9.14"), ("2022.83-1+deb12u3", "2022.83"),
        ("2.28.3", "2.28.3"), ("1:1.3.dfsg+really1.3.1-1+deb13u1", "1.3.1"),
        ("2.0+really1.5+dfsg-2", "1.5"),
    ],
)  # fmt: skip
def test_upstream_version(version: str, upstream: str) -> None:
    assert debian_binaries.upstream_version(version) == upstream


@pytest.mark.parametrize("spec", ["zlib1g/bookworm", "a/b/c/d", "../x/bookworm/amd64", "Z/b/c"])
def test_bad_specs(spec: str) -> None:
    with pytest.raises(debian_binaries.BinaryError):
        debian_binaries.parse_spec(spec)


def _ar(members: dict[str, bytes]) -> bytes:
    out = bytearray(b"!<arch>\n")
    for name, body in members.items():
        header = f"{name:<16}{0:<12}{0:<6}{0:<6}{100644:<8}{len(body):<10}`\n"
        out += header.encode("ascii") + body + (b"\n" if len(body) % 2 else b"")
    return bytes(out)


def _tar(entries: list[tarfile.TarInfo], bodies: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for info in entries:
            body = bodies.get(info.name)
            archive.addfile(info, io.BytesIO(body) if body is not None else None)
    return buffer.getvalue()


def _file(name: str, body: bytes) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = len(body)
    return info


def test_unpack_keeps_hostile_members_inside(tmp_path: Path) -> None:
    good = b"\x7fELF fake"
    escape = tarfile.TarInfo("./usr/lib/evil")
    escape.type, escape.linkname = tarfile.SYMTYPE, "/etc/passwd"
    entries = [_file("./usr/lib/libz.so.1.2.13", good), _file("../outside", b"x"), escape]
    bodies = {"./usr/lib/libz.so.1.2.13": good, "../outside": b"x"}
    deb = tmp_path / "zlib1g_1%3a1.2.13.dfsg-1_amd64.deb"
    deb.write_bytes(_ar({"debian-binary": b"2.0\n", "control.tar.gz": _tar([], {}),
                         "data.tar.gz": _tar(entries, bodies)}))  # fmt: skip
    dest = tmp_path / "cache"
    dest.mkdir()
    path = debian_binaries._install(deb, dest, "zlib1g_1.2.13_amd64")
    assert (path / "usr/lib/libz.so.1.2.13").read_bytes() == good
    assert not (tmp_path / "outside").exists() and not (dest / "outside").exists()
    assert not (path / "usr/lib/evil").is_symlink()
    assert debian_binaries._deb_fields(deb) == ("zlib1g", "1:1.2.13.dfsg-1")
