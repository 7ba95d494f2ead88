"""Run a command from the evaluated input inside a bubblewrap sandbox.

The only place assay executes code it was given (DESIGN principle 8). The sandbox is a fresh set of
Linux namespaces made by ``bwrap`` (bubblewrap, the sandbox Flatpak uses):

- isolated: network (a new, empty network namespace unless ``network=True``), PIDs, IPC, UTS
  (host name), cgroup and user namespaces; ``/tmp``, ``/root``, ``/home`` and ``/run`` are empty
  tmpfs, so the user's home directory cannot be read; the whole file system is read-only except
  the ``writable`` paths; ``/etc/shadow``, ``/etc/gshadow`` and ``/etc/ssh`` are masked; the
  environment is exactly ``env`` (a minimal one by default); capabilities are dropped; the process
  tree is killed on timeout or when assay dies.
- not isolated: ``/usr`` (hence ``/bin``, ``/lib``) and ``/etc`` stay readable, as a toolchain
  needs them; CPU and memory are not limited (only wall-clock time); the kernel is shared, so a
  kernel exploit escapes. ``/var``, ``/opt``, ``/srv``, ``/mnt`` and the rest are not mounted
  unless given in ``readable``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

#: Bytes kept of each of stdout and stderr; the rest is read and dropped.
OUTPUT_CAP = 1 << 20

#: The environment given when the caller passes none.
DEFAULT_ENV: Mapping[str, str] = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": "/nonexistent",
    "LC_ALL": "C",
}

#: Secrets under /etc hidden from the sandbox (a file is replaced by /dev/null, a directory
#: by an empty tmpfs).
_MASKED_FILES = ("/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/gshadow-")
_MASKED_DIRS = ("/etc/ssh", "/etc/ssl/private")

#: What the sandbox isolates and what it does not, for reports.
ISOLATION: Mapping[str, str] = {
    "network": "new empty network namespace (no interfaces but a down loopback)",
    "filesystem": "read-only /usr and /etc; writable only the build copy; empty /tmp, /home, /root",
    "secrets": "/etc/shadow, /etc/gshadow, /etc/ssh, /etc/ssl/private masked",
    "processes": "new PID, IPC, UTS, cgroup and user namespaces; capabilities dropped",
    "time_limit": "wall clock; the whole process tree is killed",
    "not_isolated": "CPU and memory are not limited; the kernel is shared; /usr and /etc readable",
}


@dataclass(frozen=True, slots=True)
class SandboxResult:
    """How a sandboxed command ended."""

    returncode: int | None
    """Exit status (negative: killed by that signal); None when it was killed on timeout."""
    stdout: bytes
    """Standard output, at most ``OUTPUT_CAP`` bytes."""
    stderr: bytes
    """Standard error, at most ``OUTPUT_CAP`` bytes."""
    timed_out: bool
    """The time limit was reached and the process tree was killed."""
    duration: float
    """Wall-clock seconds from start to end."""


def available() -> str | None:
    """None when sandboxed runs work here, else the reason they do not."""
    if shutil.which("bwrap") is None:
        return "bubblewrap (bwrap) is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    try:
        probe = run(["true"], cwd=Path("/"), timeout=30)
    except OSError as exc:
        return f"bwrap cannot start: {exc}"
    if probe.returncode != 0:
        reason = probe.stderr.decode("utf-8", "replace").strip()
        return f"bwrap cannot create namespaces here: {reason or probe.returncode}"
    return None


def run(
    argv: Sequence[str],
    *,
    cwd: Path,
    writable: Sequence[Path] = (),
    readable: Sequence[Path] = (),
    env: Mapping[str, str] | None = None,
    timeout: float,
    network: bool = False,
    hostname: str | None = None,
    uid: int | None = None,
    stdout_cap: int = OUTPUT_CAP,
) -> SandboxResult:
    """Run ``argv`` in the sandbox with ``cwd`` as working directory.

    ``env`` is the whole environment, in the order given (None: ``DEFAULT_ENV``). ``writable`` and
    ``readable`` paths appear at the same place inside. ``hostname`` and ``uid`` (also the gid)
    set who the command believes it runs as and where. The first ``stdout_cap`` bytes of
    stdout are kept (``OUTPUT_CAP`` of stderr).
    """
    command = [*_bwrap_args(writable, readable, network, hostname, uid), "--chdir", str(cwd)]
    command += ["--", *argv]
    started = time.monotonic()
    proc = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(DEFAULT_ENV if env is None else env),
        start_new_session=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    out, err = _Drain(proc.stdout, stdout_cap), _Drain(proc.stderr, OUTPUT_CAP)
    timed_out = False
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill_group(proc)
    except BaseException:
        _kill_group(proc)
        raise
    duration = time.monotonic() - started
    return SandboxResult(
        returncode=None if timed_out else proc.returncode,
        stdout=out.result(),
        stderr=err.result(),
        timed_out=timed_out,
        duration=duration,
    )


def _bwrap_args(
    writable: Sequence[Path],
    readable: Sequence[Path],
    network: bool,
    hostname: str | None,
    uid: int | None,
) -> list[str]:
    """The bwrap command line up to (not including) ``--chdir``."""
    args = [shutil.which("bwrap") or "bwrap", "--unshare-all", "--die-with-parent", "--new-session"]
    if network:
        args.append("--share-net")
    args += ["--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        args += _root_link(name)
    for secret in _MASKED_FILES:
        if os.path.exists(secret):
            args += ["--ro-bind", "/dev/null", secret]
    for secret in _MASKED_DIRS:
        if os.path.isdir(secret):
            args += ["--tmpfs", secret]
    args += ["--dev", "/dev", "--proc", "/proc"]
    for empty in ("/tmp", "/root", "/home", "/run", "/var/tmp"):
        args += ["--tmpfs", empty]
    for path in readable:
        args += ["--ro-bind", str(path), str(path)]
    for path in writable:
        args += ["--bind", str(path), str(path)]
    if hostname is not None:
        args += ["--hostname", hostname]
    if uid is not None:
        args += ["--uid", str(uid), "--gid", str(uid)]
    return args


def _root_link(name: str) -> list[str]:
    """Recreate ``/name`` inside: as the same symlink (merged /usr) or a read-only bind."""
    path = Path("/") / name
    if path.is_symlink():
        return ["--symlink", os.readlink(path), str(path)]
    if path.is_dir():
        return ["--ro-bind", str(path), str(path)]
    return []


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL bwrap's session; bwrap's --die-with-parent then ends everything inside."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


class _Drain:
    """Read a pipe to its end in a thread, keeping the first ``cap`` bytes."""

    def __init__(self, pipe: IO[bytes], cap: int) -> None:
        self._pipe = pipe
        self._cap = cap
        self._chunks: list[bytes] = []
        self._kept = 0
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        with self._pipe:
            while chunk := os.read(self._pipe.fileno(), 65536):
                if self._kept < self._cap:
                    self._chunks.append(chunk[: self._cap - self._kept])
                    self._kept += len(self._chunks[-1])

    def result(self) -> bytes:
        """The kept bytes, once the writer closed its end (or after 5 s)."""
        self._thread.join(timeout=5)
        return b"".join(self._chunks)
