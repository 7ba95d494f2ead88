"""Find suppressions: pragmas and annotation comments in C/C++, warning flags in build files.

Pragmas are read from the parse's preprocessor nodes and annotations from its comment nodes,
so that a ``NOLINT`` inside a string or a pragma inside a comment is not one. Build files are
read line by line: ``#``/``dnl`` comment lines are ignored, ``-Wno-<warning>`` and MSVC
``/wdN`` anywhere else count, and ``-w`` only on a line that is about compiler flags (``grep
-w`` and ``sed -w`` are not suppressions). ``-Wno-error[=...]`` keeps the warning and is not
counted.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from tree_sitter import Node

from assay.parse import ParsedFile

_DIAGNOSTIC = re.compile(r'^(GCC|clang)\s+diagnostic\s+ignored\s+"([^"]+)"')
_MSVC = re.compile(r"^warning\s*\((.*)\)", re.S)
_MSVC_DISABLE = re.compile(r"disable\s*:\s*([\d\s]+)")
_DIAG_SUPPRESS = re.compile(r"^diag_suppress\s*[=\s]\s*([\w,\s]+)")
_NOLINT = re.compile(r"\bNOLINT(NEXTLINE|BEGIN)?\b(?:\(([^)]*)\))?")
_CPPCHECK = re.compile(r"cppcheck-suppress(?:-begin|-file|-macro)?\s+(\[[^\]]*\]|\w+)")
_COVERITY = re.compile(r"coverity\[([^\]\s]+)\]")
_SOURCE_HINT = re.compile(rb"#[ \t]*pragma\b|NOLINT|cppcheck-suppress|coverity\[")

_WNO = re.compile(r"(?<![\w-])-Wno-([A-Za-z0-9][\w+.=-]*)")
_MSVC_WD = re.compile(r"(?<![\w-])[/-]wd(\d{4,5})\b")
_DASH_W = re.compile(r"(?<![\w/-])-w(?![\w=-])")
_FLAG_CONTEXT = re.compile(
    r"FLAGS|COPTS|compile_options|add_definitions|add_project_arguments|add_global_arguments"
    r"|c_args|cpp_args|\$[({]CC[)}]|\$[({]CXX[)}]|\b(?:gcc|g\+\+|clang|clang\+\+|cc)\b"
)


@dataclass(frozen=True, slots=True)
class Suppression:
    """One suppression as written."""

    line: int
    """1-based line."""
    kind: str
    """Rule key (``pragma-diagnostic``, ``nolint``, ``build-warning-off``...)."""
    tool: str
    """The tool told to be quiet: gcc/clang, msvc, embedded, clang-tidy, cppcheck, coverity."""
    warnings: tuple[str, ...]
    """The warnings switched off as written; empty for all of them."""
    evidence: str
    """The directive, comment or build-file line."""


def in_source(parsed: ParsedFile) -> list[Suppression]:
    """Every pragma and annotation comment that switches a check off in one C/C++ file.

    The bytes are searched first; each hit is then placed on the parse, so that only a
    ``#pragma`` directive and an annotation inside a comment count.
    """
    if not _SOURCE_HINT.search(parsed.source):
        return []
    root = parsed.tree.root_node
    found: list[Suppression] = []
    seen: set[int] = set()
    for hit in _SOURCE_HINT.finditer(parsed.source):
        node = root.descendant_for_byte_range(hit.start(), hit.start() + 1)
        if node is None or node.start_byte in seen:
            continue
        if node.type == "comment":
            seen.add(node.start_byte)
            found.extend(_comment(parsed, node))
        elif node.type == "preproc_directive" and node.parent is not None:
            argument = node.parent.child_by_field_name("argument")
            if node.parent.type == "preproc_call" and argument is not None:
                seen.add(node.start_byte)
                found.extend(_pragma(parsed, argument))
    found.sort(key=lambda s: (s.line, s.kind, s.warnings))
    return found


def _pragma(parsed: ParsedFile, node: Node) -> Iterator[Suppression]:
    text = parsed.text(node).strip()
    line = node.start_point.row + 1
    evidence = f"#pragma {text}"
    if match := _DIAGNOSTIC.match(text):
        tool = "clang" if match.group(1) == "clang" else "gcc"
        yield Suppression(line, "pragma-diagnostic", tool, (match.group(2),), evidence)
    elif match := _MSVC.match(text):
        numbers = [n for m in _MSVC_DISABLE.finditer(match.group(1)) for n in m.group(1).split()]
        if numbers:
            yield Suppression(line, "pragma-warning", "msvc", tuple(numbers), evidence)
    elif match := _DIAG_SUPPRESS.match(text):
        ids = tuple(i for i in re.split(r"[,\s]+", match.group(1)) if i)
        yield Suppression(line, "pragma-diag-suppress", "embedded", ids, evidence)


def _comment(parsed: ParsedFile, node: Node) -> Iterator[Suppression]:
    text = parsed.text(node)
    first = node.start_point.row + 1
    for match in _NOLINT.finditer(text):
        checks = _names(match.group(2) or "")
        line = _line(first, text, match.start())
        yield Suppression(line, "nolint", "clang-tidy", checks, _around(text, match.start()))
    for match in _CPPCHECK.finditer(text):
        ids = _names(match.group(1).strip("[]"))
        line = _line(first, text, match.start())
        yield Suppression(line, "cppcheck-suppress", "cppcheck", ids, _around(text, match.start()))
    for match in _COVERITY.finditer(text):
        checker = match.group(1)
        if not checker.startswith(("+", "-")):  # +alloc, +free ... are function models
            line = _line(first, text, match.start())
            evidence = _around(text, match.start())
            yield Suppression(line, "coverity", "coverity", (checker,), evidence)


def _names(text: str) -> tuple[str, ...]:
    return tuple(n for n in re.split(r"[,\s]+", text) if n)


def _line(first: int, text: str, offset: int) -> int:
    return first + text.count("\n", 0, offset)


def _around(text: str, offset: int) -> str:
    """The comment's line that holds ``offset``, stripped and capped (evidence)."""
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    return text[start : end if end >= 0 else len(text)].strip()[:300]


def generated_by_automake(source: bytes) -> bool:
    """True for a ``Makefile.in`` written by automake (its ``Makefile.am`` carries the flags)."""
    return b"generated by automake" in source[:512]


def in_build_file(text: str) -> list[Suppression]:
    """Every ``-w``, ``-Wno-<warning>`` and ``/wdN`` on a non-comment line of a build file."""
    found: list[Suppression] = []
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", "dnl ")) or stripped == "dnl":
            continue
        evidence = stripped[:300]
        for match in _WNO.finditer(line):
            name = match.group(1)
            if not name.startswith("error"):
                flag = (f"-W{name}",)
                found.append(Suppression(number, "build-warning-off", "gcc", flag, evidence))
        for match in _MSVC_WD.finditer(line):
            number_ = (match.group(1),)
            found.append(Suppression(number, "build-warning-off", "msvc", number_, evidence))
        if _DASH_W.search(line) and _FLAG_CONTEXT.search(line):
            found.append(Suppression(number, "build-no-warnings", "gcc", (), evidence))
    return found
