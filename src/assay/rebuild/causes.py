"""Name the causes of a difference between two versions of an artefact, with evidence.

Each check looks for a fact that differs between the two files and says where it is: embedded
dates and times (``__DATE__``, ``__TIME__``), the build directory (``__FILE__``, DWARF
``DW_AT_comp_dir``), the host name, archive member metadata, ordering, the toolchain
(``.comment``), the compiler flags (DWARF ``DW_AT_producer``; FORTIFY ``__*_chk`` and
``__stack_chk_fail`` imports) and distribution patches. A difference none of them explains is
reported as ``randomness``.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

from assay.formats import ar
from assay.rebuild import elf
from assay.rebuild.interface import Cause, Side

#: ``__DATE__`` ("Nov 27 2026"), ``__TIME__`` ("22:57:57") and ISO 8601 date-times.
_DATE_TIME = re.compile(
    rb"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 0-3]\d \d{4}"
    rb"|(?<![\d:])[0-2]\d:[0-5]\d:[0-5]\d(?![\d:])"
    rb"|\d{4}-[01]\d-[0-3]\d[T ][0-2]\d:[0-5]\d(?::[0-5]\d)?"
)
_LISTED = 6
_CAUSED = ("date-time", "build-path", "host-name", "archive-metadata", "ordering", "toolchain",
           "flags", "distribution-patches")  # fmt: skip


def find(a: bytes, b: bytes, left: Side, right: Side) -> tuple[Cause, ...]:
    """Every cause found for the differences between ``a`` (left) and ``b`` (right)."""
    found = list(_checks(a, b, left, right))
    if not any(c.kind in _CAUSED for c in found):
        found.append(Cause("randomness", (
            "no date, path, host, metadata, ordering, toolchain or flag difference explains it: "
            "values that change from build to build (random seeds, hash-table order, "
            "/dev/urandom) or a cause assay cannot name",
        )))  # fmt: skip
    return tuple(found)


def _checks(a: bytes, b: bytes, left: Side, right: Side) -> Iterator[Cause]:
    yield from _dates(a, b, left.label, right.label)
    yield from _paths(a, b, left, right)
    yield from _hosts(a, b, left, right)
    if ar.is_ar(a) and ar.is_ar(b):
        with contextlib.suppress(ar.BadArchive):
            yield from _archive(ar.members(a), ar.members(b))
    elif elf.is_elf(a) and elf.is_elf(b):
        try:
            yield from _toolchain(a, b, left, right)
            yield from _flags(a, b, left.label, right.label)
        except elf.BadElf:
            pass
    elif b"\0" not in a[:8192] and sorted(a.splitlines()) == sorted(b.splitlines()):
        yield Cause("ordering", ("the same lines in a different order",))
    for side in (left, right):
        if side.patches:
            yield Cause("distribution-patches", tuple(f"{side.label}: {p}" for p in side.patches))


def _dates(a: bytes, b: bytes, la: str, lb: str) -> Iterator[Cause]:
    in_a, in_b = set(_DATE_TIME.findall(a)), set(_DATE_TIME.findall(b))
    if in_a != in_b:
        yield Cause("date-time", (f"{la}: {_list(in_a - in_b)}", f"{lb}: {_list(in_b - in_a)}"))


def _paths(a: bytes, b: bytes, left: Side, right: Side) -> Iterator[Cause]:
    evidence = []
    for side, data in ((left, a), (right, b)):
        if side.build_root and (count := data.count(side.build_root.encode())):
            where = _where(data, side.build_root.encode())
            evidence.append(f"{side.label} embeds its build path {side.build_root} {count} times"
                            f"{where}")  # fmt: skip
    dirs = [_comp_dirs(data) for data in (a, b)]
    if all(dirs) and dirs[0] != dirs[1]:
        evidence.append(f"DW_AT_comp_dir: {_list(dirs[0])} vs {_list(dirs[1])}")
    if evidence:
        yield Cause("build-path", tuple(evidence))


def _where(data: bytes, needle: bytes) -> str:
    """`` (in .rodata, .debug_str)``: the ELF sections that hold ``needle``."""
    if not elf.is_elf(data):
        return ""
    try:
        names = [s.name for s in elf.sections(data).values() if needle in s.data]
    except elf.BadElf:
        return ""
    return f" (in {', '.join(names)})" if names else ""


def _comp_dirs(data: bytes) -> set[bytes]:
    if not elf.is_elf(data):
        return set()
    try:
        return {u["comp_dir"].encode() for u in elf.compile_units(data) if "comp_dir" in u}
    except elf.BadElf:
        return set()


def _hosts(a: bytes, b: bytes, left: Side, right: Side) -> Iterator[Cause]:
    evidence = [
        f"{side.label} embeds its host name {side.hostname!r}"
        for side, data in ((left, a), (right, b))
        if side.hostname and side.hostname.encode() in data
    ]
    if evidence:
        yield Cause("host-name", tuple(evidence))


def _archive(left: list[ar.Member], right: list[ar.Member]) -> Iterator[Cause]:
    others = {m.name: m for m in right}
    meta = [
        f"{m.name}: time {m.mtime} vs {o.mtime}, owner {m.owner} vs {o.owner}, "
        f"mode {m.mode} vs {o.mode}"
        for m in left
        if (o := others.get(m.name)) and (m.mtime, m.owner, m.mode) != (o.mtime, o.owner, o.mode)
    ]
    if meta:
        yield Cause("archive-metadata", tuple(meta[:_LISTED]))
    names_a, names_b = [m.name for m in left], [m.name for m in right]
    if names_a != names_b and sorted(names_a) == sorted(names_b):
        yield Cause("ordering", (f"the same {len(names_a)} members in a different order",))


def _toolchain(a: bytes, b: bytes, left: Side, right: Side) -> Iterator[Cause]:
    notes = [elf.comment(a), elf.comment(b)]
    if notes[0] is not None and notes[1] is not None:
        if notes[0] != notes[1]:
            yield Cause("toolchain", (f"{left.label} .comment: {_list(notes[0])}",
                                      f"{right.label} .comment: {_list(notes[1])}"))  # fmt: skip
        return
    evidence = []
    for side, note in ((left, notes[0]), (right, notes[1])):
        if note is not None:
            evidence.append(f"{side.label} .comment: {_list(note)}")
        else:
            known = f"; {side.provenance}" if side.provenance else ""
            evidence.append(f"{side.label}: no .comment (stripped){known}")
    if any(s.provenance for s in (left, right)):
        yield Cause("toolchain", tuple(evidence))


def _flags(a: bytes, b: bytes, la: str, lb: str) -> Iterator[Cause]:
    evidence = []
    producers = [{u["producer"] for u in elf.compile_units(d) if "producer" in u} for d in (a, b)]
    if all(producers) and producers[0] != producers[1]:
        evidence.append(f"DW_AT_producer: {_list(producers[0])} vs {_list(producers[1])}")
    imports = [elf.imports(a), elf.imports(b)]
    fortify = [{s for s in i if s.startswith("__") and s.endswith("_chk")} - {"__stack_chk_fail"}
               for i in imports]  # fmt: skip
    if fortify[0] != fortify[1]:
        evidence.append(f"FORTIFY_SOURCE: {la} imports {_list(fortify[0]) or 'no __*_chk'}, "
                        f"{lb} imports {_list(fortify[1]) or 'no __*_chk'}")  # fmt: skip
    canary = ["__stack_chk_fail" in i for i in imports]
    if canary[0] != canary[1]:
        has = la if canary[0] else lb
        evidence.append(f"stack protector: only {has} imports __stack_chk_fail (canary)")
    if evidence:
        yield Cause("flags", tuple(evidence))


def _list(items: object) -> str:
    values = sorted(i.decode("utf-8", "replace") if isinstance(i, bytes) else str(i) for i in items)  # type: ignore[attr-defined]
    shown = ", ".join(repr(v) if " " in v else v for v in values[:_LISTED])
    return shown + (f" (+{len(values) - _LISTED} more)" if len(values) > _LISTED else "")
