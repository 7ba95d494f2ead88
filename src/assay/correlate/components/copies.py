"""Copies of third-party libraries in the evaluated tree, from version evidence.

A copy is named by the signatures (``rules/signatures.toml``): each piece of evidence names a
library, a version and the copy's root directory. Evidence agreeing on (library, root) makes
one ``Component``; disagreeing versions at one root make a candidate set. Every path then
belongs to the copy with the longest root above it, or to the vendor (no component).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from assay.correlate.components import signatures
from assay.ingest.interface import SourceFile
from assay.model import Component, Skipped

MAX_EVIDENCE_BYTES = 16 * 1024**2
"""A file named like a version header but larger than this is not read for evidence."""


def _evidence(
    files: Sequence[SourceFile], skipped: list[Skipped]
) -> list[signatures.VersionEvidence]:
    found: list[signatures.VersionEvidence] = []
    for file in files:
        if not signatures.wanted(file.path) or file.size > MAX_EVIDENCE_BYTES:
            continue
        try:
            text = file.read_bytes()
        except OSError as exc:
            skipped.append(Skipped(file.path, "components", "unreadable", str(exc)))
            continue
        found.extend(signatures.detect(file.path, text))
    return found


def _component(name: str, root: str, items: list[signatures.VersionEvidence]) -> Component:
    versions = sorted({e.version for e in items})
    qualifiers = sorted({q for e in items for q in e.qualifiers})
    return Component(
        name=name,
        version=versions[0] if len(versions) == 1 else None,
        root=root,
        candidates=tuple(versions) if len(versions) > 1 else (),
        qualifiers=tuple(qualifiers),
        cpe=signatures.cpe(name, versions[0] if len(versions) == 1 else None),
        evidence=tuple(sorted(f"{e.path}:{e.line}" for e in items)),
    )


def identify(files: Sequence[SourceFile]) -> tuple[tuple[Component, ...], list[Skipped]]:
    """Every copy the version evidence in ``files`` names, sorted by (root, name)."""
    found, _, skipped = identify_all(files)
    return found, skipped


def identify_all(
    files: Sequence[SourceFile],
) -> tuple[tuple[Component, ...], tuple[Component, ...], list[Skipped]]:
    """The copies the version evidence names, the versions stated only by confirming rows
    (``Signature.confirms``: one per (library, root), for ``matching.correlate`` to give to a
    copy found by its files), and the files that could not be read."""
    skipped: list[Skipped] = []
    groups: dict[tuple[str, str], list[signatures.VersionEvidence]] = defaultdict(list)
    for item in _evidence(files, skipped):
        groups[(item.library, item.root)].append(item)
    found, confirming = [], []
    for (name, root), items in groups.items():
        strong = [e for e in items if not e.confirms]
        if any(not e.fallback for e in strong):
            strong = [e for e in strong if not e.fallback]
        if strong:
            found.append(_component(name, root, strong))
        else:
            confirming.append(_component(name, root, items))
    order = lambda c: (c.root, c.name)  # noqa: E731
    return tuple(sorted(found, key=order)), tuple(sorted(confirming, key=order)), skipped


@dataclass(frozen=True, slots=True)
class Ownership:
    """Which copy each path belongs to: the one with the longest root above it."""

    by_root: dict[str, Component]
    """Copies by root directory (one per root: the first by name when several share one)."""

    @classmethod
    def of(cls, components: Iterable[Component]) -> Ownership:
        """Index ``components`` by root."""
        by_root: dict[str, Component] = {}
        for component in sorted(components, key=lambda c: (c.root, c.name)):
            by_root.setdefault(component.root, component)
        return cls(by_root)

    def owner(self, path: str) -> Component | None:
        """The copy ``path`` belongs to, or ``None`` for vendor code."""
        parts = path.split("/")
        for depth in range(len(parts) - 1, -1, -1):
            found = self.by_root.get("/".join(parts[:depth]))
            if found is not None:
                return found
        return None


def below(path: str, root: str) -> str:
    """``path`` relative to the directory ``root`` (``''`` is the evaluated root)."""
    return path[len(root) + 1 :] if root else path


def relative_to_root(path: str, component: Component | None) -> str:
    """``path`` relative to its copy's root (the fingerprint path of DESIGN.md)."""
    return below(path, component.root) if component is not None else path


def shared_tail(a: Sequence[str], b: Sequence[str]) -> int:
    """How many trailing components the path-component lists ``a`` and ``b`` share."""
    n = 0
    while n < min(len(a), len(b)) and a[-1 - n] == b[-1 - n]:
        n += 1
    return n
