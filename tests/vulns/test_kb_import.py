"""``assay kb import``: OSV records go to the user's overlay and reach the next evaluation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assay.cli import main

RECORDS = [
    {
        "id": "OSV-TEST-1",
        "aliases": ["CVE-2099-1111"],
        "summary": "test record with an ECOSYSTEM range",
        "affected": [
            {
                "package": {"ecosystem": "Debian", "name": "zlib"},
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.2.12"}]}
                ],
            }
        ],
    },
    {
        "id": "OSV-TEST-2",
        "affected": [
            {
                "package": {"ecosystem": "OSS-Fuzz", "name": "zlib"},
                "ranges": [{"type": "GIT", "events": [{"introduced": "abc"}, {"fixed": "def"}]}],
            }
        ],
    },
]


def test_imported_records_are_matched_and_git_only_ones_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data-home"))
    records = tmp_path / "osv"
    records.mkdir()
    for record in RECORDS:
        (records / f"{record['id']}.json").write_text(json.dumps(record), encoding="utf-8")
    assert main(["kb", "import", str(records)]) == 0
    text = capsys.readouterr().out
    assert "from 2 records" in text
    assert "GIT commit ranges only): 1" in text
    assert (tmp_path / "data-home" / "assay" / "vulndb-overlay.json").is_file()
    assert main(["kb", "info"]) == 0
    assert "osv-import osv (2 records, 1 git-only)" in capsys.readouterr().out
    tree = tmp_path / "fw" / "zlib"
    tree.mkdir(parents=True)
    (tree / "zlib.h").write_text('#define ZLIB_VERSION "1.2.11"\n', encoding="utf-8")
    out = tmp_path / "out"
    assert main(["evaluate", str(tmp_path / "fw"), "-o", str(out), "-q", "-j", "1"]) == 0
    copy = json.loads((out / "evaluation.json").read_text())["vulnerabilities"]["copies"]
    assert "CVE-2099-1111" in {c["id"] for c in copy["zlib@1.2.11:zlib"]["cves"]}
