#!/usr/bin/env python3
"""Benchmark firmware carving: a flash dump with four images at offsets, carved and unpacked
by assay's ingest (unblob in the sandbox, then the ingest rules), against unblob run directly
on the same dump (the peer; issue #16 item 7: under 10 s on 2 cores for 64 MiB).

Usage::

    python bench/bench_carve.py [--size-mib 64] [--work DIR]

The dump is erased flash (0xff) holding, at the offsets of a small router's partitions, a
squashfs (xz), a JFFS2, a romfs and a 7z image, each made by its real tool from the same small
root file system (busybox-static from Debian bookworm, via tools/debian_binaries.py, and a
few text files). Each side runs in its own process; the script prints wall time and the peak
summed RSS of the whole process tree (psutil samples every 50 ms: assay, bwrap, unblob and the
extractors it runs), split as ``/proc/PID/status`` splits it: anonymous memory (``RssAnon``,
the heaps) and file-backed memory (``RssFile`` + ``RssShmem``: mapped files, among them the
dump that unblob memory-maps, whose pages count as resident once read though the kernel can
drop them at any time), each summed over the tree at the sample where it peaks; and the ratios
assay / unblob. assay starts unblob through ``ingest/unblob_runner.py``, which releases the
pages of the dump unblob has read every 8 MiB; under assay's line, what the runner said of the
dump (times released, unblob's own peak RSS). It runs once more on a dump ``--scale`` times
larger (default 4: 256 MiB) to show which memory grows with the dump's size (unblob alone:
the file-backed part, by the dump's added size).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psutil  # type: ignore[import-untyped]

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tools"))

import debian_binaries  # noqa: E402  (tools/ is a plain script folder)

TARGET_S = 10.0
INGEST = """
import logging, sys
from pathlib import Path
from assay.ingest import ArchiveLimits, ingest
said = []
class Said(logging.Handler):
    def emit(self, record):
        if record.getMessage().startswith("unblob on " + Path(sys.argv[1]).name):
            said.append(record.getMessage())
logging.getLogger("assay").addHandler(Said(logging.DEBUG))
logging.getLogger("assay").setLevel(logging.DEBUG)
result = ingest(Path(sys.argv[1]), Path(sys.argv[2]), ArchiveLimits())
kept = [c for c in result.containers if c.offset is not None]
images = {c.path for c in kept if c.format not in ("unknown", "padding")}
print(len(result.files), len(images), len(result.skipped))
print(*said, sep="\\n")
"""
"""assay's ingest of the dump; prints files, images, skipped, then what the unblob runner
said about the dump (pages released, unblob's own peak RSS)."""


def root_fs(root: Path) -> None:
    """A small root file system: busybox-static (a real ELF) and some configuration text."""
    shutil.rmtree(root, ignore_errors=True)
    busybox = debian_binaries.fetch("busybox-static", "bookworm", "amd64")
    (root / "bin").mkdir(parents=True)
    shutil.copy(busybox.path / "bin/busybox", root / "bin/busybox")
    (root / "etc").mkdir()
    for index in range(50):
        (root / "etc" / f"conf{index}").write_text(f"option {index}\n" * 40)


def images(root: Path, work: Path) -> list[bytes]:
    """A squashfs, a JFFS2, a romfs and a 7z image of ``root``, built by the real tools."""
    sq, jf, ro, sz = (work / n for n in ("a.sqfs", "b.jffs2", "c.romfs", "d.7z"))
    for path in (sq, jf, ro, sz):
        path.unlink(missing_ok=True)
    quiet = {"check": True, "capture_output": True}
    subprocess.run(["mksquashfs", root, sq, "-comp", "xz", "-noappend", "-quiet"], **quiet)
    mkfs_jffs2 = shutil.which("mkfs.jffs2") or "/usr/sbin/mkfs.jffs2"
    subprocess.run([mkfs_jffs2, "-r", root, "-o", jf, "-e", "0x10000", "-l"], **quiet)
    subprocess.run(["genromfs", "-d", root, "-f", ro], **quiet)
    subprocess.run(["7z", "a", "-bd", str(sz), "."], cwd=root, **quiet)
    return [path.read_bytes() for path in (sq, jf, ro, sz)]


OFFSETS = (1 << 20, 4 << 20, 6 << 20, 8 << 20)
"""Where the four images start: partitions of a small router's flash (boot loader space first,
then root file system, data partition, a recovery image, a package); the rest is erased."""


def dump(parts: list[bytes], size: int, out: Path) -> Path:
    """Erased flash (0xff) of ``size`` bytes with the parts at ``OFFSETS``, random bytes (a
    boot loader's place) before the first."""
    with out.open("wb") as stream:
        stream.write(b"\xff" * size)
        stream.seek(0)
        stream.write(os.urandom(OFFSETS[0] // 2))
        for offset, part in zip(OFFSETS, parts, strict=True):
            stream.seek(offset)
            stream.write(part)
    return out


@dataclass(frozen=True)
class Measured:
    """One run of one side."""

    wall: float
    """Seconds, start to end."""
    rss: int
    """Peak summed RSS of the process tree."""
    anon: int
    """Peak summed anonymous memory (``RssAnon``)."""
    file: int
    """Peak summed file-backed memory (``RssFile`` + ``RssShmem``: the dump unblob maps is
    resident but reclaimable, and counted once per process that maps it)."""
    cpu: float
    """User + system seconds of every process of the tree (last sample of each)."""
    output: str
    """What the command printed."""

    def line(self) -> str:
        """The figures as one line."""
        return (
            f"{self.wall:6.2f} s wall, {self.cpu:6.2f} s CPU, peak RSS {self.rss >> 20} MiB "
            f"(anonymous {self.anon >> 20} MiB, file-backed {self.file >> 20} MiB)"
        )


def measure(command: list[str], accepted: tuple[int, ...] = (0,)) -> Measured:
    """Run ``command``, sampling its process tree every 50 ms (an exit code outside
    ``accepted`` stops the benchmark)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = anon_peak = file_peak = 0
    cpu: dict[int, float] = {}
    while process.poll() is None:
        try:
            tree = [psutil.Process(process.pid), *psutil.Process(process.pid).children(True)]
        except psutil.Error:
            break
        rss = anon = file = 0
        for member in tree:
            try:
                times = member.cpu_times()
                kinds = status_memory(member.pid)
            except (psutil.Error, OSError):
                continue
            anon += kinds["RssAnon"]
            file += kinds["RssFile"] + kinds["RssShmem"]
            rss += kinds["RssAnon"] + kinds["RssFile"] + kinds["RssShmem"]
            cpu[member.pid] = times.user + times.system
        peak, anon_peak, file_peak = max(peak, rss), max(anon_peak, anon), max(file_peak, file)
        time.sleep(0.05)
    out, err = process.communicate()
    wall = time.perf_counter() - start
    if process.returncode not in accepted:
        tail = (out + err).decode("utf-8", "replace")[-800:]
        sys.exit(f"{command[0]} failed ({process.returncode}): {tail}")
    return Measured(wall, peak, anon_peak, file_peak, sum(cpu.values()), out.decode().strip())


def status_memory(pid: int) -> dict[str, int]:
    """Bytes of ``RssAnon``, ``RssFile`` and ``RssShmem`` in ``/proc/PID/status`` (their sum
    is the RSS)."""
    found = dict.fromkeys(("RssAnon", "RssFile", "RssShmem"), 0)
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in found:
            found[key] = int(value.split()[0]) << 10  # kB
    return found


def run(size: int, parts: list[bytes], work: Path) -> tuple[Measured, Measured]:
    """Carve one dump with assay and with unblob; print and return both figures."""
    image = dump(parts, size, work / f"flash-{size >> 20}.bin")
    assay_work, peer_out = work / "assay-work", work / "unblob-out"
    report = work / "unblob-report.json"
    for path in (assay_work, peer_out):
        shutil.rmtree(path, ignore_errors=True)
    report.unlink(missing_ok=True)
    ours = measure([sys.executable, "-c", INGEST, str(image), str(assay_work)])
    unblob = [sys.executable, "-m", "unblob.cli", "--depth", "1", "--randomness-depth", "0",
              "--process-num", "1", "--extract-dir", str(peer_out),
              "--report", str(report), "--log", str(work / "unblob.log"),
              str(image)]  # fmt: skip
    peer = measure(unblob, (0, 1))  # 1: unblob reports errors (sasquatch missing)
    peer_files = sum(1 for p in peer_out.rglob("*") if p.is_file() and not p.is_symlink())
    if not report.is_file() or peer_files == 0:
        sys.exit(f"unblob wrote nothing for {image}: the comparison would be void")
    counts, *said = ours.output.splitlines()
    files, found, skipped = counts.split()
    print(f"dump: {size >> 20} MiB, {found} images carved, {files} files, {skipped} skipped")
    print(f"  assay:  {ours.line()}")
    for line in said:
        print(f"    {line}")
    print(f"  unblob: {peer.line()}, {peer_files} files")
    print(
        f"  ratio assay/unblob: wall {ours.wall / peer.wall:.2f}, CPU {ours.cpu / peer.cpu:.2f}, "
        f"RSS {ours.rss / peer.rss:.2f}, anonymous {ours.anon / peer.anon:.2f}, "
        f"file-backed {ours.file / peer.file:.2f}"
    )
    return ours, peer


def main(argv: list[str] | None = None) -> int:
    """Build the dumps, carve each with both tools, print the figures; exit 1 over target."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--size-mib", type=int, default=64)
    parser.add_argument("--scale", type=int, default=4, help="the second dump's size / the first")
    parser.add_argument("--work", type=Path, default=Path("/tmp/assay-bench-carve"))
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    root_fs(args.work / "root")
    parts = images(args.work / "root", args.work)
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()}")
    ours, _ = run(args.size_mib << 20, parts, args.work)
    large, _ = run(args.scale * args.size_mib << 20, parts, args.work)
    sizes = f"{args.scale * args.size_mib} MiB / {args.size_mib} MiB"
    print(
        f"assay memory {sizes}: RSS {large.rss / ours.rss:.2f}, anonymous "
        f"{large.anon / ours.anon:.2f}, file-backed {large.file / ours.file:.2f}"
    )
    verdict = "met" if ours.wall < TARGET_S else "MISSED"
    print(f"target: {TARGET_S:.0f} s wall for {args.size_mib} MiB: {verdict}")
    print(f"load average at the end: {os.getloadavg()}")
    return 0 if ours.wall < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
