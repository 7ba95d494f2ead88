"""``assay kb info`` per source, ``assay kb import`` of an end-of-life file, and its errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from assay.assess.vulns import db
from assay.assess.vulns.match import assess
from assay.assess.vulns.policy import Support
from assay.cli import main
from assay.model import Component

PAGE = """---
title: BusyBox
releases:
  - releaseCycle: "1.36"
    releaseDate: 2023-01-03
    eol: false
    latest: "1.36.1"
  - releaseCycle: "1.35"
    releaseDate: 2021-12-26
    eol: 2023-01-03
    latest: "1.35.0"
---
"""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data-home"))
    return tmp_path


def test_info_gives_each_source_its_date_and_counts(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["kb", "info"]) == 0
    out = capsys.readouterr().out
    pinned = db.read(db.default_path())
    assert f"snapshot {pinned.snapshot}" in out
    sources = [line for line in out.splitlines() if line.startswith("  source ")]
    assert len(sources) == len(pinned.sources) >= 8
    for line in sources:  # "  source NAME @ YYYY-MM-DD: N advisories, ..."
        assert re.match(r"  source \S+ @ (\d{4}-\d{2}-\d{2}|undated): \S", line), line
    assert any(line.startswith("  source debian @ ") and "advisories" in line for line in sources)


@pytest.mark.parametrize("shape", ["md", "json"])
def test_imported_end_of_life_file_replaces_the_product_policy(
    home: Path, shape: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = assess(Component("busybox", "1.35.0", ""), db.load())
    assert before.superseded_by is not None  # pinned policy: only the newest release
    target = home / f"busybox.{shape}"
    if shape == "md":
        target.write_text(PAGE, encoding="utf-8")
    else:
        cycles = [{"cycle": "1.36", "releaseDate": "2023-01-03", "eol": False},
                  {"cycle": "1.35", "releaseDate": "2021-12-26", "eol": "2023-01-03"}]  # fmt: skip
        target.write_text(json.dumps(cycles), encoding="utf-8")
    assert main(["kb", "import", str(target)]) == 0
    assert "2 release cycles of busybox" in capsys.readouterr().out
    after = assess(Component("busybox", "1.35.0", ""), db.load())
    assert (after.support, after.cycle, after.since) == (Support.END_OF_LIFE, "1.35", "2023-01-03")
    assert assess(Component("busybox", "1.36.1", ""), db.load()).support is Support.SUPPORTED
    assert main(["kb", "info"]) == 0
    assert f"eol-import busybox.{shape} (busybox, 2 cycles)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("missing.zip", None),
        ("busybox.json", "[1, 2]"),  # a list, but not of cycles
        ("busybox.md", "no front matter\n"),
        ("records.txt", "x"),
    ],
)
def test_import_errors_are_one_line_and_exit_2(
    home: Path, name: str, content: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    target = home / name
    if content is not None:
        target.write_text(content, encoding="utf-8")
    assert main(["kb", "import", str(target)]) == 2
    [record] = [r for r in caplog.records if r.levelname == "ERROR"]
    assert name in record.getMessage() and "\n" not in record.getMessage()
    assert record.exc_info is None
