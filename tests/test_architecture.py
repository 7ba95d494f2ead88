"""The package's layering and module size, checked on the source (docs/architecture.md).

Layering: every module under ``src/assay`` belongs to the layer named by the first dotted
part after ``assay`` (``assay.analyze.clones.match`` is in ``analyze``). A module may import
``assay`` modules of its own rank or lower, never higher: imports are read with ``ast``,
including those inside functions and ``TYPE_CHECKING`` blocks, and ``from assay.x import y``
counts as importing ``assay.x.y`` when that is a module. ``assay/__init__.py`` (the package's
lazy facade) and ``assay/__main__.py`` sit above every layer and are not checked; the only
name a layered module may take from the facade is ``__version__`` (defined there, needed by
cache keys and reports, and importing nothing). A module
whose layer is not in ``RANKS`` fails with its name: a new top-level module or package gets a
rank here (and a row in docs/architecture.md) before it lands.

Size: a module longer than ``MAX_LINES`` lines says why in its module docstring with the
marker ``Longer than 300 lines:`` followed by the reason, e.g. "Longer than 300 lines: one
table of product rules read top to bottom; splitting it would scatter the table."
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "assay"

BASE = ("model", "errors", "progress", "versions", "rules", "formats", "sandbox", "examples")
STAGES = (
    "ingest",
    "parse",
    "config",
    "analyze",
    "correlate",
    "assess",
    "storage",
    "engine",
    "report",
    "rebuild",
    "pipeline",
    "cli",
)
RANKS: dict[str, int] = {name: 0 for name in BASE} | {
    name: rank for rank, name in enumerate(STAGES, start=1)
}
"""Layer name -> rank; a module may import from its own rank or below."""

EXEMPT = frozenset({"assay", "assay.__main__"})
"""The package facade and ``python -m assay``: above every layer."""

FACADE_NAMES = frozenset({"__version__"})
"""Names a layered module may import from the facade ``assay`` itself."""

MAX_LINES = 300
MARKER = "Longer than 300 lines:"


@dataclass(frozen=True)
class Import:
    """One import of an ``assay`` module, where it is written."""

    importer: str
    target: str
    line: int
    name: str = ""
    """For ``from assay import name`` where ``name`` is not a module: the name."""


def module_name(path: Path) -> str:
    """``src/assay/analyze/clones/match.py`` -> ``assay.analyze.clones.match``."""
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    """Every module of the package, by dotted name."""
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _absolute(node: ast.ImportFrom, importer: str, is_package: bool) -> str:
    """The absolute module a ``from`` import names (relative imports resolved)."""
    if node.level == 0:
        return node.module or ""
    base = importer.split(".")
    if not is_package:
        base.pop()
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> list[Import]:
    """Every ``assay`` module ``name`` imports, anywhere in its source."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    found: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [Import(name, alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(node, name, is_package)
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                if submodule in modules:
                    found.append(Import(name, submodule, node.lineno))
                else:
                    found.append(Import(name, source, node.lineno, alias.name))
    return [item for item in found if item.target.split(".")[0] == "assay"]


def layer(module: str) -> str:
    """The layer a module belongs to: its first dotted part after ``assay``."""
    return module.split(".")[1]


def rank(module: str) -> int:
    """The rank of a module's layer; fails naming the module when the layer has none."""
    name = layer(module)
    if name not in RANKS:
        pytest.fail(
            f"{module}: layer {name!r} has no rank in tests/test_architecture.py RANKS; "
            "give it one (and a row in docs/architecture.md)"
        )
    return RANKS[name]


def upward_imports(modules: dict[str, Path]) -> list[str]:
    """Every import from a module to a module of a higher rank, as readable lines."""
    offenders: list[str] = []
    for name, path in modules.items():
        if name in EXEMPT:
            continue
        own = rank(name)
        for found in imports_of(name, path, modules):
            if found.target in EXEMPT:
                if not (found.target == "assay" and found.name in FACADE_NAMES):
                    what = f"{found.name!r} from " if found.name else ""
                    offenders.append(f"{name}:{found.line} imports {what}{found.target} (top)")
            elif rank(found.target) > own:
                offenders.append(
                    f"{name}:{found.line} ({layer(name)}, rank {own}) imports {found.target} "
                    f"({layer(found.target)}, rank {rank(found.target)})"
                )
    return offenders


def unexplained_long_modules(modules: dict[str, Path]) -> list[str]:
    """Modules over ``MAX_LINES`` lines whose docstring does not carry ``MARKER``."""
    offenders: list[str] = []
    for name, path in modules.items():
        text = path.read_text(encoding="utf-8")
        lines = len(text.splitlines())
        if lines <= MAX_LINES:
            continue
        docstring = ast.get_docstring(ast.parse(text)) or ""
        if MARKER not in docstring:
            offenders.append(f"{name}: {lines} lines, no {MARKER!r} in its docstring")
    return offenders


def test_every_module_has_a_layer() -> None:
    unknown = sorted(
        name for name in all_modules() if name not in EXEMPT and layer(name) not in RANKS
    )
    assert not unknown, "modules in no layer of RANKS:\n" + "\n".join(unknown)


def test_no_module_imports_a_higher_layer() -> None:
    offenders = upward_imports(all_modules())
    assert not offenders, "imports pointing up the layers:\n" + "\n".join(offenders)


def test_long_modules_say_why() -> None:
    offenders = unexplained_long_modules(all_modules())
    assert not offenders, "long modules without a reason:\n" + "\n".join(offenders)


def test_the_checks_see_an_upward_import(tmp_path: Path) -> None:
    """The import reader finds function-level, relative and ``from package import module``
    imports, and the layering check reports the upward ones with their line."""
    source = tmp_path / "probe.py"
    source.write_text(
        "from assay import __version__, evaluate\n"
        "from assay.model import Finding\n"
        "def f():\n    from assay.engine import cache\n    import assay.cli, json\n"
        "    from ..report import json\n",
        encoding="utf-8",
    )
    modules = all_modules() | {"assay.storage.probe": source}
    found = imports_of("assay.storage.probe", source, modules)
    assert [(item.target, item.name) for item in found] == [
        ("assay", "__version__"),
        ("assay", "evaluate"),
        ("assay.model", "Finding"),
        ("assay.engine.cache", ""),
        ("assay.cli", ""),
        ("assay.report.json", ""),
    ]
    reported = [line for line in upward_imports(modules) if line.startswith("assay.storage.probe")]
    assert [line.split(" imports ")[1].split(" ")[0] for line in reported] == [
        "'evaluate'",
        "assay.engine.cache",
        "assay.cli",
        "assay.report.json",
    ]
    assert reported[0] == "assay.storage.probe:1 imports 'evaluate' from assay (top)"
    assert reported[1].startswith("assay.storage.probe:4 (storage, rank 7)")
