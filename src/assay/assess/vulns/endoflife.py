"""Release cycles from endoflife.date product pages (``products/*.md``).

Each page starts with YAML front matter between ``---`` lines. PyYAML is not a dependency, so this
reads only what the ``releases:`` list needs: items start with ``- key: value`` and continue with
more-indented ``key: value`` lines; values are plain scalars (dates, ``true``/``false``, quoted or
bare strings) followed by optional ``# comments``. Nested structures elsewhere in the front matter
are ignored.

Mapping to :class:`Cycle`: ``releaseDate`` -> released; ``eol`` a date -> eol, ``false`` ->
``None`` (still supported), ``true`` (ended, date not given) -> ``"unknown"`` (no date is guessed);
``eoes`` a date -> extended_support (``false`` means premium support with no announced end, which
``Cycle`` cannot express, so it stays ``None``); ``lts`` -> lts; ``latest`` -> latest. The library
name is the product page name (``openssl``, ``sqlite``, ``linux-kernel``, ``openwrt``, ``yocto``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from assay.assess.vulns.model import OPEN, Cycle
from assay.versions import key

DATA = Path(__file__).parents[4] / "data" / "vulns"
FOLDER = "endoflife"
SOURCE = "endoflife.date"
UNKNOWN = "unknown"
"""``eol`` value when the page says the cycle ended (``eol: true``) without a date."""

Scalar = str | bool | None

_ITEM = re.compile(r"^(\s*)-\s+(\w+):\s*(.*)$")
_PAIR = re.compile(r"^(\s*)(\w+):\s*(.*)$")


def front_matter(text: str) -> list[str]:
    """Lines between the opening and closing ``---``; empty when there is none."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return []
    for end, line in enumerate(lines[1:], start=1):
        if line.strip() == "---":
            return lines[1:end]
    return []


def scalar(raw: str) -> Scalar:
    """A plain YAML scalar: quotes removed, trailing comment dropped, booleans converted."""
    value = raw.strip()
    if value[:1] in ("'", '"'):
        closing = value.find(value[0], 1)
        return value[1:closing] if closing > 0 else value[1:]
    value = re.sub(r"\s+#.*$", "", value).strip()
    lowered = value.lower()
    if lowered in ("true", "yes"):
        return True
    if lowered in ("false", "no"):
        return False
    return None if lowered in ("", "null", "~") else value


def _release_lines(lines: list[str]) -> Iterator[str]:
    """Lines of the top-level ``releases:`` block."""
    inside = False
    for line in lines:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace() and not line.startswith("-"):
            inside = line.split(":", 1)[0].strip() == "releases"
            continue
        if inside:
            yield line


def releases(lines: list[str]) -> list[dict[str, Scalar]]:
    """The ``releases:`` list as dictionaries of scalars."""
    items: list[dict[str, Scalar]] = []
    for line in _release_lines(lines):
        item = _ITEM.match(line)
        if item is not None:
            items.append({item.group(2): scalar(item.group(3))})
            continue
        pair = _PAIR.match(line)
        if pair is not None and items:
            items[-1][pair.group(2)] = scalar(pair.group(3))
    return items


def _date(value: Scalar) -> str | None:
    if value is True:
        return UNKNOWN
    return value if isinstance(value, str) else None


def to_cycle(library: str, item: dict[str, Scalar]) -> Cycle:
    """One ``releases:`` item."""
    eoes = item.get("eoes")
    latest = item.get("latest")
    return Cycle(
        library=library,
        cycle=str(item.get("releaseCycle", "")),
        released=_date(item.get("releaseDate")),
        eol=_date(item.get("eol")),
        extended_support=eoes if isinstance(eoes, str) else (OPEN if eoes is False else None),
        lts=item.get("lts") is True,
        latest=str(latest) if latest not in (None, False, True) else None,
        source=SOURCE,
    )


def parse(library: str, text: str) -> list[Cycle]:
    """Cycles of one product page."""
    return [to_cycle(library, item) for item in releases(front_matter(text))]


def _order(cycle: Cycle) -> tuple[str, tuple[tuple[int, ...], str, int, int]]:
    try:
        return cycle.library, key(cycle.library, cycle.cycle)
    except ValueError:
        return cycle.library, ((), cycle.cycle, 0, 0)


def load(root: Path | None = None) -> list[Cycle]:
    """Cycles of every product page copied under ``data/vulns/endoflife``, by library then
    cycle (oldest first)."""
    products = (root if root is not None else DATA) / FOLDER / "products"
    cycles = [
        cycle
        for path in sorted(products.glob("*.md"))
        for cycle in parse(path.stem, path.read_text(encoding="utf-8"))
    ]
    return sorted(cycles, key=_order)
