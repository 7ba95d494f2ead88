"""tools/upstream.py: a release whose ``.dsc`` the mirror lacks is kept from its ``.orig``
tarball only when the tarball's sha256 is the one the source index states."""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))

import upstream  # tools/ is a plain script folder


def _stanza(version: str, files: dict[str, bytes]) -> str:
    """One ``apt-cache showsrc`` stanza of avahi ``version`` listing ``files``."""
    sums = "".join(
        f" {hashlib.sha256(data).hexdigest()} {len(data)} {name}\n" for name, data in files.items()
    )
    return (
        f"Package: avahi\nBinary: avahi-daemon\nVersion: {version}\nFormat: 3.0 (quilt)\n"
        f"Checksums-Sha256:\n{sums}Homepage: https://avahi.org/\n"
    )


class _IndexOnly(upstream._Apt):
    """apt whose ``apt-cache showsrc`` answers with a fixed source index."""

    def __init__(self, state: Path, index: str) -> None:
        super().__init__(state)
        self.index = index

    def _run(self, tool: str, args: Sequence[str], cwd: Path | None = None) -> str:
        assert (tool, list(args)) == ("apt-cache", ["showsrc", "avahi"])
        return self.index


def test_a_tarball_with_the_indexed_checksum_is_kept_and_the_rest_removed(tmp_path: Path) -> None:
    tarball, component = b"upstream tarball bytes", b"a component tarball"
    listed = {
        "avahi_0.8-18.dsc": b"dsc",
        "avahi_0.8.orig.tar.gz": tarball,
        "avahi_0.8.orig-doc.tar.gz": component,
        "avahi_0.8.orig.tar.gz.asc": b"signature",
        "avahi_0.8-18.debian.tar.xz": b"debian",
    }
    # an older version listing other bytes under the same tarball name comes first
    index = _stanza("0.7-4", {"avahi_0.8.orig.tar.gz": b"other"}) + "\n" + _stanza("0.8-18", listed)
    work = tmp_path / "work"
    work.mkdir()
    for name in (
        "avahi_0.8.orig.tar.gz",
        "avahi_0.8.orig-doc.tar.gz",
        "avahi_0.8-18.debian.tar.xz",
    ):
        (work / name).write_bytes(listed[name])
    (work / "stray.txt").write_bytes(b"not listed")
    apt = _IndexOnly(tmp_path / "state", index)
    assert apt._orig_verified("avahi", "0.8-18", work)
    assert [p.name for p in work.iterdir()] == ["avahi_0.8.orig.tar.gz"]
    assert upstream._orig_tarball(work).name == "avahi_0.8.orig.tar.gz"


def test_a_tarball_with_other_bytes_is_removed(tmp_path: Path) -> None:
    index = _stanza("0.8-18", {"avahi_0.8.orig.tar.gz": b"upstream tarball bytes"})
    work = tmp_path / "work"
    work.mkdir()
    (work / "avahi_0.8.orig.tar.gz").write_bytes(b"upstream tarball bytez")
    apt = _IndexOnly(tmp_path / "state", index)
    assert not apt._orig_verified("avahi", "0.8-18", work)
    assert list(work.iterdir()) == []


def test_only_a_component_tarball_is_not_a_release(tmp_path: Path) -> None:
    component = b"a component tarball"
    index = _stanza("0.8-18", {"avahi_0.8.orig-doc.tar.gz": component})
    work = tmp_path / "work"
    work.mkdir()
    (work / "avahi_0.8.orig-doc.tar.gz").write_bytes(component)
    apt = _IndexOnly(tmp_path / "state", index)
    assert not apt._orig_verified("avahi", "0.8-18", work)
    assert not apt._orig_verified("avahi", "0.8-19", work)  # a version the index lacks
