"""ELF facts from bytes: architecture, type, hardening, imports, toolchain and leaked strings.

:func:`read_elf` is pure and reads through :mod:`assay.formats.elf`. Any malformed or
truncated input raises :class:`BadElf`; the analyzer turns it into a ``Skipped`` record.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from elftools.elf.elffile import ELFFile

from assay.formats import elf as reader
from assay.formats.elf import BadElf

__all__ = ["BadElf", "ElfFacts", "read_elf", "read_elf_and_strings"]

_DF_BIND_NOW = 0x8
_DF_1_NOW = 0x1
_DF_1_PIE = 0x08000000
_CANARY = frozenset({"__stack_chk_fail", "__stack_chk_guard", "__stack_chk_fail_local"})
_CHK = re.compile(r"__\w+_chk\Z")
_MACHINES = {
    "EM_X86_64": "x86-64", "EM_386": "x86", "EM_ARM": "arm", "EM_AARCH64": "aarch64",
    "EM_MIPS": "mips", "EM_PPC": "powerpc", "EM_PPC64": "powerpc64", "EM_S390": "s390",
    "EM_RISCV": "riscv", "EM_SPARC": "sparc", "EM_SPARCV9": "sparc64", "EM_SH": "superh",
}  # fmt: skip
_BUILD_ROOTS = (
    b"/home/", b"/build/", b"/builds/", b"/var/lib/jenkins/", b"/usr/src/", b"/opt/buildroot",
    b"/workspace/", b"/mnt/",
)  # fmt: skip
"""Path prefixes of build machines (each regex starts with its literal: fast to search)."""
_BUILD_PATHS = tuple(re.compile(re.escape(root) + rb"[\x21-\x7e]{0,160}") for root in _BUILD_ROOTS)
_MONTHS = (b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct",
           b"Nov", b"Dec")  # fmt: skip
_DATES = tuple(re.compile(month + rb" [ 0-3][0-9] (?:19|20)[0-9]{2}\b") for month in _MONTHS)
_MAX_STRINGS = 20
_SHF_EXECINSTR = 0x4
_PF_X = 0x1
_PT = {2: "PT_DYNAMIC", 3: "PT_INTERP", 0x6474E551: "PT_GNU_STACK", 0x6474E552: "PT_GNU_RELRO"}
_DT = {14: "DT_SONAME", 15: "DT_RPATH", 24: "DT_BIND_NOW", 29: "DT_RUNPATH", 30: "DT_FLAGS",
       0x6FFFFFFB: "DT_FLAGS_1"}  # fmt: skip
_STT_FUNC = 2
_MAX_ENTRIES = 64
"""RPATH/RUNPATH entries (and SONAME strings) kept at most; ``rpath_total`` counts them all."""
"""Symbol types up to this one (NOTYPE 0, OBJECT 1, FUNC 2) are kept."""


@dataclass(frozen=True, slots=True)
class ElfFacts:
    """What one ELF file says about itself."""

    machine: str
    """Architecture (``x86-64``, ``aarch64``, ``mips``, ``powerpc``, ``s390``...)."""
    bits: int
    """32 or 64."""
    endian: str
    """``little`` or ``big``."""
    type: str
    """``executable``, ``shared-library``, ``pie-executable``, ``object`` or ``core``."""
    nx: bool | None
    """Non-executable stack (``PT_GNU_STACK`` without X); ``None`` for objects."""
    pie: bool | None
    """Position-independent executable; ``None`` for libraries and objects."""
    relro: str | None
    """``none``, ``partial`` or ``full``; ``None`` for objects."""
    canary: bool | None
    """References ``__stack_chk_fail`` or ``__stack_chk_guard``; ``None`` without symbols
    (a stripped static binary says nothing either way)."""
    fortified: tuple[str, ...]
    """``__*_chk`` functions referenced (FORTIFY_SOURCE)."""
    rpath: tuple[str, ...]
    """DT_RPATH and DT_RUNPATH entries."""
    stripped: bool
    """No ``.symtab`` section."""
    imports: tuple[str, ...]
    """Undefined function symbols (imports), without symbol versions, sorted."""
    soname: str | None
    """DT_SONAME."""
    static: bool
    """No dynamic section (linked statically, or an object)."""
    toolchain: tuple[str, ...]
    """Distinct ``.comment`` entries (``GCC: (Debian 12.2.0-14) 12.2.0``)."""
    build_paths: tuple[str, ...]
    """Build-machine paths found in the file's strings (at most 20)."""
    timestamps: tuple[str, ...]
    """``__DATE__``-like strings (``Nov 27 2026``), at most 20."""
    rpath_total: int = 0
    """RPATH/RUNPATH entries in all (``rpath`` keeps the first 64)."""

    @property
    def is_linked(self) -> bool:
        """An executable or shared library: what hardening applies to."""
        return self.type in ("executable", "pie-executable", "shared-library")


def read_elf(data: bytes) -> ElfFacts:
    """Read the facts of one ELF image; raise :class:`BadElf` when it cannot be read."""
    return read_elf_and_strings(data)[0]


def read_elf_and_strings(data: bytes) -> tuple[ElfFacts, bytes]:
    """The facts and the bytes that hold the image's strings (see :func:`_string_bytes`)."""
    return reader.read(data, _facts_and_strings)


def _facts_and_strings(elf: ELFFile) -> tuple[ElfFacts, bytes]:
    sections = reader.first_sections(elf)
    strings = _string_bytes(sections.values(), reader.data_of(elf))
    return _read(elf, sections, strings), strings


def _string_bytes(sections: Iterable[Any], data: bytes) -> bytes:
    """The data of the non-executable PROGBITS sections (.rodata, .data, .comment, .debug_*):
    where version strings, paths and dates live. The whole image when it has no section
    headers (``sstrip``-ed firmware binaries)."""
    parts = []
    total = 0
    for section in sections:
        if section["sh_type"] != "SHT_PROGBITS" or section["sh_flags"] & _SHF_EXECINSTR:
            continue
        total += section["sh_size"]
        if total > len(data):  # overlapping or lying headers: read the image once instead
            return data
        parts.append(section.data())
    return b"\0".join(parts) if parts else data


def _read(elf: ELFFile, sections: Mapping[str, Any], strings: bytes) -> ElfFacts:
    """The facts, from the parsed headers and the string-bearing bytes."""
    header = elf.header
    machine = _MACHINES.get(header["e_machine"], str(header["e_machine"]).removeprefix("EM_"))
    segments = _segments(elf)
    dynamic, texts = _dynamic(elf, sections.values())
    rpath, rpath_total = _rpath(texts)
    symbols = _symbols(elf, sections)
    undefined = sorted({name for name, defined in symbols if not defined})
    names = {name for name, _ in symbols}
    kind = _kind(header["e_type"], "PT_INTERP" in segments, dynamic)
    linked = kind in ("executable", "pie-executable", "shared-library")
    stack = segments.get("PT_GNU_STACK")
    return ElfFacts(
        machine=machine,
        bits=elf.elfclass,
        endian="little" if elf.little_endian else "big",
        type=kind,
        nx=(stack is not None and not stack & _PF_X) if linked else None,
        pie=(kind == "pie-executable") if kind in ("executable", "pie-executable") else None,
        relro=_relro("PT_GNU_RELRO" in segments, dynamic) if linked else None,
        canary=bool(names & _CANARY) if names else None,
        fortified=tuple(sorted(n for n in names if _CHK.match(n) and n not in _CANARY)),
        rpath=rpath,
        stripped=".symtab" not in sections,
        imports=tuple(undefined),
        soname=dynamic.get("DT_SONAME") or None,
        static=not dynamic and "PT_DYNAMIC" not in segments,
        toolchain=_comment(sections.get(".comment")),
        build_paths=_distinct(_BUILD_PATHS, strings, path_start=True),
        timestamps=_distinct(_DATES, strings),
        rpath_total=rpath_total,
    )  # fmt: skip


def _segments(elf: ELFFile) -> dict[str, int]:
    """Program header types that matter, mapped to the ``p_flags`` of their first header."""
    found: dict[str, int] = {}
    for segment in reader.segments(elf):
        name = _PT.get(segment.type)
        if name is not None:
            found.setdefault(name, segment.flags)
    return found


def _kind(e_type: str, interp: bool, dynamic: dict[str, str]) -> str:
    """``executable``, ``pie-executable``, ``shared-library``, ``object`` or ``core``."""
    if e_type == "ET_EXEC":
        return "executable"
    if e_type == "ET_REL":
        return "object"
    if e_type == "ET_DYN":
        flags_1 = int(dynamic.get("DT_FLAGS_1", "0"))
        # NOTE: libc.so.6 has an interpreter so that it can run, but is a library (SONAME).
        runnable = interp and "DT_SONAME" not in dynamic
        return "pie-executable" if runnable or flags_1 & _DF_1_PIE else "shared-library"
    return "core" if e_type == "ET_CORE" else str(e_type)


def _relro(segment: bool, dynamic: dict[str, str]) -> str:
    """``none``, ``partial`` (PT_GNU_RELRO) or ``full`` (PT_GNU_RELRO and BIND_NOW)."""
    if not segment:
        return "none"
    now = (
        "DT_BIND_NOW" in dynamic
        or int(dynamic.get("DT_FLAGS", "0")) & _DF_BIND_NOW
        or int(dynamic.get("DT_FLAGS_1", "0")) & _DF_1_NOW
    )
    return "full" if now else "partial"


def _dynamic(elf: ELFFile, sections: Iterable[Any]) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The dynamic tags that matter, as strings (flags as decimal numbers, the first 64 SONAME
    strings joined by ``:``), and the strings of each RPATH, RUNPATH and SONAME entry."""
    found: dict[str, str] = {}
    texts: dict[str, list[str]] = {}
    for section in sections:
        if not reader.is_dynamic(section):
            continue
        found.setdefault("DT_PRESENT", "1")
        strings = reader.linked_strings(elf, section)
        for tag, value in reader.dynamic_entries(elf, section):
            name = _DT.get(tag)
            if name in ("DT_RPATH", "DT_RUNPATH", "DT_SONAME"):
                text = reader.string_at(strings, value).decode("latin-1")
                texts.setdefault(name, []).append(text)
            elif name in ("DT_FLAGS", "DT_FLAGS_1"):
                found[name] = str(int(found.get(name, "0")) | value)
            elif name == "DT_BIND_NOW":
                found[name] = "1"
    if "DT_SONAME" in texts:
        found["DT_SONAME"] = ":".join(filter(None, texts["DT_SONAME"][:_MAX_ENTRIES]))
    return found, texts


def _rpath(texts: Mapping[str, list[str]]) -> tuple[tuple[str, ...], int]:
    """The first 64 non-empty RPATH then RUNPATH entries, and how many there are in all.

    Counted text by text, never joined: thousands of DT_RPATH entries stay linear.
    """
    kept: list[str] = []
    total = 0
    for text in (*texts.get("DT_RPATH", ()), *texts.get("DT_RUNPATH", ())):
        paths = [path for path in text.split(":") if path]
        total += len(paths)
        kept.extend(paths[: _MAX_ENTRIES - len(kept)])
    return tuple(kept), total


def _symbols(elf: ELFFile, sections: Mapping[str, Any]) -> list[tuple[str, bool]]:
    """(name, defined) of the function, object and untyped symbols of .dynsym (else .symtab)."""
    table = sections.get(".dynsym")
    if not reader.is_symbol_table(table) or elf.header["e_type"] == "ET_REL":
        table = sections.get(".symtab") or table
    return [
        (symbol.name.decode("latin-1").partition("@")[0], symbol.shndx != reader.SHN_UNDEF)
        for symbol in reader.symbols(elf, table)
        if symbol.type <= _STT_FUNC and symbol.name
    ]


def _comment(section: Any) -> tuple[str, ...]:
    """Distinct NUL-separated entries of the ``.comment`` section."""
    if section is None or section["sh_type"] == "SHT_NOBITS":
        return ()
    raw = section.data()[:65536]
    entries = {part.decode("latin-1").strip() for part in raw.split(b"\0")}
    return tuple(sorted(e for e in entries if e))


def _distinct(
    patterns: tuple[re.Pattern[bytes], ...], data: bytes, path_start: bool = False
) -> tuple[str, ...]:
    """The first distinct matches of ``patterns`` in ``data``, decoded, sorted.

    With ``path_start``, a match must begin a path (not follow a word character, a dot or a
    slash: ``/usr/src/`` inside ``/opt/x/usr/src/`` is reported once, from its start).
    """
    found: set[str] = set()
    for pattern in patterns:
        for match in pattern.finditer(data):
            before = data[match.start() - 1 : match.start()]
            if path_start and before and (before.isalnum() or before in b"._/-"):
                continue
            found.add(match.group(0).decode("latin-1"))
            if len(found) >= _MAX_STRINGS:
                return tuple(sorted(found))
    return tuple(sorted(found))
