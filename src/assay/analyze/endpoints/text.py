"""Endpoints of files that are not C/C++: configuration text and ELF binaries' strings.

In text, an endpoint on a line starting with ``#``, ``;`` or ``//`` is in a comment. A binary
is read like ``strings -n 6``: every run of at least 6 printable ASCII bytes, searched as one
text (runs joined by newlines, so that no endpoint spans two runs); each endpoint keeps the
byte offset of its run. The names in the section-name table (``.shstrtab``) are not read:
``.data.rel.ro``, in every linked binary, is no host in Romania. Only runs shaped like section
names are passed over there (a leading dot, no ``/``, ``:`` or ``@``): a table that a hostile
header stretches over the whole file hides no URL or address.

A string of a binary has no line around it, as a literal in source has; its neighbours, the
runs that start within :data:`NEIGHBOURHOOD` bytes of its start, are its context. A whole
string shaped like a host name is a field path when at least :data:`FAMILY` neighbours share
its stem with a last part that is an identifier and no top-level domain: libcrypto's ASN.1
field names ``value.ir``, ``value.ip``, ``value.cr``... (``.ir`` is Iran's). A whole string
that is a dotted quad is a version when a neighbour is a two- or three-part dotted number with
the same first two numbers: libcurl's ``1.2.0.4`` (the zlib it compares ``zlibVersion()``
with) beside zlib's ``1.2.13``; it is a clause number when it is, or is beside, one of dotted
quads of numbers 1 to 99 that branch :data:`BRANCHES` ways under one first number (the NFC
clauses ``14.4.1.6``, ``14.6.1.1``, ``14.8.2.1``, ``14.12.3.3`` of the kernel's nfc_digital).

The bytes around a string are context too. A run shorter than :data:`SHORT` with binary bytes
on both sides (no NUL ending a C string, no line break) is a piece of a table or of code and
is not read (raid6's ``4.hr\\F``, libgcrypt's ``p.il :``). A URL whose bytes follow a DER
length and the tag of a URI or string ends where the length says: in a root store the next
field's tag is glued to it.
"""

from __future__ import annotations

import bisect
import re
import struct
from collections import defaultdict
from dataclasses import replace
from functools import cache

from assay.analyze.endpoints.match import Match, find, is_tld, redact, tables, url_class

MIN_RUN = 6
"""Shortest printable run read from a binary (``strings -n 6``)."""
MAX_PER_FILE = 5000
"""Endpoints kept per file: a hostile file full of addresses stays bounded."""

NEIGHBOURHOOD = 256
"""Bytes either side of a string of a binary within which other strings are its neighbours."""
FAMILY = 2
"""Neighbours sharing a host-looking string's stem (``value.ip``, ``value.cr`` beside
``value.ir``) that make it a field path."""

SHORT = 10
"""Runs shorter than this with binary bytes on both sides (no NUL, no line break) are not
read: pieces of tables or code, not strings."""
BRANCHES = 3
"""Different second numbers under one first number that make dotted quads clause numbers."""

_LONGEST = 255
"""Longest neighbour read (a DNS name has at most 253 characters)."""
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_VERSION = re.compile(r"\d+\.\d+(?:\.\d+)?")
_RUN = re.compile(rb"[\x20-\x7e]{%d,}" % MIN_RUN)
_COMMENT = ("#", ";", "//")
_SECTION_NAME = re.compile(rb"\.[^/:@]*")
_CLAUSE = re.compile(r"[1-9][0-9]?(?:\.[1-9][0-9]?){3}")
_TEXT_BYTES = frozenset(b"\0\t\n\v\f\r")
_DER_URL_TAGS = frozenset(b"\x86\x16\x0c\x13\x14")
_SHEBANG = re.compile(r"#![^\n]*\b(?:ba|da|a|k|z)?sh\b")
_REDIRECTION = re.compile(r"(?:^|[\s\d])(?:>>?|<)\s*[\"']?$")
_COMMAND_SEPARATOR = re.compile(r";|&&|\|\||\||`|\$\(|\bthen\b|\bdo\b|\belse\b")
_COMMAND_LINE = 512


def in_text(text: str, shell: bool = False) -> list[tuple[int, Match, str]]:
    """(line, match, context) of every endpoint of a config file; context config or comment.

    In a shell script (``shell``), a host name that is an argument of a command taking files
    (``[text] file_commands`` of ``rules/endpoints.toml``: ``cp``, ``rm``, ``lcov``...) or the
    target of a redirection (``> conftest.nl``) is a file name, not a host."""
    found: list[tuple[int, Match, str]] = []
    line, offset = 1, 0
    for match in find(text)[:MAX_PER_FILE]:
        line += text.count("\n", offset, match.start)
        offset = match.start
        start = text.rfind("\n", 0, match.start) + 1
        if shell and match.kind == "host" and _file_argument(text[start : match.start]):
            continue
        comment = text[start : match.start].lstrip().startswith(_COMMENT)
        found.append((line, match, "comment" if comment else "config"))
    return found


def is_shell(name: str, text: str) -> bool:
    """True for a shell script: a ``.sh`` file, or a ``#!`` line naming a shell."""
    return name.endswith(".sh") or _SHEBANG.match(text) is not None


def _file_argument(before: str) -> bool:
    """True when what precedes a name on its line (``before``) makes it a file: a redirection
    (``>``, ``>>``, ``<``) or a word of a command that takes files (``cp conftest.in``,
    ``coveralls-lcov``)."""
    before = before[-_COMMAND_LINE:]  # NOTE: a command is short; a hostile line is not copied
    if _REDIRECTION.search(before):
        return True
    if not before.endswith((" ", "\t", '"', "'")):
        return False
    words = _COMMAND_SEPARATOR.split(before)[-1].split()
    command = words[0].strip("\"'").rpartition("/")[2] if words else ""
    return command in file_commands()


@cache
def file_commands() -> frozenset[str]:
    """Commands whose arguments are files (``[text] file_commands``)."""
    return frozenset(tables()["text"]["file_commands"])


def in_binary(data: bytes) -> list[tuple[int, Match]]:
    """(byte offset of the run, match) of every endpoint in a binary's printable runs."""
    starts: list[int] = []
    joined_at: list[int] = []
    runs: list[str] = []
    position = 0
    names = section_names(data)
    for run in _RUN.finditer(data):
        if names[0] <= run.start() < names[1] and _SECTION_NAME.fullmatch(run.group()):
            continue
        piece = run.group()
        if b"." not in piece and b":" not in piece and b"localhost" not in piece:
            continue
        if len(piece) < SHORT and _enclosed(data, run.start(), run.end()):
            continue
        starts.append(run.start())
        joined_at.append(position)
        runs.append(piece.decode("ascii"))
        position += len(piece) + 1
    text = "\n".join(runs)
    found = []
    branching: dict[int, bool] = {}
    for match in find(text)[:MAX_PER_FILE]:
        index = bisect.bisect_right(joined_at, match.start) - 1
        if not _named_by_neighbours(match, index, runs, starts, branching):
            at = match.start - joined_at[index]
            found.append(
                (starts[index] + at, _der_url(match, at, runs[index], data, starts[index]))
            )
    return found


def _der_url(match: Match, at: int, run: str, data: bytes, start: int) -> Match:
    """``match`` ending where its DER length says, when it is a URL whose bytes follow a length
    and the tag of a URI (``0x86``, a GeneralName) or of a string (IA5String ``0x16``,
    UTF8String ``0x0c``, PrintableString ``0x13``, T61String ``0x14``): the URLs of a
    certificate's CRL distribution points, authority information, policies and names, to
    which the next field's tag is glued when printable (``0``, a SEQUENCE; ``1``, a SET:
    ``http://crl.certigna.fr/certignarootca.crl01``). The length is one byte (a printable one
    is the run's first character) or ``0x81`` and one byte."""
    if match.kind != "url":
        return match
    length_at = start + at - 1
    tag_at = length_at - 1
    if tag_at < 0:
        return match
    if data[tag_at] == 0x81 and data[length_at] >= 0x80:
        tag_at -= 1
    elif data[length_at] >= 0x80:
        return match
    length = data[length_at]
    if tag_at < 0 or data[tag_at] not in _DER_URL_TAGS or at + length > len(run):
        return match
    url = run[at : at + length]
    if len(match.value) <= length or "://" not in url:
        return match
    return replace(match, value=redact(url), klass=url_class(url))


def _named_by_neighbours(
    match: Match, index: int, runs: list[str], starts: list[int], branching: dict[int, bool]
) -> bool:
    """True when the whole string ``runs[index]`` is ``match`` and its neighbours show that
    it is a field path (a host name's stem shared), a version (a dotted quad's first two
    numbers shared) or a clause number, not an endpoint. ``branching`` remembers, per run,
    whether its neighbourhood is a branching family of clause numbers."""
    run = runs[index]
    if match.kind not in ("host", "ipv4") or len(run) != len(match.value):
        return False  # NOTE: lengths first: a long run holding many matches is not copied
    if run.lower() != match.value:
        return False
    neighbours = _neighbours(index, runs, starts)
    if match.kind == "host":
        stem = run.rpartition(".")[0]
        labels = set()
        for other in (runs[i] for i in neighbours):
            head, _, label = other.rpartition(".")
            if head == stem and _IDENTIFIER.fullmatch(label) and not is_tld(label):
                labels.add(label)
        return len(labels) >= FAMILY
    line = run.split(".")[:2]
    if any(_VERSION.fullmatch(runs[i]) and runs[i].split(".")[:2] == line for i in neighbours):
        return True
    if not _CLAUSE.fullmatch(run):
        return False
    # NOTE: a clause number, or beside one: the numbers of a specification come in runs
    for i in (index, *neighbours):
        if _CLAUSE.fullmatch(runs[i]):
            if i not in branching:
                branching[i] = _branching(i, runs, _neighbours(i, runs, starts))
            if branching[i]:
                return True
    return False


def _neighbours(index: int, runs: list[str], starts: list[int]) -> list[int]:
    """Indexes of the runs starting within :data:`NEIGHBOURHOOD` bytes of ``runs[index]``."""
    at = starts[index]
    low = bisect.bisect_left(starts, at - NEIGHBOURHOOD)
    high = bisect.bisect_right(starts, at + NEIGHBOURHOOD)
    # NOTE: a field path or a version is short; a long neighbour (a hostile file's run of
    # megabytes after many candidates) is not copied or searched once per candidate.
    return [i for i in range(low, high) if i != index and len(runs[i]) <= _LONGEST]


def _branching(index: int, runs: list[str], neighbours: list[int]) -> bool:
    """True when ``runs[index]`` and its neighbours are the clause numbers of a specification:
    dotted quads of numbers 1 to 99 with :data:`BRANCHES` different second numbers under one
    first number (the kernel's NFC errors name the clause they violate: 14.4.1.6, 14.6.1.1,
    14.8.2.1, 14.12.3.3...). Lists of addresses do not branch so with small numbers only:
    8.8.8.8 and 8.8.4.4, 4.2.2.1 to 4.2.2.6, 1.1.1.1 and 1.0.0.1."""
    seconds: dict[str, set[str]] = defaultdict(set)
    for other in (runs[i] for i in (index, *neighbours)):
        if _CLAUSE.fullmatch(other):
            first, second, _ = other.split(".", 2)
            seconds[first].add(second)
    return any(len(branches) >= BRANCHES for branches in seconds.values())


def _enclosed(data: bytes, start: int, end: int) -> bool:
    """True when the bytes on both sides of ``data[start:end]`` are binary: neither NUL (a C
    string ends with one) nor a line break or tab (text), nor the ends of the file."""
    return start > 0 and end < len(data) and not {data[start - 1], data[end]} & _TEXT_BYTES


def section_names(data: bytes) -> tuple[int, int]:
    """The byte span of an ELF file's section-name string table (``e_shstrndx``), or
    ``(0, 0)`` when there is none or the headers do not hold together."""
    if len(data) < 64 or data[:4] != b"\x7fELF" or data[4] not in (1, 2) or data[5] not in (1, 2):
        return 0, 0
    order = "<" if data[5] == 1 else ">"
    if data[4] == 1:  # ELF32: e_shoff at 0x20, e_shentsize/e_shnum/e_shstrndx at 0x2E
        (shoff,) = struct.unpack_from(order + "I", data, 0x20)
        entsize, count, index = struct.unpack_from(order + "HHH", data, 0x2E)
        header, fields = 40, order + "II"  # sh_offset and sh_size at 16 and 20
        at = 16
    else:  # ELF64: e_shoff at 0x28, e_shentsize/e_shnum/e_shstrndx at 0x3A
        (shoff,) = struct.unpack_from(order + "Q", data, 0x28)
        entsize, count, index = struct.unpack_from(order + "HHH", data, 0x3A)
        header, fields = 64, order + "QQ"  # sh_offset and sh_size at 24 and 32
        at = 24
    entry = shoff + index * entsize
    if entsize < header or index >= count or entry + header > len(data):
        return 0, 0
    offset, size = struct.unpack_from(fields, data, entry + at)
    if offset + size > len(data):
        return 0, 0
    return offset, offset + size
