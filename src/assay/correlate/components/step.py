"""The ``components`` step: the copies of third-party code in the release.

Version evidence names each copy (``copies.identify``), the release fingerprints of the
knowledge base confirm or name it (``matching.correlate``), and the inventory counts its files
and, with the vendor's compile database, which of them are built.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assay.correlate.components import compile_db, inventory
from assay.correlate.components.content import NormalisedContent
from assay.correlate.components.copies import identify_all
from assay.correlate.components.kb import KnowledgeBase, open_default
from assay.correlate.components.matching import correlate
from assay.correlate.step import Corpus, StepResult
from assay.model import Rule

ID = "components"


def knowledge_base(path: Path | None) -> KnowledgeBase:
    """The KB at ``path`` (``--kb``), else the shipped one with the user's overlay."""
    return KnowledgeBase.open([path]) if path else open_default()


def kb_info(path: Path | None) -> dict[str, Any]:
    """The knowledge base's snapshot as the section records it (part of the result cache's
    keys, so read before any per-file work)."""
    with knowledge_base(path) as kb:
        snapshot = kb.snapshot()
    return {"built": snapshot.built, "releases": snapshot.releases}


@dataclass(frozen=True, slots=True)
class ComponentsStep:
    """Identifies the copies; their section records the knowledge base's snapshot."""

    kb: Path | None = None
    """The knowledge base to use instead of the default ones."""
    compile_db: Path | None = None
    """The vendor's ``compile_commands.json``, if given."""
    info: Mapping[str, Any] = field(default_factory=dict)
    """The knowledge base's snapshot (``kb_info``)."""

    @property
    def id(self) -> str:
        """The section and category id."""
        return ID

    def rules(self) -> tuple[Rule, ...]:
        """The step reports no findings."""
        return ()

    def run(self, corpus: Corpus) -> StepResult:
        """The copies in ``corpus.files``, their section, and the files that could not be read."""
        found, confirming, skipped = identify_all(corpus.files)
        with knowledge_base(self.kb) as kb:
            content = NormalisedContent(kb)
            found = correlate(found, corpus.files, kb, confirming, content)
            skipped.extend(content.skipped)
        found = inventory.with_file_counts(found, corpus.files)
        build = None
        if self.compile_db is not None:
            found, build = inventory.with_build(
                found, corpus.files, compile_db.load(self.compile_db)
            )
        section = inventory.section(found, build, dict(self.info))
        return StepResult(sections={ID: section}, skipped=tuple(skipped), components=found)
