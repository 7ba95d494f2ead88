"""C/C++ helpers shared by the secret and backdoor rules: names, literals, comparisons.

Everything is targeted: a regular expression finds the few candidate positions in the bytes and
only those are looked up in the tree (no walk over every node).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass

import tree_sitter

from assay.parse import ParsedFile

_SEGMENTS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
_CREDENTIAL_PARTS = ("password", "passwd", "passphrase", "passcode", "secret", "apikey", "privkey")
_CREDENTIAL_WORDS = frozenset({"pass", "pwd", "psk", "credential", "credentials"})
_KEY_QUALIFIERS = frozenset(
    {
        "api",
        "private",
        "secret",
        "auth",
        "master",
        "access",
        "shared",
        "bearer",
        "refresh",
        "session",
    }
)
_NOT_VALUES = frozenset(
    {
        "prompt", "msg", "message", "text", "label", "desc", "description", "help", "fmt", "format",
        "name", "names", "file", "filename", "path", "dir", "env", "var", "opt", "option",
        "options", "field", "len", "length", "size", "type", "prefix", "suffix", "usage", "hint",
        "title", "error", "err", "url", "uri", "header", "cmd", "arg", "id", "policy", "method",
        "mode", "tag", "attr", "param", "column", "col", "query", "sql", "ext", "regex", "pattern",
        "char", "chars", "charset", "alphabet", "question", "caption", "tooltip", "button",
        "command", "scheme", "endpoint", "kind", "oid", "algorithm", "alg", "cipher", "str",
        "string", "keys", "count", "max", "min", "buf", "buffer", "identity", "ident", "const",
        "constant", "structure", "user", "username", "login",
    }
)  # fmt: skip
COMPARE_FUNCTIONS = [
    "strcmp",
    "strncmp",
    "strcasecmp",
    "strncasecmp",
    "memcmp",
    "bcmp",
    "strcoll",
    "strstr",
    "strcasestr",
    "g_str_equal",
    "streq",
    "strequal",
]
_COMPARE_NAMES = frozenset(COMPARE_FUNCTIONS)
_COMPARE_STEMS = re.compile(rb"(?:str|mem|bcmp|g_str)\w*(?=\s*\()")
_STRINGS = frozenset({"string_literal", "concatenated_string"})


def segments(name: str) -> list[str]:
    """Lower-case words of an identifier (``adminPass_word`` -> admin, pass, word)."""
    return [s.lower() for s in _SEGMENTS.findall(name)]


def credential_name(name: str) -> bool:
    """Does ``name`` (an identifier or field) hold a credential, not a label about one?"""
    parts = segments(name)
    if not parts or parts[-1] in _NOT_VALUES or any(p in _NOT_VALUES for p in parts[1:]):
        return False
    if any(w in _CREDENTIAL_WORDS for w in parts):
        return True
    joined = "".join(parts)
    if any(p in joined for p in _CREDENTIAL_PARTS):
        return True
    return any(a in _KEY_QUALIFIERS and b in ("key", "token") for a, b in itertools.pairwise(parts))


def literal_value(parsed: ParsedFile, node: tree_sitter.Node) -> str:
    """The text between the quotes of a string literal (concatenations joined), escapes kept."""
    if node.type == "concatenated_string":
        return "".join(literal_value(parsed, c) for c in node.named_children if c.type in _STRINGS)
    text = parsed.text(node)
    return text[text.find('"') + 1 : -1] if text.endswith('"') else ""


def is_literal(node: tree_sitter.Node) -> bool:
    """A string literal or a concatenation of them."""
    return node.type in _STRINGS


@dataclass(frozen=True, slots=True)
class Compare:
    """A comparison call with one string-literal argument. Worker-local (holds nodes)."""

    call: tree_sitter.Node
    """The call_expression."""
    function: str
    """strcmp, memcmp, strstr..."""
    literal: str
    """The literal's value (secret: report redacted)."""
    operand: tree_sitter.Node
    """The first argument that is not the literal."""


def compares(parsed: ParsedFile) -> Iterator[Compare]:
    """Every comparison call with a string literal on one side and an expression on the other."""
    root = parsed.tree.root_node
    for start, name in named_calls(parsed.source, _COMPARE_STEMS, _COMPARE_NAMES):
        node = root.descendant_for_byte_range(start, start + len(name))
        call = node.parent if node is not None else None
        if (
            call is None
            or call.type != "call_expression"
            or call.child_by_field_name("function") != node
        ):
            continue
        args = call.child_by_field_name("arguments")
        named = [] if args is None else [a for a in args.named_children if a.type != "comment"]
        literals = [a for a in named[:2] if is_literal(a)]
        others = [a for a in named[:2] if not is_literal(a)]
        if len(literals) == 1 and len(others) == 1:
            value = literal_value(parsed, literals[0])
            yield Compare(call, name, value, others[0])


def identifier_before(source: bytes, end: int) -> int:
    """Start of the identifier that ends at ``end`` (``end`` itself when there is none)."""
    start = end
    while start > 0 and (source[start - 1 : start].isalnum() or source[start - 1] == 0x5F):
        start -= 1
    return start


def named_calls(
    source: bytes, stems: re.Pattern[bytes], names: frozenset[str]
) -> Iterator[tuple[int, str]]:
    """(offset, name) of whole identifiers in ``names`` followed by ``(``.

    ``stems`` is a cheap pattern with a literal start that finds candidates (a regular
    expression with a leading ``\\b`` and an alternation is ten times slower on real code).
    """
    for match in stems.finditer(source):
        start = identifier_before(source, match.start())
        name = source[start : match.end()].decode("ascii", "replace")
        if name in names:
            yield start, name


def enclosing(node: tree_sitter.Node, kind: str) -> tree_sitter.Node | None:
    """The nearest ancestor of type ``kind``."""
    parent = node.parent
    while parent is not None and parent.type != kind:
        parent = parent.parent
    return parent


def function_name(parsed: ParsedFile, node: tree_sitter.Node) -> str:
    """Name of the function definition around ``node`` (empty outside any function)."""
    function = enclosing(node, "function_definition")
    declarator = function.child_by_field_name("declarator") if function else None
    while declarator is not None and declarator.type != "identifier":
        inner = declarator.child_by_field_name("declarator")
        if inner is None:
            names = [
                c for c in declarator.named_children if c.type in ("identifier", "field_identifier")
            ]
            return parsed.text(names[0]) if names else ""
        declarator = inner
    return parsed.text(declarator) if declarator is not None else ""


def line_text(parsed: ParsedFile, node: tree_sitter.Node) -> str:
    """The node's first source line, stripped (the evidence; redact before reporting)."""
    start = parsed.source.rfind(b"\n", 0, node.start_byte) + 1
    end = parsed.source.find(b"\n", node.start_byte)
    line = parsed.source[start : end if end >= 0 else len(parsed.source)]
    return line.decode("utf-8", "replace").strip()[:200]
