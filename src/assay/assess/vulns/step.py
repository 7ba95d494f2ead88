"""The ``vulnerabilities`` step: known CVEs and the support status of every copy found."""

from __future__ import annotations

from dataclasses import dataclass

from assay.assess.vulns import findings
from assay.assess.vulns.db import VulnDB
from assay.assess.vulns.match import assess
from assay.correlate.step import Corpus, StepResult
from assay.model import Rule


@dataclass(frozen=True, slots=True)
class VulnerabilitiesStep:
    """Assesses each copy against the pinned vulnerability and end-of-life data."""

    known: VulnDB

    @property
    def id(self) -> str:
        """The section and category id."""
        return findings.CATEGORY

    def rules(self) -> tuple[Rule, ...]:
        """The category's rules (``rules/vulnerabilities.toml``)."""
        return findings.rules()

    def run(self, corpus: Corpus) -> StepResult:
        """The section and the findings of every copy in ``corpus.components``."""
        k = self.known
        assessed = {c.key: assess(c, k) for c in corpus.components}
        section = findings.section(corpus.components, assessed, k.snapshot, k.sources)
        return StepResult(
            sections={self.id: section},
            findings=tuple(findings.findings(corpus.components, assessed)),
        )
