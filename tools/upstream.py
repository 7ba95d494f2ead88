#!/usr/bin/env python3
"""Download real upstream releases as Debian source packages and unpack them.

Each spec ``NAME/SUITE`` (for example ``curl/bookworm``) names a Debian source
package and a suite. The package's ``.orig`` tarball is downloaded with
``apt-get source --download-only`` using a private apt state (the system's apt
configuration is only read, for the mirror, never changed) and unpacked safely
into ``DEST/<name>-<upstream version>/``. ``DEST/MANIFEST.tsv`` records every
unpacked release (name, version, suite, directory) so later runs reuse them
without touching the network.

Library use::

    from upstream import fetch
    [release] = fetch(["zlib/bookworm"])
    print(release.name, release.version, release.path)

Command line::

    python tools/upstream.py [--dest DIR] [SPEC ...]

Only the standard library is needed (``platformdirs`` is used when importable).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

DEFAULT_SPECS: tuple[str, ...] = (
    "openssl/bullseye",
    "openssl/bookworm",
    "zlib/bullseye",
    "zlib/bookworm",
    "zlib/trixie",
    "curl/bullseye",
    "curl/bookworm",
    "expat/bullseye",
    "expat/bookworm",
    "libpng1.6/bullseye",
    "libpng1.6/bookworm",
    "sqlite3/bullseye",
    "sqlite3/bookworm",
    "mbedtls/bookworm",
    "lwip/bookworm",
    "busybox/bullseye",
    "busybox/bookworm",
    "libxml2/bookworm",
    "dropbear/bookworm",
    "bzip2/bookworm",
    "xz-utils/bookworm",
    "libzstd/bookworm",
    "wolfssl/bookworm",
    "libjpeg-turbo/bookworm",
)
"""The default set of releases: common embedded C libraries, some in two suites."""

SUITES: tuple[str, ...] = ("bullseye", "bookworm", "trixie", "forky", "sid")
"""Suites whose source indexes the private apt state knows (oldoldstable to unstable)."""

SECURITY_SUITES: tuple[str, ...] = ("bullseye-security", "bookworm-security", "trixie-security")
"""Security suites, read from the mirror's ``-security`` sibling (``debian-security``): those of
oldoldstable (LTS), oldstable and stable (testing's is empty, unstable has none)."""

FETCH_JOBS = 6
"""Downloads run at once: apt-get source is network-bound, so a few overlap well."""

_UPSTREAM_NAMES = {
    "libpng1.6": "libpng",
    "xz-utils": "xz",
    "libzstd": "zstd",
    "sqlite3": "sqlite",
    "pcre3": "pcre",
    "lzo2": "lzo",
    "tiff": "libtiff",
    "libgcrypt20": "libgcrypt",
    "gnutls28": "gnutls",
    "libnl3": "libnl",
    "libuv1": "libuv",
    "libcap2": "libcap",
    "libusb-1.0": "libusb",
    "libnetfilter-conntrack": "libnetfilter_conntrack",
    "cyrus-sasl2": "cyrus-sasl",
    "proftpd-dfsg": "proftpd",
    "bind9": "bind",
    "wpa": "wpa_supplicant",
    "mini-httpd": "mini_httpd",
    "lua5.1": "lua",
    "lua5.2": "lua",
    "lua5.3": "lua",
    "lua5.4": "lua",
    "dhcpcd5": "dhcpcd",
    "libssh-gcrypt": "libssh",
    "json-c": "json-c",
    "libjpeg9": "libjpeg",
    "uclibc": "uclibc-ng",
}
"""Debian source package names whose upstream product (canonical purl name) differs."""
_VERSION_SUFFIXES = ("+dfsg", ".dfsg", "+ds")
_MANIFEST = "MANIFEST.tsv"
_LISTS_MAX_AGE_S = 24 * 3600
_APT_TIMEOUT_S = 1800


class UpstreamError(Exception):
    """A release could not be downloaded or unpacked."""


@dataclass(frozen=True)
class Release:
    """One unpacked upstream release."""

    name: str
    """Upstream name (``libpng``, not Debian's ``libpng1.6``)."""
    version: str
    """Upstream version, from the ``.orig`` tarball name."""
    suite: str
    """Debian suite the release was taken from."""
    path: Path
    """Root of the unpacked upstream tree."""


def cache_dir() -> Path:
    """Return the directory holding unpacked releases and the private apt state.

    ``$ASSAY_UPSTREAM_CACHE`` when set, else ``<user cache dir>/assay/upstream``.
    """
    env = os.environ.get("ASSAY_UPSTREAM_CACHE")
    if env:
        return Path(env).expanduser()
    try:
        import platformdirs
    except ImportError:
        return Path.home() / ".cache" / "assay" / "upstream"
    return Path(platformdirs.user_cache_dir("assay")) / "upstream"


def upstream_name(package: str) -> str:
    """Map a Debian source package name to the upstream project's name."""
    return _UPSTREAM_NAMES.get(package, package)


def version_from_tarball(filename: str) -> str:
    """Extract the upstream version from a Debian ``.orig`` tarball file name.

    >>> version_from_tarball("libpng1.6_1.6.39.orig.tar.gz")
    '1.6.39'
    >>> version_from_tarball("zlib_1.2.13.dfsg.orig.tar.xz")
    '1.2.13'
    >>> version_from_tarball("foo_2.0+really1.5+dfsg.orig.tar.xz")
    '1.5'
    """
    version = filename.split("_", 1)[-1]
    version = version.split(".orig.tar.", 1)[0]
    version = version.rsplit("really", 1)[-1]
    for suffix in _VERSION_SUFFIXES:
        version = version.split(suffix, 1)[0]
    return version


def parse_spec(spec: str) -> tuple[str, str]:
    """Split ``NAME/SUITE`` into its package name and suite."""
    package, sep, suite = spec.strip().partition("/")
    if not sep or not package or not suite or "/" in suite:
        raise UpstreamError(f"bad spec {spec!r}: expected NAME/SUITE")
    return package, suite


# --- manifest -------------------------------------------------------------------------------


def _read_manifest(dest: Path) -> list[Release]:
    """Read the releases recorded in ``DEST/MANIFEST.tsv`` whose trees still exist."""
    manifest = dest / _MANIFEST
    if not manifest.is_file():
        return []
    releases = []
    for line in manifest.read_text(encoding="utf-8").splitlines():
        fields = line.split("\t")
        if len(fields) != 4:
            continue
        name, version, suite, directory = fields
        path = dest / directory
        if path.is_dir():
            releases.append(Release(name, version, suite, path))
    return releases


def _lookup(releases: Iterable[Release], package: str, suite: str) -> Release | None:
    """Find the recorded release for a package and suite."""
    name = upstream_name(package)
    for release in releases:
        if release.name == name and release.suite == suite:
            return release
    return None


def _record(dest: Path, release: Release) -> None:
    """Append a release to the manifest unless an equal row is there already."""
    row = f"{release.name}\t{release.version}\t{release.suite}\t{release.path.name}"
    manifest = dest / _MANIFEST
    existing = manifest.read_text(encoding="utf-8").splitlines() if manifest.exists() else []
    if row not in existing:
        with manifest.open("a", encoding="utf-8") as handle:
            handle.write(row + "\n")


@contextlib.contextmanager
def _locked(dest: Path) -> Iterator[None]:
    """Hold an exclusive lock on DEST so concurrent fetchers do not collide."""
    with (dest / ".lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# --- the system's mirror --------------------------------------------------------------------


def _mirror_from_deb822(text: str) -> tuple[str, str | None] | None:
    """Return (URI, Signed-By) of the first stanza with a URIs field in a .sources file."""
    for stanza in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            key, sep, value = line.partition(":")
            if sep and not line.startswith((" ", "\t", "#")):
                fields[key.strip().lower()] = value.strip()
        uris = fields.get("uris", "").split()
        if uris:
            signed_by = fields.get("signed-by") or None
            if signed_by and not signed_by.startswith("/"):
                signed_by = None  # an inline key block cannot go into a one-line entry
            return uris[0], signed_by
    return None


def _mirror_from_list(text: str) -> tuple[str, str | None] | None:
    """Return (URI, signed-by) of the first ``deb`` line of a one-line sources.list."""
    for line in text.splitlines():
        match = re.match(r"\s*deb\s+(?:\[([^\]]*)\]\s+)?(\S+)", line)
        if match:
            options = dict(
                opt.split("=", 1) for opt in (match.group(1) or "").split() if "=" in opt
            )
            return match.group(2), options.get("signed-by")
    return None


def system_mirror() -> tuple[str, str | None]:
    """Find the Debian mirror (and its keyring, if named) in the system's apt configuration."""
    candidates = (
        (Path("/etc/apt/sources.list.d/debian.sources"), _mirror_from_deb822),
        (Path("/etc/apt/sources.list"), _mirror_from_list),
    )
    for path, parse in candidates:
        try:
            found = parse(path.read_text(encoding="utf-8"))
        except OSError:
            continue
        if found:
            return found
    raise UpstreamError("no Debian mirror configured in apt")


# --- private apt state ----------------------------------------------------------------------


def _version_key(version: str) -> list[tuple[int, int | str]]:
    """Natural sort key for Debian version strings (like ``sort -V``)."""
    return [
        (1, int(part)) if part.isdigit() else (0, part)
        for part in re.findall(r"\d+|[^\d]+", version)
    ]


def private_apt_options(state: Path, extra: dict[str, str] | None = None) -> list[str]:
    """``-o`` options that point apt at a private state directory (the system's is only read
    for its mirror), plus ``extra`` options."""
    options = {
        "Dir::Etc::SourceList": str(state / "sources.list"),
        "Dir::Etc::SourceParts": "/nonexistent",
        "Dir::State::Lists": str(state / "lists"),
        "Dir::Cache": str(state / "cache"),
        "Dir::Cache::Archives": str(state / "archives"),
        # kept across runs (Debian's container images switch it off): parsing the indexes
        # again costs each apt call seconds of CPU
        "Dir::Cache::pkgcache": "pkgcache.bin",
        **(extra or {}),
    }
    if os.geteuid() == 0:
        options["APT::Sandbox::User"] = "root"
    return [arg for key, value in options.items() for arg in ("-o", f"{key}={value}")]


def run_apt(
    tool: str,
    options: Sequence[str],
    args: Sequence[str],
    cwd: Path | None = None,
    error: type[Exception] = UpstreamError,
) -> str:
    """Run an apt tool with ``options``; return its stdout or raise ``error`` with its last
    line of stderr."""
    try:
        done = subprocess.run(
            [tool, "-q", *options, *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=_APT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise error(f"{tool} {' '.join(args)}: {exc}") from exc
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise error(f"{tool} {' '.join(args)} failed: {tail}")
    return done.stdout


class _Apt:
    """apt-get and apt-cache bound to a private state directory under the cache."""

    def __init__(self, state: Path) -> None:
        self.state = state
        self.updated = False

    def _options(self) -> list[str]:
        """The ``-o`` options that isolate apt from the system's state."""
        return private_apt_options(self.state)

    def _run(self, tool: str, args: Sequence[str], cwd: Path | None = None) -> str:
        """Run an apt tool with the private options; return stdout or raise UpstreamError."""
        return run_apt(tool, self._options(), args, cwd)

    def _write_sources(self) -> None:
        """Write deb-src lines for every suite, built from the system's mirror; the security
        suites come from its ``-security`` sibling (``.../debian`` -> ``.../debian-security``)."""
        mirror, signed_by = system_mirror()
        option = f"[signed-by={signed_by}] " if signed_by else ""
        lines = [f"deb-src {option}{mirror} {suite} main\n" for suite in SUITES]
        security = mirror.rstrip("/") + "-security"
        lines += [f"deb-src {option}{security} {suite} main\n" for suite in SECURITY_SUITES]
        (self.state / "sources.list").write_text("".join(lines), encoding="utf-8")

    def _lists_fresh(self) -> bool:
        """True when every suite's source index exists and all are younger than a day."""
        lists = self.state / "lists"
        indexes = list(lists.glob("*Sources*")) if lists.is_dir() else []
        if not indexes:
            return False
        names = [path.name for path in indexes]
        for suite in (*SUITES, *SECURITY_SUITES):
            if not any(f"_dists_{suite}_" in name for name in names):
                return False
        newest = max(path.stat().st_mtime for path in indexes)
        return time.time() - newest < _LISTS_MAX_AGE_S

    def ensure_ready(self) -> None:
        """Prepare the private state; run ``apt-get update`` only when indexes are stale."""
        for sub in ("lists/partial", "archives/partial", "cache"):
            (self.state / sub).mkdir(parents=True, exist_ok=True)
        self._write_sources()
        if not self._lists_fresh():
            self.update()

    def update(self) -> None:
        """Run ``apt-get update`` on the private state, at most once per instance."""
        if not self.updated:
            self.updated = True
            self._run("apt-get", ["update"])

    def versions(self, package: str, suite: str) -> list[str]:
        """Source versions of a package in a suite, newest first."""
        return sorted(
            {v for v, s in self.offered(package) if s == suite}, key=_version_key, reverse=True
        )

    def offered(self, package: str) -> list[tuple[str, str]]:
        """Every (Debian version, suite) of a source package in the known suites."""
        try:
            out = self._run("apt-cache", ["madison", package])
        except UpstreamError:
            return []
        found = []
        for line in out.splitlines():
            fields = [field.strip() for field in line.split("|")]
            if len(fields) == 3 and fields[0] == package and "Sources" in fields[2]:
                where = [part for part in fields[2].split() if "/" in part and ":" not in part]
                if where:
                    found.append((fields[1], where[0].split("/")[0]))
        return found

    def download(self, package: str, suite: str, work: Path, version: str | None = None) -> None:
        """Download a source package into ``work``: ``version`` if given, else the suite's
        newest, else older ones."""
        if version is not None:
            targets = [f"{package}={version}"]
        else:
            targets = [f"{package}/{suite}"]
            targets += [f"{package}={v}" for v in self.versions(package, suite)]
        errors = []
        for target in targets:
            _empty(work)
            try:
                self._run("apt-get", ["source", "--download-only", target], cwd=work)
                return
            except UpstreamError as exc:
                errors.append(str(exc))
            wanted = target.partition("=")[2]
            if wanted:
                if self._orig_verified(package, wanted, work):
                    return
                errors[-1] += " (and the mirror holds no .orig tarball with the index's sha256)"
        raise UpstreamError(f"could not download {package}/{suite}: {errors[-1]}")

    def _orig_verified(self, package: str, version: str, work: Path) -> bool:
        """Whether ``work`` holds the ``.orig`` tarball of ``package`` ``version`` with the
        sha256 its signed source index states, after a failed ``apt-get source``: the mirror
        may lack a source package's ``.dsc`` or Debian tarball and still hold the upstream
        tarball, which is all a release needs. Every other file is removed (the ``.dsc``, the
        Debian changes, component tarballs ``.orig-NAME.tar.*``, which ``_orig_tarball`` never
        reads)."""
        try:
            index = self._run("apt-cache", ["showsrc", package])
        except UpstreamError:
            return False
        expected = _orig_checksums(index, package, version)
        kept = False
        for file in list(work.iterdir()):
            if file.name in expected and _sha256(file) == expected[file.name]:
                kept = True
            else:
                file.unlink()
        return kept


def _orig_checksums(index: str, package: str, version: str) -> dict[str, str]:
    """Main ``.orig`` tarball name -> sha256 of ``package`` ``version`` in ``apt-cache
    showsrc`` output (deb822 stanzas; the same version in several suites lists the same
    files). Signatures (``.asc``) and component tarballs (``.orig-NAME.tar.*``) are left out."""
    for stanza in re.split(r"\n\s*\n", index):
        fields = dict(re.findall(r"^([\w-]+):[ \t]*(.*(?:\n[ \t].*)*)", stanza, re.M))
        if fields.get("Package") != package or fields.get("Version") != version:
            continue
        found = {}
        for line in fields.get("Checksums-Sha256", "").splitlines():
            parts = line.split()
            if len(parts) == 3 and ".orig.tar." in parts[2] and not parts[2].endswith(".asc"):
                found[parts[2]] = parts[0]
        return found
    return {}


def _sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _empty(directory: Path) -> None:
    """Remove every entry inside a directory, creating it if needed."""
    directory.mkdir(parents=True, exist_ok=True)
    for entry in directory.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


# --- unpacking ------------------------------------------------------------------------------


def _orig_tarball(work: Path) -> Path:
    """The main upstream tarball among downloaded files (no signatures, no components)."""
    candidates = sorted(
        path
        for path in work.glob("*.orig.tar.*")
        if not path.name.endswith(".asc") and "orig-" not in path.name
    )
    if not candidates:
        raise UpstreamError(f"no upstream tarball among {sorted(p.name for p in work.iterdir())}")
    return candidates[0]


def _normalise(name: str) -> str:
    """A member name without leading ``./`` (and ``/``) prefixes."""
    while name.startswith(("./", "/")):
        name = name[1:] if name.startswith("/") else name[2:]
    return "" if name == "." else name


def _common_root(names: Iterable[str]) -> str | None:
    """The single top-level directory shared by all member names, if there is one."""
    roots = {_normalise(name).split("/", 1)[0] for name in names if _normalise(name)}
    return roots.pop() if len(roots) == 1 else None


def _strip_root(root: str | None, name: str) -> str | None:
    """Drop ``root/`` from a member name; None for the root entry itself."""
    name = _normalise(name)
    if root is None:
        return name or None
    head, _, rest = name.partition("/")
    if head != root:
        return name
    return rest or None


def _unpack(tarball: Path, target: Path) -> None:
    """Unpack a tarball into ``target`` (stripping its top directory) with the data filter."""
    with tarfile.open(tarball, "r:*") as archive:
        members = archive.getmembers()
        root = _common_root(member.name for member in members)

        def strip_then_filter(member: tarfile.TarInfo, dest: str) -> tarfile.TarInfo | None:
            name = _strip_root(root, member.name)
            if name is None:
                return None
            linkname = member.linkname
            if member.islnk():
                link = _strip_root(root, member.linkname)
                if link is None:
                    return None
                linkname = link
            renamed = member.replace(name=name, linkname=linkname, deep=False)
            return tarfile.data_filter(renamed, dest)

        archive.extractall(target, members=members, filter=strip_then_filter)


def _install(tarball: Path, dest: Path, directory: str) -> Path:
    """Unpack into ``DEST/directory`` atomically (via a temporary sibling); reuse if present."""
    final = dest / directory
    if final.is_dir():
        return final
    staging = Path(tempfile.mkdtemp(prefix=f".{directory}.", dir=dest))
    try:
        _unpack(tarball, staging)
        staging.chmod(0o755)  # mkdtemp creates it private
        staging.rename(final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return final


# --- fetching -------------------------------------------------------------------------------


def upstream_version(debian_version: str) -> str:
    """The upstream part of a Debian version, as ``version_from_tarball`` reads it.

    >>> upstream_version("1:1.2.13.dfsg-1+deb12u1")
    '1.2.13'
    """
    version = debian_version.split(":", 1)[-1]
    if "-" in version:
        version = version.rsplit("-", 1)[0]
    return version_from_tarball(f"x_{version}.orig.tar.gz")


_MANIFEST_LOCK = threading.Lock()


def _fetch_one(
    apt: _Apt, package: str, suite: str, dest: Path, work: Path, version: str | None = None
) -> Release:
    """Download and unpack one release; raise UpstreamError on failure."""
    name = upstream_name(package)
    if version is not None and (dest / f"{name}-{upstream_version(version)}").is_dir():
        release = Release(
            name, upstream_version(version), suite, dest / f"{name}-{upstream_version(version)}"
        )
    else:
        apt.download(package, suite, work, version)
        tarball = _orig_tarball(work)
        found = version_from_tarball(tarball.name)
        release = Release(name, found, suite, _install(tarball, dest, f"{name}-{found}"))
    with _MANIFEST_LOCK:
        _record(dest, release)
    return release


def _report(message: str) -> None:
    """Report a skipped spec on stderr."""
    print(f"upstream: {message}", file=sys.stderr)


_Job = tuple[str, str, str | None]
"""package, suite, Debian version (``None``: the suite's newest)."""


def _fetch_jobs(jobs: Sequence[_Job], dest: Path) -> dict[_Job, Release]:
    """Fetch ``jobs`` in parallel under the DEST lock; failures are reported and left out."""
    got: dict[_Job, Release] = {}
    if not jobs:
        return got
    apt = _Apt(cache_dir() / "apt")
    try:
        apt.ensure_ready()
    except UpstreamError as exc:
        for package, suite, _ in jobs:
            _report(f"{package}/{suite}: {exc}")
        return got
    with tempfile.TemporaryDirectory(prefix="assay-upstream-") as tmp:

        def one(index: int, job: _Job) -> tuple[_Job, Release | None]:
            package, suite, version = job
            work = Path(tmp) / f"dl-{index}"
            return job, _fetch_with_retry(apt, package, suite, dest, work, version)

        with ThreadPoolExecutor(max_workers=FETCH_JOBS) as pool:
            for job, release in pool.map(lambda pair: one(*pair), enumerate(jobs)):
                if release is not None:
                    got[job] = release
    return got


def _fetch_missing(specs: Sequence[tuple[str, str]], dest: Path) -> dict[tuple[str, str], Release]:
    """Fetch specs absent from the manifest, under the DEST lock; failures are reported."""
    got: dict[tuple[str, str], Release] = {}
    with _locked(dest):
        known = _read_manifest(dest)
        todo: list[_Job] = []
        for package, suite in specs:
            release = _lookup(known, package, suite)
            if release is not None:
                got[(package, suite)] = release
            else:
                todo.append((package, suite, None))
        for (package, suite, _), release in _fetch_jobs(todo, dest).items():
            got[(package, suite)] = release
    return got


_APT_LOCK = threading.Lock()


def _fetch_with_retry(
    apt: _Apt, package: str, suite: str, dest: Path, work: Path, version: str | None = None
) -> Release | None:
    """Fetch one release; on failure with reused indexes, update them once and retry."""
    try:
        return _fetch_one(apt, package, suite, dest, work, version)
    except (UpstreamError, OSError, tarfile.TarError) as exc:
        failure: Exception = exc
    with _APT_LOCK:
        retry = not apt.updated
        if retry:
            try:
                apt.update()
            except UpstreamError as exc:
                failure = exc
                retry = False
    if retry:
        try:
            return _fetch_one(apt, package, suite, dest, work, version)
        except (UpstreamError, OSError, tarfile.TarError) as exc:
            failure = exc
    _report(f"{package}/{suite}: {failure}")
    return None


def fetch(specs: Iterable[str], dest: Path | None = None) -> list[Release]:
    """Download and unpack each ``NAME/SUITE`` release into ``dest`` (default: the cache).

    Releases already recorded in ``DEST/MANIFEST.tsv`` are reused without network access.
    A spec that fails is reported on stderr and left out; the others continue. The result
    follows the order of ``specs``. Missing releases are downloaded ``FETCH_JOBS`` at a time.
    """
    dest = (dest or cache_dir()).expanduser().resolve()
    dest.mkdir(parents=True, exist_ok=True)
    parsed: list[tuple[str, str]] = []
    for spec in specs:
        try:
            parsed.append(parse_spec(spec))
        except UpstreamError as exc:
            _report(str(exc))
    known = _read_manifest(dest)
    missing = [key for key in parsed if _lookup(known, *key) is None]
    fetched = _fetch_missing(missing, dest) if missing else {}
    releases = []
    for key in parsed:
        release = _lookup(known, *key) or fetched.get(key)
        if release is not None:
            releases.append(release)
    return releases


def fetch_offered(packages: Iterable[str], dest: Path | None = None) -> list[Release]:
    """Every upstream release of each Debian source package that any known suite offers
    (``SUITES`` and ``SECURITY_SUITES``), one per upstream version, downloaded in parallel.

    Releases whose ``<name>-<version>`` tree is already unpacked are not downloaded again.
    Needs the source indexes (network) even when every tree is cached. Sorted by name and
    version; failures are reported on stderr and left out.
    """
    dest = (dest or cache_dir()).expanduser().resolve()
    dest.mkdir(parents=True, exist_ok=True)
    apt = _Apt(cache_dir() / "apt")
    with _locked(dest):
        apt.ensure_ready()
        jobs: list[_Job] = []
        for package in packages:
            seen: set[str] = set()
            order = {suite: i for i, suite in enumerate((*SUITES, *SECURITY_SUITES))}
            for version, suite in sorted(apt.offered(package), key=lambda vs: order.get(vs[1], 99)):
                if upstream_version(version) not in seen:
                    seen.add(upstream_version(version))
                    jobs.append((package, suite, version))
            if not seen:
                _report(f"{package}: not offered by any known suite")
        got = _fetch_jobs(jobs, dest)
    unique = {(r.name, r.version): r for r in got.values()}
    return sorted(unique.values(), key=lambda r: (r.name, _version_key(r.version)))


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: fetch the given specs (default set if none) and print one line each."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--dest", type=Path, default=None, help="where to unpack (default: cache)")
    parser.add_argument("specs", nargs="*", metavar="SPEC", help="NAME/SUITE, e.g. curl/bookworm")
    args = parser.parse_args(argv)
    specs: list[str] = args.specs or list(DEFAULT_SPECS)
    releases = fetch(specs, args.dest)
    for release in releases:
        print(f"{release.name} {release.version} ({release.suite}) -> {release.path}")
    return 0 if len(releases) == len(specs) else 1


if __name__ == "__main__":
    sys.exit(main())
