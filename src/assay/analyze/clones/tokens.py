"""Clone tokens: a C/C++ lexer producing the compact token streams that clone matching reads.

Every token gets two forms. The *kind* (one byte) keeps keywords, operators and punctuation
as they are and folds every identifier into one symbol and every literal into one symbol per
literal kind (number, string, character): equal kinds mean "equal up to renaming". The
*exact* form is a 16-bit hash of the token's text. Comments are not tokens; preprocessor
lines are (a copied ``#define`` block is copied code). The lexer is a regular expression over
the bytes rather than a walk of the tree-sitter parse: it needs no grammar and is several
times faster in CPython, and tree-sitter's leaves split the same way for the tokens that
matter (identifiers, literals, operators).
"""

from __future__ import annotations

import re
import zlib
from array import array
from dataclasses import dataclass
from itertools import accumulate, filterfalse

_LEXEME = re.compile(
    rb"""
    [ \t\r\f\v]*(                             # blanks before a lexeme are skipped in one go
    //[^\n]*                                   # line comment
    |/\*.*?(?:\*/|\Z)                          # block comment (may run to the end)
    |\n
    |[A-Za-z_$][A-Za-z0-9_$]*                  # identifier or keyword
    |\.?[0-9](?:[eEpP][+-]|[A-Za-z0-9_.'])*    # pp-number
    |"(?:\\.|[^"\\\n])*"?                      # string literal (unterminated: to line end)
    |'(?:\\.|[^'\\\n])*'?                      # character literal
    |->\*?|\+\+|--|<<=|>>=|<=>|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%&|^]=|::|\#\#|\.\.\.|\.\*
    |\S)                                       # any other single character
    """,
    re.VERBOSE | re.DOTALL,
)

_KEYWORDS = (
    b"auto break case char const continue default do double else enum extern float for goto "
    b"if inline int long register restrict return short signed sizeof static struct switch "
    b"typedef union unsigned void volatile while _Bool _Complex _Atomic _Noreturn _Static_assert "
    b"_Alignas _Alignof _Thread_local bool true false nullptr alignas alignof asm catch class "
    b"const_cast constexpr consteval constinit decltype delete dynamic_cast explicit export "
    b"friend mutable namespace new noexcept operator private protected public "
    b"reinterpret_cast static_assert static_cast template this thread_local throw try typeid "
    b"typename using virtual wchar_t char8_t char16_t char32_t override final co_await "
    b"co_return co_yield concept requires NULL"
).split()
_PUNCTUATION = (
    b"-> ->* ++ -- <<= >>= <=> << >> <= >= == != && || += -= *= /= %= &= |= ^= :: ## ... .* "
    b"{ } ( ) [ ] ; , . : ? ~ ! + - * / % & | ^ = < > # \\ @ `"
).split()

IDENT = 250
"""Kind of every identifier (that is not a keyword)."""
NUMBER = 251
"""Kind of every numeric literal."""
STRING = 252
"""Kind of every string literal."""
CHAR = 253
"""Kind of every character literal."""
OTHER = 254
"""Kind of any other single character."""
_NEWLINE = 1
_COMMENT = 2
_MULTI_LINE_COMMENT = 3

_TABLE: dict[bytes, int] = {
    token: code
    for code, token in enumerate((*_KEYWORDS, *_PUNCTUATION), start=_MULTI_LINE_COMMENT + 1)
}
assert len(_TABLE) + _MULTI_LINE_COMMENT < IDENT, "token kinds must fit in one byte"
_TABLE[b"\n"] = _NEWLINE
_NEWLINE_BYTE = bytes((_NEWLINE,))
_COMMENT_BYTE = bytes((_COMMENT,))
_MULTI_BYTE = bytes((_MULTI_LINE_COMMENT,))
_MULTI = re.compile(re.escape(_MULTI_BYTE))
_NOT_TOKENS = bytes((_NEWLINE, _COMMENT, _MULTI_LINE_COMMENT))
_CODES: dict[bytes, int] = {}
"""Per-process cache: the code of every lexeme seen (cleared past ``_MAX_CACHED``)."""
_HASHES: dict[bytes, int] = {}
"""Per-process cache: the 16-bit exact hash of every lexeme seen."""
_SKIP: set[bytes] = set()
"""Per-process cache: the lexemes seen that are comments or newlines."""
_MAX_CACHED = 200_000


def _kind_of(token: bytes) -> int:
    """The kind of a token the table does not list."""
    first = token[0]
    if first == 0x2F and len(token) > 1 and token[1] in b"/*":  # comment
        return _MULTI_LINE_COMMENT if b"\n" in token else _COMMENT
    if first == 0x22:  # "
        return STRING
    if first == 0x27:  # '
        return CHAR
    if 0x30 <= first <= 0x39 or first == 0x2E:  # digit or .5
        return NUMBER
    if first == 0x5F or first == 0x24 or token[:1].isalpha():
        return IDENT
    return OTHER


@dataclass(frozen=True, slots=True)
class TokenStreams:
    """The tokens of one file content, as compact arrays."""

    kinds: bytes
    """One byte per token: its kind (identifiers and literals folded)."""
    exact: bytes
    """Two bytes per token (native order): a 16-bit hash of the token's text."""
    line_starts: array[int]
    """For each physical line (index 0 is line 1), the index of its first token (or of the
    next token, when the line has none)."""

    @property
    def count(self) -> int:
        """Number of tokens."""
        return len(self.kinds)

    def line_of(self, token: int) -> int:
        """The 1-based line of token ``token``."""
        from bisect import bisect_right

        return bisect_right(self.line_starts, token)


def tokenize(source: bytes) -> TokenStreams:
    """The token streams of one C/C++ source.

    The per-token work runs in C (``findall``, ``map``, ``translate``, ``split``): lexemes map
    to codes (and to exact hashes) through per-process tables that Python fills once per
    distinct lexeme; comments and newlines are then dropped from the code stream, which
    first gives the number of tokens of every line.
    """
    lexemes = _LEXEME.findall(source)
    if len(_CODES) > _MAX_CACHED:
        _CODES.clear()
        _HASHES.clear()
        _SKIP.clear()
    for text in set(lexemes).difference(_CODES):
        code = _CODES[text] = _TABLE.get(text) or _kind_of(text)
        _HASHES[text] = zlib.crc32(text) & 0xFFFF
        if code <= _MULTI_LINE_COMMENT:
            _SKIP.add(text)
    codes = bytes(map(_CODES.__getitem__, lexemes))
    exact = array("H", map(_HASHES.__getitem__, filterfalse(_SKIP.__contains__, lexemes)))
    return TokenStreams(
        codes.translate(None, _NOT_TOKENS), exact.tobytes(), _starts(codes, lexemes)
    )


def _starts(codes: bytes, lexemes: list[bytes]) -> array[int]:
    """Index of the first token of every line, from the codes of all lexemes."""
    lined = codes.replace(_COMMENT_BYTE, b"")
    if _MULTI_BYTE in lined:  # each comment over several lines stands for its line breaks
        breaks = [_NEWLINE_BYTE * lexemes[m.start()].count(b"\n") for m in _MULTI.finditer(codes)]
        parts = lined.split(_MULTI_BYTE)
        lined = b"".join(part + brk for part, brk in zip(parts, [*breaks, b""], strict=True))
    return array("I", accumulate(map(len, lined.split(_NEWLINE_BYTE)[:-1]), initial=0))
