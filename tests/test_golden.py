"""Acceptance 5 on the built-in example: the outputs are the golden files, byte for byte.

``tests/data/golden/example/`` holds evaluation.json, results.sarif and sbom.cdx.json (its
serial number and timestamp normalised) as the pre-refactor code wrote them; an intended output
change regenerates them with ``scripts/golden.py`` and the diff is reviewed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from assay.cli import main

_SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
if str(_SCRIPTS) not in sys.path:
    sys.path.insert(0, str(_SCRIPTS))

import golden  # noqa: E402  (scripts/ is a plain script folder)


def test_example_outputs_are_the_golden_files(tmp_path: Path) -> None:
    # function scope: the user data and cache directories are the test's own (conftest)
    out = tmp_path / "out"
    assert main(["example", "-o", str(out), "-q", "--no-history", "--no-cache", "-j", "2"]) == 0
    written = golden.outputs(out)
    differ = [
        name for name in golden.OUTPUTS if written[name] != (golden.GOLDEN / name).read_bytes()
    ]
    assert not differ, (
        f"{', '.join(differ)} differ from tests/data/golden/example/; if the change is intended, "
        "run scripts/golden.py and review the diff"
    )


def test_sbom_normalisation_touches_only_serial_and_timestamp() -> None:
    sbom = (
        b'{"metadata": {"timestamp": "2026-12-03T08:02:02.034550+00:00"},\n'
        b' "serialNumber": "urn:uuid:8ed799ed-8ee9-4de9-bab5-83822fa5b1d3", "version": 1}'
    )
    assert golden.normalise_sbom(sbom) == (
        b'{"metadata": {"timestamp": "1970-01-01T00:00:00+00:00"},\n'
        b' "serialNumber": "urn:uuid:00000000-0000-0000-0000-000000000000", "version": 1}'
    )
    with pytest.raises(golden.RunError, match="timestamp"):
        golden.normalise_sbom(b'{"serialNumber": "urn:uuid:8ed799ed-8ee9-4de9-bab5-83822fa5b1d3"}')
