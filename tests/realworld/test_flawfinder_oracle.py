"""unsafe-calls against flawfinder on real upstream releases (curl and OpenSSL).

flawfinder 2.0.20 runs on the same tree (``--csv --dataonly --minlevel=0``). Its whole
``buffer`` category is compared: every function of that category in flawfinder's rule set is
either an unbounded row of assay's table (compared), or listed below with the reason it is not
compared (``EXCLUDED``), or a known gap of assay's table that must have no hit in the compared
releases (``GAPS``). A new name in flawfinder's category fails the test until it is placed.

Both directions are bounded. At least 90% of flawfinder's compared hits must be found by assay
at the same file, line and function, and every miss must be put down to a cause that is checked
on the source (a miss no check explains fails the test). Every call assay reports that
flawfinder does not (for the functions flawfinder has hits for) must be explained the same way,
and there may be at most 10% of them. The causes of misses are the systematic differences
between a lexical scanner and a parse:

- ``directive``: the name in ``#undef sprintf`` or as the name of ``#define sprintf x``: no call;
- ``member``: ``s->memcpy(...)`` or ``x.strcpy(...)``, a struct member or method, not the C
  function;
- ``not-a-call``: the name without a following ``(`` on its line (a function pointer, or a
  prototype split over lines);
- ``prototype``: a declaration such as ``char *strcpy(char *, const char *);``;
- ``allocating``: ``realpath(path, NULL)``, which assay counts as bounded (it allocates);
- ``line-drift``: flawfinder's line count drifts by one after some preprocessor lines (in
  busybox 1.35.0 include/platform.h, after the empty ``#  define __attribute__(x)``), so its
  hit is one line off assay's call;
- ``parser-recovery``: an ERROR or missing node of tree-sitter's parse covers the line (macros
  it cannot see through), so the name did not come out as a callee;
- ``skipped``: the file is over assay's parse limits.

The one cause of assay's extra calls: ``sizeof-destination``, ``memcpy(&x, src, sizeof(x))``,
which flawfinder's ``c_memcpy`` hook drops (the size is the destination's own); and
``line-drift`` as above. Measured: curl 7.88.1 has 4 extra calls (all ``sizeof-destination``),
OpenSSL 3.0.20 76 (75 ``sizeof-destination``, 1 ``line-drift``).

Measured (Debian bookworm sources): curl 7.88.1: 418 hits, 415 matched (99.3%), 3 ``directive``
(``#undef sprintf``, ``#undef vsprintf``, ``#define sprintf curlx_msprintf`` in lib/curlx.h).
OpenSSL 3.0.20: 1075 hits, 1075 matched (100%). Outside this test, the same comparison gives
busybox 1.35.0 98.9% (3 directive, 5 line-drift, 1 allocating), sqlite 3.40.1 99.9%, mbedtls
2.28.3 100%, lwip 2.1.3 95.8%, libxml2 2.9.14 92.0% (16 directive: trio.h redefines the stdio
names) and wolfssl 5.5.4 93.2% (directives, prototypes, ``typeof(memcpy) *memcpy;``).

Functions assay reports that flawfinder has no buffer rule for (memmove, memset, strtok...) are
outside the comparison.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from assay.analyze import unsafe_calls
from assay.ingest.classify import source_kind
from assay.model import FileKind
from assay.parse import ParseLimits, check_limits, parse

pytestmark = pytest.mark.realworld

MIN_MATCH = 0.90
"""Share of flawfinder's compared hits that assay must find at the same line."""
MAX_EXTRA = 0.10
"""Calls assay reports that flawfinder does not, as a share of flawfinder's compared hits."""
CAUSES = frozenset(
    {
        "directive",
        "member",
        "not-a-call",
        "prototype",
        "allocating",
        "line-drift",
        "parser-recovery",
        "skipped",
    }
)
"""Every known reason for a miss (see the module docstring); each is checked on the source."""
EXTRA_CAUSES = frozenset({"sizeof-destination", "line-drift"})
"""Every known reason for a call assay reports and flawfinder does not."""

_NOT_A_CALL = "a fixed-size array declaration, not a call"
_READS = "reads up to a NUL (an over-read risk); writes nothing"
_INPUT = "returns or reads untrusted input into a caller-sized buffer; copies nothing unbounded"
_SIZED = "takes the destination's size: bounded"
EXCLUDED = {
    **dict.fromkeys(["char", "TCHAR", "wchar_t"], _NOT_A_CALL),
    **dict.fromkeys(["strlen", "wcslen", "_tcslen", "_mbslen"], _READS),
    **dict.fromkeys(
        ["getenv", "curl_getenv", "g_get_home_dir", "g_get_tmp_dir", "getchar", "fgetc"], _INPUT
    ),
    **dict.fromkeys(["getc", "read", "_gettc"], _INPUT),
    **dict.fromkeys(["getopt", "getopt_long"], "parses argv (old versions overflowed inside)"),
    **dict.fromkeys(["equal", "mismatch", "is_permutation"], "C++ algorithms over iterators"),
    "MultiByteToWideChar": "takes its output size (the risk is characters vs bytes): bounded",
    **dict.fromkeys(
        ["strncpy", "strncat", "lstrcpyn", "StrCpyN", "swprintf", "vswprintf", "wcsncat"],
        "a bounded row of assay's table: counted, never a finding",
    ),
    "wcsncpy": "a bounded row of assay's table: counted, never a finding",
    **dict.fromkeys(
        ["StrCatN", "StrCatNA", "StrCatNW", "StrNCat", "StrNCatA", "StrNCatW", "StrNCpy"], _SIZED
    ),
    **dict.fromkeys(
        ["StrNCpyA", "StrNCpyW", "StrCpyNA", "StrCpyNW", "lstrcatn", "lstrcatnA", "lstrcatnW"],
        _SIZED,
    ),
    **dict.fromkeys(
        ["lstrcpynA", "lstrcpynW", "lstrncat", "_tcsncat", "_tcsncpy", "_mbsnbcat", "_mbsnbcpy"],
        _SIZED,
    ),
    **dict.fromkeys(
        ["_mbsncpy", "strcpynA", "strCatBuff", "StrCatBuffA", "StrCatBuffW", "StrCatChainW"],
        _SIZED,
    ),
}
"""flawfinder ``buffer`` functions that are not compared, each with the reason."""
GAPS = frozenset(
    {
        "StrcatW",
        "strcpyA",
        "strcpyW",
        "_tccpy",
        "_mbccpy",
        "_ftcscpy",
        "_ftcscat",
        "_tccat",
        "_mbccat",
        "_ftscanf",
        "_tscanf",
        "vfwscanf",
        "vswscanf",
        "vwscanf",
        "getpw",
        "streadd",
        "strecpy",
        "strtrns",
        "strccpy",
        "strcadd",
    }
)
"""Unbounded functions of flawfinder's ``buffer`` category that assay's table lacks (rare
Windows, Solaris and legacy names): the compared releases must have no hit for them."""

ANALYZER = unsafe_calls.configure({})


@dataclass(frozen=True, slots=True)
class Hit:
    """One call site as (path relative to the release, line, function)."""

    path: str
    line: int
    name: str


def buffer_functions() -> set[str]:
    """Every function of flawfinder's ``buffer`` category (its rule keys join names by ``|``)."""
    import flawfinder  # type: ignore[import-untyped]  # the oracle's own rule set

    return {
        name
        for names, rule in flawfinder.c_ruleset.items()
        if rule[4] == "buffer"
        for name in names.split("|")
    }


def flawfinder_rows(root: Path) -> list[dict[str, str]]:
    """flawfinder's ``buffer`` rows on ``root``."""
    exe = shutil.which("flawfinder", path=str(Path(sys.executable).parent)) or "flawfinder"
    args = [exe, "--csv", "--dataonly", "--quiet", "--minlevel=0", "."]
    run = subprocess.run(args, cwd=root, capture_output=True, text=True, check=False)
    # NOTE: flawfinder exits 15 when some file is not valid UTF-8; its other results stand.
    assert run.returncode in (0, 15), run.stderr
    return [row for row in csv.DictReader(io.StringIO(run.stdout)) if row["Category"] == "buffer"]


def flawfinder_hits(rows: list[dict[str, str]]) -> list[Hit]:
    """The compared rows: functions that are unbounded rows of assay's table."""
    return [
        Hit(row["File"].removeprefix("./"), int(row["Line"]), row["Name"])
        for row in rows
        if row["Name"] in ANALYZER.table.unbounded
    ]


def assay_sites(root: Path, paths: Iterable[str]) -> tuple[set[Hit], set[str]]:
    """assay's unbounded call sites in ``paths``, and the paths the parse limits skip."""
    found: set[Hit] = set()
    skipped: set[str] = set()
    for path in sorted(set(paths)):
        source = (root / path).read_bytes()
        if check_limits(source, ParseLimits()) is not None:
            skipped.add(path)
            continue
        parsed = parse(source, source_kind(path) or FileKind.C)
        for finding in ANALYZER.analyze(parsed).findings:
            found.add(Hit(path, finding.start_line, str(finding.properties["function"])))
    return found, skipped


def cause(root: Path, hit: Hit, found: set[Hit], skipped: set[str]) -> str:
    """Why assay has no call at a flawfinder hit (one of ``CAUSES``)."""
    if hit.path in skipped:
        return "skipped"
    if {Hit(hit.path, hit.line + d, hit.name) for d in (-1, 1)} & found:
        return "line-drift"
    lines = (root / hit.path).read_bytes().decode("utf-8", "replace").splitlines()
    text = lines[hit.line - 1] if hit.line <= len(lines) else ""
    name = re.escape(hit.name)
    if re.search(rf"\b{name}\s*\([^,()]*,\s*(?:NULL|0|nullptr)\s*\)", text):
        return "allocating"
    if text.lstrip().startswith("#"):
        return "directive"
    if re.search(rf"(?:\.|->)\s*{name}\b", text):
        return "member"
    if not re.search(rf"\b{name}\s*\(", text):
        return "not-a-call"
    declared = re.match(rf"\s*((?:[A-Za-z_]\w*[\s*]+)+){name}\s*\([^)]*\)\s*;", text)
    if declared is not None and not set(declared[1].split()) & _STATEMENTS:
        return "prototype"
    if hit.line in error_lines(root / hit.path):
        return "parser-recovery"
    return "unexplained"


_STATEMENTS = frozenset({"return", "else", "do", "case", "goto", "sizeof"})
"""Words that may stand before a call in a statement: such a line is no prototype."""


def error_lines(path: Path) -> set[int]:
    """Lines (1-based) covered by an ERROR or missing node of tree-sitter's parse."""
    source = path.read_bytes()
    tree = parse(source, source_kind(str(path)) or FileKind.C).tree
    lines: set[int] = set()
    pending = [tree.root_node]
    while pending:
        node = pending.pop()
        if node.type == "ERROR" or node.is_missing:
            lines.update(range(node.start_point[0] + 1, node.end_point[0] + 2))
        elif node.has_error:
            pending.extend(node.children)
    return lines


def extra_cause(root: Path, site: Hit, hits: set[Hit]) -> str:
    """Why flawfinder has no hit at a call assay reports (one of ``EXTRA_CAUSES``)."""
    if {Hit(site.path, site.line + d, site.name) for d in (-1, 1)} & hits:
        return "line-drift"
    lines = (root / site.path).read_bytes().decode("utf-8", "replace").splitlines()
    text = " ".join(lines[site.line - 1 : site.line + 3])
    arguments = call_arguments(text, site.name)
    if site.name == "memcpy" and arguments is not None and len(arguments) == 3:
        size = re.fullmatch(r"sizeof\s*\(\s*([^)\s]*)\s*\)", arguments[2].strip())
        if size is not None and arguments[0].strip().lstrip("&").strip() == size[1]:
            return "sizeof-destination"
    return "unexplained"


def call_arguments(text: str, name: str) -> list[str] | None:
    """The top-level arguments of the first call of ``name`` in ``text`` (``None`` if cut)."""
    start = re.search(rf"\b{re.escape(name)}\s*\(", text)
    if start is None:
        return None
    arguments, depth, current = [], 0, ""
    for char in text[start.end() :]:
        if char == "(":
            depth += 1
        elif char == ")":
            if depth == 0:
                return [*arguments, current]
            depth -= 1
        elif char == "," and depth == 0:
            arguments.append(current)
            current = ""
            continue
        current += char
    return None


def test_every_buffer_function_of_flawfinder_is_placed() -> None:
    """The comparison covers flawfinder's whole category: each function is compared, excluded
    with a reason, or a listed gap; nothing is in two places."""
    functions = buffer_functions()
    compared = functions & ANALYZER.table.unbounded
    assert functions == compared | set(EXCLUDED) | GAPS, "a function is not placed"
    assert not (compared & set(EXCLUDED)) and not (compared & GAPS) and not (set(EXCLUDED) & GAPS)
    assert set(EXCLUDED) | GAPS <= functions  # no stale entry
    assert len(compared) == 37


@pytest.mark.parametrize("spec", ["curl/bookworm", "openssl/bookworm"])
def test_flawfinder_buffer_hits_are_found(spec: str, upstream: Callable[[str], Any]) -> None:
    root = Path(upstream(spec).path)
    rows = flawfinder_rows(root)
    assert {row["Name"] for row in rows} <= buffer_functions()
    assert not [row for row in rows if row["Name"] in GAPS], "a gap of assay's table is hit"
    hits = flawfinder_hits(rows)
    assert len(hits) > 100, "flawfinder found almost nothing: wrong tree?"
    sources = [str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()]
    found, skipped = assay_sites(root, [path for path in sources if source_kind(path)])
    missed = [h for h in hits if h not in found]
    causes = Counter(cause(root, h, found, skipped) for h in missed)
    share = 1 - len(missed) / len(hits)
    print(f"{spec}: {len(hits)} flawfinder hits, {share:.1%} matched; misses {dict(causes)}")
    for hit in missed:
        print(f"  {hit.path}:{hit.line}: {hit.name} ({cause(root, hit, found, skipped)})")
    assert share >= MIN_MATCH
    assert set(causes) <= CAUSES
    # The other way: calls of the functions flawfinder reports here that it did not report.
    reported = {h.name for h in hits}
    extra = sorted(
        (site for site in found if site.name in reported and site not in set(hits)),
        key=lambda site: (site.path, site.line),
    )
    extra_causes = Counter(extra_cause(root, site, set(hits)) for site in extra)
    print(f"{spec}: {len(extra)} calls assay reports and flawfinder does not: {dict(extra_causes)}")
    for site in extra:
        print(f"  {site.path}:{site.line}: {site.name} ({extra_cause(root, site, set(hits))})")
    assert len(extra) <= MAX_EXTRA * len(hits)
    assert set(extra_causes) <= EXTRA_CAUSES
