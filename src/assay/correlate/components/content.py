"""Evaluated files matched to release files by their code, not their bytes.

A vendor's copy often keeps a release's code but not its bytes: the licence header rewritten
(U-Boot's and Linux's ``lib/zstd`` start each file with an SPDX line), comments dropped, the
indentation changed. Such a file has the release file's normalised hash (its tokens only,
``fingerprint.normalised_hash``), which the KB records for every release file, so a file
whose raw sha256 names no release file is looked up by that hash. A file whose code was edited
(an ``#include`` line rewritten) matches neither; once its copy is found by its other files,
it counts as modified at its release path.

Guards: a file is tokenized at most once per evaluation, and only when its base name is the
base name of some KB path (a file both renamed and edited is not found) and it is at most
``MAX_BYTES``. A file of fewer than ``MIN_TOKENS`` tokens is never matched by its normalised
content: empty and comment-only files (72 contents of the shipped KB have no token at all) and
tiny headers are alike across unrelated projects.
"""

from __future__ import annotations

import posixpath
from typing import Final

from assay.correlate.components import fingerprint
from assay.correlate.components.kb import FileEntry, FileRef, KnowledgeBase, same_digest
from assay.ingest.interface import SourceFile
from assay.model import Skipped

MIN_TOKENS: Final = 64
"""Fewest tokens of a file matched by its normalised content (about ten lines of C)."""

MAX_BYTES: Final = 16 * 1024**2
"""Larger files are matched by their raw content only (the largest release file, SQLite's
amalgamation, is under 10 MB)."""


class NormalisedContent:
    """The normalised hashes of evaluated files, computed on demand, once per content."""

    def __init__(self, kb: KnowledgeBase) -> None:
        """Look files up in ``kb``."""
        self._kb = kb
        self._names = kb.basenames()
        self._hashes: dict[str, str | None] = {}
        self.skipped: list[Skipped] = []
        """Files that could not be read for their tokens."""

    def nhash(self, file: SourceFile) -> str | None:
        """The normalised hash of ``file``; ``None`` when it is not matched by its content
        (too short, too large, a name no release file has, unreadable)."""
        if file.sha256 in self._hashes:
            return self._hashes[file.sha256]
        found = None
        if posixpath.basename(file.path) in self._names and file.size <= MAX_BYTES:
            try:
                stream = fingerprint.tokens(file.read_bytes())
            except OSError as exc:
                self.skipped.append(Skipped(file.path, "components", "unreadable", str(exc)))
                return None
            if len(stream) >= MIN_TOKENS:
                found = fingerprint.token_hash(stream)
        self._hashes[file.sha256] = found
        return found

    @property
    def tokenized(self) -> int:
        """Distinct contents whose normalised hash was computed (for the benchmark)."""
        return sum(1 for found in self._hashes.values() if found is not None)

    def refs(self, file: SourceFile) -> list[FileRef]:
        """Release files equal to ``file``: by raw content, else by normalised content."""
        found = self._kb.by_sha256(file.sha256)
        if found:
            return found
        nhash = self.nhash(file)
        return self._kb.by_hash(nhash) if nhash else []

    def matches(self, file: SourceFile, entry: FileEntry) -> bool:
        """Whether ``file`` holds the code of the release file ``entry`` (raw content equal,
        or normalised content equal)."""
        if same_digest(entry.sha256, file.sha256):
            return True
        nhash = self.nhash(file)
        return nhash is not None and same_digest(entry.nhash, nhash)
