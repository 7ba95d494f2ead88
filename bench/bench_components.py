#!/usr/bin/env python3
"""Benchmark the component pass, vulnerability matching and ``kb add`` (issue targets: at most
30% of an evaluation's wall time; matching under 2 s; ``kb add`` of OpenSSL under 30 s).

Usage::

    python bench/bench_components.py TREE OPENSSL_RELEASE_DIR [--jobs 2]
    python bench/bench_components.py --firmware 2000 [--jobs 2]
    python bench/bench_components.py --pass-only TREE

Runs, in one process: a whole ``assay evaluate`` of TREE (wall time), then the component pass
alone on the same ingested tree (version evidence plus the knowledge-base lookups, exactly
what the engine runs), then ``kb add`` of the given OpenSSL release into a temporary KB.
Prints the times and the component pass as a share of the evaluation.

``--firmware N`` builds a firmware file system of N ELF files instead (arm64 executables,
shared libraries and kernel modules of the real Debian packages of ``FIRMWARE_PACKAGES``,
fetched with ``tools/debian_binaries.py``), evaluates it, and measures identification there:
the component pass, and the binary signatures run alone over every ELF file, each as a share
of the evaluation's CPU time. That share is measured on a second evaluation in one process
(``jobs=1``), whose CPU time is all this process's; the first, with ``--jobs``, gives the wall
time.

``--pass-only TREE`` times only the component pass on TREE, with and without the lookups of
files by their normalised content (``content.NormalisedContent``; without them only raw
sha256 equality is used), and prints the ratio and how many files were tokenized.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from assay import engine
from assay.assess.vulns import db as vulndb
from assay.assess.vulns.match import assess
from assay.config import Options
from assay.correlate.components.content import NormalisedContent
from assay.correlate.components.copies import identify_all
from assay.correlate.components.kb import add_release, open_default
from assay.correlate.components.matching import correlate
from assay.ingest import ArchiveLimits, SourceFile
from assay.ingest.tree import ingest

FIRMWARE_PACKAGES = (
    "linux-image-6.1.0-50-cloud-arm64", "libc6", "busybox", "coreutils", "util-linux",
    "e2fsprogs", "iproute2", "iptables", "nftables", "dnsmasq-base", "hostapd", "wpasupplicant",
    "openssh-server", "openssh-client", "dropbear-bin", "lighttpd", "libssl3", "openssl",
    "libcurl4", "curl", "zlib1g", "libbz2-1.0", "liblzma5", "libzstd1", "libsqlite3-0",
    "libxml2", "libexpat1", "libpcre2-8-0", "libjson-c5", "libnl-3-200", "strongswan-charon",
    "frr", "chrony", "ntp", "radvd", "lldpd", "tcpdump", "rsync", "vsftpd", "samba-libs",
    "libpython3.11-stdlib", "bash", "sudo", "miniupnpd-nftables", "libunbound8", "haproxy",
    "systemd", "libperl5.36", "libglib2.0-0", "libgnutls30",
)  # fmt: skip
"""arm64 bookworm packages a firmware file system is assembled from (largest ELF sets first:
the kernel's modules, then user space)."""


def _cpu() -> float:
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def build_firmware(dest: Path, count: int) -> list[Path]:
    """A tree of ``count`` ELF files from ``FIRMWARE_PACKAGES`` (paths kept below each
    package's own root)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
    import debian_binaries

    elves: list[Path] = []
    for package in FIRMWARE_PACKAGES:
        try:
            binary = debian_binaries.fetch(package, "bookworm", "arm64")
        except debian_binaries.BinaryError as exc:
            print(f"skipped {package}: {exc}", file=sys.stderr)
            continue
        for directory, _, names in sorted(os.walk(binary.path)):
            for name in sorted(names):
                file = Path(directory, name)
                if file.is_symlink() or not file.is_file() or len(elves) >= count:
                    continue
                with file.open("rb") as handle:
                    if handle.read(4) != b"\x7fELF":
                        continue
                target = dest / file.relative_to(binary.path)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(file, target)
                elves.append(target)
        if len(elves) >= count:
            break
    return elves


def firmware(count: int, jobs: int) -> None:
    """Measure identification on a firmware file system of ``count`` ELF files."""
    from assay.analyze.binaries import signatures as binary_signatures

    with tempfile.TemporaryDirectory(prefix="assay-bench-") as scratch:
        work = Path(scratch)
        elves = build_firmware(work / "rootfs", count)
        size = sum(e.stat().st_size for e in elves)
        start = time.perf_counter()
        engine.evaluate(Options(work / "rootfs", work / "out", jobs=jobs, no_cache=True))
        evaluation_s = time.perf_counter() - start
        cpu = _cpu()
        engine.evaluate(Options(work / "rootfs", work / "out1", jobs=1, no_cache=True))
        evaluation_cpu = _cpu() - cpu
        files = ingest(work / "rootfs", work / "extract", ArchiveLimits()).files
        start = time.perf_counter()
        found, confirming, _ = identify_all(files)
        with open_default() as kb:
            copies = correlate(found, files, kb, confirming)
        component_s = time.perf_counter() - start
        cpu = _cpu()
        hits = sum(len(binary_signatures.detect(e.read_bytes(), e.name)) for e in elves)
        binary_cpu = _cpu() - cpu
    print(f"firmware file system: {len(elves)} ELF files, {size / 1e6:.0f} MB")
    print(
        f"evaluation: {evaluation_s:.1f} s wall ({jobs} jobs), {evaluation_cpu:.1f} s CPU (1 job)"
    )
    print(f"component pass (source signatures + KB): {component_s:.2f} s, {len(copies)} copies")
    print(f"binary identification alone: {binary_cpu:.1f} s CPU, {hits} hits ="
          f" {100 * binary_cpu / evaluation_cpu:.1f}% of the evaluation's CPU time")  # fmt: skip


class _RawOnly(NormalisedContent):
    """The component pass as it was before normalised lookups: raw sha256 equality only."""

    def nhash(self, file: SourceFile) -> str | None:
        return None


def pass_only(tree: Path) -> None:
    """Time the component pass on ``tree`` with and without normalised-content lookups."""
    with tempfile.TemporaryDirectory(prefix="assay-bench-") as scratch:
        files = ingest(tree, Path(scratch), ArchiveLimits()).files
        times: dict[str, float] = {}
        counts: dict[str, int] = {}
        for label in ("raw", "normalised", "raw", "normalised"):
            start = time.perf_counter()
            found, confirming, _ = identify_all(files)
            with open_default() as kb:
                content = NormalisedContent(kb) if label == "normalised" else _RawOnly(kb)
                copies = correlate(found, files, kb, confirming, content)
            elapsed = time.perf_counter() - start
            times[label] = min(times.get(label, elapsed), elapsed)
            counts[label] = len(copies)
            tokenized = content.tokenized
    print(f"{len(files)} files; component pass (best of 2): raw sha256 only {times['raw']:.2f} s"
          f" ({counts['raw']} copies), with normalised lookups {times['normalised']:.2f} s"
          f" ({counts['normalised']} copies, {tokenized} distinct contents tokenized);"
          f" ratio {times['normalised'] / times['raw']:.2f}")  # fmt: skip


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tree", type=Path, nargs="?")
    parser.add_argument("openssl", type=Path, nargs="?")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--firmware", type=int, metavar="N", help="ELF files of a firmware tree")
    parser.add_argument("--pass-only", action="store_true", help="time the component pass alone")
    args = parser.parse_args()
    if args.pass_only and args.tree is not None:
        pass_only(args.tree)
        return
    if args.firmware:
        firmware(args.firmware, args.jobs)
        return
    if args.tree is None or args.openssl is None:
        parser.error("TREE and OPENSSL_RELEASE_DIR are needed without --firmware")
    with tempfile.TemporaryDirectory(prefix="assay-bench-") as scratch:
        work = Path(scratch)
        start = time.perf_counter()
        engine.evaluate(Options(args.tree, work / "out", jobs=args.jobs, no_cache=True))
        evaluation_s = time.perf_counter() - start
        files = ingest(args.tree, work / "extract", ArchiveLimits()).files
        start = time.perf_counter()
        found, confirming, _ = identify_all(files)
        with open_default() as kb:
            copies = correlate(found, files, kb, confirming)
        component_s = time.perf_counter() - start
        start = time.perf_counter()
        known = vulndb.load()
        results = [
            assess(c, known.advisories, known.cycles, known.exploited, known.snapshot)
            for c in copies
        ]
        match_s = time.perf_counter() - start
        start = time.perf_counter()
        added = add_release(work / "kb.sqlite", args.openssl, "openssl", "bench", "bench")
        kb_add_s = time.perf_counter() - start
    print(f"evaluation ({args.jobs} jobs): {evaluation_s:.1f} s; {len(copies)} copies found")
    print(f"component pass: {component_s:.2f} s = {100 * component_s / evaluation_s:.1f}% "
          "of the evaluation (target at most 30%)")  # fmt: skip
    cves = sum(len(r.hits) for r in results)
    print(f"vulnerability matching (load + assess {len(copies)} copies, {cves} CVEs): "
          f"{match_s:.2f} s (target < 2 s)")  # fmt: skip
    print(f"kb add {args.openssl.name}: {kb_add_s:.1f} s for {added.files} files (target < 30 s)")


if __name__ == "__main__":
    main()
