"""unsafe-calls against flawfinder on real upstream releases (curl and OpenSSL).

flawfinder 2.0.20 runs on the same tree (``--csv --dataonly --minlevel=0``); its hits whose
function is an unbounded row of ``unsafe_calls.toml`` must be found by assay at the same file,
line and function, at least 90% of them. Every miss is put down to a cause; the causes are the
systematic differences between a lexical scanner and a parse, all expected:

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
- ``parser-recovery``: code tree-sitter could not parse (macros it cannot see through) where the
  name did not come out as a callee.

Measured (Debian bookworm sources): curl 7.88.1: 418 hits, 415 matched (99.3%), 3 ``directive``
(``#undef sprintf``, ``#undef vsprintf``, ``#define sprintf curlx_msprintf`` in lib/curlx.h).
OpenSSL 3.0.20: 1075 hits, 1075 matched (100%). Outside this test, the same comparison gives
busybox 1.35.0 98.9% (3 directive, 5 line-drift, 1 allocating), sqlite 3.40.1 99.9%, mbedtls
2.28.3 100%, lwip 2.1.3 95.8%, libxml2 2.9.14 92.0% (16 directive: trio.h redefines the stdio
names) and wolfssl 5.5.4 93.2% (directives, prototypes, ``typeof(memcpy) *memcpy;``).

The other way round, assay also reports calls flawfinder leaves out on purpose:
``memcpy(&x, src, sizeof(x))`` (its c_memcpy hook drops them; 59 in OpenSSL, 4 in curl) and
functions it has no rule for (memmove, memset, strtok...).
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
"""Share of flawfinder's unbounded-call hits that assay must find at the same line."""
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
"""Every known reason for a miss (see the module docstring)."""

ANALYZER = unsafe_calls.configure({})


@dataclass(frozen=True, slots=True)
class Hit:
    """One call site as (path relative to the release, line, function)."""

    path: str
    line: int
    name: str


def flawfinder_hits(root: Path) -> list[Hit]:
    """flawfinder's hits on ``root`` whose function is an unbounded row."""
    exe = shutil.which("flawfinder", path=str(Path(sys.executable).parent)) or "flawfinder"
    args = [exe, "--csv", "--dataonly", "--quiet", "--minlevel=0", "."]
    run = subprocess.run(args, cwd=root, capture_output=True, text=True, check=False)
    # NOTE: flawfinder exits 15 when some file is not valid UTF-8; its other results stand.
    assert run.returncode in (0, 15), run.stderr
    rows = csv.DictReader(io.StringIO(run.stdout))
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
    if re.search(rf"^\s*(?:extern\s+)?[\w\s*]+[\s*]{name}\s*\([^)]*\)\s*;", text):
        return "prototype"
    return "parser-recovery"


@pytest.mark.parametrize("spec", ["curl/bookworm", "openssl/bookworm"])
def test_flawfinder_unbounded_hits_are_found(spec: str, upstream: Callable[[str], Any]) -> None:
    root = Path(upstream(spec).path)
    hits = flawfinder_hits(root)
    assert len(hits) > 100, "flawfinder found almost nothing: wrong tree?"
    found, skipped = assay_sites(root, (h.path for h in hits))
    missed = [h for h in hits if h not in found]
    causes = Counter(cause(root, h, found, skipped) for h in missed)
    share = 1 - len(missed) / len(hits)
    print(f"{spec}: {len(hits)} flawfinder hits, {share:.1%} matched; misses {dict(causes)}")
    for hit in missed:
        print(f"  {hit.path}:{hit.line}: {hit.name} ({cause(root, hit, found, skipped)})")
    assert share >= MIN_MATCH
    assert set(causes) <= CAUSES
