"""The nodes of a U-Boot FIT image (flattened image tree), each one member.

A FIT image is a device-tree blob whose ``/images`` node has one subnode per image (kernel,
device tree, ramdisk, root file system, firmware...). A node holds its bytes in a ``data``
property (embedded), or says where they lie after the tree: ``data-offset`` from the end of the
tree rounded up to 4 bytes, or ``data-position`` from the start of the file, with
``data-size`` (``mkimage -E``). Its ``compression`` property names what U-Boot undoes
(``none``, ``gzip``, ``bzip2``, ``lzma``, ``lzo``, ``lz4``, ``zstd``; ``boot/image-fit.c``).

The tree is read with pylibfdt, the Python binding of libfdt that the device-tree compiler
project maintains (the same library U-Boot itself reads FIT images with), so no device-tree
parser is written here; ``fdt_check_full`` checks the whole structure before any node is
read. It runs in assay's process, not in the sandbox: libfdt only reads the blob (it is
written to handle untrusted trees: every offset it follows is checked against the header),
and running ``dumpimage`` in the sandbox once per node would cost a sandbox start each and
parse its listing as text.

Every node is a member named ``images/<node>`` (``image.itb!/images/kernel-1``); a device
tree node is kept as the blob it is. Its bytes come out of ``inflate.decompressed`` as the
extraction loop reads them, so the caps are charged while they stream. What is not read is a
refused member, so ``archive`` records it: a node whose bytes lie outside the file or overlap
the tree itself (an image that holds the FIT), an lzo or unknown compression, damaged
compressed data, the nodes past ``_NODES_MAX``. A tree larger than ``_TREE_MAX`` is not read.
"""

from __future__ import annotations

import io
import lzma
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Final, cast

try:
    import libfdt
except ImportError:  # the 'firmware' extra (pylibfdt builds from source) is not installed
    libfdt = None
import zstandard

from assay.ingest.inflate import decompressed
from assay.ingest.magic import ArchiveFormat
from assay.ingest.members import Entries, Member, MemberType, Readable
from assay.ingest.streams import Unopened

_HEADER: Final = 40
_TREE_MAX: Final = 256 << 20
"""The tree (with its embedded data) is held in memory while its nodes are read."""
_NODES_MAX: Final = 256
"""Image nodes read; a FIT holds a handful (a kernel, a ramdisk, a few device trees)."""
_COMPRESSION: Final[dict[str, ArchiveFormat | None]] = {
    "none": None,
    "gzip": ArchiveFormat.GZIP,
    "bzip2": ArchiveFormat.BZIP2,
    "lzma": ArchiveFormat.LZMA,  # U-Boot reads the .lzma ("alone") format (lib/lzma)
    "lz4": ArchiveFormat.LZ4,  # the LZ4 frame format, as for legacy images
    "zstd": ArchiveFormat.ZSTD,
}
_NOT_FOUND: Final = (libfdt.NOTFOUND,) if libfdt is not None else ()
_ERRORS: Final = (
    OSError,
    EOFError,
    ValueError,
    RuntimeError,
    lzma.LZMAError,
    zlib.error,
    zstandard.ZstdError,
)
"""What decompressing damaged data raises (as ``archive.READ_ERRORS``)."""


def entries(raw: IO[bytes], size: int) -> Entries:
    """The image nodes of the FIT image ``raw`` (``size`` bytes), one member each.

    The tree is read and checked now. Raises ``ValueError`` when it is damaged or runs past
    the end of the file, ``Unopened`` when it is larger than ``_TREE_MAX``.
    """
    if libfdt is None:
        detail = (
            "fit: pylibfdt is not installed, so the FIT image is not unpacked; install assay's "
            "'firmware' extra (pip install 'assay[firmware]': a C compiler and the Python "
            "headers build it)"
        )
        raise Unopened("missing-tool", detail)
    header = raw.read(_HEADER)
    total = int.from_bytes(header[4:8], "big") if len(header) == _HEADER else 0
    if total < _HEADER or total > size:
        raise ValueError(f"FIT tree size {total} does not fit the file's {size} bytes")
    if total > _TREE_MAX:
        detail = f"fit: a tree of {total} bytes, over the {_TREE_MAX} read; not unpacked"
        raise Unopened("too-large", detail)
    blob = header + raw.read(total - _HEADER)
    if len(blob) != total:
        raise ValueError("FIT tree ends early")
    try:
        tree = libfdt.FdtRo(blob)
        libfdt.check_err(libfdt.fdt_check_full(tree.as_bytearray(), total))
        images = tree.path_offset("/images")
    except libfdt.FdtException as exc:
        raise ValueError(f"FIT tree damaged: {exc}") from exc
    return _nodes(tree, images, raw, size)


def _nodes(tree: libfdt.FdtRo, images: int, raw: IO[bytes], size: int) -> Entries:
    """Each subnode of ``/images`` (at most ``_NODES_MAX``), as a member or a refused one."""
    node = tree.first_subnode(images, quiet=_NOT_FOUND)
    count = 0
    while node >= 0:
        name = f"images/{tree.get_name(node)}"
        count += 1
        if count > _NODES_MAX:
            detail = f"fit: more than {_NODES_MAX} image nodes; this one and the rest not read"
            yield Member(name, MemberType.REFUSED, detail, "bomb-file-count"), None
            return
        yield _node(tree, node, name, raw, size)
        node = tree.next_subnode(node, quiet=_NOT_FOUND)


def _node(
    tree: libfdt.FdtRo, node: int, name: str, raw: IO[bytes], size: int
) -> tuple[Member, _Opener | None]:
    """The member of one image node, refused when its bytes cannot be read."""
    compression = _text(tree, node, "compression") or "none"
    if compression == "lzo":
        detail = "fit node with an lzo payload: not decompressed; an lzo reader would be needed"
        return Member(name, MemberType.REFUSED, detail, "missing-tool"), None
    if compression not in _COMPRESSION:
        detail = f"fit node with compression {compression!r}, which U-Boot does not name"
        return Member(name, MemberType.REFUSED, detail, "unsupported-compression"), None
    fmt = _COMPRESSION[compression]
    try:
        source = _data(tree, node, raw, size)
    except ValueError as exc:
        return Member(
            name, MemberType.REFUSED, f"fit node: {exc}; not read", "corrupt-archive"
        ), None
    opener = _Opener(source, fmt)
    problem = opener.check()
    if problem is not None:
        detail = f"fit node declared {compression}: {problem}; not read"
        return Member(name, MemberType.REFUSED, detail, "corrupt-archive"), None
    return Member(name, MemberType.FILE), opener


def _data(tree: libfdt.FdtRo, node: int, raw: IO[bytes], size: int) -> _Source:
    """Where the node's bytes are: its ``data`` property, or a window of the file."""
    embedded = tree.getprop(node, "data", quiet=_NOT_FOUND)
    if not isinstance(embedded, int):
        return _Source(None, 0, 0, bytes(embedded))
    length = _cell(tree, node, "data-size")
    offset = _cell(tree, node, "data-offset")
    position = _cell(tree, node, "data-position")
    if length is None or (offset is None and position is None):
        raise ValueError("no data, and no data-size with data-offset or data-position")
    total = tree.totalsize()
    start = position if position is not None else (total + 3) // 4 * 4 + (offset or 0)
    if start + length > size:
        raise ValueError(f"its {length} bytes at {start} run past the file's {size} bytes")
    if start < total:
        raise ValueError(f"its bytes at {start} overlap the FIT's own tree (0 to {total})")
    return _Source(raw, start, length, b"")


def _text(tree: libfdt.FdtRo, node: int, prop: str) -> str | None:
    value = tree.getprop(node, prop, quiet=_NOT_FOUND)
    if isinstance(value, int):
        return None
    return bytes(value).split(b"\0", 1)[0].decode("ascii", "replace")


def _cell(tree: libfdt.FdtRo, node: int, prop: str) -> int | None:
    value = tree.getprop(node, prop, quiet=_NOT_FOUND)
    if isinstance(value, int):
        return None
    if len(value) != 4:
        raise ValueError(f"{prop} is {len(value)} bytes, not one 32-bit cell")
    return int.from_bytes(value, "big")


class _Source:
    """A node's bytes: held (embedded), or ``length`` bytes of ``raw`` from ``start``."""

    def __init__(self, raw: IO[bytes] | None, start: int, length: int, data: bytes) -> None:
        self.raw = raw
        self.start = start
        self.length = length
        self.data = data

    def open(self) -> IO[bytes]:
        if self.raw is None:
            return io.BytesIO(self.data)
        self.raw.seek(self.start)
        return cast(IO[bytes], _Window(self.raw, self.length))


class _Opener:
    """Opens a node's bytes, decompressed as declared."""

    def __init__(self, source: _Source, fmt: ArchiveFormat | None) -> None:
        self.source = source
        self.fmt = fmt

    def check(self) -> str | None:
        """Why the declared compression cannot be undone (read from the first bytes), or None."""
        if self.fmt is None:
            return None
        try:
            with decompressed(self.source.open(), self.fmt) as stream:
                stream.read(1)
        except _ERRORS as exc:
            return str(exc) or type(exc).__name__
        return None

    @contextmanager
    def __call__(self) -> Iterator[Readable]:
        raw = self.source.open()
        if self.fmt is None:
            yield raw
        else:
            with decompressed(raw, self.fmt) as stream:
                yield stream


class _Window:
    """The next ``left`` bytes of ``raw``; an error if the file ends before them."""

    def __init__(self, raw: IO[bytes], left: int) -> None:
        self.raw = raw
        self.left = left

    def read(self, size: int = -1, /) -> bytes:
        """Up to ``size`` bytes of the window (1 MiB when ``size`` is negative)."""
        wanted = min(1 << 20 if size < 0 else size, self.left)
        data = self.raw.read(wanted)
        if len(data) < wanted:
            raise ValueError("fit node data ends early")
        self.left -= len(data)
        return data

    def readable(self) -> bool:
        return True
