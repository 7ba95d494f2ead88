"""The Hyperscan pre-filter of the binary signature rows (analyze/binaries/prefilter.py).

The pre-filter may only leave out a row that cannot match: every test here compares it with
the exact Python path (``signatures.row_hits``, the regex and ``bytes in`` of each row). The
same comparison on real Debian binaries is tests/realworld/test_binary_prefilter_realworld.py.
"""

from __future__ import annotations

import logging
import re
from concurrent.futures import ThreadPoolExecutor
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assay.analyze.binaries import hsregex, prefilter, signatures
from assay.analyze.binaries.prefilter import Gate, Prefilter

CONTENT_ROWS = [row for row in signatures.signatures() if row.pattern is not None]


def _gate(row: signatures.Signature) -> Gate:
    return Gate(row.pattern, row.anywhere, row.requires, row.unless, row.near)


@cache
def _table(gate: Gate) -> Prefilter:
    return Prefilter([gate])


def _may_match(gate: Gate, data: bytes, view: bytes | None = None) -> bool:
    return _table(gate).candidates(data, data if view is None else view) == [0]


def test_every_row_of_the_table_is_in_the_database() -> None:
    """No row of the shipped table runs unfiltered: each regex was rewritten and compiled."""
    table = signatures.rows_filter()
    assert table.active
    assert table.ungated == frozenset()


@pytest.mark.parametrize("row", CONTENT_ROWS, ids=[f"{r.library}/{r.id}" for r in CONTENT_ROWS])
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_a_match_of_the_python_regex_is_reported(
    row: signatures.Signature, data: st.DataObject
) -> None:
    """Bytes that the row's Python regex finds, generated from the regex itself with some bytes
    around them, are reported by the rewritten expression (the pattern alone, no literals)."""
    assert row.pattern is not None
    text = data.draw(st.from_regex(row.pattern, fullmatch=False))
    assert row.pattern.search(text)
    assert _may_match(Gate(row.pattern, row.anywhere), text)


@pytest.mark.parametrize(
    ("pattern", "hit", "miss"),
    [
        # a repeat in Python, four literal bytes in PCRE
        (rb"xa{,3}b", b"--xaab--", b"--xaaaab--"),
        # a class of six bytes in Python ("[", ":", "a", "l", "p", "h") then "]x", not a POSIX
        # class of letters then "x" as in PCRE
        (rb"[[:alpha:]]x", b"-a]x-", b"-bx-"),
        # ASCII classes of a bytes pattern
        (rb"\w\d\s\W", b"a1\x0b-", b"a1\xa0-"),
        # a back-reference, a look-behind and a look-ahead
        (rb"(?P<v>\d\.\d)=(?P=v)", b"1.2=1.2", b"1.2-1.2"),
        (rb"(?<![\w.])(?P<version>1\.\d+)\x00", b" 1.22\x00", b"1.22x"),
        (rb"(?<=\x00)(?P<version>\d+\.\d+)(?=\x00)", b"\x001.2\x00", b"1x2"),
        (rb"a.b|^c$", b"a-b", b"ab"),
    ],
)
@pytest.mark.filterwarnings("ignore:Possible nested set:FutureWarning")
def test_rewritten_syntax_means_what_python_means(pattern: bytes, hit: bytes, miss: bytes) -> None:
    compiled = re.compile(pattern)
    assert compiled.search(hit) and _may_match(Gate(compiled), hit)
    assert not compiled.search(miss) and not _may_match(Gate(compiled), miss)


def test_a_row_hyperscan_refuses_still_matches() -> None:
    """A regex whose rewrite matches the empty buffer (the look-behind is dropped) is refused
    by Hyperscan: the row runs on every file, and finds what the regex finds."""
    row = signatures.Signature("demo", "empty", re.compile(rb"(?<=v)(?P<version>\d*)"), None, None)
    table = Prefilter([_gate(row)])
    assert table.active and table.ungated == frozenset({0})
    data = b"\0demo v7\0"
    assert table.candidates(data, data) == [0]
    assert [h.version for h in signatures.row_hits(row, data, "x")] == ["7"]


def test_a_row_that_cannot_be_rewritten_keeps_its_literal_gates() -> None:
    """A conditional has no rewrite: the pattern is not in the database, its ``requires``
    still is."""
    pattern = re.compile(rb"(?P<q>\[)?v(?P<version>\d+)(?(q)\])")
    with pytest.raises(hsregex.Untranslatable):
        hsregex.translate(pattern)
    row = signatures.Signature("demo", "cond", pattern, None, b"demo_version")
    table = Prefilter([_gate(row)])
    assert table.ungated == frozenset({0})
    with_symbol, without = b"demo_version\0[v12]", b"other\0[v12]"
    assert table.candidates(with_symbol, with_symbol) == [0]
    assert [h.version for h in signatures.row_hits(row, with_symbol, "x")] == ["12"]
    assert table.candidates(without, without) == []
    assert signatures.row_hits(row, without, "x") == []


def test_literal_gates_and_views() -> None:
    """``requires`` and ``unless`` read the whole file, the pattern and ``near`` the view;
    an ``anywhere`` pattern reads the whole file."""
    pattern = re.compile(rb"\x00(?P<version>\d+\.\d+)\x00")
    data, strings = b"sym_version\0\x001.2\0NEAR\0", b"\x001.2\0NEAR\0"
    assert _may_match(Gate(pattern, requires=b"sym_version"), data, strings)
    assert not _may_match(Gate(pattern, requires=b"sym_version"), strings, strings)
    assert not _may_match(Gate(pattern, unless=b"sym_"), data, strings)
    assert _may_match(Gate(pattern, near=b"NEAR"), data, strings)
    assert not _may_match(Gate(pattern, near=b"sym_version"), data, strings)
    assert not _may_match(Gate(re.compile(rb"sym_v"), anywhere=False), data, strings)
    assert _may_match(Gate(re.compile(rb"sym_v"), anywhere=True), data, strings)


def test_file_name_rows_always_run() -> None:
    table = Prefilter([Gate(), Gate(re.compile(rb"never"))])
    assert table.candidates(b"abc", b"abc") == [0]


def test_without_hyperscan_every_row_runs(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """No hyperscan module (no wheel for the platform): a log line, and every row runs on every
    file, so ``detect`` finds the same as with the pre-filter."""
    data = b"\0OpenSSL 3.0.20 7 Apr 2026\0sqlite3_libversion\0\x003.40.1\0BusyBox v1.35.0\0"
    expected = signatures.detect(data, "libz.so.1.2.13")
    monkeypatch.setattr(prefilter, "hyperscan", None)
    monkeypatch.setattr(prefilter, "_MISSING", "No module named 'hyperscan'")
    signatures.rows_filter.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger="assay"):
            table = signatures.rows_filter()
        assert not table.active
        assert "hyperscan is not importable" in caplog.text
        assert table.candidates(data, data) == list(range(len(signatures.signatures())))
        assert signatures.detect(data, "libz.so.1.2.13") == expected
    finally:
        signatures.rows_filter.cache_clear()
    assert {(h.library, h.version) for h in expected} >= {
        ("openssl", "3.0.20"), ("sqlite", "3.40.1"), ("busybox", "1.35.0"), ("zlib", "1.2.13")
    }  # fmt: skip


def test_threads_scan_with_their_own_scratch() -> None:
    """Hyperscan's scratch space serves one scan at a time: each thread gets its own, so
    concurrent scans give the answers of one thread."""
    table = signatures.rows_filter()
    files = [  # a megabyte each, so that scans overlap in time (the GIL is released)
        b"\x01" * (1 << 20) + b"\0OpenSSL 3.0.20 7 Apr 2026\0" + b"\0BusyBox v1.35.0\0" * (n % 2)
        for n in range(32)
    ]
    expected = [table.candidates(data, data) for data in files]
    with ThreadPoolExecutor(8) as pool:
        for _ in range(4):
            assert list(pool.map(lambda data: table.candidates(data, data), files)) == expected
