"""suppressions on C snippets and build files: what is found, its severity, the per-KLOC tally."""

from __future__ import annotations

import json
import pickle
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from assay.analyze import suppressions
from assay.analyze.interface import Content, FileResult, PathContext
from assay.analyze.suppressions.classes import classify, normal
from assay.ingest.interface import SourceFile
from assay.model import FileKind, Severity
from assay.parse import parse
from support import run_evaluation, write_tree

SCHEMA = json.loads((resources.files("assay") / "schemas" / "evaluation.schema.json").read_text())
ANALYZER = suppressions.configure({})


def scan(code: str) -> FileResult:
    return ANALYZER.analyze(parse(code.encode(), FileKind.C))


def build(text: str, name: str = "Makefile") -> FileResult:
    return ANALYZER.analyze_content(Content(text.encode(), FileKind.TEXT, name))


def found(result: FileResult) -> list[tuple[int, str, tuple[str, ...], Severity | None]]:
    return [
        (f.start_line, f.rule_id.partition("/")[2], tuple(f.properties["warnings"]), f.severity)
        for f in result.findings
    ]


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ('#pragma GCC diagnostic ignored "-Wformat-security"',
         [(1, "pragma-diagnostic", ("-Wformat-security",), Severity.HIGH)]),
        ('#pragma clang diagnostic ignored "-Wunused-parameter"',
         [(1, "pragma-diagnostic", ("-Wunused-parameter",), Severity.LOW)]),
        ('#  pragma GCC diagnostic ignored "-Wsign-compare"',
         [(1, "pragma-diagnostic", ("-Wsign-compare",), Severity.MEDIUM)]),
        ('#pragma GCC diagnostic ignored "-Wmade-up-warning"',
         [(1, "pragma-diagnostic", ("-Wmade-up-warning",), Severity.LOW)]),
        ('#pragma GCC diagnostic push\n#pragma GCC diagnostic warning "-Wformat"', []),
        ("#pragma warning(disable: 4100 4996; once: 4385)",
         [(1, "pragma-warning", ("4100", "4996"), Severity.HIGH)]),
        ("#pragma warning(push)", []),
        ("#pragma diag_suppress 177,550",
         [(1, "pragma-diag-suppress", ("177", "550"), Severity.LOW)]),
        ("#pragma once", []),
        ("int x; // NOLINT", [(1, "nolint", (), None)]),
        ("// NOLINTNEXTLINE(cert-err34-c, readability-magic-numbers)\nint x;",
         [(1, "nolint", ("cert-err34-c", "readability-magic-numbers"), Severity.HIGH)]),
        ("/* NOLINTBEGIN(modernize-use-nullptr) */",
         [(1, "nolint", ("modernize-use-nullptr",), Severity.LOW)]),
        ("/* NOLINTEND */", []),
        ("// cppcheck-suppress [uninitvar, unusedFunction]",
         [(1, "cppcheck-suppress", ("uninitvar", "unusedFunction"), Severity.HIGH)]),
        ("// cppcheck-suppress variableScope",
         [(1, "cppcheck-suppress", ("variableScope",), Severity.LOW)]),
        ("/*\n * coverity[tainted_data]\n */", [(2, "coverity", ("tainted_data",), Severity.HIGH)]),
        ("/* coverity[+free : arg-0] */", []),
        ('const char *s = "NOLINT // coverity[overrun] #pragma GCC diagnostic ignored";', []),
        ('/* #pragma GCC diagnostic ignored "-Wformat" */', []),
        ('void f(void) {\n#pragma GCC diagnostic ignored "-Wcast-qual"\n}',
         [(2, "pragma-diagnostic", ("-Wcast-qual",), Severity.MEDIUM)]),
    ],
    ids=[
        "gcc-security", "clang-hygiene", "spaced-hash", "unknown-warning", "push-and-warning",
        "msvc-worst-wins", "msvc-push", "embedded", "other-pragma", "bare-nolint",
        "nolint-next-line", "nolint-begin", "nolint-end", "cppcheck-list", "cppcheck-style",
        "coverity-in-block", "coverity-model", "in-string", "in-comment", "in-function",
    ],
)  # fmt: skip
def test_source(
    code: str, expected: list[tuple[int, str, tuple[str, ...], Severity | None]]
) -> None:
    assert found(scan(code)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("CFLAGS += -w", [(1, "build-no-warnings", (), None)]),
        ("AM_CFLAGS = -Wall -Wno-format-security -Wno-unused-parameter",
         [(1, "build-warning-off", ("-Wformat-security",), Severity.HIGH),
          (1, "build-warning-off", ("-Wunused-parameter",), Severity.LOW)]),
        ("CFLAGS += -Wno-error -Wno-error=format", []),
        ("# CFLAGS += -w -Wno-format", []),
        ("dnl -Wno-format", []),
        ("check:\n\tgrep -w foo bar.txt", []),
        ("add_compile_options(/wd4996)", [(1, "build-warning-off", ("4996",), Severity.HIGH)]),
        ("target_compile_options(x PRIVATE -w)", [(1, "build-no-warnings", (), None)]),
        ("x = -Wno-stringop-overflow=",
         [(1, "build-warning-off", ("-Wstringop-overflow=",), Severity.HIGH)]),
    ],
    ids=["dash-w", "two-flags", "no-error-kept", "comment", "dnl", "grep-w", "msvc-wd",
         "cmake-w", "value-suffix"],
)  # fmt: skip
def test_build_files(
    text: str, expected: list[tuple[int, str, tuple[str, ...], Severity | None]]
) -> None:
    assert found(build(text)) == expected


def test_automake_output_is_not_counted() -> None:
    head = "# Makefile.in generated by automake 1.16.5 from Makefile.am.\n"
    result = build(head + "X = -w -Wno-format\n", "Makefile.in")
    assert result.findings == () and result.data["generated"] is True


@pytest.mark.parametrize(
    ("name", "wanted"),
    [("Makefile", True), ("Makefile.am", True), ("Makefile.in", True), ("GNUmakefile", True),
     ("rules.mk", True), ("CMakeLists.txt", True), ("FindFoo.cmake", True),
     ("configure.ac", True), ("configure.in", True), ("meson.build", True), ("config.h.in", False),
     ("README", False), ("configure", False)],
)  # fmt: skip
def test_wants_build_files(name: str, wanted: bool) -> None:
    file = SourceFile(f"sub/{name}", "/dev/null", FileKind.TEXT, 1, "0" * 64)
    assert ANALYZER.wants(file) is wanted


@pytest.mark.parametrize(
    ("name", "klass"),
    [("-Wno-format-security", "security"), ("4996", "security"), ("C4100", "hygiene"),
     ("cert-err33-c", "security"), ("bugprone-branch-clone", "correctness"),
     ("readability-else-after-return", "hygiene"), ("nullPointer", "security"),
     ("unusedFunction", "hygiene"), ("leaked_storage", "correctness"),
     ("-Wno-frame-larger-than=4096", "correctness")],
)  # fmt: skip
def test_classes(name: str, klass: str) -> None:
    found_class = classify(name)
    assert found_class is not None and found_class.name == klass, normal(name)


def test_per_kloc_by_directory_and_component() -> None:
    source = scan("// NOLINT\n" + "int x;\n" * 499)
    flags = build("CFLAGS = -Wno-format\n")
    tally = ANALYZER.aggregator()
    tally.add(PathContext("src/a.c", "src"), source)
    tally.add(PathContext("src/b.c", "src"), scan("int y;\n" * 500))
    tally.add(PathContext("src/Makefile", "src"), flags)
    tally.add(PathContext("third/zlib/a.c", "third", "zlib"), source)
    summary, extra = tally.finish()
    assert list(extra) == []
    src = summary["directories"]["src"]
    assert (src["in_source"], src["source_lines"], src["per_kloc"]) == (1, 1000, 1.0)
    assert (src["in_build_files"], src["build_files"]) == (1, 1)
    assert summary["components"]["zlib"]["per_kloc"] == 2.0
    assert summary["components"]["(vendor)"]["in_source"] == 1
    assert summary["totals"]["warnings"] == {"(all)": 2, "-Wformat": 1}


def test_picklable() -> None:
    assert pickle.loads(pickle.dumps(ANALYZER)) == ANALYZER


def test_evaluation_json_and_sarif(tmp_path: Path) -> None:
    tree = write_tree(tmp_path / "in", {
        "src/main.c": '#pragma GCC diagnostic ignored "-Wformat-security"\nint x;\n',
        "src/Makefile": "CFLAGS += -Wno-unused-parameter\n",
        "lib/x.c": "int x; /* cppcheck-suppress nullPointer */\n",
    })  # fmt: skip
    run = run_evaluation(tree, tmp_path / "out")
    document = run.json()
    jsonschema.validate(document, SCHEMA, cls=jsonschema.Draft202012Validator)
    section = document["suppressions"]
    assert section["directories"]["src"]["in_source"] == 1
    assert section["directories"]["src"]["in_build_files"] == 1
    assert section["directories"]["lib"]["by_kind"] == {"cppcheck-suppress": 1}
    results = run.sarif()["runs"][0]["results"]
    ours = sorted(r["ruleId"] for r in results if r["ruleId"].startswith("suppressions/"))
    assert ours == [
        "suppressions/build-warning-off", "suppressions/cppcheck-suppress",
        "suppressions/pragma-diagnostic",
    ]  # fmt: skip
    severities = {f["rule_id"]: f["severity"] for f in run.findings("suppressions")}
    assert severities["suppressions/pragma-diagnostic"] == "high"
    assert severities["suppressions/build-warning-off"] == "low"
