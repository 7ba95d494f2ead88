"""Token fingerprints: tokenizer cases, layout-blind hashes, winnowing similarity, determinism."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest

from assay.correlate.components.fingerprint import (
    SIMILAR,
    digest,
    normalised_hash,
    similarity,
    tokens,
    winnow,
)


def synthetic_c(seed: int, functions: int = 30) -> bytes:
    """A deterministic C file of about ten lines per function, in one house style."""
    rng = random.Random(seed)
    names = ["len", "buf", "ctx", "off", "flags", "count", "state", "out", "src", "dst"]
    calls = ["memcpy", "check", "update", "reset", "emit", "read_byte", "crc32"]
    lines = ["#include <stdio.h>", '#include "local.h"', ""]
    for index in range(functions):
        a, b, c = rng.sample(names, 3)
        lines += [
            f"static int {rng.choice(calls)}_{seed}_{index}(int {a}, int {b})",
            "{",
            f"    int {c} = {rng.randint(0, 999)};",
            f"    if ({a} > {rng.randint(1, 64)}) {{",
            f"        {c} += {rng.choice(calls)}({a}, {b}, {rng.randint(0, 9)});",
            "    }",
            f"    for ({b} = 0; {b} < {a}; {b}++)",
            f"        {c} ^= {rng.choice(calls)}({b}) << {rng.randint(1, 7)};",
            f"    return {c} + {a} * {rng.randint(2, 31)};",
            "}",
            "",
        ]
    return "\n".join(lines).encode()


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (b"a = b+1;", ["a", "=", "b", "+", "1", ";"]),
        (b"x // comment\ny", ["x", "y"]),
        (b"x /* a\n * b */ y", ["x", "y"]),
        (b"x /* never closed", ["x"]),
        (b'"a /* not */ b" // c', ['"a /* not */ b"']),
        (b'"esc\\"aped"', ['"esc\\"aped"']),
        (b"'\\'' '/'", ["'\\''", "'/'"]),
        (b"#define F(a) \\\n  (a)", ["#", "define", "F", "(", "a", ")", "(", "a", ")"]),
        (b"p->q <<= 2; r::s", ["p", "->", "q", "<<=", "2", ";", "r", "::", "s"]),
        (b"0x1p-3 1'000 .5e+2", ["0x1p-3", "1'000", ".5e+2"]),
        (b"a /= b / c", ["a", "/=", "b", "/", "c"]),
        (b'"open\nx', ['"open', "x"]),
    ],
)
def test_tokens(source: bytes, expected: list[str]) -> None:
    assert tokens(source) == [t.encode() for t in expected]


def test_normalised_hash_ignores_layout_comments_and_line_endings() -> None:
    original = b"int f(int a)\n{\n    return a + 1; /* one */\n}\n"
    variants = [
        b"int f(int a) { return a+1; }",
        b"int f(int a)\r\n{\r\n\treturn a + 1; // one\r\n}\r\n",
        b"/* header */\nint\nf (int a)\n{\n  return a\n    + 1;\n}",
        b"int f(int a) \\\n{ return a + 1; }",
    ]
    for variant in variants:
        assert normalised_hash(variant) == normalised_hash(original)


@pytest.mark.parametrize(
    "changed",
    [b"int f(int b) { return b + 1; }", b'int f(int a) { return a + "1"; }', b"int f(int a);"],
)
def test_normalised_hash_sees_code_changes(changed: bytes) -> None:
    assert normalised_hash(changed) != normalised_hash(b"int f(int a) { return a + 1; }")


def test_a_few_edited_lines_stay_similar() -> None:
    original = synthetic_c(1)
    lines = original.split(b"\n")
    lines[40] = b"    int extra = 12345;"
    lines[150] = lines[150].replace(b"return", b"return -")
    lines.insert(260, b"    log_message(__func__);")
    edited = b"\n".join(lines)
    assert len(original.split(b"\n")) > 300
    assert similarity(winnow(original), winnow(edited)) >= 0.75 > SIMILAR


def test_unrelated_files_in_the_same_style_are_not_similar() -> None:
    assert similarity(winnow(synthetic_c(1)), winnow(synthetic_c(2))) < 0.1 < SIMILAR


def test_reformatting_keeps_every_fingerprint() -> None:
    original = synthetic_c(3)
    reformatted = original.replace(b"    ", b"\t").replace(b"\n", b"  /* x */\r\n")
    assert winnow(reformatted) == winnow(original)
    assert similarity(winnow(original), winnow(reformatted)) == 1.0


def test_winnow_edge_cases() -> None:
    assert winnow(b"") == ()
    assert winnow(b"/* only a comment */") == ()
    assert len(winnow(b"int x;")) == 1
    values = winnow(synthetic_c(4))
    assert list(values) == sorted(set(values))
    assert all(0 <= v < 2**63 for v in values)


def test_similarity_is_jaccard() -> None:
    assert similarity([1, 2, 3], [2, 3, 4]) == 0.5
    assert similarity([], []) == 0.0
    assert similarity([1], [1]) == 1.0


def test_digest_matches_the_separate_functions() -> None:
    source = synthetic_c(5)
    found = digest(source)
    assert found.nhash == normalised_hash(source)
    assert found.grams == winnow(source)
    assert found.lines == source.count(b"\n")
    assert digest(b"a;\nb;\n").lines == digest(b"a;\nb;").lines == 2


def test_fingerprints_are_the_same_in_another_process() -> None:
    source = synthetic_c(6, functions=5)
    script = (
        "import sys; from assay.correlate.components.fingerprint import winnow;"
        "print(','.join(map(str, winnow(sys.stdin.buffer.read()))))"
    )
    run = subprocess.run(
        [sys.executable, "-c", script],
        input=source,
        capture_output=True,
        check=True,
        env={"PYTHONHASHSEED": "12345"},
    )
    assert run.stdout.decode().strip() == ",".join(map(str, winnow(source)))
