"""Backdoor indicators in C/C++: what a comparison with a literal switches on.

For each comparison of an expression with a string literal (``_secret_c.compares``), the branch
taken when they match is read (the ``if`` consequence, or the ``else`` for ``strcmp(...) != 0``):

- ``hidden-command``: the branch runs a shell, ``system()``, ``popen()``, an ``exec*()`` or starts
  telnetd or a shell by name;
- ``magic-debug-mode``: an input (environment, argument, header, buffer) matched against a magic
  value switches a debug, factory, engineering or maintenance flag on;
- ``magic-auth-bypass``: a matched magic value marks the caller as authenticated or returns
  success from an authentication-like function.

Option strings (``"-d"``, ``"--debug"``) and short values are ordinary command-line parsing and
are left out. So is a command matched by abbreviation (``strncmp(cmd, "write", n)`` with a length
that is not a constant, as vi's ``:w !cmd`` and other interactive command parsers do): any
prefix of the word opens the branch, so it hides nothing; a hidden command needs the exact
magic value. ``fixed-port-any-listener`` lives in ``_backdoor_listen``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import tree_sitter

from assay.analyze.secrets.csource import Compare, enclosing, function_name, line_text
from assay.analyze.secrets.redact import digest, redact, token
from assay.model import RawFinding, RuleId
from assay.parse import ParsedFile

_EXEC = re.compile(
    rb"\b(system|popen|_popen|execl|execlp|execle|execv|execvp|execve|execvpe|fexecve|"
    rb"posix_spawnp?|WinExec|ShellExecute\w*|CreateProcess\w*)\s*\("
)
_SHELL = re.compile(rb"\"[^\"\n]*(?:/bin/(?:ba|a|z|k)?sh\b|telnetd|\bsh -c\b|\bnc -l)[^\"\n]*\"")
_DEBUG_FLAG = re.compile(
    rb"(?i)\b(\w*(?:debug|factory|engineer|maint|diag|backdoor|test_?mode|service_?mode|"
    rb"dev_?mode|secret_?mode|hidden|telnet)\w*)\s*(?:=\s*(?:1|true|[A-Z_]*ON|[A-Z_]*ENABLE\w*|!0)"
    rb"\s*;|\+\+|\|=)"
)
_AUTH_FLAG = re.compile(
    rb"(?i)\b(\w*(?:authenticated|authorized|auth_?ok|logged_?in|login_?ok|is_?admin|"
    rb"privileged|access_?granted|valid_?user|bypass)\w*)\s*=\s*(?:1|true|[A-Z_]*OK\w*|!0)\s*;"
)
_SUCCESS = re.compile(
    rb"\breturn\s*\(?\s*(?:1|true|TRUE|[A-Z_]*(?:OK|SUCCESS|GRANTED)\w*)\s*\)?\s*;"
)
_AUTH_FUNCTION = re.compile(r"(?i)auth|login|logon|passw|credential|verify|check_?(?:user|pass)")
_INPUT = re.compile(
    r"(?i)getenv|argv|agent|\bua\b|header|hdr|cookie|referer|param|query|input|\bcmd|request|"
    r"\breq\b|\buri\b|\burl\b|\bbuf|\bline\b|\bmsg\b|\bdata\b|\barg"
)
_SOURCES = (
    rb"\s*=\s*(?:\([\w\s*]+\)\s*)?(?:getenv|secure_getenv|nvram_get|nvram_safe_get|"
    rb"websGetVar|fw_getenv|cfg_get|getparam|get_param|httpGetEnv)\s*\("
)
_NEGATED_BY_ZERO = frozenset(
    {"strcmp", "strncmp", "strcasecmp", "strncasecmp", "memcmp", "bcmp", "strcoll"}
)
_BOUNDED = frozenset({"strncmp", "strncasecmp"})
_CONSTANT_LENGTH = re.compile(
    r"\(?\s*(?:\d+|[A-Z][A-Z0-9_]*|sizeof\b.*|strlen\s*\(\s*\".*\"\s*\))\s*\)?(?:\s*-\s*1)?"
)
_STOPS = frozenset(
    {
        "compound_statement", "expression_statement", "declaration", "return_statement",
        "function_definition", "for_statement", "while_statement", "do_statement",
    }
)  # fmt: skip


def magic_value(value: str) -> bool:
    """Is the literal a magic value rather than an option or keyword fragment?"""
    return len(value) >= 4 and not value.startswith("-") and "%" not in value


def matched_branch(found: Compare) -> tree_sitter.Node | None:
    """The statement run when the comparison matches, if it is an ``if`` condition."""
    equal = found.function not in _NEGATED_BY_ZERO
    node = found.call
    while node.parent is not None and node.parent.type != "if_statement":
        parent = node.parent
        if parent.type in _STOPS:
            return None
        if parent.type == "unary_expression" and parent.text is not None:
            equal = equal != parent.text.startswith(b"!")
        elif parent.type == "binary_expression" and _against_zero(parent, node):
            operator = parent.child_by_field_name("operator")
            equal = equal != (operator is not None and operator.type == "==")
        node = parent
    statement = node.parent
    if statement is None or statement.child_by_field_name("condition") != node:
        return None
    if equal:
        return statement.child_by_field_name("consequence")
    alternative = statement.child_by_field_name("alternative")
    return alternative.named_children[0] if alternative and alternative.named_children else None


def _against_zero(expression: tree_sitter.Node, operand: tree_sitter.Node) -> bool:
    """Is ``expression`` ``operand == 0`` / ``!= NULL`` (either side)?"""
    other = [c for c in expression.named_children if c != operand]
    return bool(other) and other[0].text in (b"0", b"NULL", b"nullptr")


def abbreviated(parsed: ParsedFile, found: Compare) -> bool:
    """Is the comparison a ``strncmp`` whose length is not a constant (a prefix match)?"""
    if found.function not in _BOUNDED:
        return False
    args = found.call.child_by_field_name("arguments")
    named = [] if args is None else [a for a in args.named_children if a.type != "comment"]
    if len(named) != 3:
        return False
    return _CONSTANT_LENGTH.fullmatch(parsed.text(named[2]).strip()) is None


def indicators(parsed: ParsedFile, found_compares: list[Compare]) -> Iterator[RawFinding]:
    """Hidden commands, magic debug modes and magic authentication bypasses."""
    for found in found_compares:
        if not magic_value(found.literal) or abbreviated(parsed, found):
            continue
        branch = matched_branch(found)
        if branch is None:
            continue
        body = parsed.source[branch.start_byte : branch.end_byte]
        hit = _classify(parsed, found, body)
        if hit is not None:
            yield _finding(parsed, found, *hit)


def _classify(parsed: ParsedFile, found: Compare, body: bytes) -> tuple[str, str] | None:
    """The rule a matched branch triggers, with what it does."""
    if (run := _EXEC.search(body) or _SHELL.search(body)) is not None:
        return "hidden-command", f"runs {run.group(0).decode('utf-8', 'replace')[:40]}"
    if not _from_input(parsed, found):
        return None
    if (flag := _DEBUG_FLAG.search(body)) is not None:
        return "magic-debug-mode", f"switches on {flag.group(1).decode('ascii', 'replace')}"
    if (flag := _AUTH_FLAG.search(body)) is not None:
        return "magic-auth-bypass", f"sets {flag.group(1).decode('ascii', 'replace')}"
    function = function_name(parsed, found.call)
    if _AUTH_FUNCTION.search(function) and _SUCCESS.search(body):
        return "magic-auth-bypass", f"returns success from {function}"
    return None


def _from_input(parsed: ParsedFile, found: Compare) -> bool:
    """Is the operand an input: named like one, or assigned from ``getenv``/``nvram_get``...?"""
    operand = parsed.text(found.operand)
    if _INPUT.search(operand):
        return True
    function = enclosing(found.call, "function_definition")
    if function is None or not re.fullmatch(r"[A-Za-z_]\w*", operand):
        return False
    before = parsed.source[function.start_byte : found.call.start_byte]
    return re.search(rb"\b" + operand.encode() + _SOURCES, before) is not None


_CLEARS = {
    "hidden-command": "remove the command path, or show it is documented, authenticated and "
    "disabled in production builds",
    "magic-debug-mode": "remove the magic value, or gate the mode behind authenticated, "
    "documented configuration that is off in production",
    "magic-auth-bypass": "remove the magic value; authentication must depend only on per-device "
    "credentials",
}


def _finding(parsed: ParsedFile, found: Compare, rule: str, what: str) -> RawFinding:
    line = found.call.start_point.row + 1
    operand = parsed.text(found.operand)[:60]
    message = (
        f"{operand} compared ({found.function}) with the literal {token(found.literal)}, then "
        f"the matching branch {what}: {_CLEARS[rule]}"
    )
    props = {
        "function": function_name(parsed, found.call),
        "value_length": len(found.literal),
        "value_sha256": digest(found.literal),
    }
    evidence = redact(line_text(parsed, found.call), [found.literal])
    return RawFinding(RuleId(f"secrets/{rule}"), line, line, message, evidence, None, props)
