"""Credentials written into C/C++ code: literals assigned to credential names, and input
compared with a literal where the operand is a credential.

``credential-literal`` covers ``char *password = "..."``, ``.api_key = "..."``, ``pass = "..."``
and ``#define ROOT_PASSWORD "..."``; ``literal-auth-compare`` covers ``strcmp(pass, "...")``.
Values that name a credential rather than hold one (``"password"``, ``"X-Api-Key"``), that are
formats, options, paths, prompts or environment variable names, are not reported. Neither
are anonymous-login defaults: a literal with ``anonymous`` within two lines of it (curl's
``CURL_DEFAULT_PASSWORD`` after ``CURL_DEFAULT_USER "anonymous"``, BusyBox ftpgetput's and
wget's ``"busybox"`` password for the ``anonymous`` user) is the conventional public password
of anonymous FTP, not a credential.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

import tree_sitter

from assay.analyze.secrets.csource import (
    Compare,
    credential_name,
    function_name,
    identifier_before,
    line_text,
    segments,
)
from assay.analyze.secrets.redact import digest, redact, token
from assay.model import RawFinding, RuleId
from assay.parse import ParsedFile

_ASSIGN = re.compile(rb"=[ \t]*(?:\([\w \t*]+\)[ \t]*)?(?:L|u8|u|U)?\"")
_STRING = re.compile(rb"\"((?:[^\"\\\n]|\\.)*)\"")
_DEFINED = re.compile(rb"#[ \t]*define[ \t]+([A-Za-z_]\w*)[ \t]+\"((?:[^\"\\\n]|\\.)*)\"")
_NAME_LIKE = re.compile(r"[A-Za-z0-9_.:-]+")
_CONSTANT = re.compile(r"[A-Z]+(?:_[A-Z0-9]+)+|[A-Z]+")
_AUTH_FUNCTION = re.compile(r"(?i)auth|login|logon|passw|passwd|credential|verify|check_?pass")
_ANONYMOUS = re.compile(rb"(?i)\banonymous\b")


def plausible_secret(value: str) -> bool:
    """Could ``value`` be a password, key or token (rather than a label, format or path)?"""
    if len(value) < 4 or len(value) > 256 or " " in value or "%" in value:
        return False
    if (
        value.startswith(("-", "/", "$(", "${", "<", "@"))
        or "://" in value
        or _CONSTANT.fullmatch(value)
    ):
        return False
    if not any(c.isalnum() for c in value):
        return False
    return not (_NAME_LIKE.fullmatch(value) and credential_name(value.replace("-", "_")))


def credential_literals(parsed: ParsedFile) -> Iterator[RawFinding]:
    """String literals assigned to or defined as credential names."""
    root = parsed.tree.root_node
    for name, value, at, defined in _candidates(parsed.source):
        if not credential_name(name) or not plausible_secret(value):
            continue
        if anonymous_default(parsed.source, at):
            continue
        node = root.descendant_for_byte_range(at, at + 1)
        if node is None or node.type == "comment" or _in_comment(node):
            continue
        how = "is defined as" if defined else "is assigned"
        yield _finding("credential-literal", parsed, node, name, value, how)


def anonymous_default(source: bytes, at: int) -> bool:
    """Is the literal at ``at`` an anonymous-login default: ``anonymous`` within two lines?"""
    start = at
    for _ in range(3):
        start = source.rfind(b"\n", 0, start - 1) + 1 if start > 0 else 0
    end = at
    for _ in range(3):
        found = source.find(b"\n", end + 1)
        end = len(source) if found < 0 else found
    return _ANONYMOUS.search(source, start, end) is not None


def _candidates(source: bytes) -> Iterator[tuple[str, str, int, bool]]:
    """(name, value, offset of the value, is a #define) of string assignments and defines.

    Found from the cheap ``= "`` anchor, then the target read backwards: a single regular
    expression starting at every identifier is twenty times slower on real code.
    """
    for match in _ASSIGN.finditer(source):
        if source[match.start() - 1 : match.start()] in (b"=", b"!", b"<", b">"):
            continue
        name = _target(source, match.start())
        string = _STRING.match(source, match.end() - 1)
        if name and string is not None:
            yield name, _text(string.group(1)), string.start(1), False
    for match in _DEFINED.finditer(source):
        yield _text(match.group(1)), _text(match.group(2)), match.start(2), True


def _target(source: bytes, end: int) -> str:
    """The name assigned to at ``end`` (``name =``, ``name[N] =``, ``.field =``), or ``""``."""
    window = source[max(0, end - 160) : end].rstrip()
    if window.endswith(b"]"):
        window = window[: window.rfind(b"[")].rstrip()
    return _text(window[identifier_before(window, len(window)) :])


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def literal_compares(parsed: ParsedFile, found_compares: list[Compare]) -> Iterator[RawFinding]:
    """``strcmp(password, "...")``: a credential operand compared with a literal."""
    for found in found_compares:
        operand = parsed.text(found.operand)
        names = re.findall(r"[A-Za-z_]\w*", operand)
        if not names or not credential_name(names[-1]) or not plausible_secret(found.literal):
            continue
        function = function_name(parsed, found.call)
        how = f"is compared ({found.function}) with"
        raw = _finding("literal-auth-compare", parsed, found.call, names[-1], found.literal, how)
        extra = {"function": function, "auth_function": bool(_AUTH_FUNCTION.search(function))}
        yield replace(raw, properties={**raw.properties, **extra})


def _in_comment(node: tree_sitter.Node) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.type == "comment":
            return True
        parent = parent.parent
    return False


def _finding(
    rule: str, parsed: ParsedFile, node: tree_sitter.Node, name: str, value: str, how: str
) -> RawFinding:
    """A finding whose message and evidence carry the value only as its redaction token."""
    line = node.start_point.row + 1
    message = (
        f"{name} {how} a literal {token(value)}: remove it from the code and read it from "
        "protected storage or require it to be set per device"
    )
    evidence = redact(line_text(parsed, node), [value])
    props = {"name": name, "value_length": len(value), "value_sha256": digest(value)}
    props["words"] = segments(name)
    return RawFinding(RuleId(f"secrets/{rule}"), line, line, message, evidence, None, props)
