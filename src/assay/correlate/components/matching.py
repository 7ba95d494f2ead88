"""Copies measured against the release knowledge base: full, partial or fragment, by file.

A file is ``unchanged`` when its raw content (the sha256 ingest computed) equals the release
file at the same path below the copy's root, ``modified`` when that path holds other content,
``added`` when the release has no such path, and the release's other files are ``missing``.
Copies without version evidence (headers removed, directories renamed) are found by their
files, and releases are compared, by the files that hold a release file's code: its raw
content, or its normalised content when only comments and layout differ (``content``), so a
copy whose every licence header was rewritten is still found and named.

Kinds (documented in docs/components.md):
- ``full``: at least ``FULL_SHARE`` of the release's files are present (same path);
- ``partial``: otherwise, when at least one top-level directory of the release with at least
  ``MIN_DIR_FILES`` files is present to ``FULL_SHARE``;
- ``fragment``: anything less, and at least ``MIN_FRAGMENT_FILES`` unchanged files when the
  copy is found by its files only.
"""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from assay.correlate.components import signatures
from assay.correlate.components.content import NormalisedContent
from assay.correlate.components.copies import Ownership, below, shared_tail
from assay.correlate.components.kb import FileEntry, KnowledgeBase, same_digest
from assay.correlate.components.origins import origins
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


def _score(
    present: Mapping[str, SourceFile], files: Mapping[str, FileEntry], content: NormalisedContent
) -> int:
    """How many present files hold the code of their file of the release ``files`` (aligned)."""
    expected = _align(present, files)
    return sum(1 for r, f in present.items() if r in expected and content.matches(f, expected[r]))


def _best_release(
    name: str,
    versions: Sequence[str],
    present: Mapping[str, SourceFile],
    kb: KnowledgeBase,
    content: NormalisedContent,
) -> tuple[str | None, dict[str, FileEntry], int]:
    """The release among ``versions`` whose code most present files hold (the first on a
    tie), its files and that count."""
    best: tuple[str | None, dict[str, FileEntry], int] = (None, {}, 0)
    for version in versions:
        files = kb.release_files(name, version)
        score = _score(present, files, content)
        if score > best[2]:
            best = (version, files, score)
    return best


def classify(
    component: Component,
    present: Mapping[str, SourceFile],
    kb: KnowledgeBase,
    known: Mapping[str, Sequence[str]] | None = None,
    content: NormalisedContent | None = None,
) -> Component:
    """``component`` with its kind and file counts against its release in ``kb``.

    The copy's own version wins: its release is the one measured against. When the KB lacks
    that release, or another release of the library (``known``: name -> versions in the KB)
    holds more of the copy's files unchanged, that release is named in ``files_version``
    (the disagreement, with both versions) and measured against if the own one is missing.
    A copy without a version is measured against the candidate holding most files. Releases
    are compared by the files holding their code (``content``: raw or normalised content).
    """
    content = content if content is not None else NormalisedContent(kb)
    if component.name == "sqlite" and {p.rsplit("/", 1)[-1] for p in present} >= AMALGAMATION:
        return replace(component, kind=CopyKind.FULL)
    files_version = None
    if component.version:
        release = kb.release_files(component.name, component.version)
        own = _score(present, release, content) if release else 0
        others = [v for v in (known or {}).get(component.name, ()) if v != component.version]
        best, best_files, score = _best_release(component.name, others, present, kb, content)
        if best is not None and score > own and score >= MIN_FRAGMENT_FILES:
            files_version = best
            release = release or best_files
    else:
        release = _best_release(component.name, component.candidates, present, kb, content)[1]
    if not release:
        return component
    expected = _align(present, release)
    same = [
        r for r, f in present.items() if r in expected and same_digest(expected[r].sha256, f.sha256)
    ]
    changed = [
        r
        for r, f in present.items()
        if r in expected and not same_digest(expected[r].sha256, f.sha256)
    ]
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
    return replace(
        component, kind=kind, files=counts, qualifiers=qualifiers, files_version=files_version
    )


def _tail_root(path: str, release_path: str) -> str:
    """The copy root implied by ``path`` holding the release file ``release_path``."""
    parts = path.split("/")
    return "/".join(parts[: len(parts) - shared_tail(parts, release_path.split("/"))])


def _groups(
    files: Iterable[SourceFile], content: NormalisedContent
) -> tuple[dict[tuple[str, str], dict[str, set[str]]], dict[tuple[str, str], int]]:
    """(library, root) -> path below root -> versions whose release holds that file's code;
    and per (library, root) the fewest folders above such a file in its release."""
    groups: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    depth: dict[tuple[str, str], int] = {}
    for file in files:
        for ref in content.refs(file):
            root = _tail_root(file.path, ref.path)
            key = (ref.name, root)
            groups[key][below(file.path, root)].add(ref.version)
            depth[key] = min(depth.get(key, ref.path.count("/")), ref.path.count("/"))
    return groups, depth


def _versions(by_path: Mapping[str, set[str]]) -> list[str]:
    """Versions holding every matched file; else the versions holding the most of them."""
    common = set.intersection(*by_path.values())
    if common:
        return sorted(common)
    tally = Counter(v for versions in by_path.values() for v in versions)
    top = max(tally.values())
    return sorted(v for v, n in tally.items() if n == top)


def found_by_files(
    files: Sequence[SourceFile], kb: KnowledgeBase, content: NormalisedContent | None = None
) -> list[Component]:
    """Copies named by the release files whose code they hold alone (no version evidence
    needed): raw or normalised content equal."""
    content = content if content is not None else NormalisedContent(kb)
    found = []
    groups, depth = _groups(files, content)
    for name, root in origins(groups, depth, MIN_FRAGMENT_FILES):
        by_path = groups[(name, root)]
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


def _confirmed(component: Component, confirming: Mapping[tuple[str, str], Component]) -> Component:
    """A copy found by its files, with the version its confirming evidence at the same root
    states (SQLite's ``VERSION``): the copy's own statement wins over its files' best match."""
    stated = confirming.get((component.name, component.root))
    if stated is None or stated.version is None:
        return component
    return replace(
        component,
        version=stated.version,
        candidates=(),
        qualifiers=stated.qualifiers,
        cpe=signatures.cpe(component.name, stated.version),
        evidence=tuple(sorted({*stated.evidence, *component.evidence})),
    )


def _below(paths: Sequence[str], root: str) -> range:
    """Indexes of the sorted ``paths`` below the directory ``root`` (all for ``''``)."""
    if not root:
        return range(len(paths))
    start = bisect.bisect_left(paths, root + "/")
    return range(start, bisect.bisect_left(paths, root + "0", lo=start))


def _at_or_below(path: str, root: str) -> bool:
    return not root or path == root or path.startswith(root + "/")


def _searched(owner: Component | None, known: Mapping[str, Sequence[str]]) -> bool:
    """Whether a file owned by ``owner`` is searched for copies found by their files: vendor
    code, and the files of a copy whose product has no release in the KB (U-Boot's tree,
    named by its root ``Makefile``, holds its ``lib/zstd`` without a version header)."""
    return owner is None or owner.name not in known


def correlate(
    components: Sequence[Component],
    files: Sequence[SourceFile],
    kb: KnowledgeBase,
    confirming: Sequence[Component] = (),
    content: NormalisedContent | None = None,
) -> tuple[Component, ...]:
    """Signature copies classified, plus the copies found by their files (with the version a
    confirming row states at their root), sorted by root.

    Copies are searched by their files among vendor files and the files of copies whose
    product has no release in the KB; a find at or below a named copy of the same product is
    that copy (dropbear's bundled libtomcrypt, not in the KB, holds dropbear release files).
    Each copy is measured with every file below its root, those of copies nested in it too
    (dropbear's release holds its libtomcrypt): a nested copy is also a copy of its own.
    ``content`` (its ``skipped``: files that could not be read) is made when not given.
    """
    content = content if content is not None else NormalisedContent(kb)
    files = sorted((f for f in files if f.kind in SOURCE_KINDS), key=lambda f: f.path)
    owners = Ownership.of(components)
    known: dict[str, list[str]] = defaultdict(list)
    for release in kb.releases():
        known[release.name].append(release.version)
    searched = [f for f in files if _searched(owners.owner(f.path), known)]
    stated = {(c.name, c.root): c for c in confirming}
    extra = [
        _confirmed(c, stated)
        for c in found_by_files(searched, kb, content)
        if not any(s.name == c.name and _at_or_below(c.root, s.root) for s in components)
    ]
    paths = [f.path for f in files]
    classified = []
    for c in [*components, *extra]:
        present = {below(files[i].path, c.root): files[i] for i in _below(paths, c.root)}
        classified.append(classify(c, present, kb, known, content))
    return tuple(sorted(classified, key=lambda c: (c.root, c.name)))
