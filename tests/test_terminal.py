"""Terminal output escapes what the evaluated input could use to take over the screen."""

from __future__ import annotations

import pytest

from assay.cli.terminal import printable


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("src/main.c", "src/main.c"),
        ("évaluation/naïve.c", "évaluation/naïve.c"),
        ("a\x1b]0;owned\x07b.c", "a\\x1b]0;owned\\x07b.c"),
        ("line\nbreak\r.c", "line\\x0abreak\\x0d.c"),
        ("tab\there", "tab\\x09here"),
        ("x\x9by", "x\\x9by"),
        ("evil\u202egnp.exe", "evil\\u202egnp.exe"),
        ("\u2066isolate\u2069", "\\u2066isolate\\u2069"),
    ],
)
def test_control_and_bidi_characters_are_escaped(raw: str, shown: str) -> None:
    assert printable(raw) == shown
