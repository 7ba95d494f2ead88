"""An analyzer that kills its worker process on a marked file (a native crash on hostile
input, as seen by the pool). Importable by name, so pool workers can unpickle it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from assay.analyze.interface import FileResult
from assay.parse import ParsedFile

MARK = b"ASSAY_KILL_WORKER"


@dataclass(frozen=True)
class Delegating:
    """An analyzer that delegates everything to ``inner``; subclasses change ``analyze``."""

    inner: Any

    @property
    def id(self) -> str:
        return str(self.inner.id)

    @property
    def version(self) -> str:
        return str(self.inner.version)

    @property
    def rows_key(self) -> str | None:
        key: str | None = self.inner.rows_key
        return key

    def rules(self) -> Any:
        return self.inner.rules()

    def wants(self, file: Any) -> bool:
        return bool(self.inner.wants(file))

    def analyze_content(self, content: Any) -> Any:
        return self.inner.analyze_content(content)

    def aggregator(self) -> Any:
        return self.inner.aggregator()


@dataclass(frozen=True)
class Crashing(Delegating):
    """Delegates to ``inner``; ``analyze`` ends the process on a file containing ``MARK``."""

    def analyze(self, parsed: ParsedFile) -> FileResult:
        if MARK in parsed.source:
            os._exit(70)
        result: FileResult = self.inner.analyze(parsed)
        return result
