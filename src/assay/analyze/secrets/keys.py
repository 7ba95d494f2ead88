"""Private keys in any text: PEM (PKCS#1, SEC1, PKCS#8, encrypted or not), OpenSSH and PuTTY.

The scan works on raw bytes, so a key is found in a ``.pem`` file, in a test vector, in a comment
or inside a C string literal (``"-----BEGIN ...-----\\n"``). A BEGIN line counts as a key only
when a base64 body follows it: documentation that shows the markers around ``...`` is not a key.
The body is never reported, only its length and a digest.
"""

from __future__ import annotations

import base64
import binascii
import re
from bisect import bisect_right
from dataclasses import dataclass

from assay.analyze.secrets.redact import digest

_PEM_BEGIN = re.compile(rb"-----BEGIN ((?:[A-Z0-9.]+ )*)PRIVATE KEY-----")
_CERT_BEGIN = re.compile(rb"-----BEGIN (?:TRUSTED |X509 )?CERTIFICATE-----")
_PUTTY = re.compile(rb"PuTTY-User-Key-File-(\d+): ([\w.@-]+)")
_PUTTY_FIELD = re.compile(rb"^(Encryption|Private-Lines): *(\S+)", re.MULTILINE)
_PIECES = re.compile(rb"\\r\\n|\\n|\r?\n")
_NOISE = b" \t\"',;\\*#/"
_BASE64 = re.compile(rb"[A-Za-z0-9+/]+={0,2}")
_MIN_BODY = 40
"""Base64 characters below which a block is an example, not a key (the smallest key has 64)."""
_WINDOW = 128 * 1024


@dataclass(frozen=True, slots=True)
class KeyHit:
    """One private key block found in a file."""

    kind: str
    """``pem``, ``openssh`` or ``putty``."""
    label: str
    """The PEM label (``RSA PRIVATE KEY``) or the PuTTY algorithm."""
    start_line: int
    """Line of the BEGIN marker."""
    end_line: int
    """Line of the END marker (or of the last body line)."""
    body_chars: int
    """Base64 characters of the body."""
    body_digest: str
    """sha256 prefix of the body, to correlate copies of the same key."""
    encrypted: bool | None
    """Whether the key is protected by a passphrase (``None``: could not tell)."""


class Lines:
    """Byte offset to 1-based line number, built once per file when needed."""

    def __init__(self, source: bytes) -> None:
        self._starts = [m.end() for m in re.finditer(rb"\n", source)]

    def of(self, offset: int) -> int:
        """The line holding ``offset``."""
        return bisect_right(self._starts, offset) + 1


def has_markers(source: bytes) -> bool:
    """Cheap pre-test: can ``source`` hold a key or a certificate at all?"""
    return b"-----BEGIN " in source or b"PuTTY-User-Key-File-" in source


def certificate_lines(source: bytes, lines: Lines) -> list[int]:
    """Lines where a PEM certificate begins."""
    return [lines.of(m.start()) for m in _CERT_BEGIN.finditer(source)]


def private_keys(source: bytes, lines: Lines) -> list[KeyHit]:
    """Every PEM, OpenSSH and PuTTY private key with a body in ``source``."""
    hits = [h for m in _PEM_BEGIN.finditer(source) if (h := _pem(source, m, lines)) is not None]
    hits += [h for m in _PUTTY.finditer(source) if (h := _putty(source, m, lines)) is not None]
    return hits


def _pem(source: bytes, begin: re.Match[bytes], lines: Lines) -> KeyHit | None:
    """The key whose BEGIN marker is ``begin``, if a base64 body follows it."""
    label = begin.group(1) + b"PRIVATE KEY"
    # The block ends at the next marker (its END, or another BEGIN): each byte is read once
    # however many markers a hostile file holds.
    stop = source.find(b"-----", begin.end(), begin.end() + _WINDOW)
    if stop < 0:
        stop = min(len(source), begin.end() + _WINDOW)
    body, headers = _body(source[begin.end() : stop])
    if len(body) < _MIN_BODY:
        return None
    text = label.decode("ascii")
    openssh = text == "OPENSSH PRIVATE KEY"
    encrypted = _openssh_encrypted(body) if openssh else (
        "ENCRYPTED" in text or b"ENCRYPTED" in headers
    )  # fmt: skip
    return KeyHit(
        "openssh" if openssh else "pem", text, lines.of(begin.start()), lines.of(stop),
        len(body), digest(body), encrypted,
    )  # fmt: skip


def _body(segment: bytes) -> tuple[bytes, bytes]:
    """The base64 body and the header lines of a PEM block's inside (quotes, comments dropped)."""
    body: list[bytes] = []
    headers: list[bytes] = []
    for piece in _PIECES.split(segment):
        clean = piece.strip(_NOISE)
        if not clean:
            continue
        if b":" in clean and not body:
            headers.append(clean)
        elif _BASE64.fullmatch(clean):
            body.append(clean)
        elif body:
            break
    return b"".join(body), b"\n".join(headers)


def _openssh_encrypted(body: bytes) -> bool | None:
    """An OpenSSH key is encrypted unless its cipher name is ``none``."""
    try:
        raw = base64.b64decode(body + b"=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        return None
    magic = b"openssh-key-v1\0"
    if not raw.startswith(magic) or len(raw) < len(magic) + 8:
        return None
    size = int.from_bytes(raw[len(magic) : len(magic) + 4], "big")
    return raw[len(magic) + 4 : len(magic) + 4 + size] != b"none"


def _putty(source: bytes, begin: re.Match[bytes], lines: Lines) -> KeyHit | None:
    """A PuTTY key: its header, then ``Encryption:`` and ``Private-Lines:`` fields."""
    window = source[begin.end() : begin.end() + 16384]
    fields = {m.group(1): m.group(2) for m in _PUTTY_FIELD.finditer(window)}
    if b"Private-Lines" not in fields or b"Encryption" not in fields:
        return None
    at = window.find(b"Private-Lines")
    body, _ = _body(window[window.find(b"\n", at) :])
    if len(body) < _MIN_BODY // 2:
        return None
    start = lines.of(begin.start())
    return KeyHit(
        "putty", begin.group(2).decode("ascii", "replace"), start,
        lines.of(begin.end() + at), len(body), digest(body), fields[b"Encryption"] != b"none",
    )  # fmt: skip
