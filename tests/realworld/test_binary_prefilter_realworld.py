"""The Hyperscan pre-filter of the binary signature rows changes no result on real binaries.

Every package the product tests download (tests/realworld/test_products_binaries_{a,b}_
realworld.py, one architecture each, so nothing new is downloaded; amd64, arm64, armhf,
mips64el, mipsel and i386 all appear) is run through the ``binaries`` analyzer twice: with the
pre-filter, and with every row run on every file as before it existed (the pre-filter built
without Hyperscan). The components must be identical, file by file. For ELF files a stronger
check runs as well: every row alone (``row_hits``, the exact Python path) on the file's string
sections, and no row with a hit may be missing from the pre-filter's candidates.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import test_products_binaries_a_realworld as products_a
import test_products_binaries_b_realworld as products_b

from assay.analyze import binaries
from assay.analyze.binaries import elf, prefilter, signatures
from assay.analyze.interface import AnalyzerFailure, Content
from assay.model import FileKind

debian_binaries = products_a.debian_binaries

pytestmark = pytest.mark.realworld


def _specs() -> list[tuple[str, str, str]]:
    """(package, suite, arch): each package of the product tests on its first architecture."""
    specs = {
        pkg: (products_a._package(pkg, p.arches[0]), p.suite, p.arches[0])
        for p in products_a.PRODUCTS
        for pkg in p.packages
    }
    for _, package, suite, arch in (*products_b.CASES, *products_b.UNVERSIONED):
        specs.setdefault(package, (package, suite, arch))
    return sorted(specs.values())


SPECS = _specs()


@pytest.fixture(scope="module")
def downloaded() -> dict[tuple[str, str, str], Path]:
    try:
        fetched = debian_binaries.fetch_many(SPECS)
    except debian_binaries.BinaryError as exc:
        pytest.fail(f"could not download: {exc}")
    return {spec: fetched[spec].path for spec in SPECS}


@pytest.fixture(scope="module")
def exhaustive() -> prefilter.Prefilter:
    """The pre-filter as it is without Hyperscan: every row is a candidate for every file."""
    return prefilter.Prefilter(
        [prefilter.Gate() for _ in signatures.signatures()], use_hyperscan=False
    )


def _analyze(path: Path, kind: FileKind) -> object:
    """The components the analyzer names in one file (or why it could not read it)."""
    content = Content(path.read_bytes(), kind, path.name)
    try:
        return binaries.configure({}).analyze_content(content).data.get("components")
    except AnalyzerFailure as exc:
        return f"failure: {exc}"


@pytest.mark.parametrize("spec", SPECS, ids=["/".join(s) for s in SPECS])
def test_same_components_with_and_without_the_prefilter(
    spec: tuple[str, str, str],
    downloaded: dict[tuple[str, str, str], Path],
    exhaustive: prefilter.Prefilter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = downloaded[spec]
    files = products_a._wanted(root)
    assert files, f"{spec}: no file the analyzer wants"
    table = signatures.rows_filter()
    assert table.active, "hyperscan does not run here: nothing would be compared"
    rows = signatures.signatures()
    filtered = {path: _analyze(path, kind) for path, kind in files}
    named = 0
    for path, kind in files:
        data = path.read_bytes()
        if kind is FileKind.ELF and data[:4] == b"\x7fELF":
            try:
                facts, strings = elf.read_elf_and_strings(data)
            except elf.BadElf:
                continue
            imports = frozenset(facts.imports)
            chosen = set(table.candidates(data, strings))
            for index, row in enumerate(rows):
                hits = signatures.row_hits(row, data, path.name, strings, imports)
                named += bool(hits)
                assert not hits or index in chosen, (spec, path, row.library, row.id, hits)
    monkeypatch.setattr(signatures, "rows_filter", lambda: exhaustive)
    for path, kind in files:
        assert _analyze(path, kind) == filtered[path], (spec, path)
    # the comparison is not vacuous: the packages name their products
    assert any(filtered.values()) or named, f"{spec}: nothing named at all"
