"""What the comparison needs from an ELF file: sections, symbols, DWARF facts.

Read through :mod:`assay.formats.elf` (any malformed input raises its ``BadElf``). Every
function takes the file's bytes, so the comparison stays a pure function of two byte strings
and a few known strings (the build paths).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from assay.formats import elf as reader
from assay.formats.elf import BadElf, is_elf

__all__ = ["PLACEHOLDER", "BadElf", "Section", "is_elf"]

SHF_ALLOC = 0x2
_STT_FUNC = 2
_PT_NOTE = 4
_REFERENCE_FORMS = frozenset({
    "DW_FORM_ref1", "DW_FORM_ref2", "DW_FORM_ref4", "DW_FORM_ref8", "DW_FORM_ref_udata",
    "DW_FORM_ref_addr", "DW_FORM_sec_offset", "DW_FORM_ref_sig8", "DW_FORM_ref_sup4",
    "DW_FORM_ref_sup8", "DW_FORM_loclistx", "DW_FORM_rnglistx",
})  # fmt: skip
PLACEHOLDER = b"<build-path>"


@dataclass(frozen=True, slots=True)
class Section:
    """One section: the header fields that matter once loaded, and its contents."""

    name: str
    """Name, with ``#N`` appended to the N-th repeat of a name (``.group#2``)."""
    type: str
    """``sh_type``."""
    flags: int
    """``sh_flags``."""
    address: int
    """``sh_addr`` (file offsets are layout, not compared)."""
    data: bytes
    """Contents (empty for NOBITS)."""

    @property
    def loaded(self) -> bool:
        """Part of the process image (SHF_ALLOC)."""
        return bool(self.flags & SHF_ALLOC)

    def same(self, other: Section) -> bool:
        """Equal header fields and contents."""
        return (self.type, self.flags, self.address, self.data) == (
            other.type, other.flags, other.address, other.data,
        )  # fmt: skip


def sections(data: bytes) -> dict[str, Section]:
    """Every section by (unique) name, in file order."""
    return reader.read(data, _sections)


def _sections(elf: ELFFile) -> dict[str, Section]:
    found: dict[str, Section] = {}
    for section in elf.iter_sections():
        name = section.name or "<unnamed>"
        key, n = name, 1
        while key in found:
            n += 1
            key = f"{name}#{n}"
        body = b"" if section["sh_type"] == "SHT_NOBITS" else section.data()
        found[key] = Section(key, section["sh_type"], section["sh_flags"], section["sh_addr"], body)
    return found


def header(data: bytes) -> tuple[Any, ...]:
    """ELF header fields and loaded segments that matter at run time."""
    return reader.read(data, _header)


def _header(elf: ELFFile) -> tuple[Any, ...]:
    head = elf.header
    segments = tuple(
        (s.type, s.vaddr, s.memsz, s.filesz, s.flags)
        for s in reader.segments(elf)
        if s.type != _PT_NOTE
    )
    return (head["e_machine"], head["e_type"], head["e_entry"], head["e_flags"], segments)


def functions(data: bytes) -> dict[str, bytes]:
    """Bytes of each function with a size, from ``.symtab`` (``.dynsym`` when stripped)."""
    return reader.read(data, _functions)


def _functions(elf: ELFFile) -> dict[str, bytes]:
    table = elf.get_section_by_name(".symtab") or elf.get_section_by_name(".dynsym")
    relocatable = elf.header["e_type"] == "ET_REL"
    contents: dict[int, tuple[int, bytes] | None] = {}
    out: dict[str, bytes] = {}
    for symbol in reader.symbols(elf, table):
        if symbol.type != _STT_FUNC or not symbol.size:
            continue
        if symbol.shndx == reader.SHN_UNDEF or symbol.shndx >= reader.SHN_LORESERVE:
            continue
        if symbol.shndx not in contents:
            section = elf.get_section(symbol.shndx)
            nobits = section["sh_type"] == "SHT_NOBITS"
            contents[symbol.shndx] = None if nobits else (section["sh_addr"], section.data())
        held = contents[symbol.shndx]
        if held is None:
            continue
        start = symbol.value - (0 if relocatable else held[0])
        out[symbol.name.decode("utf-8", "replace")] = held[1][start : start + symbol.size]
    return out


def imports(data: bytes) -> frozenset[str]:
    """Undefined dynamic symbols (what the file imports), without version suffixes."""
    return reader.read(data, _imports)


def _imports(elf: ELFFile) -> frozenset[str]:
    table = elf.get_section_by_name(".dynsym") or elf.get_section_by_name(".symtab")
    return frozenset(
        s.name.decode("utf-8", "replace").split("@")[0]
        for s in reader.symbols(elf, table)
        if s.name and s.shndx == reader.SHN_UNDEF
    )


def comment(data: bytes) -> tuple[str, ...] | None:
    """The ``.comment`` strings (toolchain identification), None when the section is absent."""
    return reader.read(data, _comment)


def _comment(elf: ELFFile) -> tuple[str, ...] | None:
    section = elf.get_section_by_name(".comment")
    if section is None:
        return None
    parts = section.data().split(b"\0")
    return tuple(sorted({p.decode("utf-8", "replace") for p in parts if p}))


def compile_units(data: bytes) -> list[dict[str, str]]:
    """Name, comp_dir and producer of each DWARF compile unit ([] without DWARF)."""
    return reader.read(data, _compile_units)


def _compile_units(elf: ELFFile) -> list[dict[str, str]]:
    if not elf.has_dwarf_info():
        return []
    units = []
    try:
        for cu in elf.get_dwarf_info().iter_CUs():
            top = cu.get_top_DIE()
            units.append({
                key: _text(top.attributes[attr].value)
                for key, attr in (("name", "DW_AT_name"), ("comp_dir", "DW_AT_comp_dir"),
                                  ("producer", "DW_AT_producer"))
                if attr in top.attributes
            })  # fmt: skip
    except (ELFError, KeyError, ValueError, IndexError):
        return units
    return units


def dwarf_digest(data: bytes, paths: Sequence[str]) -> str | None:
    """A hash of the DWARF meaning with ``paths`` replaced by a placeholder, None without DWARF.

    DIE tags and attribute values (strings resolved, references and section offsets left out:
    they move when a string's length changes) and the line table rows and file names.
    """
    return reader.read(data, lambda elf: _dwarf_digest(elf, paths))


def _dwarf_digest(elf: ELFFile, paths: Sequence[str]) -> str | None:
    if not elf.has_dwarf_info():
        return None
    digest = hashlib.sha256()
    try:
        for piece in _dwarf_pieces(elf, [p.encode() for p in paths if p]):
            digest.update(piece)
    except (ELFError, KeyError, ValueError, IndexError, AssertionError) as exc:
        digest.update(f"unreadable DWARF: {exc}".encode())
    return digest.hexdigest()


def _dwarf_pieces(elf: ELFFile, paths: Sequence[bytes]) -> Iterator[bytes]:
    dwarf = elf.get_dwarf_info()
    for cu in dwarf.iter_CUs():
        for die in cu.iter_DIEs():
            yield f"<{die.tag}>".encode()
            for name, attr in die.attributes.items():
                if attr.form in _REFERENCE_FORMS:
                    continue
                yield f"{name}=".encode() + _normal(attr.value, paths)
        program = dwarf.line_program_for_CU(cu)
        if program is None:
            continue
        for key in ("include_directory", "file_entry"):
            yield _normal(program.header.get(key, ()), paths)
        for entry in program.get_entries():
            state = entry.state
            if state is not None:
                row = (state.address, state.file, state.line, state.column, state.end_sequence)
                yield repr(row).encode()


def _normal(value: object, paths: Sequence[bytes]) -> bytes:
    text = value if isinstance(value, bytes) else repr(value).encode()
    for path in sorted(paths, key=len, reverse=True):
        text = text.replace(path, PLACEHOLDER)
    return text


def _text(value: object) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
