"""endpoints on real Debian libcrypto and libcurl: the strings' neighbours are their context.

libcrypto holds OpenSSL's ASN.1 field names (``value.ir``, ``value.ip``, ``value.cr``...) and
libcurl the zlib version it compares ``zlibVersion()`` with (``1.2.0.4``, beside zlib's own
version string). Read alone, each string is a public host in Iran or a public address; the
binary reading must drop exactly these and keep every other endpoint: the result is compared
with each printable string read on its own (``strings -n 6``, then the matcher per string) and
with a plain search for URLs over the bytes.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

import pytest

from assay.analyze.endpoints.match import find
from assay.analyze.endpoints.text import MIN_RUN, NEIGHBOURHOOD, in_binary

_TOOLS = Path(__file__).resolve().parents[2] / "tools"
if str(_TOOLS) not in sys.path:
    sys.path.insert(0, str(_TOOLS))
import debian_binaries  # noqa: E402  (tools/ is a plain script folder)

pytestmark = pytest.mark.realworld

SUITE = "bookworm"
ARCHES = ("armhf", "amd64")  # the router trial's, and the most common one
_RUN = re.compile(rb"[\x20-\x7e]{%d,}" % MIN_RUN)
_URL = re.compile(rb"(?:https?|ftp)://[\x21-\x7e]*")


def _library(package: str, arch: str, pattern: str) -> bytes:
    try:
        root = debian_binaries.fetch(package, SUITE, arch).path
    except debian_binaries.BinaryError as exc:
        pytest.fail(f"could not download {package}/{SUITE}/{arch}: {exc}")
    [path] = [p for p in root.glob(f"usr/lib/*/{pattern}") if not p.is_symlink()]
    return path.read_bytes()


def _alone(data: bytes) -> Counter[tuple[str, str]]:
    """(kind, value) of every endpoint of each printable string read on its own."""
    found: Counter[tuple[str, str]] = Counter()
    for run in _RUN.finditer(data):
        found.update((m.kind, m.value) for m in find(run.group().decode("ascii")))
    return found


def _reported(data: bytes) -> Counter[tuple[str, str]]:
    return Counter((m.kind, m.value) for _, m in in_binary(data))


def _neighbours(data: bytes, string: bytes) -> list[str]:
    """The whole strings within NEIGHBOURHOOD bytes of ``string`` (a whole string itself)."""
    at = data.index(b"\0" + string + b"\0") + 1
    window = data[max(0, at - NEIGHBOURHOOD) : at + len(string) + NEIGHBOURHOOD]
    return [s.decode("ascii") for s in re.findall(rb"[\x20-\x7e]+", window)]


@pytest.mark.parametrize("arch", ARCHES)
def test_libcrypto_asn1_field_names_are_not_hosts(arch: str) -> None:
    data = _library("libssl3", arch, "libcrypto.so.3")
    alone, reported = _alone(data), _reported(data)
    dropped = alone - reported
    assert set(dropped) == {("host", "value.ir")}, dropped
    # the field name is a whole string, a public host when read alone, and its neighbours
    # are its siblings: value.ip, value.cr ... (no TLD among them)
    assert [(m.kind, m.klass) for m in find("value.ir")] == [("host", "public")]
    siblings = [s for s in _neighbours(data, b"value.ir") if s.startswith("value.")]
    assert {"value.ip", "value.cr"} <= set(siblings)
    assert reported - alone == Counter()
    assert {v for k, v in reported if k == "url"} == {
        u.decode() for u in _URL.findall(data)
    }  # fmt: skip


@pytest.mark.parametrize("arch", ARCHES)
def test_libcurl_zlib_version_is_not_an_address(arch: str) -> None:
    data = _library("libcurl4", arch, "libcurl.so.4.*")
    alone, reported = _alone(data), _reported(data)
    dropped = alone - reported
    assert set(dropped) == {("ipv4", "1.2.0.4")}, dropped
    assert [(m.kind, m.klass) for m in find("1.2.0.4")] == [("ipv4", "public")]
    # zlib's version (ZLIB_VERSION, compiled into the same unit) is a neighbour: 1.2.x
    versions = [s for s in _neighbours(data, b"1.2.0.4") if re.fullmatch(r"1\.2\.\d+", s)]
    assert versions, _neighbours(data, b"1.2.0.4")
    assert reported - alone == Counter()
    # curl's own URLs (its documentation pages, written into the files it saves) stay
    urls = {u.decode() for u in _URL.findall(data)}
    assert any("curl.se" in u for u in urls)
    assert {v for k, v in reported if k == "url"} == urls
    public = {(m.kind, m.value) for _, m in in_binary(data) if m.klass == "public"}
    assert public == {("url", u) for u in urls if "curl.se/" in u}
