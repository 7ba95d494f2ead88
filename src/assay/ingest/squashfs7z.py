"""The squashfs variants that ``unsquashfs`` does not read, unpacked with 7-Zip (``7zz``).

Which reader opens which squashfs (``reader``, from the superblock and the first bytes of the
first inode-table block; no squashfs parser is written here):

- version 4, little endian (every image mksquashfs 4 makes, any of its six compressors):
  ``unsquashfs`` (squashfs-tools), the reference reader and the only one here that reads lz4;
- versions 1 to 3, either byte order, zlib blocks (squashfs as the kernel had it until 2.6.29):
  ``unsquashfs`` as well, which reads them and swaps the byte order itself;
- versions 1 to 3 with LZMA blocks, either byte order: the vendor variants (a raw LZMA stream
  under the standard magic, or the ``shsq``/``qshs`` magic whose blocks carry an LZMA header):
  ``7zz`` (Debian package ``7zip``), whose SquashFS reader knows both; unsquashfs fails on
  their first block. unblob would run ``sasquatch``, which Debian does not package;
- version 4, big endian: none. 7-Zip's reader refuses it (it reads version 4 only in little
  endian) and sasquatch-v4be is not packaged, so it is a ``missing-tool`` record.

``7zz`` runs like the other extractors: inside ``assay.sandbox`` (no network, the image
read-only, only the fresh destination writable, the wall-clock cap), under ``RLIMIT_FSIZE`` at
the bytes the caps still allow, after a listing (``7zz l -slt``) whose entries and sizes are
checked against the caps before anything is written. What it wrote is then reconciled with
the listing (``sevenzip_output``) before the directory walk sees it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final, Literal

from assay import sandbox
from assay.ingest import images, sevenzip_output
from assay.ingest.archive import Budget
from assay.ingest.sevenzip_output import Entry

PROGRAM: Final = sevenzip_output.PROGRAM
PACKAGE: Final = "7zip"
_OUTPUT: Final = images.OUTPUT
_LISTING_CAP: Final = images.LISTING_CAP
_MAGIC: Final[dict[bytes, Literal["little", "big"]]] = {
    b"hsqs": "little",
    b"sqsh": "big",
    b"shsq": "little",  # the squashfs-lzma magics: each block says whether it is LZMA or zlib
    b"qshs": "big",
}

Reader = Literal["unsquashfs", "7zz"]


def reader(image: Path) -> Reader:
    """Which program reads the squashfs ``image`` (see the module docstring).

    Raises ``ImageUnreadable`` (``missing-tool``) for a big-endian squashfs 4, which no
    packaged reader opens.
    """
    with image.open("rb") as stream:
        head = stream.read(0x77)
        order = _MAGIC.get(head[:4])
        major = int.from_bytes(head[28:30], order) if order else 0
        if major == 4 and order == "big":
            detail = (
                "big-endian squashfs 4: not unpacked; neither unsquashfs nor 7-Zip reads it, "
                "sasquatch-v4be (not packaged by Debian) would be needed"
            )
            raise images.ImageUnreadable("missing-tool", detail)
        if order is None or major >= 4 or len(head) < 0x77:
            return "unsquashfs"
        if head[:4] in (b"shsq", b"qshs"):
            return "7zz"
        at = 0x57 if major == 3 else 0x14  # inode table start: 64-bit in 3, 32-bit before
        table = int.from_bytes(head[at : at + (8 if major == 3 else 4)], order)
        stream.seek(table)
        block = stream.read(4)
    return "7zz" if _lzma_block(block, order) else "unsquashfs"


def _lzma_block(block: bytes, order: Literal["little", "big"]) -> bool:
    """Whether the first metadata block is compressed but not a zlib stream (RFC 1950 header:
    method 8, a window of at most 32 KiB, a check that divides by 31): it is LZMA."""
    if len(block) < 4 or int.from_bytes(block[:2], order) & 0x8000:
        return False  # cut short (unsquashfs will say so), or stored uncompressed
    cmf, flg = block[2], block[3]
    return not (cmf & 0x0F == 8 and cmf >> 4 <= 7 and (cmf << 8 | flg) % 31 == 0)


def unpack(source: Path, dest: Path, archive_path: str, budget: Budget) -> images.Unpacked:
    """List, check and extract the squashfs ``source`` with 7zz into ``dest / OUTPUT``.

    Raises ``ImageUnreadable`` when nothing is extracted: 7zz missing, no sandbox, a listing
    that fails or does not fit the caps, a cap reached while writing (nothing kept).
    """
    tool = images.which(PROGRAM)
    if tool is None:
        detail = (
            f"squashfs with LZMA blocks (a vendor variant): {PROGRAM} not found "
            f"(install {PACKAGE}); unsquashfs does not read it"
        )
        raise images.ImageUnreadable("missing-tool", detail)
    problem = images.sandbox_problem()
    if problem is not None:
        raise images.ImageUnreadable("sandbox-unavailable", f"squashfs not unpacked: {problem}")
    image = source.resolve()
    entries = _listing(tool, image, dest, budget)
    files = [e for e in entries if e.mode.startswith("-")]
    images.check_totals(len(entries), sum(e.size for e in files), image, budget)
    allowed = images.bytes_allowed(budget, image.stat().st_size)
    argv = ["prlimit", f"--fsize={allowed}", "--", tool, "x", "-y", "-bd", "-bso0", "-bsp0"]
    argv += ["-tSquashFS", f"-o{_OUTPUT}", "--", str(image)]
    result = images.run_extractor(argv, image, dest, budget)
    stop = images.stopped(result, PROGRAM, allowed)
    if stop is not None:
        images.remove(dest / _OUTPUT)
        raise images.ImageUnreadable(*stop)
    root = dest / _OUTPUT
    root.mkdir(exist_ok=True)
    return images.Unpacked(root, sevenzip_output.repair(entries, root, result, archive_path))


def _listing(tool: str, image: Path, dest: Path, budget: Budget) -> list[Entry]:
    """The image's entries as ``7zz l -slt`` lists them (nothing written)."""
    argv = [tool, "l", "-slt", "-ba", "-tSquashFS", "--", str(image)]
    listed = images.run_extractor(argv, image, dest, budget, _LISTING_CAP + 1)
    if listed.timed_out:
        detail = f"{PROGRAM} l: stopped after {listed.duration:.0f} s; not unpacked"
        raise images.ImageUnreadable("image-timeout", detail)
    if listed.returncode != 0:
        raise images.ImageUnreadable("image-rejected", f"{PROGRAM} l: {_why(listed)}")
    if len(listed.stdout) > _LISTING_CAP:
        detail = f"listing longer than {_LISTING_CAP} bytes (more entries than assay reads)"
        raise images.ImageUnreadable("bomb-file-count", f"{detail}; not unpacked")
    return _entries(listed.stdout.decode("utf-8", "surrogateescape"))


def _entries(text: str) -> list[Entry]:
    """Parse ``-slt`` blocks (``Path = …``, ``Size = …``, ``Mode = …``, one per entry).

    A name holding a newline can only add lines: entries and sizes never fall below the truth.
    """
    entries: list[Entry] = []
    path: str | None = None
    size = 0
    for line in text.splitlines():
        key, _, value = line.partition(" = ")
        if key == "Path":
            path, size = value, 0
        elif key == "Size" and value.isdigit():
            size = int(value)
        elif key == "Mode" and path is not None:
            entries.append(Entry(path, value, size))
            path = None
    return entries


def _why(result: sandbox.SandboxResult) -> str:
    text = (result.stderr or result.stdout).decode("utf-8", "backslashreplace")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return f"exit {result.returncode}: {'; '.join(lines)[:300]}"
