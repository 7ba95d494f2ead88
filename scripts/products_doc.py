#!/usr/bin/env python3
"""Generate ``docs/products.md``: every product assay names, with the evidence of each row.

Usage::

    python scripts/products_doc.py           # rewrite docs/products.md
    python scripts/products_doc.py --check   # exit 1 when docs/products.md is out of date

The list is built from the rule data only: ``src/assay/rules/binary_signatures.toml`` (version
evidence inside shipped binaries) and ``src/assay/rules/signatures.toml`` (version evidence in
vendored source). Tables are grouped by their ``name`` (the canonical product name), so two
tables of one product (``linux`` and ``linux-modules``) make one entry. For each row the page
shows what it looks at (a content regex, a file name, a source file) and the comment written
above the row in the TOML file, which quotes the bytes or text the row matches; that comment is
the row's evidence, so every row should have one.

``tests/test_products_doc.py`` checks that the committed page equals this script's output.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "src" / "assay" / "rules"
OUTPUT = ROOT / "docs" / "products.md"
SOURCES = (("binaries", "binary_signatures.toml"), ("source", "signatures.toml"))
_TABLE = re.compile(r"^\[(?P<table>[^\[\]]+)\]\s*$")
_ROW = re.compile(r"^\[\[(?P<table>[^\[\]]+)\.signatures\]\]\s*$")


@dataclass(frozen=True)
class Row:
    """One row of evidence, as the page shows it."""

    where: str
    """``binaries`` or ``source``."""
    table: str
    """TOML table the row belongs to."""
    id: str
    """Row id."""
    looks_at: str
    """What the row reads (content, file name, source file)."""
    comment: str
    """The comment above the row (its evidence), joined into one line."""


def _comments(text: str) -> dict[str, list[str]]:
    """For each table, the comment block written above each of its rows, in order.

    A comment block is the run of ``#`` lines since the last key or table line (blank lines do
    not end it); section dividers such as ``# --- TLS ---`` are dropped by the table line after
    them.
    """
    found: dict[str, list[str]] = {}
    block: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#"):
            block.append(line.lstrip("#").strip())
            continue
        if not line:
            continue
        row = _ROW.match(line)
        if row:
            found.setdefault(row.group("table"), []).append(" ".join(p for p in block if p))
        block = []
    return found


def _looks_at(where: str, row: dict[str, object]) -> str:
    file = row.get("file")
    pattern = row.get("pattern")
    requires = row.get("requires")
    if where == "binaries":
        text = f"file name `{file}`" if file else f"content `{pattern}`"
        if requires:
            text += f" (with `{requires}`)"
        return text
    text = f"file `{file}`" if file else "any file"
    if pattern:
        text += f", text `{pattern}`"
    return text


def rows() -> dict[str, list[Row]]:
    """Every row of both rule files, grouped by product name (sorted)."""
    products: dict[str, list[Row]] = {}
    for where, filename in SOURCES:
        path = RULES / filename
        if not path.is_file():
            continue
        text = path.read_text("utf-8")
        comments = _comments(text)
        for table, body in tomllib.loads(text).items():
            if not isinstance(body, dict) or "name" not in body:
                continue
            notes = comments.get(table, [])
            for index, row in enumerate(body.get("signatures", [])):
                comment = notes[index] if index < len(notes) else ""
                entry = Row(where, table, row["id"], _looks_at(where, row), comment)
                products.setdefault(body["name"], []).append(entry)
    return dict(sorted(products.items()))


NO_PACKAGE: dict[str, str] = {
    "thttpd": "no source package in any suite",
    "boa": "no source package in any suite",
    "goahead": "no source package in any suite",
    "quagga": "no source package in any suite (only a Puppet module that configures it)",
    "openswan": "no source package in any suite",
    "uhttpd": "no source package in any suite (OpenWrt's daemons are not in Debian)",
    "odhcpd": "no source package in any suite (OpenWrt's daemons are not in Debian)",
    "netifd": "no source package in any suite (OpenWrt's daemons are not in Debian)",
    "libubox": "no source package in any suite (OpenWrt's daemons are not in Debian)",
    "freertos": "no source package in any suite",
    "zephyr": "Debian's `zephyr` is MIT's Zephyr messaging system, not the RTOS",
    "threadx": "no source package in any suite",
    "netx": "Debian's netx packages are Java Web Start and a Go library, not NetX",
    "nucleus": "Debian's `nucleus` (forky, sid) is an unrelated program of that name",
}
"""Products not tested on a binary: no package. Checked on 2026-12-03 in the source indexes of
every suite ``tools/upstream.py`` reads (bullseye, bookworm, trixie, forky, sid and the
bullseye, bookworm and trixie security suites) by package, binary and homepage name; PyPI, the
only other registry reachable, has no build of them. Their binary rows were written from the
products' own sources and are not checked on a real binary."""


def _escape(text: str) -> str:
    return text.replace("|", "\\|")


def render() -> str:
    """The whole page."""
    products = rows()
    in_binaries = sum(any(r.where == "binaries" for r in v) for v in products.values())
    in_source = sum(any(r.where == "source" for r in v) for v in products.values())
    lines = [
        "# Products assay names",
        "",
        "<!-- Generated by scripts/products_doc.py from src/assay/rules/binary_signatures.toml",
        "     and src/assay/rules/signatures.toml; do not edit by hand. -->",
        "",
        f"{len(products)} products: {in_binaries} named in binaries (ELF executables, shared and",
        f"static libraries, kernel modules, the kernel image), {in_source} in vendored source.",
        "Each row below is one piece of version evidence; its note quotes what it matches",
        '(rows marked "well-known" were written without a real file at hand).',
        "",
        "Not tested on a binary: no package (no Debian suite has their source): "
        + ", ".join(f"[{name}](#{_anchor(name)})" for name in sorted(NO_PACKAGE))
        + ".",
        "",
        "| Product | Binary rows | Source rows |",
        "|---|---|---|",
    ]
    for name, entries in products.items():
        binary = sum(r.where == "binaries" for r in entries)
        source = sum(r.where == "source" for r in entries)
        lines.append(f"| [{name}](#{_anchor(name)}) | {binary} | {source} |")
    for name, entries in products.items():
        lines += ["", f"## {name}", ""]
        if name in NO_PACKAGE:
            lines += [f"Not tested on a binary: no package ({NO_PACKAGE[name]}).", ""]
        for where in ("binaries", "source"):
            chosen = [r for r in entries if r.where == where]
            if not chosen:
                continue
            lines.append(f"In {where}:")
            lines.append("")
            for row in chosen:
                note = f": {_escape(row.comment)}" if row.comment else ""
                lines.append(f"- `{row.table}/{row.id}`, {row.looks_at}{note}")
            lines.append("")
        while lines[-1] == "":
            lines.pop()
    return "\n".join(lines) + "\n"


def _anchor(name: str) -> str:
    return re.sub(r"[^a-z0-9 _-]", "", name.lower()).replace(" ", "-")


def main(argv: list[str] | None = None) -> int:
    """Write the page, or with ``--check`` say whether it is up to date."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="fail when the page is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = OUTPUT.read_text("utf-8") if OUTPUT.is_file() else ""
        if current != text:
            print(f"{OUTPUT.relative_to(ROOT)} is out of date: run scripts/products_doc.py")
            return 1
        return 0
    OUTPUT.write_text(text, "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
