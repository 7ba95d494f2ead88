"""Copies measured against the release knowledge base: full, partial or fragment, by file.

Only the raw sha256 of each file is used here, which ingest has already computed: a file is
``unchanged`` when its content equals the release file at the same path below the copy's root,
``modified`` when that path holds other content, ``added`` when the release has no such path,
and the release's other files are ``missing``. Copies without version evidence (headers
removed, directories renamed) are found by their unchanged files alone.

Kinds (documented in docs/components.md):
- ``full``: at least ``FULL_SHARE`` of the release's files are present (same path);
- ``partial``: otherwise, when at least one top-level directory of the release with at least
  ``MIN_DIR_FILES`` files is present to ``FULL_SHARE``;
- ``fragment``: anything less, and at least ``MIN_FRAGMENT_FILES`` unchanged files when the
  copy is found by its files only.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from assay.correlate.components import signatures
from assay.correlate.components.copies import Ownership, below, relative_to_root, shared_tail
from assay.correlate.components.kb import FileEntry, KnowledgeBase
from assay.ingest.interface import SourceFile
from assay.model import SOURCE_KINDS, Component, CopyKind

FULL_SHARE = 0.8
MIN_DIR_FILES = 5
MIN_FRAGMENT_FILES = 3
DERIVED = "derived"
"""Qualifier of a copy whose files differ from its release's: a modified fork."""
AMALGAMATION = frozenset({"sqlite3.c", "sqlite3.h"})
"""SQLite's single-file distribution: the whole library in two files, so a full copy."""
EVIDENCE = 20
"""Matched files listed as evidence of a copy found by its files (the first, by path)."""


def _kind(matched: Iterable[str], expected: Mapping[str, FileEntry]) -> CopyKind:
    have = set(matched) & set(expected)
    if len(have) >= FULL_SHARE * len(expected):
        return CopyKind.FULL
    by_dir: dict[str, list[str]] = defaultdict(list)
    for path in expected:
        by_dir[path.split("/")[0] if "/" in path else "."].append(path)
    for paths in by_dir.values():
        if len(paths) >= MIN_DIR_FILES and len(have.intersection(paths)) >= FULL_SHARE * len(paths):
            return CopyKind.PARTIAL
    return CopyKind.FRAGMENT


def _align(present: Iterable[str], expected: Mapping[str, FileEntry]) -> dict[str, FileEntry]:
    """The release's files seen from the copy's root.

    A library may sit in a folder of its upstream tree (expat's tarball holds it in
    ``expat/``), so the copy's root can match a top-level folder of the release rather than
    the release root: the prefix under which most present paths are found wins.
    """
    names = list(present)
    prefixes = ["", *sorted({p.split("/")[0] + "/" for p in expected if "/" in p})]
    best = max(prefixes, key=lambda pre: (sum(pre + n in expected for n in names), -len(pre)))
    return {p[len(best) :]: e for p, e in expected.items() if p.startswith(best)}


def _release_for(
    component: Component, present: Mapping[str, SourceFile], kb: KnowledgeBase
) -> dict[str, FileEntry]:
    """The release files to measure against: the copy's version, else the candidate that
    holds most of the present files unchanged (the oldest on a tie)."""
    if component.version:
        return kb.release_files(component.name, component.version)
    best: dict[str, FileEntry] = {}
    best_score = -1
    for version in component.candidates:
        files = kb.release_files(component.name, version)
        score = sum(1 for r, f in present.items() if r in files and files[r].sha256 == f.sha256)
        if score > best_score:
            best, best_score = files, score
    return best


def classify(
    component: Component, present: Mapping[str, SourceFile], kb: KnowledgeBase
) -> Component:
    """``component`` with its kind and file counts against its release in ``kb``."""
    if component.name == "sqlite" and {p.rsplit("/", 1)[-1] for p in present} >= AMALGAMATION:
        return replace(component, kind=CopyKind.FULL)
    release = _release_for(component, present, kb)
    if not release:
        return component
    expected = _align(present, release)
    same = [r for r, f in present.items() if r in expected and expected[r].sha256 == f.sha256]
    changed = [r for r, f in present.items() if r in expected and expected[r].sha256 != f.sha256]
    counts = {
        **component.files,
        "unchanged": len(same),
        "modified": len(changed),
        "missing": len(expected) - len(same) - len(changed),
        "added": len(present) - len(same) - len(changed),
        "release": len(expected),
    }
    qualifiers = component.qualifiers
    if changed and DERIVED not in qualifiers:
        qualifiers = tuple(sorted((*qualifiers, DERIVED)))
    kind = _kind([*same, *changed], expected)
    return replace(component, kind=kind, files=counts, qualifiers=qualifiers)


def _tail_root(path: str, release_path: str) -> str:
    """The copy root implied by ``path`` holding the release file ``release_path``."""
    parts = path.split("/")
    return "/".join(parts[: len(parts) - shared_tail(parts, release_path.split("/"))])


def _groups(
    files: Iterable[SourceFile], kb: KnowledgeBase
) -> dict[tuple[str, str], dict[str, set[str]]]:
    """(library, root) -> path below root -> versions whose release holds that exact file."""
    groups: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for file in files:
        for ref in kb.by_sha256(file.sha256):
            root = _tail_root(file.path, ref.path)
            groups[(ref.name, root)][below(file.path, root)].add(ref.version)
    return groups


def _versions(by_path: Mapping[str, set[str]]) -> list[str]:
    """Versions holding every matched file; else the versions holding the most of them."""
    common = set.intersection(*by_path.values())
    if common:
        return sorted(common)
    tally = Counter(v for versions in by_path.values() for v in versions)
    top = max(tally.values())
    return sorted(v for v, n in tally.items() if n == top)


def found_by_files(files: Sequence[SourceFile], kb: KnowledgeBase) -> list[Component]:
    """Copies named by unchanged release files alone (no version evidence needed)."""
    found = []
    for (name, root), by_path in sorted(_groups(files, kb).items()):
        if len(by_path) < MIN_FRAGMENT_FILES:
            continue
        versions = _versions(by_path)
        found.append(
            Component(
                name=name,
                version=versions[0] if len(versions) == 1 else None,
                root=root,
                candidates=tuple(versions) if len(versions) > 1 else (),
                cpe=signatures.cpe(name, versions[0] if len(versions) == 1 else None),
                evidence=tuple(sorted(f"{root}/{p}" if root else p for p in by_path))[:EVIDENCE],
            )
        )
    return found


def correlate(
    components: Sequence[Component], files: Sequence[SourceFile], kb: KnowledgeBase
) -> tuple[Component, ...]:
    """Signature copies classified, plus the copies found by their files, sorted by root."""
    files = [f for f in files if f.kind in SOURCE_KINDS]
    owners = Ownership.of(components)
    unowned = [f for f in files if owners.owner(f.path) is None]
    extra = found_by_files(unowned, kb)
    everything = [*components, *extra]
    owners = Ownership.of(everything)
    by_key: dict[str, list[SourceFile]] = defaultdict(list)
    for file in files:
        if (owner := owners.owner(file.path)) is not None:
            by_key[owner.key].append(file)
    classified = [
        classify(c, {relative_to_root(f.path, c): f for f in by_key[c.key]}, kb) for c in everything
    ]
    return tuple(sorted(classified, key=lambda c: (c.root, c.name)))
