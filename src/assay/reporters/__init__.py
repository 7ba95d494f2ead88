"""Reporters: one module per output format, each a pure writer of one evaluation."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import assert_never

from assay.model import Evaluation
from assay.reporters import cyclonedx, html, json, sarif
from assay.reporters.interface import Streams, Writer


class Format(StrEnum):
    """Output formats and their file names in the output directory (a contract)."""

    JSON = "evaluation.json"
    SARIF = "results.sarif"
    HTML = "report.html"
    SBOM = "sbom.cdx.json"


def writer(fmt: Format) -> Writer:
    """The writer of one format."""
    match fmt:
        case Format.JSON:
            return json.write
        case Format.SARIF:
            return sarif.write
        case Format.HTML:
            return html.write
        case Format.SBOM:
            return cyclonedx.write
        case _:
            assert_never(fmt)


def write_all(evaluation: Evaluation, streams: Streams, output_dir: Path) -> list[Path]:
    """Write every format into ``output_dir`` (each through a temporary file, then renamed)."""
    written = []
    for fmt in Format:
        target = output_dir / fmt.value
        tmp = target.with_name(f".{target.name}.tmp")
        with tmp.open("w", encoding="utf-8", newline="\n") as out:
            writer(fmt)(evaluation, streams, out)
        tmp.replace(target)
        written.append(target)
    return written
