"""Version signatures on real upstream releases (Debian source packages).

Every release of ``tools/upstream.py``'s default set is walked; the release's own library must
be found at the tree's root with exactly the version of the download's manifest, and no other
library may claim that root. The manifest version is the ``.orig`` tarball's, with Debian's
``+dfsg``/``+ds`` repacking suffixes and ``really`` prefixes already removed by the tool, so it
compares with the header as it is. Two layouts differ from a vendored copy's: expat's tarball is
its git repository, with the library under ``expat/``.

Rows that only confirm a copy found by its files (``confirms = true``, a bare ``VERSION``
file) count for their own library only: the same file matches every such row.

No release here covers boringssl, libressl, polarssl, zlib-ng, libjpeg (IJG), uclibc,
uclibc-ng, linux or freertos (Debian ships no such source package, or it is too large); their
rows are tested on snippets only. openssh and u-boot are tested when given in EXTRA_SPECS.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
import upstream as upstream_tool  # type: ignore[import-not-found]  # tools/, via conftest

from assay.correlate.components.signatures import VersionEvidence, detect, wanted

pytestmark = pytest.mark.realworld

EXTRA_SPECS = ("openssh/bookworm", "u-boot/bookworm")
"""Releases beyond the default set, also checked (small enough to download)."""
SOURCE_SPECS = (
    "gnutls28/bookworm", "libgcrypt20/bookworm", "nettle/bookworm", "lz4/bookworm",
    "lzo2/bullseye", "dnsmasq/bookworm", "wpa/bookworm", "lighttpd/bookworm", "nginx/bookworm",
    "civetweb/bookworm", "libmicrohttpd/bookworm", "miniupnpd/bookworm", "ppp/trixie",
    "chrony/bookworm", "mosquitto/trixie", "vsftpd/trixie", "proftpd-dfsg/bookworm",
    "unbound/bookworm", "dhcpcd/bookworm", "isc-dhcp/bookworm", "openvpn/bookworm",
    "rsync/bookworm", "socat/bookworm", "net-snmp/bookworm", "tcpdump/bookworm",
    "libpcap/bookworm", "xl2tpd/bookworm", "igmpproxy/bullseye", "keepalived/trixie",
    "iptables/bookworm", "iproute2/bookworm", "cjson/bookworm", "json-c/bookworm",
    "e2fsprogs/bookworm", "pcre2/bookworm", "strongswan/bookworm", "sudo/bookworm",
    "util-linux/bookworm", "bluez/bookworm", "c-ares/bookworm", "dbus/bookworm",
    "ethtool/bookworm", "gmp/bookworm", "ipset/bookworm", "iw/bookworm", "jansson/bookworm",
    "libarchive/bookworm", "libcap2/bookworm", "libffi/bookworm", "libidn2/bookworm",
    "libnl3/bookworm", "libsodium/bookworm", "libssh/bookworm", "libssh2/bookworm",
    "tiff/bookworm", "libusb-1.0/bookworm", "libuv1/bookworm", "libwebsockets/bookworm",
    "libyaml/bookworm", "lua5.4/bookworm", "musl/bookworm", "ncurses/bookworm",
    "nghttp2/bookworm", "protobuf-c/bookworm", "readline/bookworm",
)  # fmt: skip
"""One release of each product whose source signatures were added for issue 17 (firmware
daemons and libraries), fetched at once by ``_prefetched``."""
LIBRARY_ROOT = {"expat": "expat"}
"""Where the library sits inside a release whose tarball is not the library's own tree."""


def _evidence(root: Path) -> list[VersionEvidence]:
    found: list[VersionEvidence] = []
    for directory, _, names in os.walk(root):
        for name in names:
            file = Path(directory, name)
            path = file.relative_to(root).as_posix()
            if wanted(path) and file.is_file() and not file.is_symlink():
                found.extend(detect(path, file.read_bytes()))
    return found


@pytest.fixture(scope="module", autouse=True)
def _prefetched() -> None:
    """Fetch every release of this module at once: in parallel on a cold cache."""
    upstream_tool.fetch(upstream_tool.DEFAULT_SPECS + EXTRA_SPECS + SOURCE_SPECS)


@pytest.mark.parametrize("spec", upstream_tool.DEFAULT_SPECS + EXTRA_SPECS + SOURCE_SPECS)
def test_release_names_itself(spec: str, upstream: Callable[[str], upstream_tool.Release]) -> None:
    release = upstream(spec)
    root = LIBRARY_ROOT.get(release.name, "")
    # a confirming row (a bare VERSION file) names no copy: only its own library's counts
    at_root = [
        e
        for e in _evidence(release.path)
        if e.root == root and (not e.confirms or e.library == release.name)
    ]
    assert at_root, f"no version evidence at {root!r} of {release.name} {release.version}"
    assert {(e.library, e.version) for e in at_root} == {(release.name, release.version)}, at_root
