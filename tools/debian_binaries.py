#!/usr/bin/env python3
"""Download Debian binary packages of any architecture and unpack them.

Each spec ``PACKAGE/SUITE/ARCH`` (for example ``zlib1g/bookworm/s390x``) names a binary
package, a suite and a Debian architecture. The ``.deb`` is downloaded with
``apt-get download`` using a private apt state per suite and architecture (the system's apt
configuration is only read, for the mirror, never changed; nothing is installed) and its
data member is unpacked safely (no absolute paths, no ``..``, no links leaving the tree)
into ``DEST/<package>_<version>_<arch>/``. ``DEST/MANIFEST.tsv`` records every unpacked
package (package, version, suite, arch, directory) so later runs reuse them offline.

Library use::

    from debian_binaries import fetch, upstream_version
    binary = fetch("zlib1g", "bookworm", "arm64")
    print(binary.package, binary.version, upstream_version(binary.version), binary.path)

Command line::

    python tools/debian_binaries.py [--dest DIR] PACKAGE/SUITE/ARCH ...

The cache is ``$ASSAY_BINARY_CACHE`` when set, else ``~/.cache/assay/debian-binaries``.
Concurrent users share the cache: see :func:`fetch`. Only the standard library,
``apt-get`` and (optionally) ``dpkg-deb`` are needed; tarballs are unpacked in Python.
"""

from __future__ import annotations

import argparse
import io
import lzma
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# tools/ is a plain script folder: the sibling module is importable by name.
from upstream import _locked, private_apt_options, run_apt, system_mirror

ARCHES: tuple[str, ...] = ("amd64", "arm64", "armhf", "mips64el", "i386", "s390x")
"""Architectures the tests use (any Debian architecture is accepted)."""

_MANIFEST = "MANIFEST.tsv"
_LISTS_MAX_AGE_S = 24 * 3600
_AR_MAGIC = b"!<arch>\n"
_SAFE_NAME = re.compile(r"^[a-z0-9][a-z0-9+.-]*$")


class BinaryError(Exception):
    """A binary package could not be downloaded or unpacked."""


@dataclass(frozen=True)
class Binary:
    """One unpacked Debian binary package."""

    package: str
    """Binary package name (``zlib1g``)."""
    version: str
    """Full Debian version (``1:1.2.13.dfsg-1``); see :func:`upstream_version`."""
    arch: str
    """Debian architecture (``arm64``)."""
    suite: str
    """Suite the package was taken from."""
    path: Path
    """Root of the unpacked file system tree (contains ``usr/``, ``lib/`` ...)."""


def cache_dir() -> Path:
    """``$ASSAY_BINARY_CACHE`` when set, else ``~/.cache/assay/debian-binaries``."""
    env = os.environ.get("ASSAY_BINARY_CACHE")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "assay" / "debian-binaries"


def upstream_version(version: str) -> str:
    """The upstream part of a Debian version: no epoch, revision or repack suffix.

    >>> upstream_version("1:1.2.13.dfsg-1")
    '1.2.13'
    >>> upstream_version("3.0.11-1~deb12u2")
    '3.0.11'
    >>> upstream_version("1:1.35.0-4+b3")
    '1.35.0'
    >>> upstream_version("1:1.3.dfsg+really1.3.1-1+deb13u1")
    '1.3.1'

    ``A+reallyB`` is Debian's way to ship upstream ``B`` under a version that sorts after
    ``A``: the release inside is ``B``.
    """
    version = version.split(":", 1)[-1]
    if "-" in version:
        version = version.rsplit("-", 1)[0]
    version = version.rsplit("+really", 1)[-1]
    for suffix in ("+dfsg", ".dfsg", "+ds"):
        version = version.split(suffix, 1)[0]
    return version


def parse_spec(spec: str) -> tuple[str, str, str]:
    """Split ``PACKAGE/SUITE/ARCH`` into its three parts."""
    parts = spec.strip().split("/")
    if len(parts) != 3 or not all(_SAFE_NAME.match(part) for part in parts):
        raise BinaryError(f"bad spec {spec!r}: expected PACKAGE/SUITE/ARCH")
    return parts[0], parts[1], parts[2]


# --- manifest -------------------------------------------------------------------------------


def _read_manifest(dest: Path) -> list[Binary]:
    """Binaries recorded in ``DEST/MANIFEST.tsv`` whose trees still exist."""
    manifest = dest / _MANIFEST
    if not manifest.is_file():
        return []
    found = []
    for line in manifest.read_text(encoding="utf-8").splitlines():
        fields = line.split("\t")
        if len(fields) == 5 and (dest / fields[4]).is_dir():
            package, version, suite, arch, directory = fields
            found.append(Binary(package, version, arch, suite, dest / directory))
    return found


def _lookup(known: Sequence[Binary], package: str, suite: str, arch: str) -> Binary | None:
    """The recorded binary for a spec, if any."""
    for binary in known:
        if (binary.package, binary.suite, binary.arch) == (package, suite, arch):
            return binary
    return None


def _record(dest: Path, binary: Binary) -> None:
    """Append a binary to the manifest unless the same row is there already."""
    row = "\t".join((binary.package, binary.version, binary.suite, binary.arch, binary.path.name))
    manifest = dest / _MANIFEST
    rows = manifest.read_text(encoding="utf-8").splitlines() if manifest.exists() else []
    if row not in rows:
        with manifest.open("a", encoding="utf-8") as handle:
            handle.write(row + "\n")


# --- private apt state ----------------------------------------------------------------------


class _Apt:
    """apt-get bound to a private state for one suite and one architecture."""

    def __init__(self, state: Path, suite: str, arch: str) -> None:
        self.state = state
        self.suite = suite
        self.arch = arch
        self.updated = False

    def _options(self) -> list[str]:
        """``-o`` options isolating apt from the system's state and architectures."""
        extra = {
            "Dir::State::status": str(self.state / "status"),
            "APT::Architecture": self.arch,
            "APT::Architectures": self.arch,
            "Acquire::Languages": "none",
        }
        return private_apt_options(self.state, extra)

    def run(self, args: Sequence[str], cwd: Path | None = None) -> str:
        """Run apt-get with the private options; return stdout or raise BinaryError."""
        return run_apt("apt-get", self._options(), args, cwd, BinaryError)

    def ensure_ready(self) -> None:
        """Write the private sources and status; update indexes older than a day."""
        for sub in ("lists/partial", "archives/partial", "cache"):
            (self.state / sub).mkdir(parents=True, exist_ok=True)
        (self.state / "status").touch()
        mirror, signed_by = system_mirror()
        options = f"arch={self.arch}" + (f" signed-by={signed_by}" if signed_by else "")
        line = f"deb [{options}] {mirror} {self.suite} main\n"
        (self.state / "sources.list").write_text(line, encoding="utf-8")
        indexes = list((self.state / "lists").glob("*Packages*"))
        fresh = indexes and time.time() - max(p.stat().st_mtime for p in indexes) < (
            _LISTS_MAX_AGE_S
        )
        if not fresh:
            self.update()
        elif not (self.state / "cache" / "pkgcache.bin").exists():
            self.run(["check"])  # builds the package cache once, under the caller's lock

    def update(self) -> None:
        """``apt-get update`` on the private state, at most once per instance."""
        if not self.updated:
            self.updated = True
            self.run(["update"])

    def download(self, package: str, work: Path) -> Path:
        """Download the package's ``.deb`` into ``work`` and return its path."""
        self.run(["download", f"{package}:{self.arch}"], cwd=work)
        debs = sorted(work.glob(f"{package}_*_{self.arch}.deb")) or sorted(
            work.glob(f"{package}_*_all.deb")
        )
        if not debs:
            raise BinaryError(f"apt-get download left no .deb for {package}:{self.arch}")
        return debs[0]


# --- unpacking ------------------------------------------------------------------------------


def _ar_members(data: bytes) -> dict[str, bytes]:
    """Members of a Debian ``ar`` archive, by name."""
    if not data.startswith(_AR_MAGIC):
        raise BinaryError("not an ar archive")
    members: dict[str, bytes] = {}
    offset = len(_AR_MAGIC)
    while offset + 60 <= len(data):
        header = data[offset : offset + 60]
        name = header[:16].decode("ascii", "replace").strip().rstrip("/")
        try:
            size = int(header[48:58].decode("ascii").strip())
        except ValueError as exc:
            raise BinaryError("bad ar member header") from exc
        start = offset + 60
        members[name] = data[start : start + size]
        offset = start + size + (size & 1)
    return members


def _deb_fields(deb: Path) -> tuple[str, str]:
    """Package name and version from the ``.deb`` file name (``name_version_arch.deb``)."""
    stem = deb.name.removesuffix(".deb")
    package, version, _arch = stem.split("_")
    return package, version.replace("%3a", ":")


def _data_tar(deb: Path) -> tarfile.TarFile:
    """Open the ``data.tar.*`` member of a ``.deb`` as a tar file."""
    members = _ar_members(deb.read_bytes())
    for name, payload in members.items():
        if name.startswith("data.tar"):
            if name.endswith(".zst"):
                return _zstd_tar(deb)
            if name.endswith(".xz"):
                payload = lzma.decompress(payload)
            return tarfile.open(fileobj=io.BytesIO(payload), mode="r:*")
    raise BinaryError(f"{deb.name}: no data.tar member")


def _zstd_tar(deb: Path) -> tarfile.TarFile:
    """Decompress a zstd data member through ``dpkg-deb --fsys-tarfile``."""
    done = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(deb)], capture_output=True)
    if done.returncode != 0:
        raise BinaryError(f"dpkg-deb --fsys-tarfile {deb.name} failed")
    return tarfile.open(fileobj=io.BytesIO(done.stdout), mode="r:")


def _unpack(deb: Path, target: Path) -> None:
    """Unpack a ``.deb``'s file system into ``target`` with tarfile's ``data`` filter.

    Members the filter refuses (absolute or escaping links, device files) are left out.
    """

    def keep_safe(member: tarfile.TarInfo, dest: str) -> tarfile.TarInfo | None:
        try:
            return tarfile.data_filter(member, dest)
        except tarfile.FilterError:
            return None

    with _data_tar(deb) as archive:
        archive.extractall(target, filter=keep_safe)


def _install(deb: Path, dest: Path, directory: str) -> Path:
    """Unpack into ``DEST/directory`` atomically via a temporary sibling; reuse if present."""
    final = dest / directory
    if final.is_dir():
        return final
    staging = Path(tempfile.mkdtemp(prefix=f".{directory}.", dir=dest))
    try:
        _unpack(deb, staging)
        staging.chmod(0o755)
        staging.rename(final)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        if not final.is_dir():  # not another fetcher's rename of the same package
            raise
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return final


# --- fetching -------------------------------------------------------------------------------


def _download_and_install(apt: _Apt, package: str, dest: Path) -> Binary:
    """Download one package with ``apt`` and unpack it under ``dest``."""
    with tempfile.TemporaryDirectory(prefix="assay-debbin-") as tmp:
        deb = apt.download(package, Path(tmp))
        name, version = _deb_fields(deb)
        directory = f"{name}_{version.replace(':', '%3a')}_{apt.arch}"
        path = _install(deb, dest, directory)
    binary = Binary(name, version, apt.arch, apt.suite, path)
    with _locked(dest):
        _record(dest, binary)
    return binary


def fetch(package: str, suite: str, arch: str, dest: Path | None = None) -> Binary:
    """Return the unpacked binary package, downloading it on first use.

    Safe to call from several threads or processes at once: the apt state of one suite and
    architecture is locked while its indexes are updated, each download goes to its own
    temporary directory, an unpacked tree appears by one atomic rename and the manifest is
    appended under the cache's lock; so fetches of different packages run in parallel.
    Raises BinaryError when it cannot be downloaded or unpacked.
    """
    parse_spec(f"{package}/{suite}/{arch}")
    dest = (dest or cache_dir()).expanduser().resolve()
    dest.mkdir(parents=True, exist_ok=True)
    found = _lookup(_read_manifest(dest), package, suite, arch)
    if found is not None:
        return found
    apt = _Apt(dest / "apt" / f"{suite}-{arch}", suite, arch)
    apt.state.mkdir(parents=True, exist_ok=True)
    try:
        with _locked(apt.state):
            apt.ensure_ready()
        return _download_and_install(apt, package, dest)
    except (BinaryError, OSError, tarfile.TarError, lzma.LZMAError) as exc:
        if apt.updated:
            raise BinaryError(f"{package}/{suite}/{arch}: {exc}") from exc
    try:  # stale indexes: the mirror moved on; update once and retry
        with _locked(apt.state):
            apt.update()
        return _download_and_install(apt, package, dest)
    except (BinaryError, OSError, tarfile.TarError, lzma.LZMAError) as exc:
        raise BinaryError(f"{package}/{suite}/{arch}: {exc}") from exc


def fetch_many(
    specs: Sequence[tuple[str, str, str]], dest: Path | None = None
) -> dict[tuple[str, str, str], Binary]:
    """Return every ``(package, suite, arch)`` of ``specs``, downloading those not cached yet.

    The missing packages of one suite and architecture are downloaded by a single
    ``apt-get download`` (apt fetches them over one connection, without a process and an
    index check per package), then unpacked one by one; when that call fails (a package the
    index does not know), each is fetched on its own so the error names it. Raises
    BinaryError for the first package that cannot be had.
    """
    dest = (dest or cache_dir()).expanduser().resolve()
    dest.mkdir(parents=True, exist_ok=True)
    for spec in specs:
        parse_spec("/".join(spec))
    known = _read_manifest(dest)
    missing: dict[tuple[str, str], list[str]] = {}
    for package, suite, arch in specs:
        if _lookup(known, package, suite, arch) is None:
            missing.setdefault((suite, arch), []).append(package)
    for (suite, arch), packages in sorted(missing.items()):
        with _locked(dest):
            apt = _Apt(dest / "apt" / f"{suite}-{arch}", suite, arch)
            try:
                apt.ensure_ready()
                _download_all(apt, sorted(set(packages)), dest)
            except (BinaryError, OSError, tarfile.TarError, lzma.LZMAError):
                pass  # fetched one by one below, with a precise error
    return {spec: fetch(*spec, dest=dest) for spec in specs}


def _download_all(apt: _Apt, packages: Sequence[str], dest: Path) -> None:
    """Download ``packages`` with one apt-get call and unpack each under ``dest``."""
    with tempfile.TemporaryDirectory(prefix="assay-debbin-") as tmp:
        apt.run(["download", *(f"{package}:{apt.arch}" for package in packages)], cwd=Path(tmp))
        for package in packages:
            debs = sorted(Path(tmp).glob(f"{package}_*_{apt.arch}.deb")) or sorted(
                Path(tmp).glob(f"{package}_*_all.deb")
            )
            if not debs:
                continue
            name, version = _deb_fields(debs[0])
            directory = f"{name}_{version.replace(':', '%3a')}_{apt.arch}"
            path = _install(debs[0], dest, directory)
            _record(dest, Binary(name, version, apt.arch, apt.suite, path))


def dependency(package: str, suite: str, arch: str, dest: Path | None = None) -> str:
    """The first package ``package`` depends on, from the suite's index (a metapackage such as
    ``linux-image-cloud-amd64`` names the versioned package the mirror holds today).

    Raises BinaryError when the index does not know the package or it has no dependency.
    """
    parse_spec(f"{package}/{suite}/{arch}")
    dest = (dest or cache_dir()).expanduser().resolve()
    dest.mkdir(parents=True, exist_ok=True)
    with _locked(dest):
        apt = _Apt(dest / "apt" / f"{suite}-{arch}", suite, arch)
        apt.ensure_ready()
        shown = run_apt(
            "apt-cache", apt._options(), ["show", "--no-all-versions", package], None, BinaryError
        )
    for line in shown.splitlines():
        if line.startswith("Depends:"):
            first = line.partition(":")[2].split(",")[0].split()
            if first:
                return first[0].partition(":")[0]
    raise BinaryError(f"{package}/{suite}/{arch}: no Depends field")


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: fetch each spec and print one line per package."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--dest", type=Path, default=None, help="cache directory")
    parser.add_argument("specs", nargs="+", metavar="SPEC", help="PACKAGE/SUITE/ARCH")
    args = parser.parse_args(argv)
    status = 0
    for spec in args.specs:
        try:
            binary = fetch(*parse_spec(spec), dest=args.dest)
        except BinaryError as exc:
            print(f"debian_binaries: {exc}", file=sys.stderr)
            status = 1
            continue
        print(f"{binary.package} {binary.version} {binary.arch} ({binary.suite}) -> {binary.path}")
    return status


if __name__ == "__main__":
    sys.exit(main())
