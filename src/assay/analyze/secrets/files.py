"""File-level secret scan shared by C/C++ and other text: keys, certificates, password hashes.

Returns path-free findings plus the facts the aggregator pairs across files (certificate lines,
whether the file holds a private key).
"""

from __future__ import annotations

from dataclasses import dataclass

from assay.analyze.secrets.hashes import ACCOUNT_FILES, HashHit, has_hash_marker, password_hashes
from assay.analyze.secrets.keys import KeyHit, Lines, certificate_lines, has_markers, private_keys
from assay.analyze.secrets.redact import digest, token
from assay.model import RawFinding, RuleId, Severity

_KEY_CLEARS = (
    "remove it from the release and generate the key on each device (or at provisioning); "
    "a key for tests belongs below a test directory"
)
_HASH_CLEARS = (
    "ship no account with a preset password: create it at first boot or force a change before "
    "any service starts"
)


@dataclass(frozen=True, slots=True)
class FileScan:
    """What the file-level scan found in one content."""

    findings: tuple[RawFinding, ...] = ()
    """Key and hash findings."""
    certificates: tuple[int, ...] = ()
    """Lines where certificates begin (paired with keys by the aggregator)."""


def scan_bytes(source: bytes, name: str) -> FileScan:
    """Keys, certificates and password hashes in one content named ``name``."""
    findings: list[RawFinding] = []
    certificates: list[int] = []
    if has_markers(source):
        lines = Lines(source)
        findings += [_key_finding(hit) for hit in private_keys(source, lines)]
        certificates = certificate_lines(source, lines)
    account = bool(ACCOUNT_FILES.search(name.lower()))
    if account or has_hash_marker(source):
        findings += [_hash_finding(hit) for hit in password_hashes(source, account)]
    return FileScan(tuple(findings), tuple(certificates))


def _key_finding(hit: KeyHit) -> RawFinding:
    state = {True: "encrypted", False: "unencrypted", None: "encryption unknown"}[hit.encrypted]
    message = (
        f"{hit.label} ({state}, {hit.body_chars} base64 chars, sha256:{hit.body_digest}): "
        f"{_KEY_CLEARS}"
    )
    evidence = (
        f"{hit.kind} {hit.label} <body redacted: {hit.body_chars} chars, sha256:{hit.body_digest}>"
    )
    props = {"label": hit.label, "encrypted": hit.encrypted, "value_sha256": hit.body_digest}
    severity = Severity.MEDIUM if hit.encrypted else None
    rule = RuleId(f"secrets/private-key-{hit.kind}")
    return RawFinding(rule, hit.start_line, hit.end_line, message, evidence, severity, props)


def _hash_finding(hit: HashHit) -> RawFinding:
    message = (
        f"account {hit.user} has a {hit.scheme} password hash {token(hit.value)}: {_HASH_CLEARS}"
    )
    props = {"user": hit.user, "scheme": hit.scheme, "value_sha256": digest(hit.value)}
    evidence = f"{hit.user}:{token(hit.value)}"
    return RawFinding(
        RuleId("secrets/password-hash"), hit.line, hit.line, message, evidence, None, props
    )
