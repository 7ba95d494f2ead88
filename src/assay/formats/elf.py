"""Read ELF images from memory, bounded against hostile input: the one ELF reading layer.

:func:`read` opens the bytes with pyelftools and runs a caller's reader on the file; whatever
pyelftools or the reader raises on malformed input becomes :class:`BadElf`. The helpers
iterate program headers, symbols and dynamic entries by decoding the tables with ``struct``
(pyelftools' per-entry parsing costs a millisecond per hundred entries, too slow for firmware
file systems), each under a cap. pyelftools reads the image through a stream that may yield
at most :data:`READ_FACTOR` times the image's size plus :data:`READ_SLACK` bytes, so reading
stays linear in the file's size whatever the headers say (a thousand section names without
their NUL, each read on to the end of the file, would read the file a thousand times). The
binaries analyzer (hardening facts) and the rebuild
(section comparisons) compute their own results on top.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple, TypeVar

from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from assay.errors import FormatError

ELF_MAGIC = b"\x7fELF"
"""The first bytes of every ELF image."""
MAX_SEGMENTS = 4096
"""Program headers read from one image at most."""
MAX_SYMBOLS = 500_000
"""Symbols read from one table at most (a hostile table cannot stall a worker)."""
MAX_NAME = 4096
"""Bytes of one string (symbol name, rpath, soname) read at most: a longer one is cut there."""
NAME_SLACK = 1 << 20
"""Name bytes a symbol table may yield beyond twice its string table (see :func:`symbols`)."""
READ_FACTOR = 8
"""Bytes pyelftools may read per byte of the image (about 1 for real binaries: 0.97 at most
over 600 system binaries and libraries)."""
READ_SLACK = 1 << 20
"""Bytes pyelftools may read beyond ``READ_FACTOR`` times the image (headers read again)."""
SHN_UNDEF = 0
"""Section index of an undefined (imported) symbol."""
SHN_LORESERVE = 0xFF00
"""Section indexes from this one up are special (absolute, common, extended)."""

_T = TypeVar("_T")


class BadElf(FormatError):
    """The bytes are not a readable ELF file."""


class Segment(NamedTuple):
    """The fields of one program header."""

    type: int
    """``p_type``."""
    flags: int
    """``p_flags``."""
    vaddr: int
    """``p_vaddr``."""
    filesz: int
    """``p_filesz``."""
    memsz: int
    """``p_memsz``."""


class Symbol(NamedTuple):
    """The fields of one symbol table entry, its name resolved (raw bytes)."""

    name: bytes
    """Name, as stored (empty when unnamed)."""
    info: int
    """``st_info``: type in the low four bits, binding in the high four."""
    shndx: int
    """``st_shndx``: 0 for undefined symbols, from ``SHN_LORESERVE`` up for special ones."""
    value: int
    """``st_value``."""
    size: int
    """``st_size``."""

    @property
    def type(self) -> int:
        """``STT_*`` (0 NOTYPE, 1 OBJECT, 2 FUNC, 3 SECTION, 4 FILE...)."""
        return self.info & 0xF


def is_elf(data: bytes) -> bool:
    """The bytes start with the ELF magic."""
    return data[:4] == ELF_MAGIC


class _Bounded(io.BytesIO):
    """The image as a stream that raises :class:`BadElf` once more than ``allowance`` bytes
    have been read from it."""

    def __init__(self, data: bytes, allowance: int) -> None:
        super().__init__(data)
        self.allowance = allowance
        self.left = allowance

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.left -= len(chunk)
        if self.left < 0:
            raise BadElf(f"reading the headers took more than {self.allowance} bytes")
        return chunk


def read(data: bytes, reader: Callable[[ELFFile], _T], factor: int = READ_FACTOR) -> _T:
    """``reader`` applied to the image ``data``; raises :class:`BadElf` when it cannot be read,
    or when reading it takes more than ``factor`` times its size (plus ``READ_SLACK``)."""
    try:
        return reader(ELFFile(_Bounded(data, factor * len(data) + READ_SLACK)))
    except BadElf:
        raise
    except Exception as exc:  # pyelftools raises many types on hostile input
        raise BadElf(f"{type(exc).__name__}: {exc}") from exc


def is_symbol_table(section: Any) -> bool:
    """``section`` is a symbol table (``.symtab``, ``.dynsym``)."""
    return isinstance(section, SymbolTableSection)


def is_dynamic(section: Any) -> bool:
    """``section`` is a dynamic section (``.dynamic``)."""
    return isinstance(section, DynamicSection)


def data_of(elf: ELFFile) -> bytes:
    """The image's bytes (the stream :func:`read` gave pyelftools)."""
    stream = elf.stream
    assert isinstance(stream, io.BytesIO)
    return stream.getvalue()


def first_sections(elf: ELFFile) -> dict[str, Any]:
    """The first section of each name, in file order."""
    found: dict[str, Any] = {}
    for section in elf.iter_sections():
        found.setdefault(section.name, section)
    return found


def segments(elf: ELFFile) -> Iterator[Segment]:
    """The first :data:`MAX_SEGMENTS` program headers; a header past the end raises BadElf."""
    header = elf.header
    data = data_of(elf)
    order = "<" if elf.little_endian else ">"
    if elf.elfclass == 64:  # type, flags, offset, vaddr, paddr, filesz, memsz
        layout, fields = order + "IIQQQQQ", (0, 1, 3, 5, 6)
    else:  # type, offset, vaddr, paddr, filesz, memsz, flags
        layout, fields = order + "IIIIIII", (0, 6, 2, 4, 5)
    size = struct.calcsize(layout)
    for index in range(min(header["e_phnum"], MAX_SEGMENTS)):
        offset = header["e_phoff"] + index * header["e_phentsize"]
        if offset + size > len(data):
            raise BadElf(f"program header {index} beyond the end of the file")
        entry = struct.unpack_from(layout, data, offset)
        yield Segment(*(entry[at] for at in fields))


def symbols(elf: ELFFile, table: Any) -> Iterator[Symbol]:
    """The first :data:`MAX_SYMBOLS` entries of ``table`` (nothing unless a symbol table).

    Each name is read up to :data:`MAX_NAME` bytes, and the names together may not exceed
    twice the string table plus :data:`NAME_SLACK` (linkers share tails of names, so a little
    more than the table is normal): names without their NUL, each running on to the end of
    the table, would otherwise cost the table's size once per symbol. Past that, ``BadElf``.
    """
    if not is_symbol_table(table):
        return
    strings = linked_strings(elf, table)
    find = strings.find
    order = "<" if elf.little_endian else ">"
    if elf.elfclass == 64:  # name, info, other, shndx, value, size
        layout, info_at, shndx_at, value_at, size_at = order + "IBBHQQ", 1, 3, 4, 5
    else:  # name, value, size, info, other, shndx
        layout, info_at, shndx_at, value_at, size_at = order + "IIIBBH", 3, 5, 1, 2
    data = table.data()
    size = struct.calcsize(layout)
    usable = min(len(data) - len(data) % size, MAX_SYMBOLS * size)
    budget = 2 * len(strings) + NAME_SLACK
    for entry in struct.iter_unpack(layout, data[:usable]):
        start = entry[0]
        if start:  # string_at, inlined: this loop runs once per symbol of every binary
            end = find(b"\0", start, start + MAX_NAME)
            name = strings[start : end if end >= 0 else start + MAX_NAME]
            budget -= len(name)
            if budget < 0:
                raise BadElf(f"symbol names total more than {2 * len(strings) + NAME_SLACK} bytes")
        else:
            name = b""
        yield Symbol(name, entry[info_at], entry[shndx_at], entry[value_at], entry[size_at])


def dynamic_entries(elf: ELFFile, section: Any) -> Iterator[tuple[int, int]]:
    """(tag, value) of each entry of a dynamic section, up to ``DT_NULL``."""
    if not is_dynamic(section):
        return
    layout = ("<" if elf.little_endian else ">") + ("qQ" if elf.elfclass == 64 else "iI")
    size = struct.calcsize(layout)
    data = section.data()
    for tag, value in struct.iter_unpack(layout, data[: len(data) - len(data) % size]):
        if tag == 0:
            return
        yield tag, value


def linked_strings(elf: ELFFile, section: Any) -> bytes:
    """The string table a symbol table or dynamic section names in ``sh_link``."""
    data: bytes = elf.get_section(section["sh_link"]).data()
    return data


def string_at(strings: bytes, offset: int) -> bytes:
    """The NUL-terminated string at ``offset``, cut at :data:`MAX_NAME` bytes (and at the
    table's end) without a NUL."""
    end = strings.find(b"\0", offset, offset + MAX_NAME)
    return strings[offset : end if end >= 0 else offset + MAX_NAME]
