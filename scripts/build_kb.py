#!/usr/bin/env python3
"""Build the knowledge base shipped in the package from real upstream releases.

Usage::

    python scripts/build_kb.py [--out PATH] [--specs] [PACKAGE ...]

Every upstream release that the Debian archive offers (unstable, testing, stable, oldstable,
oldoldstable and the security suites: ``upstream.SUITES`` and ``SECURITY_SUITES``) of each
Debian source package (default: ``KB_PACKAGES``, the products with source signatures that
vendors carry as C source) is fetched with ``tools/upstream.py`` (in parallel; trees already
unpacked are reused) and recorded with ``assay.correlate.components.kb`` under its upstream
name and version, without winnowed fingerprints (the evaluation does not read them). With
``--specs`` the arguments are ``NAME/SUITE`` specs instead, one release each. The KB is
built in a temporary file, vacuumed, then moved over ``--out`` (default
``src/assay/data/kb.sqlite``), so a failed build leaves the previous KB in place. It prints
the files recorded per release, the release count and the final size, raw and
gzip-compressed, and exits with status 1 when a spec could not be fetched (none at all
without ``--specs``: the archive's mirror may lack some versions its indexes list) or the
compressed KB exceeds ``MAX_COMPRESSED_BYTES``.
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

_REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(_REPO / "tools"))

import upstream  # noqa: E402  (tools/ is a plain script folder, not a package)

from assay.correlate.components import kb, signatures  # noqa: E402

DEFAULT_OUT = _REPO / "src" / "assay" / "data" / "kb.sqlite"
"""Where the shipped KB lives (package data)."""

MAX_COMPRESSED_BYTES = 20 * 1024**2
"""The shipped KB must stay under this size once gzip-compressed."""


KB_PACKAGES: tuple[str, ...] = (
    # TLS and crypto
    "openssl", "gnutls28", "libgcrypt20", "nettle", "libtomcrypt", "mbedtls", "wolfssl",
    # compression
    "zlib", "bzip2", "xz-utils", "libzstd", "lz4", "lzo2",
    # network daemons
    "dnsmasq", "wpa", "lighttpd", "nginx", "mini-httpd", "civetweb", "libmicrohttpd",
    "miniupnpd", "ppp", "ntp", "chrony", "avahi", "mosquitto", "vsftpd", "proftpd-dfsg",
    "dropbear", "openssh", "unbound", "dhcpcd", "dhcpcd5", "isc-dhcp", "radvd", "openvpn",
    "strongswan", "socat", "rsync", "net-snmp", "tcpdump", "libpcap", "xl2tpd", "igmpproxy",
    "lldpd", "keepalived",
    # system
    "busybox", "toybox", "iptables", "nftables", "iproute2", "e2fsprogs", "util-linux", "sudo",
    "musl", "uclibc",
    # libraries
    "curl", "expat", "libxml2", "sqlite3", "json-c", "cjson", "libevent", "pcre3", "pcre2",
    "lua5.1", "lua5.2", "lua5.3", "lua5.4", "ncurses", "readline", "dbus", "libssh", "libssh2",
    "nghttp2", "c-ares", "libpng1.6", "libjpeg-turbo", "libjpeg9", "tiff", "lwip", "libnl3",
    "libusb-1.0",
    "libffi", "libcap2", "libnetfilter-conntrack", "libmnl", "ipset", "libsodium", "libidn2",
    "gmp", "jansson", "libyaml", "protobuf-c", "libwebsockets", "libuv1", "iw", "ethtool",
    "ebtables", "conntrack-tools", "libarchive", "bluez",
)  # fmt: skip
"""Debian source packages recorded by default: each product with source signatures that
vendors carry as C source. Left out: the kernel, glibc, U-Boot, Samba, NSS, BIND, Kerberos
and the like, tens of thousands of files each that vendors ship as their own trees (their
version headers name them; a KB of their files would be most of the KB's size)."""


def stated_version(release: upstream.Release) -> str | None:
    """The version the release's own files state at its root (its signatures), when exactly
    one is stated: Debian's tarball name can differ (``wolfssl_4.6.0+p1``, ``wpa_2.9.0`` for
    hostap 2.9, ``openssh_10.0p1`` holding 10.0p2) and a copy is matched by what it states.
    A stated version that the tarball's only extends with a ``+`` and a date (ncurses
    ``6.5+20250216``, a dated patch level of 6.5) leaves the tarball's."""
    found = set()
    for directory, _, names in os.walk(release.path):
        for name in names:
            file = Path(directory, name)
            path = file.relative_to(release.path).as_posix()
            if signatures.wanted(path) and file.is_file() and not file.is_symlink():
                stated = signatures.detect(path, file.read_bytes())
                found |= {e.version for e in stated if e.library == release.name
                          and e.root in ("", "expat") and e.version}  # fmt: skip
    if len(found) != 1:
        return None
    version = found.pop()
    dated = re.fullmatch(re.escape(version) + r"\+\d{8}", release.version)
    return None if dated else version


def build(releases: Sequence[upstream.Release], out: Path) -> None:
    """Record ``releases`` in a fresh KB at ``out``."""
    seen: dict[str, kb.fingerprint.FileDigest] = {}
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=".kb-", suffix=".sqlite", dir=out.parent)
    os.close(fd)
    temporary = Path(name)
    temporary.unlink()
    try:
        for release in releases:
            start = time.perf_counter()
            source = f"debian {release.suite}: {release.path.name}"
            version = stated_version(release) or release.version
            info = kb.add_release(
                temporary, release.path, release.name, version, source, False, seen
            )
            elapsed = time.perf_counter() - start
            print(f"{info.name:14} {info.version:10} {info.files:6} files  {elapsed:5.1f} s")
        with sqlite3.connect(temporary) as db:
            db.execute("VACUUM")
        db.close()
        os.replace(temporary, out)
    finally:
        temporary.unlink(missing_ok=True)


def compressed_size(path: Path) -> int:
    """Bytes of ``path`` after gzip at the default level."""
    return len(gzip.compress(path.read_bytes()))


def main(argv: Sequence[str] | None = None) -> int:
    """Build the KB and report its size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="KB file to write")
    parser.add_argument("--specs", action="store_true", help="arguments are NAME/SUITE specs")
    parser.add_argument("names", nargs="*", help="Debian source packages (default: KB_PACKAGES)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    if args.specs:
        specs = args.names or list(upstream.DEFAULT_SPECS)
        releases = upstream.fetch(specs)
        complete = len(releases) == len(specs)
    else:
        releases = upstream.fetch_offered(args.names or KB_PACKAGES)
        complete = bool(releases)
    fetched = time.perf_counter()
    build(releases, args.out)
    raw, packed = args.out.stat().st_size, compressed_size(args.out)
    with sqlite3.connect(args.out) as db:
        count, files = db.execute("SELECT count(*), sum(files) FROM releases").fetchone()
        names = db.execute("SELECT count(DISTINCT name) FROM releases").fetchone()[0]
    db.close()
    recorded = time.perf_counter() - fetched
    print(f"{args.out}: {count} releases of {names} products, {files} files;"
          f" {raw / 1e6:.1f} MB raw, {packed / 1e6:.1f} MB gzip;"
          f" fetched in {fetched - start:.0f} s, recorded in {recorded:.0f} s")  # fmt: skip
    return 0 if complete and packed <= MAX_COMPRESSED_BYTES else 1


if __name__ == "__main__":
    sys.exit(main())
