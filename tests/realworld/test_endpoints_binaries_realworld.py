"""endpoints on real Debian binaries: the strings' neighbours and the bytes around them are
their context.

libcrypto holds OpenSSL's ASN.1 field names (``value.ir``, ``value.ip``, ``value.cr``...) and
libcurl the zlib version it compares ``zlibVersion()`` with (``1.2.0.4``, beside zlib's own
version string). Read alone, each string is a public host in Iran or a public address; the
binary reading must drop exactly these and keep every other endpoint: the result is compared
with each printable string read on its own (``strings -n 6``, then the matcher per string) and
with a plain search for URLs over the bytes.

The kernel's modules, libgcrypt, libtomcrypt and NSS's root store (libnssckbi) hold strings
that read alone as endpoints too: clause numbers of a specification (``14.12.3.3``), firmware
file names (``ct2fw-3.2.5.1.bin``), a C member access (``platform_dev.dev=%p``), chance bytes of
tables (``4.hr``, ``p.il``), and DER strings behind their length byte (``0www.entrust.net``,
``8http://crl.d-trust.net/...``). Expected values are read from the downloaded files: the
strings by byte searches, the certificates' URLs with ``cryptography``'s X.509 parser.
"""

from __future__ import annotations

import functools
import re
import sys
import warnings
from collections import Counter
from pathlib import Path

import pytest

from assay.analyze.endpoints.match import find
from assay.analyze.endpoints.text import MIN_RUN, NEIGHBOURHOOD, SHORT, in_binary

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


@functools.cache
def _kernel_root() -> Path:
    """The unpacked kernel package the armhf ``linux-image-armmp`` metapackage names today."""
    try:
        depends = debian_binaries.dependency("linux-image-armmp", SUITE, "armhf")
        return debian_binaries.fetch(depends, SUITE, "armhf").path
    except debian_binaries.BinaryError as exc:
        pytest.fail(f"could not download the armhf kernel: {exc}")


def _module(name: str) -> bytes:
    [path] = _kernel_root().glob(f"lib/modules/*/kernel/**/{name}")
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


def _only_dropped(data: bytes, kind: str, value: str) -> Counter[tuple[str, str]]:
    """What the binary reading reports in ``data``, checked to drop exactly ``value`` (a
    public endpoint of ``kind`` when read alone) of what each string read alone gives, and
    to add nothing."""
    alone, reported = _alone(data), _reported(data)
    dropped = alone - reported
    assert set(dropped) == {(kind, value)}, dropped
    assert [(m.kind, m.klass) for m in find(value)] == [(kind, "public")]
    assert reported - alone == Counter()
    return reported


@pytest.mark.parametrize("arch", ARCHES)
def test_libcrypto_asn1_field_names_are_not_hosts(arch: str) -> None:
    data = _library("libssl3", arch, "libcrypto.so.3")
    reported = _only_dropped(data, "host", "value.ir")
    # the field name is a whole string, and its neighbours are its siblings: value.ip,
    # value.cr ... (no TLD among them)
    siblings = [s for s in _neighbours(data, b"value.ir") if s.startswith("value.")]
    assert {"value.ip", "value.cr"} <= set(siblings)
    assert {v for k, v in reported if k == "url"} == {
        u.decode() for u in _URL.findall(data)
    }  # fmt: skip


@pytest.mark.parametrize("arch", ARCHES)
def test_libcurl_zlib_version_is_not_an_address(arch: str) -> None:
    data = _library("libcurl4", arch, "libcurl.so.4.*")
    reported = _only_dropped(data, "ipv4", "1.2.0.4")
    # zlib's version (ZLIB_VERSION, compiled into the same unit) is a neighbour: 1.2.x
    versions = [s for s in _neighbours(data, b"1.2.0.4") if re.fullmatch(r"1\.2\.\d+", s)]
    assert versions, _neighbours(data, b"1.2.0.4")
    # curl's own URLs (its documentation pages, written into the files it saves) stay
    urls = {u.decode() for u in _URL.findall(data)}
    assert any("curl.se" in u for u in urls)
    assert {v for k, v in reported if k == "url"} == urls
    public = {(m.kind, m.value) for _, m in in_binary(data) if m.klass == "public"}
    assert public == {("url", u) for u in urls if "curl.se/" in u}


def _quads(data: bytes) -> set[str]:
    """The whole strings of a binary that are four dotted numbers."""
    return {q.decode() for q in re.findall(rb"(?<=\0)\d+\.\d+\.\d+\.\d+(?=\0)", data)}


def test_kernel_nfc_clause_numbers_are_not_addresses() -> None:
    """nfc_digital names the clause of the NFC Digital Protocol specification that a frame
    breaks (``PROTOCOL_ERR("14.12.3.3")``): each is a whole string beside the others."""
    data = _module("nfc_digital.ko")
    clauses = _quads(data)
    assert len(clauses) >= 10, clauses
    assert all([(m.kind, m.klass) for m in find(q)] == [("ipv4", "public")] for q in clauses)
    alone, reported = _alone(data), _reported(data)
    assert set(alone - reported) == {("ipv4", q) for q in clauses}
    assert reported - alone == Counter()


def test_kernel_firmware_names_and_member_accesses_are_not_endpoints() -> None:
    """bna and bfa load ``ct2fw-3.2.5.1.bin``; ftdi-elan prints ``platform_dev.dev=%p``."""
    for name in ("bna.ko", "bfa.ko"):
        data = _module(name)
        firmware = set(re.findall(rb"\w+-(\d+\.\d+\.\d+\.\d+)\.bin\0", data))
        assert firmware, name
        for quad in firmware:
            assert [m.klass for m in find(quad.decode())] == ["public"]
        assert not {v for _, v in _reported(data)} & {q.decode() for q in firmware}, name
    data = _module("ftdi-elan.ko")
    assert b" platform_dev.dev=%p" in data
    assert [(m.kind, m.klass) for m in find("dev.dev=%p")] == [("host", "public")]
    assert ("host", "dev.dev") not in _reported(data)


@pytest.mark.parametrize(
    ("package", "arch", "pattern"),
    [("libgcrypt20", "amd64", "libgcrypt.so.20.*"), ("libtomcrypt1", "armhf", "libtomcrypt.so.1.*"),
     (None, "armhf", "raid6_pq.ko")],
)  # fmt: skip
def test_names_in_table_bytes_are_not_hosts(package: str | None, arch: str, pattern: str) -> None:
    """Runs of a few printable bytes inside tables (raid6's Galois-field tables, the ciphers'
    constants) hold chance names (``4.hr``, ``p.il``): every endpoint the binary reading drops
    is in such a run, shorter than SHORT and between bytes that are neither NUL nor text."""
    data = _library(package, arch, pattern) if package else _module(pattern)
    enclosed: Counter[tuple[str, str]] = Counter()
    for run in _RUN.finditer(data):
        binary = {data[run.start() - 1], data[run.end()]}.isdisjoint(b"\0\t\n\v\f\r")
        if len(run.group()) < SHORT and binary:
            enclosed.update((m.kind, m.value) for m in find(run.group().decode("ascii")))
    assert enclosed, "the oracle found no name in table bytes, the test would prove nothing"
    alone, reported = _alone(data), _reported(data)
    assert alone - reported == enclosed
    assert reported - alone == Counter()


def _certificate_urls(data: bytes) -> set[str]:
    """The URIs of the CRL distribution points, authority information and policies, and the
    name attributes that are URLs, of every DER certificate in ``data`` (parsed with
    cryptography)."""
    from cryptography import x509

    urls: set[str] = set()
    for found in re.finditer(rb"\x30\x82(..)\x30\x82", data, re.DOTALL):
        end = found.start() + 4 + int.from_bytes(found.group(1), "big")
        with warnings.catch_warnings():  # NOTE: some old roots have a negative serial number
            warnings.simplefilter("ignore")
            try:
                certificate = x509.load_der_x509_certificate(data[found.start() : end])
                extensions = list(certificate.extensions)
            except ValueError:
                continue
        for extension in extensions:
            value = extension.value
            names = []
            if isinstance(value, x509.CRLDistributionPoints):
                names = [n for point in value for n in point.full_name or ()]
            elif isinstance(value, x509.AuthorityInformationAccess):
                names = [d.access_location for d in value]
            elif isinstance(value, x509.CertificatePolicies):
                qualifiers = (q for p in value for q in p.policy_qualifiers or ())
                urls.update(q for q in qualifiers if isinstance(q, str))
            urls.update(n.value for n in names if isinstance(n, x509.UniformResourceIdentifier))
        for name in (certificate.subject, certificate.issuer):
            urls.update(str(a.value) for a in name if "://" in str(a.value))
    return urls


def test_root_store_der_strings_start_after_their_length() -> None:
    """NSS's root certificates are DER: each string follows its length byte, which is a digit
    or letter for lengths of 48 to 122 (``0www.entrust.net/CPS is incorporated...``,
    ``8http://crl.d-trust.net/crl/...``), and the next field's tag follows it (``0``, a
    SEQUENCE, is printable). The names and URLs start after the length, and a URL ends where
    the length says."""
    data = _library("libnss3", "amd64", "libnssckbi.so")
    urls = _certificate_urls(data)
    glued = {u for u in urls if re.search(re.escape(bytes([len(u)]) + u.encode()), data)
             and chr(len(u)).isalnum()}  # fmt: skip
    assert glued, "no URL behind a printable length byte, the test would prove nothing"
    reported = _reported(data)
    # NOTE: every URL of the store is a certificate's, whole and nothing after it
    assert {v for k, v in reported if k == "url"} == urls
    for at in (m.start() for m in re.finditer(rb"[0-9]www\.entrust\.net", data)):
        assert (at + 1, "www.entrust.net") in {(o, m.value) for o, m in in_binary(data)}
    assert not [v for k, v in reported if k == "host" and re.match(r"[0-9]www\.", v)]
