"""``clones``: token-based duplicated-code detection over the whole tree.

Per file (in the worker pool), the source is lexed into compact token streams
(:mod:`._clone_tokens`) and a few anchors are keyed (:mod:`._clone_anchors`); the aggregator
in the main process matches anchors of every unique content, extends the matches and joins
them into classes (:mod:`._clone_match`), then attributes them to every path
(:mod:`._clone_summary`). Options (``[clones]``): ``min_tokens`` (default 50), ``min_lines``
(default 5) and ``mode`` (``normalised``, the default, or ``exact``). docs/clones.md explains
the method and how figures compare with jscpd.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar

from assay.analyze.clones.anchors import Geometry, Mode, anchors
from assay.analyze.clones.summary import CloneSummary, streams_data
from assay.analyze.clones.tokens import tokenize
from assay.analyze.interface import Catalogued, FileResult, SourceOnly
from assay.errors import ConfigError
from assay.ingest.interface import SourceFile
from assay.model import SOURCE_KINDS, Rule
from assay.parse import ParsedFile
from assay.rules import rule_from_row, rule_table

ID = "clones"
"""Analyzer and category id."""
VERSION = "4"
"""Bumped whenever results for the same input can change (4: new anchor keys)."""
DEFAULTS: Mapping[str, Any] = {
    "min_tokens": 50,
    "min_lines": 5,
    "mode": Mode.NORMALISED.value,
    "library_internal": False,
}
"""Default settings; ``min_lines`` 5 is jscpd's default. ``library_internal``: also match code
inside third-party copies against other code of the same library (upstream's duplication,
off by default: it is most of the work on a tree of libraries and reported as components)."""


@cache
def rules() -> tuple[Rule, ...]:
    """The two rules: exact and renamed clone classes."""
    return tuple(rule_from_row(ID, row["key"], row) for row in rule_table("clones.toml")["rules"])


@dataclass(frozen=True, slots=True)
class Clones(SourceOnly, Catalogued):
    """The ``clones`` analyzer: token streams per file, classes across the tree."""

    mode: Mode = Mode.NORMALISED
    """What counts as the same token."""
    min_tokens: int = 50
    """Smallest clone, in tokens."""
    min_lines: int = 5
    """Smallest clone, in lines (of its first place)."""
    library_internal: bool = False
    """Whether code of one library is matched against other code of the same library."""
    ID: ClassVar[str] = ID
    VERSION: ClassVar[str] = VERSION

    def rules(self) -> tuple[Rule, ...]:
        """Exact and renamed clone classes."""
        return rules()

    def wants(self, file: SourceFile) -> bool:
        """C, C++ and header files."""
        return file.kind in SOURCE_KINDS

    def analyze(self, parsed: ParsedFile) -> FileResult:
        """The token streams and anchors of one file (no findings: those need the tree)."""
        streams = tokenize(parsed.source)
        keyed = anchors(streams, self.mode, Geometry(self.min_tokens))
        return FileResult(data=streams_data(streams, keyed, parsed.source, parsed.line_count))

    def aggregator(self) -> CloneSummary:
        """A fresh corpus for one evaluation."""
        return CloneSummary(
            self.mode, Geometry(self.min_tokens), self.min_lines, self.library_internal
        )


def configure(settings: Mapping[str, Any]) -> Clones:
    """The analyzer with ``[clones]`` settings checked and applied."""
    unknown = sorted(set(settings) - set(DEFAULTS))
    if unknown:
        raise ConfigError(f"[{ID}]: unknown keys {', '.join(unknown)}; known: min_tokens, "
                          "min_lines, mode, library_internal")  # fmt: skip
    merged = {**DEFAULTS, **settings}
    for key in ("min_tokens", "min_lines"):
        value = merged[key]
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ConfigError(f"[{ID}] {key}: expected a positive integer, got {value!r}")
    try:
        mode = Mode(merged["mode"])
    except ValueError:
        raise ConfigError(
            f"[{ID}] mode: expected 'normalised' or 'exact', got {merged['mode']!r}"
        ) from None
    if not isinstance(merged["library_internal"], bool):
        raise ConfigError(f"[{ID}] library_internal: expected true or false")
    return Clones(mode, merged["min_tokens"], merged["min_lines"], merged["library_internal"])
