"""The contract of the corpus-level stages (correlate and assess): one small ``Step``.

A step sees the whole release at once, after the per-file work: the inventory, the copies of
third-party code found so far and the sections written so far. It returns what it adds as data
(sections, findings, skipped records, and, for the step that identifies them, the copies);
the engine merges every result the same way and knows no step by name. A step is configured
when it is built (the knowledge base, the vulnerability data), so ``run`` depends on the
release alone.

Steps run in registry order: ``assay.correlate.steps()`` before the per-file results are
attributed (their copies decide which component each finding belongs to), then
``assay.assess.steps()`` once every analyzer's section is finished.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from assay.ingest.interface import SourceFile
from assay.model import Component, JSONValue, RawFinding, Rule, Skipped

Section = Mapping[str, JSONValue]
"""One section of evaluation.json (``sections[id]``)."""


@dataclass(frozen=True, slots=True)
class Corpus:
    """What a step reads: the release as the earlier stages left it."""

    files: Sequence[SourceFile]
    """Every file of the release (ingest's inventory), sorted by path."""
    components: tuple[Component, ...] = ()
    """The copies of third-party code identified so far (empty before the components step)."""
    sections: Mapping[str, Section] = field(default_factory=dict)
    """The sections written so far, by id (the analyzers' once the per-file work is done)."""


@dataclass(frozen=True, slots=True)
class StepResult:
    """What a step adds to the evaluation."""

    sections: Mapping[str, Section] = field(default_factory=dict)
    """Sections by id; a section of an earlier stage with the same id is replaced (a step may
    complete the section of the analyzer whose category it shares)."""
    findings: tuple[tuple[str, RawFinding], ...] = ()
    """Findings as (path, finding), stored under the step's category."""
    skipped: tuple[Skipped, ...] = ()
    """What the step could not read."""
    components: tuple[Component, ...] | None = None
    """The copies the step identified, replacing the corpus's (``None``: unchanged)."""


class Step(Protocol):
    """A corpus-level step of the correlate or assess stage."""

    @property
    def id(self) -> str:
        """The category of the step's findings (and usually the id of its section)."""
        ...

    def rules(self) -> tuple[Rule, ...]:
        """The rules the step adds to the evaluation (none when it reports under rules that an
        analyzer of the same category already declares)."""
        ...

    def run(self, corpus: Corpus) -> StepResult:
        """The step's additions for ``corpus``."""
        ...


def run_steps(
    steps: Sequence[Step], corpus: Corpus
) -> tuple[Corpus, tuple[tuple[Step, StepResult], ...]]:
    """Run ``steps`` in order, each on the corpus the ones before it left; the final corpus
    and each step's result."""
    done: list[tuple[Step, StepResult]] = []
    for step in steps:
        result = step.run(corpus)
        components = corpus.components if result.components is None else result.components
        corpus = Corpus(corpus.files, components, {**corpus.sections, **result.sections})
        done.append((step, result))
    return corpus, tuple(done)
