"""The sandbox refuses network, writes outside the copy, the user's home and overlong runs."""

from __future__ import annotations

import os
from pathlib import Path

import psutil
import pytest

from assay import sandbox
from assay.rebuild.engine import RebuildOptions, rebuild
from support import write_tree

NET = "bash -c 'exec 3<>/dev/tcp/1.1.1.1/80'"  # a TCP connect, without Python inside


@pytest.fixture(autouse=True)
def _bwrap() -> None:
    reason = sandbox.available()
    assert reason is None, f"the sandbox is needed (install bubblewrap): {reason}"


def test_tcp_socket_fails(tmp_path: Path) -> None:
    result = sandbox.run(["sh", "-c", NET], cwd=tmp_path, writable=[tmp_path], timeout=60)
    assert result.returncode != 0
    assert b"Network is unreachable" in result.stderr


def test_writes_outside_the_copy_fail(tmp_path: Path) -> None:
    copy, outside = tmp_path / "copy", tmp_path / "outside"
    copy.mkdir()
    outside.mkdir()
    script = f"echo x > {outside}/leak; echo y > /usr/leak; echo z > inside"
    result = sandbox.run(["sh", "-c", script], cwd=copy, writable=[copy], timeout=60)
    assert not (outside / "leak").exists()
    assert not Path("/usr/leak").exists()
    assert b"Read-only file system" in result.stderr
    assert (copy / "inside").read_text() == "z\n"


def test_home_directory_is_unreadable(tmp_path: Path) -> None:
    home = Path.home()
    entries = sorted(os.listdir(home))
    assert entries, f"{home} must hold something for this test"
    target = home / entries[0]
    result = sandbox.run(["ls", "-A", str(home), str(target)], cwd=tmp_path, readable=[tmp_path],
                         timeout=60)  # fmt: skip
    assert result.returncode != 0
    assert entries[0].encode() not in result.stdout
    assert f"cannot access '{target}': No such file".encode() in result.stderr


def test_time_limit_kills_the_whole_tree(tmp_path: Path) -> None:
    marker = "917.25"
    result = sandbox.run(["sh", "-c", f"(sleep {marker} &); sleep {marker}"], cwd=tmp_path,
                         writable=[tmp_path], timeout=1)  # fmt: skip
    assert result.timed_out and result.returncode is None  # (not 917 s later)
    left = [p for p in psutil.process_iter(["cmdline"]) if marker in (p.info["cmdline"] or [])]
    _, alive = psutil.wait_procs(left, timeout=60)  # killed ones may still be on their way out
    assert alive == []


@pytest.mark.parametrize(
    ("command", "status", "refused"),
    [
        (NET, "failed", "network access"),
        ("echo x > /etc/assay-leak", "failed", "a write outside the build copy"),
        ("ls -d {home_entry}", "failed", "the user's home directory"),
        ("sleep 600", "timed-out", None),
    ],
)
def test_rebuild_reports_what_the_sandbox_refused(
    tmp_path: Path, command: str, status: str, refused: str | None
) -> None:
    source = write_tree(tmp_path / "src", {"README": "x\n"})
    out = tmp_path / "out"
    home_entries = sorted(os.listdir(Path.home()))
    assert home_entries, f"{Path.home()} must hold something for this test"
    command = command.format(home_entry=Path.home() / home_entries[0])
    evaluation = rebuild(RebuildOptions(source, command, ("*.so",), out, timeout=2))
    section = evaluation.sections["equivalence"]
    assert [b["status"] for b in section["builds"]] == [status, status]
    failed = evaluation.finding_counts["equivalence"]["high"]
    assert failed == 2
    if refused is not None:
        assert all(refused in " ".join(b["sandbox_refused"]) for b in section["builds"])
    assert section["artefacts"] == []
