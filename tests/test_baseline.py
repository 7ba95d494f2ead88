"""Baseline: written from an evaluation, decided by the evaluator, applied to the next one."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from assay import cli
from assay.assess import baseline
from assay.errors import ConfigError
from support import write_tree

DEFEATED = "#define strncpy(d, s, n) strcpy(d, s)\nvoid f(char *d, char *s) { strncpy(d, s, 4); }\n"
UNSAFE = "void g(char *d, const char *s) { strcpy(d, s); }\n"


def _evaluate(src: Path, out: Path, *extra: str) -> int:
    flags = ["-q", "-j", "1", "--no-history", "--no-cache"]
    return cli.main(["evaluate", str(src), "-o", str(out), *flags, *extra])


def _init(out: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    capsys.readouterr()
    assert cli.main(["baseline", "init", str(out), *extra]) == 0
    return capsys.readouterr().out


def test_decided_findings_are_suppressed_in_sarif_json_and_rating(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = write_tree(tmp_path / "src", {"a.c": DEFEATED, "b.c": UNSAFE})
    assert _evaluate(src, tmp_path / "o1", "--fail-on", "high") == 1
    text = _init(tmp_path / "o1", capsys)
    doc = json.loads((tmp_path / "o1" / "evaluation.json").read_text(encoding="utf-8"))
    assert doc["rating"]["verdict"] == "no assurance"
    assert text.count("[[finding]]") == len(doc["findings"])
    decided = re.sub(r'(rule = "safe-defeated/[^"]+"\n(?:.*\n){3})status = "open"\nreason = ""',
                     r'\1status = "accepted"\nreason = "test build only"', text)  # fmt: skip
    (tmp_path / "b.toml").write_text(decided, encoding="utf-8")
    assert _evaluate(src, tmp_path / "o2", "--baseline", str(tmp_path / "b.toml")) == 0
    doc = json.loads((tmp_path / "o2" / "evaluation.json").read_text(encoding="utf-8"))
    defeated = [f for f in doc["findings"] if f["category"] == "safe-defeated"]
    assert defeated and all(f["suppression"] == {"status": "accepted", "reason": "test build only"}
                            for f in defeated)  # fmt: skip
    assert all("suppression" not in f for f in doc["findings"] if f["category"] != "safe-defeated")
    assert doc["baseline"]["suppressed"] == len(defeated)
    assert doc["baseline"]["stale"] == []
    assert doc["rating"]["categories"]["safe-defeated"]["grade"] == "pass"
    sarif = json.loads((tmp_path / "o2" / "results.sarif").read_text(encoding="utf-8"))
    marked = [r for r in sarif["runs"][0]["results"] if "suppressions" in r]
    assert len(marked) == len(defeated)
    assert marked[0]["suppressions"][0]["kind"] == "external"
    assert marked[0]["suppressions"][0]["justification"] == "accepted: test build only"


def test_decisions_carry_to_the_next_release_and_fixed_ones_go_stale(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = write_tree(tmp_path / "src", {"a.c": DEFEATED, "b.c": UNSAFE})
    _evaluate(src, tmp_path / "o1")
    decided = 'status = "false-positive"\nreason = "why"'
    first = _init(tmp_path / "o1", capsys).replace('status = "open"\nreason = ""', decided)
    (tmp_path / "b1.toml").write_text(first, encoding="utf-8")
    (src / "a.c").write_text("int ok(void) { return 0; }\n", encoding="utf-8")
    _evaluate(src, tmp_path / "o2", "--baseline", str(tmp_path / "b1.toml"))
    doc = json.loads((tmp_path / "o2" / "evaluation.json").read_text(encoding="utf-8"))
    assert doc["findings"] and all(f["suppression"]["status"] == "false-positive"
                                   for f in doc["findings"])  # fmt: skip
    assert len(doc["baseline"]["stale"]) == first.count("[[finding]]") - len(doc["findings"]) > 0
    carried = baseline.load_text(
        _init(tmp_path / "o2", capsys, "--from", str(tmp_path / "b1.toml"))
    )
    assert {e.status.value for e in carried.entries} == {"false-positive"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[[finding]]\nstatus = "accepted"\nreason = "x"\n', "missing fingerprint"),
        ('[[finding]]\nfingerprint = "a:1"\nstatus = "accepted"\n', "needs a reason"),
        ('[[finding]]\nfingerprint = "a:1"\nstatus = "maybe"\n', "status must be one of"),
        ("version = 7\n", "unsupported baseline version"),
        ("[[finding\n", "cannot read baseline"),
    ],
)
def test_invalid_baselines_are_config_errors(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "b.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        baseline.load(path)


def test_rendered_strings_survive_toml_round_trip() -> None:
    text = 'quote " back \\ tab \t del \x7f unicode é \ud800 newline \n'
    parsed = baseline.load_text(
        f"version = 1\n[[finding]]\nfingerprint = {baseline.toml_string(text)}\n"
    )
    assert parsed.entries[0].fingerprint == text.replace("\ud800", "?")
