#!/usr/bin/env python3
"""Measure a change of the ``endpoints`` analyzer on the test cache, before and after.

Usage::

    python bench/endpoints_cache.py list OUT.txt
    PYTHONPATH=/path/to/other/checkout/src python bench/endpoints_cache.py scan BEFORE.json OUT.txt
    python bench/endpoints_cache.py scan AFTER.json OUT.txt
    python bench/endpoints_cache.py compare BEFORE.json AFTER.json

``list`` freezes the package and release folders of the cache (``tools/debian_binaries.py``,
``tools/upstream.py``), so that both scans read the same files while tests download more.
``scan`` writes every public or private occurrence that the ``assay`` it imports reports: in
the ELF files of the Debian packages (``in_binary``), in their configuration text files and in
those of the upstream releases (``in_text``, context ``config``), and in the C/C++ code of the
releases (string literals and ``#define`` bodies, context ``code``). ``compare`` prints the
occurrences before and after, the dropped and the new ones by value, the values changed at the
same place, and whether a URL, a root-server name or address, or a well-known DNS resolver
address was dropped. The engine is not involved: no result cache answers.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CACHE = Path.home() / ".cache" / "assay"
FOLDERS = ("debian-binaries", "upstream")
RESOLVERS = frozenset(
    {"8.8.8.8", "8.8.4.4", "1.1.1.1", "1.0.0.1", "9.9.9.9", "149.112.112.112", "208.67.222.222",
     "208.67.220.220", "4.2.2.1", "4.2.2.2", "2001:4860:4860::8888", "2001:4860:4860::8844",
     "2606:4700:4700::1111", "2620:fe::fe"}
)  # fmt: skip
ROOT_SERVERS = frozenset(
    {"198.41.0.4", "170.247.170.2", "199.9.14.201", "192.33.4.12", "199.7.91.13",
     "192.203.230.10", "192.5.5.241", "192.112.36.4", "198.97.190.53", "192.36.148.17",
     "192.58.128.30", "193.0.14.129", "199.7.83.42", "202.12.27.33"}
)  # fmt: skip
MAX_SOURCE = 2_000_000
"""Larger C/C++ files are not parsed (generated tables)."""

Row = list[Any]


def folders(listing: Path) -> Iterator[tuple[str, Path]]:
    """(kind folder, package or release folder) of a frozen listing."""
    for line in listing.read_text().splitlines():
        kind, _, name = line.partition("/")
        yield kind, CACHE / kind / name


def write_listing(out: Path) -> None:
    names = [
        f"{kind}/{p.name}"
        for kind in FOLDERS
        for p in sorted((CACHE / kind).iterdir())
        if p.is_dir() and p.name != "apt"
    ]
    out.write_text("\n".join(names) + "\n")
    print(f"{len(names)} folders")


def _files(root: Path) -> Iterator[Path]:
    for dirpath, _, names in os.walk(root):
        for name in names:
            path = Path(dirpath) / name
            if not path.is_symlink() and path.is_file():
                yield path


def scan(out: Path, listing: Path) -> None:
    """Every public or private occurrence reported by the imported ``assay``."""
    import assay
    from assay.analyze.endpoints import is_config
    from assay.analyze.endpoints import text as endpoint_text
    from assay.analyze.endpoints.source import endpoints
    from assay.ingest.classify import source_kind
    from assay.parse import parse

    shell = "shell" in inspect.signature(endpoint_text.in_text).parameters

    def in_text(name: str, text: str) -> list[tuple[int, Any, str]]:
        if shell:
            return endpoint_text.in_text(text, shell=endpoint_text.is_shell(name, text))
        return endpoint_text.in_text(text)

    rows: list[Row] = []
    counts: Counter[str] = Counter()
    for kind, root in folders(listing):
        for path in _files(root):
            rel = f"{root.name}/{path.relative_to(root)}"
            data = path.read_bytes()
            if kind == "debian-binaries" and data[:4] == b"\x7fELF":
                counts["elf"] += 1
                for offset, m in endpoint_text.in_binary(data):
                    counts["endpoints"] += 1
                    if m.klass in ("public", "private"):
                        rows.append(["binary", rel, offset, m.kind, m.value])
            elif kind == "upstream" and (language := source_kind(path.name)) is not None:
                if len(data) > MAX_SOURCE or b"." not in data:
                    continue
                counts["source"] += 1
                for line, m, context, _ in endpoints(parse(data, language)):
                    counts["endpoints"] += 1
                    if context == "code" and m.klass in ("public", "private"):
                        rows.append(["code", rel, line, m.kind, m.value])
            elif is_config(str(path.relative_to(root))) and b"\0" not in data[:8192]:
                counts["config"] += 1
                for line, m, context in in_text(path.name, data.decode("utf-8", "replace")):
                    counts["endpoints"] += 1
                    if context == "config" and m.klass in ("public", "private"):
                        rows.append(["config", rel, line, m.kind, m.value])
    out.write_text(json.dumps(rows))
    print(
        f"assay from {Path(assay.__file__).parent}: {counts['elf']} ELF files, "
        f"{counts['source']} C/C++ files, {counts['config']} configuration files, "
        f"{counts['endpoints']} endpoints, {len(rows)} public or private"
    )


def compare(before_path: Path, after_path: Path) -> None:
    before: Counter[tuple[Any, ...]] = Counter(map(tuple, json.loads(before_path.read_text())))
    after: Counter[tuple[Any, ...]] = Counter(map(tuple, json.loads(after_path.read_text())))
    dropped, new = before - after, after - before
    at: dict[tuple[Any, ...], list[tuple[Any, ...]]] = defaultdict(list)
    for row in new.elements():
        at[row[:3]].append(row)
    changed = []
    for row in list(dropped.elements()):
        if at[row[:3]]:
            other = at[row[:3]].pop()
            changed.append((row, other))
            dropped[row] -= 1
            new[other] -= 1
    dropped, new = +dropped, +new
    print(
        f"{before.total()} public or private occurrences before, {after.total()} after: "
        f"{dropped.total()} dropped, {new.total()} new, {len(changed)} changed in place"
    )
    for title, rows in (("dropped", dropped), ("new", new)):
        by_value = Counter({(r[0], r[3], r[4]): 0 for r in rows})
        for row, count in rows.items():
            by_value[(row[0], row[3], row[4])] += count
        print(f"-- {title}: {len(by_value)} distinct")
        for (context, kind, value), count in by_value.most_common():
            print(f"  {count:5} {context:7} {kind:5} {value}")
    by_change = Counter((o[0], o[3], o[4], n[4]) for o, n in changed)
    print(f"-- changed in place: {len(by_change)} distinct")
    for (context, kind, old, value), count in by_change.most_common():
        print(f"  {count:5} {context:7} {kind:5} {old} -> {value}")
    lost = [
        r
        for r in dropped
        if r[3] == "url" or "root-servers" in r[4] or r[4] in RESOLVERS | ROOT_SERVERS
    ]
    print(f"URLs, root servers and resolver addresses dropped: {len(lost)}")
    for row in lost[:20]:
        print("  ", row)
    shortened = [(o, n) for o, n in changed if o[3] == "url" and not o[4].startswith(n[4])]
    print(f"URLs changed to something else than a prefix: {len(shortened)}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list").add_argument("out", type=Path)
    scanning = commands.add_parser("scan")
    scanning.add_argument("out", type=Path)
    scanning.add_argument("listing", type=Path)
    comparing = commands.add_parser("compare")
    comparing.add_argument("before", type=Path)
    comparing.add_argument("after", type=Path)
    args = parser.parse_args(argv)
    if args.command == "list":
        write_listing(args.out)
    elif args.command == "scan":
        scan(args.out, args.listing)
    else:
        compare(args.before, args.after)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
