"""The bare-version-next-to-its-format reader, the less-precise-duplicate rule, and the rows
that no Debian binary can check (quoted from their upstream sources)."""

from __future__ import annotations

import re

import pytest

from assay.analyze.binaries.nearby import nearest
from assay.analyze.binaries.signatures import detect, row_hits, signatures

BARE = re.compile(rb"\x00(?P<version>\d+\.\d+)\x00")


def test_the_match_closest_to_the_anchor_wins() -> None:
    data = b"\x001.6\x00junk\x002.10\x00wpa_supplicant v%s\x00 far \x003.2\x00"
    match = nearest(BARE, b"wpa_supplicant v%s", data, 64)
    assert match is not None and match.group("version") == b"2.10"


def test_a_match_after_the_anchor_counts_when_none_is_before() -> None:
    data = b"\x00ipset\x00\x00\x007.17\x00\x00"
    pattern = re.compile(rb"(?<=\x00)(?P<version>\d+\.\d+)(?=\x00)")
    match = nearest(pattern, b"\x00ipset\x00", data, 16)
    assert match is not None and match.group("version") == b"7.17"


@pytest.mark.parametrize(
    ("data", "window"),
    [
        (b"\x002.10\x00" + b"x" * 200 + b"\x00anchor\x00", 64),  # outside the window
        (b"\x002.10\x00nothing to see\x00", 64),  # no anchor at all
    ],
)
def test_nothing_is_read_without_a_nearby_anchor(data: bytes, window: int) -> None:
    assert nearest(BARE, b"anchor", data, window) is None


def test_dropbear_version_without_its_ident() -> None:
    """OpenWrt's build: the ident is "SSH-2.0-dropbear", the version only the argument."""
    data = b"\x00SSH-2.0-dropbear\x00\x002022.83\x00Dropbear v%s\x00"
    assert [(h.library, h.version) for h in detect(data, "dropbear")] == [("dropbear", "2022.83")]


def test_a_version_extended_past_a_boundary_is_the_same_release() -> None:
    hits = detect(b"\x00OpenSSH_9.2\x00OpenSSH_9.2p1 Debian-2\x00", "ssh-keyscan")
    assert [(h.library, h.version) for h in hits] == [("openssh", "9.2p1")]


def test_a_version_extended_by_a_digit_is_another_release() -> None:
    data = b"\x00Libreswan 2.1\x00\x00Libreswan 2.10\x00"
    assert {h.version for h in detect(data, "pluto")} == {"2.1", "2.10"}


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [
        (b"\0thttpd/2.29 23May2018\0", "thttpd", ("thttpd", "2.29")),
        (b"\0Boa/0.94.14rc21\0", "boa", ("boa", "0.94.14rc21")),
        (b"\0GoAhead-Webs\0", "webs", ("goahead", None)),
        (b"Hello, this is Quagga (version 1.2.4).", "zebra", ("quagga", "1.2.4")),
        (b"\x002.6.51\0\0Openswan 2.6.51\0", "pluto", ("openswan", "2.6.51")),
        (b"\0Openswan 2.6.38\0\x002.6.38\0", "pluto", ("openswan", "2.6.38")),
        (b"uhttpd: invalid encoding\n", "uhttpd", ("uhttpd", None)),
        (b"", "libubox.so.20240329", ("libubox", "20240329")),
        (b"\0/var/run/ubus/ubus.sock\0", "ubusd", ("ubus", None)),
        (b"\0/etc/config\0/tmp/.uci\0", "libuci.so", ("uci", None)),
        (b"\0/lib/netifd\0/tmp/resolv.conf.auto\0", "netifd", ("netifd", None)),
        (b"\0maindhcp\0leasetrigger\0", "odhcpd", ("odhcpd", None)),
        (b"\0/usr/sbin/odhcp6c-update\0", "odhcp6c", ("odhcp6c", None)),
        (b"\0IDLE\0Tmr Svc\0", "fw.elf", ("freertos", None)),
        (b"\0FreeRTOS Kernel V10.4.6\0", "fw.elf", ("freertos", "10.4.6")),
        (b"*** Booting Zephyr OS build v3.5.0 ***\n", "zephyr.elf", ("zephyr", "3.5.0")),
        (b"***** Booting Zephyr OS v1.14.0 *****", "zephyr.elf", ("zephyr", "1.14.0")),
        (b"Copyright (c) Microsoft Corporation. All rights reserved.  *  ThreadX Cortex-M3/AC5 "
         b"Version 6.1.12 *", "fw.elf", ("threadx", "6.1.12")),
        (b"Copyright (c) 1996-2001 Express Logic Inc. * ThreadX Win32/Microsoft Version G4.0.4.0 *",
         "fw.elf", ("threadx", "4.0.4")),
        (b"Copyright (c) Microsoft Corporation. All rights reserved.  *  NetX Duo Cortex-M4/GNU "
         b"Version 6.1.9 *", "fw.elf", ("netx", "6.1.9")),
        (b"Copyright MGC 2004 - Nucleus PLUS - Integrator RVCT v. 1.15", "fw", ("nucleus", "1.15")),
    ],
)  # fmt: skip
def test_rows_not_checked_on_a_binary_find_their_quoted_bytes(
    data: bytes, name: str, expected: tuple[str, str | None]
) -> None:
    assert [(h.library, h.version) for h in detect(data, name)] == [expected]


def test_libreswan_vendor_ids_are_not_openswan() -> None:
    data = b"\0FreeS/WAN 2.00 (X.509-1.3.1 + LDAP)\0Openswan 2.2.0\0\0Openswan(xeleranized)\0"
    assert detect(data, "pluto") == ()


def test_row_hits_runs_one_row_alone() -> None:
    """detect() keeps the first row's hit per version; row_hits shows each row's own."""
    data = b"\x00SSH-2.0-dropbear_2022.83\x00\x002022.83\x00Dropbear v%s\x00"
    rows = [row for row in signatures() if row.library == "dropbear"]
    found = {row.id: [h.version for h in row_hits(row, data, "dropbear")] for row in rows}
    assert found == {"ident": ["2022.83"], "version-argument": ["2022.83"]}
    assert len(detect(data, "dropbear")) == 1
