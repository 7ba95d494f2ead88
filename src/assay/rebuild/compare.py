"""Compare two versions of an artefact: identical, equivalent after normalisation, or different.

ELF files are compared section by section (header fields that matter once loaded, and contents;
file offsets are layout and not compared). Only the differences in ``IGNORABLE`` and
``STRIPPABLE`` are ever ignored, each listed in the result; a loaded section (``.text``,
``.rodata``, ``.data``...) that differs always makes the pair different. ``ar`` archives are
compared member by member, other files byte by byte (text files line by line).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from assay.formats import ar
from assay.rebuild import causes, elf
from assay.rebuild.interface import Comparison, Side, Verdict

#: Sections whose difference is harmless, and why.
IGNORABLE: dict[str, str] = {
    ".note.gnu.build-id": "build id, a hash of the other contents: it changes with any of them",
    ".gnu_debuglink": "name and CRC of the detached debug file, not loaded",
    ".comment": "toolchain identification, not loaded (its difference is reported as a cause)",
    ".shstrtab": "section-name table, not loaded (the sections themselves are compared)",
}
#: Sections that ``strip`` removes: one side lacking them is harmless (nothing loaded changes).
STRIPPABLE = (".symtab", ".strtab", ".comment", ".gnu_debuglink", ".gnu_debugaltlink")
_DEBUG = (".debug_", ".zdebug_")
_MAX_LISTED = 50
DIFFOSCOPE_CAP = 64 * 1024
DIFFOSCOPE_TIMEOUT = 120.0


@dataclass(slots=True)
class _Diff:
    """What differs in one pair, collected while comparing."""

    format: str
    ignored: list[str] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)
    functions: list[str] = field(default_factory=list)


def compare(artefact: str, left: Side, right: Side) -> Comparison:
    """Compare the two files of ``artefact`` (``right`` may not exist: verdict missing)."""
    a = left.path.read_bytes()
    if not right.path.is_file():
        return Comparison(artefact, left.label, right.label, Verdict.MISSING, "-", (_sha(a), ""),
                          differences=(f"no {right.label} file",))  # fmt: skip
    b = right.path.read_bytes()
    hashes = (_sha(a), _sha(b))
    if a == b:
        return Comparison(artefact, left.label, right.label, Verdict.IDENTICAL, _kind(a), hashes)
    paths = [p for p in (left.build_root, right.build_root) if p]
    diff = compare_bytes(a, b, paths, (left.label, right.label))
    verdict = Verdict.DIFFERENT if diff.differences else Verdict.EQUIVALENT
    found = causes.find(a, b, left, right) if verdict is Verdict.DIFFERENT or diff.ignored else ()
    return Comparison(
        artefact, left.label, right.label, verdict, diff.format, hashes,
        tuple(diff.ignored), tuple(diff.differences[:_MAX_LISTED]),
        tuple(sorted(set(diff.functions))[:_MAX_LISTED]), found,
        _diffoscope(left.path, right.path) if verdict is Verdict.DIFFERENT else None,
    )  # fmt: skip


def compare_bytes(a: bytes, b: bytes, paths: Sequence[str], labels: tuple[str, str]) -> _Diff:
    """What differs between ``a`` and ``b`` (``paths``: build directories to normalise)."""
    try:
        if elf.is_elf(a) and elf.is_elf(b):
            return _elf(a, b, paths, labels)
        if ar.is_ar(a) and ar.is_ar(b):
            return _archive(a, b, paths, labels)
    except (elf.BadElf, ar.BadArchive) as exc:
        return _Diff("binary", differences=[f"unreadable ({exc.__cause__ or exc}); bytes differ"])
    return _plain(a, b)


def _elf(a: bytes, b: bytes, paths: Sequence[str], labels: tuple[str, str]) -> _Diff:
    diff = _Diff("elf")
    if elf.header(a) != elf.header(b):
        diff.differences.append("ELF header or program headers")
    left, right = elf.sections(a), elf.sections(b)
    debug: list[str] = []
    for name in [*left, *(n for n in right if n not in left)]:
        x, y = left.get(name), right.get(name)
        if x is None or y is None:
            only = labels[0] if y is None else labels[1]
            if name.startswith(STRIPPABLE + _DEBUG):
                diff.ignored.append(f"{name}: only in {only} (removed by strip, not loaded)")
            else:
                diff.differences.append(f"{name} (only in {only})")
        elif x.same(y):
            continue
        elif name in IGNORABLE:
            diff.ignored.append(f"{name}: {IGNORABLE[name]}")
        elif name.startswith(_DEBUG):
            debug.append(name)
        else:
            diff.differences.append(name)
    if debug and elf.dwarf_digest(a, paths) == elf.dwarf_digest(b, paths):
        diff.ignored.append(f"{', '.join(debug)}: DWARF equal once the build paths are replaced")
    else:
        diff.differences.extend(debug)
    if not diff.differences and not diff.ignored:
        diff.ignored.append("file layout: section offsets and padding (contents equal)")
    if any(not n.startswith(_DEBUG) for n in diff.differences):
        diff.functions = _functions(a, b)
    return diff


def _functions(a: bytes, b: bytes) -> list[str]:
    """Functions whose bytes differ or that exist on one side only."""
    left, right = elf.functions(a), elf.functions(b)
    return [n for n in set(left) | set(right) if left.get(n) != right.get(n)]


def _archive(a: bytes, b: bytes, paths: Sequence[str], labels: tuple[str, str]) -> _Diff:
    diff = _Diff("ar")
    left, right = ar.members(a), ar.members(b)
    names_a, names_b = [m.name for m in left], [m.name for m in right]
    if names_a != names_b:
        order = "member order" if sorted(names_a) == sorted(names_b) else "member list"
        diff.differences.append(f"{order}: {_short(names_a)} vs {_short(names_b)}")
    others = {m.name: m for m in right}
    for member in left:
        other = others.get(member.name)
        if other is None:
            continue
        if (member.mtime, member.owner, member.mode) != (other.mtime, other.owner, other.mode):
            diff.ignored.append(f"{member.name}: member time, owner or mode (not linked)")
        if member.data == other.data:
            continue
        if member.name == "/":
            diff.ignored.append("/: symbol index (its offsets follow the members' sizes)")
            continue
        inner = compare_bytes(member.data, other.data, paths, labels)
        diff.ignored += [f"{member.name}: {i}" for i in inner.ignored]
        diff.differences += [f"{member.name}: {d}" for d in inner.differences]
        diff.functions += [f"{member.name}: {f}" for f in inner.functions]
    return diff


def _plain(a: bytes, b: bytes) -> _Diff:
    if b"\0" in a[:8192] or b"\0" in b[:8192]:
        at = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), None)
        first = min(len(a), len(b)) if at is None else at
        return _Diff("binary", differences=[f"bytes differ from offset {first} "
                                            f"(sizes {len(a)} and {len(b)})"])  # fmt: skip
    lines_a = a.decode("utf-8", "replace").splitlines()
    lines_b = b.decode("utf-8", "replace").splitlines()
    diff = _Diff("text")
    for number, (x, y) in enumerate(zip(lines_a, lines_b, strict=False), start=1):
        if x != y and len(diff.differences) < 5:
            diff.differences.append(f"line {number}: {x[:80]!r} vs {y[:80]!r}")
    if len(lines_a) != len(lines_b):
        diff.differences.append(f"{len(lines_a)} vs {len(lines_b)} lines")
    return diff


def _diffoscope(a: Path, b: Path) -> str | None:
    """diffoscope's text report of a differing pair, when diffoscope is installed."""
    tool = shutil.which("diffoscope")
    if tool is None:
        return None
    try:
        done = subprocess.run([tool, "--text", "-", str(a), str(b)], capture_output=True,
                              timeout=DIFFOSCOPE_TIMEOUT, check=False)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"diffoscope failed: {exc}"
    return done.stdout[:DIFFOSCOPE_CAP].decode("utf-8", "replace")


def _kind(data: bytes) -> str:
    if elf.is_elf(data):
        return "elf"
    return "ar" if ar.is_ar(data) else "binary" if b"\0" in data[:8192] else "text"


def _short(names: Sequence[str]) -> str:
    return ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
