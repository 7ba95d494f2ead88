"""Find endpoints in a piece of text and class them: the pure core of ``endpoints``.

:func:`find` returns the URLs, IP literals and host names of one string (a C literal, a comment,
a line of a config file, a run of printable bytes of a binary). Addresses are validated with
:mod:`ipaddress`; host names must end in a top-level domain of the shipped list (see
``rules/endpoints.toml``), so that ``libfoo.so`` and ``Makefile.am`` are not hosts. An address
or name inside a URL is reported as the URL only; e-mail addresses are not endpoints; an
IPv4-looking literal right after ``v``, ``version`` or ``release`` is a version.

Longer than 300 lines: the boundary checks around each hit (URLs, addresses, host names, DER
length bytes, escapes) share the character classes and the top-level-domain table, and the
classing of what they find sits beside them.
"""

from __future__ import annotations

import bisect
import ipaddress
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from assay.rules import rule_table

# NOTE: every pattern starts with a literal or a character set, so that the regular-expression
# engine skips ahead at C speed; boundaries are checked around each hit instead of with
# look-behinds, which would be tried at every position of a whole file.
_URL_MARK = re.compile(r"://")
_URL_REST = re.compile(
    r"(?:\[[0-9A-Fa-f:.]+\](?::\d+)?|[^\s\"'<>\\`(){}\[\]/?#|]*)(?:[/?#][^\s\"'<>\\`{}|]*)?"
)
_SCHEME_BEFORE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]{0,9}$")
_IPV4_TAIL = re.compile(r"\.\d{1,3}\.\d{1,3}\.\d{1,3}")
_DIGITS = frozenset("0123456789")
_IPV6_TAIL = re.compile(r":(?:[0-9A-Fa-f]{0,4}:){1,6}[0-9A-Fa-f]{0,4}")
_HEX = frozenset("0123456789abcdefABCDEF")
_LABELS = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}")
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.")
_WORD = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_ALNUM = _WORD - {"_"}
_NOT_BEFORE_HOST = frozenset("@/%$&")
_ESCAPES = frozenset("ntr")
_WORD_START = frozenset(" \t\n\"'=(,")
_VERSION_BEFORE = re.compile(r"(?i)(?:\bv|version|release|ver)[\s:=._-]*$")
_USERINFO = re.compile(r"(://[^/@\s:\"']*:)[^/@\s\"']+@")
# NOTE: X.500 attribute types (2.5.4.3 is commonName) and SNMP/ISO arcs are four-part OIDs
# that look like dotted quads; so is anything written right after "OID".
# 1.3.101.110-113 are X25519, X448, Ed25519 and Ed448 (RFC 8410), in every libcrypto.
_OID_ARCS = ("2.5.", "1.3.6.", "1.2.840.", "1.3.101.")
_OID_BEFORE = re.compile(r"(?i)(?<![a-z])oid[^\n]*$")
_PLACEHOLDER = re.compile(r"[%${}<>]")
_DOC_NETS = tuple(
    ipaddress.ip_network(n)
    for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
)
_TRAILING = ".,;:!?)'\""


@dataclass(frozen=True, slots=True)
class Match:
    """One endpoint in a string."""

    start: int
    """Offset of its first character in the string."""
    kind: str
    """``url``, ``ipv4``, ``ipv6`` or ``host``."""
    value: str
    """As written (host names lower-cased)."""
    klass: str
    """``public``, ``private``, ``documentation``, ``loopback``, ``special`` or ``unknown``."""


@cache
def tables() -> Mapping[str, Any]:
    """The parsed ``endpoints.toml``."""
    return rule_table("endpoints.toml")


@cache
def _names() -> tuple[
    frozenset[str], tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]
]:
    names = tables()["names"]
    return (
        frozenset(names["tlds"]),
        tuple(names["documentation"]),
        tuple(names["loopback"]),
        tuple(names["private"]),
        tuple(names["special"]),
    )


def is_tld(label: str) -> bool:
    """True when ``label`` (any case) is a top-level domain of the shipped list."""
    return label.lower() in _names()[0]


def find(text: str) -> list[Match]:
    """Every endpoint written in ``text``, in order."""
    if "." not in text and ":" not in text and "localhost" not in text:
        return []
    found = _urls(text)
    taken = sorted((m.start, m.start + len(m.value)) for m in found)
    for candidate in (*_addresses(text), *_hosts(text), *_localhosts(text)):
        if not _inside(candidate.start, taken):
            found.append(candidate)
            bisect.insort(taken, (candidate.start, candidate.start + len(candidate.value)))
    found.sort(key=lambda m: m.start)
    return found


def _urls(text: str) -> list[Match]:
    found = []
    for mark in _URL_MARK.finditer(text):
        scheme = _SCHEME_BEFORE.search(text, max(0, mark.start() - 10), mark.start())
        if scheme is None:
            continue
        start = scheme.start()
        # NOTE: the scheme is the longest known suffix of the letters before "://": in
        # "Dhttp://", "D" may be a length byte (see below)
        while start < mark.start() and text[start : mark.start()].lower() not in _schemes():
            start += 1
        if start == mark.start() or (start > scheme.start() and text[start - 1] not in _WORD):
            continue  # NOTE: "svn+ssh://" is no URL of the list, as before
        rest = _URL_REST.match(text, mark.end())
        url = text[start : rest.end() if rest else mark.end()]
        if start and text[start - 1] in _WORD:
            length = _length_byte(text, start, len(url))
            if length is None:
                continue
            url = url[:length]
        url = url.rstrip(_TRAILING)
        found.append(Match(start, "url", redact(url), url_class(url)))
    return found


def redact(text: str) -> str:
    """``text`` with the password of every ``scheme://user:password@`` replaced by ``****``."""
    return _USERINFO.sub(r"\1****@", text) if "@" in text else text


def _addresses(text: str) -> list[Match]:
    found = []
    for match in _IPV4_TAIL.finditer(text):
        start, end = match.span()
        while start > match.start() - 3 and start and text[start - 1] in _DIGITS:
            start -= 1
        if start == match.start():
            continue
        if _bounded(text, start, end, "ipv4") and (m := _address(text, start, end, "ipv4")):
            found.append(m)
    for match in _IPV6_TAIL.finditer(text):
        start, end = match.span()
        while start > match.start() - 4 and start and text[start - 1] in _HEX:
            start -= 1
        if _bounded(text, start, end, "ipv6") and (m := _address(text, start, end, "ipv6")):
            found.append(m)
    return found


def _bounded(text: str, start: int, end: int, kind: str) -> bool:
    """No word character, dot (or colon, for IPv6) glued to either side of an address."""
    before = text[start - 1] if start else " "
    after = text[end] if end < len(text) else " "
    glue = _WORD | {"."} | ({":"} if kind == "ipv6" else set())
    if before in glue or after in _WORD or (kind == "ipv6" and after in ".:"):
        return False
    # NOTE: a dotted quad followed by ".bin" or ".nip.io" is part of a longer dotted name: a
    # file name (the kernel's firmware "ctfw-3.2.5.1.bin"), or a host name that the host
    # search reports whole when it ends in a TLD.
    return not (after == "." and text[end + 1 : end + 2] in _ALNUM)


def _hosts(text: str) -> list[Match]:
    found = []
    for tld in _tld_pattern().finditer(text):
        end = tld.end()
        if end < len(text) and (text[end] in _WORD or text[end] == "-"):
            continue
        if text[end : end + 1] == "." and text[end + 1 : end + 2].isalnum():
            continue
        start = tld.start()
        while start and text[start - 1] in _NAME_CHARS:
            start -= 1
        while start < tld.start() and text[start] in ".-":
            start += 1
        if start == tld.start() or (start and text[start - 1] in _NOT_BEFORE_HOST):
            continue
        if start > 1 and text[start - 1] == "_" and text[start - 2] in _ALNUM:
            # "platform_dev.dev=%p": the tail of an identifier (a C member access in a kernel
            # driver's message). A label starting with "_" ("_ldap._tcp.vendor.com") is a
            # service label of an SRV name and is read as before.
            continue
        start = _after_length_byte(text, start)
        if text[start] in _ESCAPES and _escaped(text, start):
            start += 1  # "\nwww.wolfssl.com" (C, echo -e, printf): the name starts after "\n"
        if start and text[start - 1] == ".":
            # ".data.rel.ro" (an ELF section name), ".ip6.arpa", ".example.com": a suffix
            # that names are completed with, not a host
            continue
        if _capital_tld_only(text[start:end], tld.start() - start):
            continue
        if _LABELS.fullmatch(text, start, end):
            name = text[start:end].lower()
            found.append(Match(start, "host", name, host_class(name)))
    return found


def _length_byte(text: str, start: int, available: int) -> int | None:
    """The length that the character glued before ``text[start]`` announces, when it can be
    the length byte of a DER string: a single word character (not glued to another) whose
    code is at most the ``available`` characters that follow it; else ``None``.

    The strings of a DER certificate (the root stores of libnssckbi) are preceded by their
    length, and lengths 48 to 57, 65 to 90 and 97 to 122 are the characters "0"-"9", "A"-"Z"
    and "a"-"z": "0www.entrust.net/CPS is incorporated by reference" is 48 characters from
    "www", "8http://crl.d-trust.net/crl/d-trust_ev_root_ca_1_2009.crl" 56 from "http"."""
    if start == 0 or (start > 1 and text[start - 2] in _WORD):
        return None
    length = ord(text[start - 1])
    return length if text[start - 1] in _ALNUM and length <= available else None


def _after_length_byte(text: str, start: int) -> int:
    """``start + 1`` when the name at ``start`` is a digit glued before ``www.`` that is a
    DER length byte (:func:`_length_byte`), else ``start``. A host name may start with a
    digit: a digit that announces more than its line holds ("1www.vendor.com" alone) stays
    part of the name, and so does a letter ("awww.vendor.com")."""
    if text[start : start + 1] not in _DIGITS or not text.startswith("www.", start + 1):
        return start
    # NOTE: only the announced characters are looked at (at most 57), never the whole line
    announced = text[start + 1 : start + 1 + ord(text[start])]
    available = len(announced.partition("\n")[0])
    return start + 1 if _length_byte(text, start + 1, available) is not None else start


def _escaped(text: str, at: int) -> bool:
    """True when the backslashes before ``text[at]`` make it an escape sequence such as ``\\n``:
    an odd number of them (C, ``echo -e``), or an even number after other text (``\\\\n`` in
    a shell's double quotes is ``\\n`` for ``echo -e``). An even number starting a word is a
    UNC path's: ``\\\\tftp.vendor.com\\fw``."""
    before = at
    while before and text[before - 1] == "\\" and at - before < 8:
        before -= 1
    count = at - before
    if count % 2:
        return True
    return count > 0 and before > 0 and text[before - 1] not in _WORD_START


def _capital_tld_only(name: str, dot: int) -> bool:
    """True for ``x.TLD``: two labels, the TLD in capitals and the other label not (``Gw.EE``,
    bytes of a table in libcrypto; ``i.MX``, a SoC family). A name in capitals is written in
    capitals throughout (``A.ROOT-SERVERS.NET``); longer mixed-case names are kept
    (``ipsec.strongSwan.ORG``, a test of case-insensitive comparison)."""
    return "." not in name[:dot] and name[dot + 1 :].isupper() and not name[:dot].isupper()


@cache
def _schemes() -> frozenset[str]:
    return frozenset(tables()["names"]["schemes"])


@cache
def _tld_pattern() -> re.Pattern[str]:
    tlds = sorted(_names()[0], key=len, reverse=True)
    spelled = [t for tld in tlds for t in (tld, tld.upper())]
    return re.compile(r"\.(?:" + "|".join(spelled) + ")")


def _localhosts(text: str) -> list[Match]:
    found = []
    for match in re.finditer("localhost", text):
        start, end = match.span()
        if (start and text[start - 1] in _NAME_CHARS | _WORD) or (
            end < len(text) and text[end] in _NAME_CHARS | _WORD
        ):
            continue
        found.append(Match(start, "host", "localhost", "loopback"))
    return found


def _inside(offset: int, spans: list[tuple[int, int]]) -> bool:
    """True when ``offset`` lies in one of ``spans`` (sorted)."""
    index = bisect.bisect_right(spans, (offset, sys.maxsize)) - 1
    return index >= 0 and offset < spans[index][1]


def _address(text: str, start: int, end: int, kind: str) -> Match | None:
    value = text[start:end]
    if kind == "ipv4" and (
        _VERSION_BEFORE.search(text, max(0, start - 16), start)
        or value.startswith(_OID_ARCS)
        or _OID_BEFORE.search(text, max(0, start - 32), start)
    ):
        return None
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if kind == "ipv6" and (value == "::" or value.count(":") < 2):
        return None
    return Match(start, kind, value, ip_class(address))


def ip_class(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """The class of an IP address."""
    if address.is_loopback:
        return "loopback"
    if any(address in net for net in _DOC_NETS if net.version == address.version):
        return "documentation"
    if address.is_unspecified or address.is_multicast or address.is_reserved:
        return "special"
    if address.is_private or address.is_link_local:
        return "private"
    return "public" if address.is_global else "special"


def host_class(name: str) -> str:
    """The class of a (lower-case) host name."""
    _, documentation, loopback, private, special = _names()
    if _under(name, loopback):
        return "loopback"
    if _under(name, special):
        return "special"
    if _under(name, documentation):
        return "documentation"
    if _under(name, private):
        return "private"
    return "public"


def _under(name: str, suffixes: tuple[str, ...]) -> bool:
    return any(name == s or name.endswith("." + s) for s in suffixes)


def url_host(url: str) -> str:
    """The host part of a URL (brackets of an IPv6 literal removed), as written."""
    rest = url.partition("://")[2]
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0].rpartition("@")[2]
    if authority.startswith("["):
        return authority[1:].partition("]")[0]
    return authority.rpartition(":")[0] if authority.count(":") == 1 else authority


def url_class(url: str) -> str:
    """The class of a URL's host; ``unknown`` for a placeholder host."""
    host = url_host(url)
    if _PLACEHOLDER.search(host):
        # NOTE: a placeholder in a leading label keeps the domain: "%s.vendor.com" is vendor.com.
        host = _PLACEHOLDER.split(host)[-1].partition(".")[2]
    if not host:
        return "unknown"
    try:
        return ip_class(ipaddress.ip_address(host))
    except ValueError:
        if f"[{host}]" in url:  # brackets hold IPv6 literals only
            return "unknown"
    name = host.lower().rstrip(".")
    if name == "localhost":
        return "loopback"
    # NOTE: a name must end in an alphabetic label; "0177.1" or "ab.be:1" are not names.
    tld = name.rpartition(".")[2]
    return host_class(name) if "." in name and tld.isalpha() else "unknown"
