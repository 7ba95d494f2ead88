"""Shared test helpers: evaluate a tree in-process and read back what was written.

Kept out of ``conftest.py`` so that test modules can import them by name (``from support
import ...``) without clashing with the ``conftest`` modules of subfolders.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

from assay import engine, pipeline
from assay.analyze.interface import FileAnalyzer
from assay.config import Options
from assay.engine.execute import Executor, InProcess
from assay.engine.plan import Unit
from assay.engine.worker import Outcome
from assay.model import Evaluation

DATA = Path(__file__).parent / "data"


@dataclass
class Run:
    """One evaluation and its written outputs."""

    evaluation: Evaluation
    out: Path

    def json(self) -> dict[str, Any]:
        """evaluation.json, parsed."""
        return json.loads((self.out / "evaluation.json").read_text(encoding="utf-8"))

    def sarif(self) -> dict[str, Any]:
        """results.sarif, parsed."""
        return json.loads((self.out / "results.sarif").read_text(encoding="utf-8"))

    def findings(self, category: str | None = None) -> list[dict[str, Any]]:
        """Findings from evaluation.json, optionally of one category."""
        found = self.json()["findings"]
        return [f for f in found if category is None or f["category"] == category]


GOLDEN = Path(__file__).parent / "data" / "golden" / "example" / "evaluation.json"
"""The example's evaluation.json as ``scripts/golden.py`` wrote it (checked by test_golden)."""


def golden_findings() -> list[dict[str, Any]]:
    """The example's findings, as the golden evaluation.json holds them."""
    findings: list[dict[str, Any]] = json.loads(GOLDEN.read_text(encoding="utf-8"))["findings"]
    return findings


def run_evaluation(
    input: Path, out: Path, executor: engine.ExecutorFactory | None = None, **overrides: Any
) -> Run:
    """Evaluate ``input`` into ``out`` (jobs=1 unless given) and write every report, as the
    command line does without history (``assay.pipeline.run``); ``executor`` makes the
    executor (default: the one the options ask for)."""
    opts = replace(Options.default(input, out), **{"jobs": 1, **overrides})
    if executor is None:
        return Run(pipeline.run(opts).evaluation, out)
    result = pipeline.run(lambda: engine.evaluate(opts, executor=executor), out)
    return Run(result.evaluation, out)


class Computed(list[str]):
    """The disk paths of the units an evaluation really computes (not read from the result
    cache): pass ``factory`` as ``run_evaluation(executor=...)``; it computes in-process."""

    def factory(self, options: Options, analyzers: tuple[FileAnalyzer, ...]) -> Executor:
        """An in-process executor that records what it computes here."""
        return _Counting(InProcess(analyzers, options.parse), self)


@dataclass(frozen=True)
class _Counting:
    inner: InProcess
    seen: list[str]

    serial: ClassVar[bool] = True

    def compute(
        self, todo: Sequence[Unit], ready: Iterator[Outcome], total: int
    ) -> Iterator[Outcome]:
        self.seen.extend(unit.task.disk_path for unit in todo)
        return self.inner.compute(todo, ready, total)


def process_id(_: object) -> int:
    """The id of the process that calls it (a picklable task: tells where it ran)."""
    return os.getpid()


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    """Create ``files`` (relative path -> content) below ``root``."""
    for rel, content in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
    return root
