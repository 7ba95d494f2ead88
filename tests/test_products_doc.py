"""docs/products.md is generated from the rule data: the committed page is up to date."""

from __future__ import annotations

import sys
from pathlib import Path

_SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
if str(_SCRIPTS) not in sys.path:
    sys.path.insert(0, str(_SCRIPTS))

import products_doc  # noqa: E402  (scripts/ is a plain script folder)


def test_products_page_is_up_to_date() -> None:
    committed = products_doc.OUTPUT.read_text("utf-8")
    assert committed == products_doc.render(), "run scripts/products_doc.py"


def test_every_binary_row_is_listed_with_its_evidence() -> None:
    entries = products_doc.rows()
    binary = [r for rows in entries.values() for r in rows if r.where == "binaries"]
    assert binary, "no binary signature row found"
    # each row of binary_signatures.toml quotes what it matches in the comment above it
    assert [r.id for r in binary if not r.comment] == []
    page = products_doc.render()
    for name, rows in entries.items():
        assert f"\n## {name}\n" in page
        for row in rows:
            assert f"`{row.table}/{row.id}`" in page


def test_products_without_a_package_are_products_with_binary_rows() -> None:
    # the "not tested on a binary: no package" list names products that have binary rows
    entries = products_doc.rows()
    assert products_doc.NO_PACKAGE
    for name in products_doc.NO_PACKAGE:
        assert any(r.where == "binaries" for r in entries.get(name, ())), name
        assert f"Not tested on a binary: no package ({products_doc.NO_PACKAGE[name]})." in (
            products_doc.render()
        )
