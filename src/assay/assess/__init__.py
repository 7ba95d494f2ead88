"""Assess: the knowledge base's verdict on what the release holds, and the rating.

The registry of this stage's corpus-level steps (``assay.correlate.step`` is their contract),
run once every analyzer's section is finished: the copies' known vulnerabilities and support
status (``vulnerabilities``), then the binaries' components, operating system and toolchains
against the same data and against the source copies (``binaries``), then the ``secrets``
analyzer's key material labelled by its upstream origin and graded by use (``samples``). The rating
(``assess.rating``) and the evaluator's baseline (``assess.baseline``) are applied after the
evaluation, by the post-evaluation sequence.
"""

from __future__ import annotations

from pathlib import Path

from assay.assess.binaries import BinariesStep
from assay.assess.samples import SamplesStep
from assay.assess.vulns.db import VulnDB
from assay.assess.vulns.step import VulnerabilitiesStep
from assay.correlate.step import Step


def steps(known: VulnDB, kb: Path | None = None) -> tuple[Step, ...]:
    """The assess steps in the order they run, configured with the vulnerability data and the
    knowledge base (``None``: the default ones)."""
    return (VulnerabilitiesStep(known), BinariesStep(known), SamplesStep(kb))
