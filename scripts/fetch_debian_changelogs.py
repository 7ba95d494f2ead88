#!/usr/bin/env python3
"""Fetch the ``debian/changelog`` of Debian source packages, for the vulnerability data.

Usage::

    python scripts/fetch_debian_changelogs.py [--dest DIR] [SOURCE-PACKAGE ...]

For every source package the product table (``data/vulns/products.toml``) names (or those
given), and for each of Debian's suites (bullseye, bookworm, trixie, sid and the security
suites), asks a private apt state (the one ``tools/upstream.py`` builds: the system's mirror
is only read) for the newest source version with ``apt-get source --print-uris``, downloads
only the small ``*.debian.tar.*`` (or ``*.diff.gz``) that apt printed, checks its size and
MD5 sum against what apt printed, and keeps ``debian/changelog`` only. The mirror this runs
against does not carry every source package's files (it answers 404 for some, such as ntp,
toybox and libnetfilter-conntrack, while their binary packages are there): when no version
of a suite can be read, the changelog is taken from a binary package built from that source
(``/usr/share/doc/<binary>/changelog.Debian.gz``, downloaded with ``tools/debian_binaries.py``;
debhelper may have trimmed old entries from it, which SOURCE then says). The entries of every
suite are merged into ``DEST/<package>.changelog`` (each entry once, newest version first)
and ``DEST/SOURCE`` records which version of which suite was read and when.

This is a maintainer's step, run by hand when the data is refreshed (never in CI, never at
evaluation time); ``scripts/build_vulndb.py`` then works offline from the files written here.
"""

from __future__ import annotations

import argparse
import datetime
import gzip
import hashlib
import io
import re
import sys
import tarfile
import tempfile
import tomllib
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))

from debian_binaries import BinaryError  # noqa: E402
from debian_binaries import fetch as fetch_binary  # noqa: E402
from debian_inspector.version import Version  # noqa: E402
from upstream import UpstreamError, private_apt_options, run_apt, system_mirror  # noqa: E402

from assay.assess.vulns.debian import entries, merge  # noqa: E402

SUITES = ("bullseye", "bookworm", "trixie", "sid")
SECURITY = ("bullseye-security", "bookworm-security", "trixie-security")
MAX_BYTES = 64 * 1024 * 1024
"""Largest packaging tarball read (the kernel's is the largest, a few MiB)."""
_URI = re.compile(
    r"^'(?P<uri>[^']+)' (?P<name>\S+) (?P<size>\d+) "
    r"(?:(?P<algo>SHA256|SHA512|MD5Sum):)?(?P<sum>[0-9a-f]+)"
)


def _security_mirror(mirror: str) -> str:
    return mirror.rstrip("/") + "-security"


def prepare(state: Path) -> list[str]:
    """Write the private sources list, run ``apt-get update``; return the apt options."""
    mirror, signed_by = system_mirror()
    option = f"[signed-by={signed_by}] " if signed_by else ""
    lines = [f"deb-src {option}{mirror} {suite} main" for suite in SUITES]
    security = mirror.replace("/debian", "/debian-security") if "/debian" in mirror else None
    for suite in SECURITY:
        lines.append(f"deb-src {option}{security or _security_mirror(mirror)} {suite} main")
    for sub in ("lists/partial", "archives/partial", "cache"):
        (state / sub).mkdir(parents=True, exist_ok=True)
    (state / "sources.list").write_text("\n".join(lines) + "\n", encoding="utf-8")
    options = private_apt_options(state)
    if not list((state / "lists").glob("*Sources*")):
        run_apt("apt-get", options, ["update"])
    return options


def newest_per_suite(options: list[str], package: str) -> dict[str, list[str]]:
    """The source versions of ``package`` in each suite, newest first (security suites folded
    into their release); the mirror may lack the newest one's files, so older ones follow."""
    try:
        out = run_apt("apt-cache", options, ["madison", package])
    except UpstreamError:
        return {}
    found: dict[str, list[str]] = {}
    for line in out.splitlines():
        fields = [f.strip() for f in line.split("|")]
        if len(fields) != 3 or fields[0] != package or "Sources" not in fields[2]:
            continue
        where = [t for t in fields[2].split() if "/" in t and not t.startswith("http")]
        if not where:
            continue
        suite = where[0].split("/")[0].removesuffix("-security")
        found.setdefault(suite, []).append(fields[1])
    return {
        suite: sorted(set(versions), key=Version.from_string, reverse=True)
        for suite, versions in found.items()
    }


def packaging_uri(options: list[str], package: str, version: str) -> tuple[str, int, str, str]:
    """URI, size, checksum algorithm and checksum of the packaging tarball apt prints for
    ``package=version``."""
    with tempfile.TemporaryDirectory() as work:
        out = run_apt(
            "apt-get", options, ["source", "--print-uris", f"{package}={version}"], Path(work)
        )
    for line in out.splitlines():
        match = _URI.match(line)
        if match and re.search(r"\.(debian\.tar\.\w+|diff\.gz)$", match["name"]):
            return match["uri"], int(match["size"]), match["algo"] or "MD5Sum", match["sum"]
    raise UpstreamError(f"{package}={version}: apt printed no debian.tar or diff.gz")


def download(uri: str, size: int, algo: str, checksum: str) -> bytes:
    """The file at ``uri``, checked against apt's size and checksum."""
    if size > MAX_BYTES:
        raise UpstreamError(f"{uri}: {size} bytes is over the cap")
    with urllib.request.urlopen(uri, timeout=120) as response:
        body: bytes = response.read(MAX_BYTES + 1)
    digest = hashlib.new({"SHA256": "sha256", "SHA512": "sha512"}.get(algo, "md5"), body)
    if len(body) != size or digest.hexdigest() != checksum:
        raise UpstreamError(f"{uri}: size or checksum differs from what apt printed")
    return body


def changelog(name: str, body: bytes) -> str:
    """``debian/changelog`` out of a packaging tarball or a ``.diff.gz``."""
    if name.endswith(".diff.gz"):
        return _from_diff(gzip.decompress(body).decode("utf-8", "replace"))
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        for member in tar:
            if member.isfile() and member.name.lstrip("./") == "debian/changelog":
                extracted = tar.extractfile(member)
                if extracted is not None:
                    return extracted.read().decode("utf-8", "replace")
    raise UpstreamError(f"{name}: no debian/changelog")


def _from_diff(diff: str) -> str:
    """The added lines of ``debian/changelog`` in a unified diff (format 1.0 packages)."""
    lines: list[str] = []
    inside = False
    for line in diff.splitlines():
        if line.startswith("+++ "):
            inside = line.rstrip().endswith("/debian/changelog")
            continue
        if inside and line.startswith("+"):
            lines.append(line[1:])
    return "\n".join(lines) + "\n"


def binaries_of(options: list[str], package: str, version: str) -> list[str]:
    """The binary packages the source ``package=version`` builds (its ``Binary:`` field)."""
    out = run_apt("apt-cache", options, ["showsrc", package])
    for paragraph in re.split(r"\n\s*\n", out):
        fields = dict(re.findall(r"^(\S+):[ \t]*(.*(?:\n[ \t].*)*)", paragraph, re.M))
        if fields.get("Package") == package and fields.get("Version") == version:
            return [b.strip() for b in fields.get("Binary", "").replace("\n", " ").split(",")
                    if b.strip()]  # fmt: skip
    return []


def binary_candidates(package: str, binaries: Sequence[str], tries: int = 3) -> list[str]:
    """The binaries to read a changelog from: the first one listed (usually the main or the
    ``-base`` package), the one named like the source, then the shortest names."""
    ordered = [*binaries[:1], *(b for b in binaries if b == package), *sorted(binaries, key=len)]
    return list(dict.fromkeys(ordered))[:tries]


BINARY_ARCH = "amd64"
"""Architecture of the binary packages read when a source package's files are missing."""


def binary_changelog(tree: Path, binary: str) -> str:
    """``usr/share/doc/<binary>/changelog.Debian.gz`` of an unpacked binary package."""
    path = tree / "usr" / "share" / "doc" / binary / "changelog.Debian.gz"
    if path.is_symlink() or path.parent.is_symlink() or not path.is_file():
        raise UpstreamError(f"{binary}: no changelog.Debian.gz of its own")
    text = gzip.decompress(path.read_bytes()).decode("utf-8", "replace")
    if next(entries(text), None) is None:
        raise UpstreamError(f"{binary}: changelog.Debian.gz has no entry")
    return text


def from_binary(options: list[str], package: str, version: str, suite: str) -> tuple[str, str]:
    """The changelog of source ``package=version`` out of one of its binary packages in
    ``suite``, and the SOURCE note saying which (and whether debhelper trimmed it)."""
    errors = []
    for binary in binary_candidates(package, binaries_of(options, package, version)):
        try:
            unpacked = fetch_binary(binary, suite, BINARY_ARCH)
            text = binary_changelog(unpacked.path, binary)
        except (BinaryError, UpstreamError, OSError, EOFError) as exc:
            errors.append(str(exc))
            continue
        trimmed = "; trimmed by debhelper" if "complete changelog" in text else ""
        note = (f"{package} {version} ({suite}): binary {binary} {unpacked.version} "
                f"{BINARY_ARCH}, changelog.Debian.gz{trimmed}")  # fmt: skip
        return text, note
    raise UpstreamError("no binary package gave a changelog: " + "; ".join(errors or ["none"]))


def fetch_one(options: list[str], package: str) -> tuple[str, str, list[str]]:
    """The merged changelog of ``package`` and one SOURCE line per suite read."""
    texts: list[str] = []
    notes: list[str] = []
    for suite, versions in sorted(newest_per_suite(options, package).items()):
        errors = []
        for version in versions:
            try:
                uri, size, algo, checksum = packaging_uri(options, package, version)
                texts.append(changelog(uri, download(uri, size, algo, checksum)))
                notes.append(f"{package} {version} ({suite}): {uri.rsplit('/', 1)[-1]}")
                break
            except (UpstreamError, OSError, tarfile.TarError, ValueError) as exc:
                errors.append(f"{version}: {exc}")
        else:
            try:
                text, note = from_binary(options, package, versions[0], suite)
                texts.append(text)
                notes.append(note)
            except UpstreamError as exc:
                errors.append(f"{versions[0]} binaries: {exc}")
                notes.append(f"{package} ({suite}): not read: {'; '.join(errors)}")
    merged = merge([e for text in texts for e in entries(text)])
    return package, "".join(e.text for e in merged), notes


def packages_of(table: Path) -> list[str]:
    """Every Debian source package the product table names."""
    doc = tomllib.loads(table.read_text(encoding="utf-8"))
    return sorted({p for row in doc["products"].values() for p in row.get("debian", [])})


def main(argv: Sequence[str] | None = None) -> int:
    """Fetch every package's changelog into ``--dest``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, default=REPO / "data" / "vulns" / "debian")
    parser.add_argument("--state", type=Path, default=Path(tempfile.gettempdir()) / "assay-apt",
                        help="private apt state (kept between runs)")  # fmt: skip
    parser.add_argument("packages", nargs="*")
    args = parser.parse_args(argv)
    wanted = args.packages or packages_of(REPO / "data" / "vulns" / "products.toml")
    args.dest.mkdir(parents=True, exist_ok=True)
    args.state.mkdir(parents=True, exist_ok=True)
    options = prepare(args.state)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda p: fetch_one(options, p), wanted))
    today = datetime.datetime.now(datetime.UTC).date().isoformat()
    lines = [f"Fetched on {today} by scripts/fetch_debian_changelogs.py from Debian's archive "
             "(the packaging tarball of each suite's newest source version; debian/changelog "
             "only). Each file is under its package's licence (debian/copyright)."]  # fmt: skip
    old = args.dest / "SOURCE"
    fetched = {package for package, _, _ in results}
    if old.is_file():
        lines += [
            line for line in old.read_text(encoding="utf-8").splitlines()[1:]
            if line.split(" ", 1)[0].rstrip(":") not in fetched
        ]  # fmt: skip
    for package, text, notes in results:
        if text:
            (args.dest / f"{package}.changelog.gz").write_bytes(
                gzip.compress(text.encode("utf-8"), mtime=0)
            )
        lines.extend(notes or [f"{package}: not in any suite"])
        print(f"{package}: {len(text):,} chars; " + "; ".join(notes), flush=True)
    (args.dest / "SOURCE").write_text("\n".join([lines[0], *sorted(lines[1:])]) + "\n",
                                      encoding="utf-8")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
