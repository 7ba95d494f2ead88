"""The command line in-process: outputs, summary, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assay.cli import main


def test_example_writes_the_contracted_outputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["example", "-o", str(tmp_path / "out"), "-j", "1"]) == 0
    names = {p.name for p in (tmp_path / "out").iterdir()}
    assert {"evaluation.json", "results.sarif", "report.html", "sbom.cdx.json"} <= names
    text = capsys.readouterr().out
    assert "unsafe-calls:" in text and "safe-defeated:" in text
    assert "components: 1 copies of 1 libraries" in text
    assert any(line.split()[:2] == ["zlib", "0"] for line in text.splitlines())


def test_fail_on_sets_exit_code_one(tmp_path: Path) -> None:
    out = str(tmp_path / "out")
    assert main(["example", "-o", out, "-j", "1", "-q", "--fail-on", "high"]) == 1
    clean = tmp_path / "clean"
    clean.mkdir()
    (clean / "ok.c").write_text("int ok(void) { return 0; }\n", encoding="utf-8")
    args = ["evaluate", str(clean), "-o", str(tmp_path / "o2"), "-j", "1", "-q"]
    assert main([*args, "--fail-on", "low"]) == 0
    (clean / "bad.c").write_text('void b(char *d) { strcpy(d, "x"); }\n', encoding="utf-8")
    assert main([*args, "--fail-on", "high"]) == 1
    assert main([*args, "--fail-on", "critical"]) == 0


def test_missing_input_is_an_error_with_exit_two(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert main(["evaluate", str(tmp_path / "nope"), "-o", str(tmp_path / "o")]) == 2
    assert "nope" in caplog.text


def test_usage_errors_exit_two(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["evaluate", str(tmp_path), "-o", str(tmp_path / "o"), "--fail-on", "bogus"])
    assert exc.value.code == 2
    assert main(["evaluate", str(tmp_path), "-o", str(tmp_path / "o"), "-j", "0"]) == 2


def test_config_file_adds_a_wrapper(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "w.c").write_text("void f(char *d, char *s) { VOS_StrCpy(d, s); }\n", encoding="utf-8")
    config = tmp_path / "assay.toml"
    config.write_text(
        '[unsafe-calls]\nfunctions = [{name = "VOS_StrCpy", family = "strcpy-like", '
        "bounded = false}]\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    assert (
        main(["evaluate", str(src), "-o", str(out), "-j", "1", "-q", "--config", str(config)]) == 0
    )
    text = (out / "evaluation.json").read_text(encoding="utf-8")
    assert "unsafe-calls/VOS_StrCpy" in text


def test_rules_doc_is_generated_from_the_rule_rows(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules"]) == 0
    generated = capsys.readouterr().out
    assert "### `unsafe-calls/strcpy`" in generated
    doc = Path(__file__).parents[1] / "docs" / "rules.md"
    assert doc.read_text(encoding="utf-8") == generated, "regenerate: assay rules > docs/rules.md"


def test_kb_add_detects_the_release_and_the_evaluation_uses_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    release = tmp_path / "zlib-9.9.9"
    release.mkdir()
    (release / "zlib.h").write_text('#define ZLIB_VERSION "9.9.9"\n', encoding="utf-8")
    for name in ("a.c", "b.c", "c.c"):
        (release / name).write_text(f"int {name[0]}(void) {{ return 1; }}\n", encoding="utf-8")
    kb = tmp_path / "kb.sqlite"
    assert main(["kb", "add", str(release), "--kb", str(kb)]) == 0
    assert "recorded zlib 9.9.9: 4 files" in capsys.readouterr().out
    assert main(["kb", "info", "--kb", str(kb)]) == 0
    assert "zlib 9.9.9: 4 files" in capsys.readouterr().out
    vendor = tmp_path / "fw" / "lib" / "z"
    vendor.mkdir(parents=True)
    for name in ("a.c", "b.c", "c.c"):
        (vendor / name).write_bytes((release / name).read_bytes())
    out = tmp_path / "out"
    assert main(["evaluate", str(tmp_path / "fw"), "-o", str(out), "-q", "--kb", str(kb)]) == 0
    copies = json.loads((out / "evaluation.json").read_text(encoding="utf-8"))["components"]
    [copy] = copies["copies"]
    assert (copy["name"], copy["version"], copy["root"], copy["kind"]) == (
        "zlib", "9.9.9", "lib/z", "fragment",
    )  # fmt: skip


def test_only_runs_the_chosen_categories(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """``--only`` keeps the named analyzers (components and vulnerabilities always run), is
    recorded among the options, and an unknown category is an error naming the known ones."""
    out = tmp_path / "out"
    args = ["example", "-o", str(out), "-j", "1", "-q", "--no-history", "--no-cache"]
    assert main([*args, "--only", "unsafe-calls, complexity"]) == 0  # no --fail-on: 0
    doc = json.loads((out / "evaluation.json").read_text(encoding="utf-8"))
    assert doc["options"]["categories"] == ["unsafe-calls", "complexity"]
    assert {"unsafe-calls", "complexity", "components", "vulnerabilities"} <= set(doc)
    assert not {"clones", "secrets", "safe-defeated", "endpoints"} & set(doc)
    assert {r["id"].split("/")[0] for r in doc["rules"]} >= {"unsafe-calls", "complexity"}
    assert not any(r["id"].startswith("clones/") for r in doc["rules"])
    assert main([*args, "--only", "complexity,bogus"]) == 2
    assert "unknown categories bogus" in caplog.text and "secrets" in caplog.text
    with pytest.raises(SystemExit):
        main([*args, "--only", " , "])


def test_output_closed_by_its_reader_ends_quietly() -> None:
    # `assay rules | head -1`: the reader goes away; one exit code, no traceback
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-m", "assay", "rules"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # before the command writes anything: its first write fails
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141
    assert "Traceback" not in err and "BrokenPipeError" not in err
    proc.stderr.close()


def test_summary_counts_the_cves_of_components_inside_binaries() -> None:
    # a firmware of binaries has no source copies: the "vulnerabilities:" line reads 0 known
    # CVEs while the verdict fails on the binaries' CVEs; the binaries' figures get a line
    from assay.cli.evaluate import binaries_line

    def cve(id: str, exploited: bool = False) -> dict[str, object]:
        return {"id": id, "severity": None, "fixed_in": None, "exploited": exploited}

    assessment = {
        "busybox@1.35.0": {"support": "end-of-life", "cves": [cve("CVE-1"), cve("CVE-2", True)]},
        "hostapd@2.10": {"support": "supported", "cves": [cve("CVE-3")]},
        "libfoo@1.0": {"support": "end-of-life", "cves": []},
        "openssl@3.0.20": {"support": "paid-support-only", "cves": []},
        "linux@6.1.176": {"support": "supported", "cves": [cve("CVE-2", True)]},
    }
    assert binaries_line(assessment) == (
        "  vulnerabilities in binaries: 3 known CVEs in 3 of 5 components (1 exploited in the "
        "wild), 2 components end of life, 1 on paid support only"
    )
    assert binaries_line({}) is None and binaries_line(None) is None
