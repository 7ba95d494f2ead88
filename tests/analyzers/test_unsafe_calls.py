"""unsafe-calls on one-line C/C++ snippets: what is a call, what is counted, how it adds up."""

from __future__ import annotations

import json
import pickle
from typing import Any

import pytest

from assay.analyze import unsafe_calls
from assay.analyze.interface import FileResult, PathContext
from assay.errors import ConfigError
from assay.model import FileKind, Severity
from assay.parse import parse

WRAPPERS = {
    "functions": [
        {"name": "VOS_MemCpy", "family": "memcpy-like", "bounded": False},
        {"name": "VOS_MemCpy_Safe", "family": "memcpy-like", "bounded": True, "bound_arg": 1},
        {"name": "OS_Copy", "family": "vendor-copy", "bounded": False, "severity": "high"},
    ]
}


def analyze(code: str, kind: FileKind = FileKind.C, settings: Any = None) -> FileResult:
    analyzer = unsafe_calls.configure(settings or {})
    return analyzer.analyze(parse(code.encode(), kind))


def found(code: str, kind: FileKind = FileKind.C, settings: Any = None) -> list[tuple[int, str]]:
    return [
        (f.start_line, f.properties["function"]) for f in analyze(code, kind, settings).findings
    ]


def body(statement: str) -> str:
    return "void f(char *a, char *b, int n) {\n" + statement + "\n}\n"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (body("strcpy(a, b);"), [(2, "strcpy")]),
        (body("/* strcpy(a, b); */ // memcpy(a, b, n);"), []),
        (body('puts("strcpy(a, b)"); puts("memcpy(");'), []),
        (body("char c = 'x'; strcat(a, b);"), [(2, "strcat")]),
        (body("void *(*p)(void *, const void *, size_t) = memcpy; p = memcpy;"), []),
        (body("s->memcpy(a, b, n); s.strcpy(a, b);"), []),
        ("void *memcpy(void *d, const void *s, size_t n);\n", []),
        (body("(memcpy)(a, b, n);"), [(2, "memcpy")]),
        (body("my_strcpy(a, b); strcpy2(a, b); xmemcpy(a, b, n); _strcpy(a, b);"), []),
        (body("memcpy(\n  a,\n  b, n);"), [(2, "memcpy")]),
        (body("if (n) return sprintf(a, \"%s\", b);"), [(2, "sprintf")]),
        (body("LOCK memcpy(a, b, n);"), [(2, "memcpy")]),
        ("#if 0\n" + body("gets(a);") + "#endif\n", [(3, "gets")]),
        (body("strcpy(a, strcat(b, a));"), [(2, "strcpy"), (2, "strcat")]),
    ],
    ids=[
        "call", "comments", "strings", "char-literal", "function-pointer", "members",
        "prototype", "parenthesised", "longer-names", "multi-line", "nested-in-return",
        "macro-prefixed", "if-0", "nested-calls",
    ],
)  # fmt: skip
def test_what_is_a_call(code: str, expected: list[tuple[int, str]]) -> None:
    assert found(code) == expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (body("std::memcpy(a, b, n);"), [(2, "memcpy")]),
        (body("::strcpy(a, b);"), [(2, "strcpy")]),
        (body("mylib::strcpy(a, b);"), []),
        (body("obj.strcpy(a, b); ptr->sprintf(a);"), []),
        ('namespace x { void g() { std::sprintf(buf, "%d", 1); } }\n', [(1, "sprintf")]),
    ],
    ids=["std", "global-scope", "other-namespace", "methods", "in-namespace"],
)
def test_cpp_calls(code: str, expected: list[tuple[int, str]]) -> None:
    assert found(code, FileKind.CPP) == expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("#define COPY(d, s) strcpy(d, s)\n", [(1, "strcpy")]),
        ("#define CLEAR(p) memset(p, 0, sizeof *(p))\n", [(1, "memset")]),
        ("#define COPY(d, s) \\\n    do { strcat(d, s); } while (0)\n", [(2, "strcat")]),
        ("#define X(a) f(a) /* strcpy(a, b) */\n", []),
        ('#define X(a) puts("strcpy(a)")\n', []),
        ("#define my_copy strcpy\n", []),
        ("#define X(s) (s)->memcpy(a)\n", []),
        ("#error use memcpy_s, not memcpy(a, b, n)\n", []),
        ("#undef sprintf\n", []),
    ],
    ids=[
        "function-like", "object-size", "continuation", "body-comment", "body-string",
        "alias-not-a-call", "member", "error-directive", "undef",
    ],
)  # fmt: skip
def test_macro_bodies(code: str, expected: list[tuple[int, str]]) -> None:
    result = analyze(code)
    assert [(f.start_line, f.properties["function"]) for f in result.findings] == expected
    assert all(f.properties["in_macro"] for f in result.findings)


@pytest.mark.parametrize(
    ("call", "family"),
    [
        ("memcpy(a, b, n)", "memcpy-like"),
        ("bcopy(b, a, n)", "memcpy-like"),
        ("memmove(a, b, n)", "memmove-like"),
        ("memset(a, 0, n)", "memset-like"),
        ("strcpy(a, b)", "strcpy-like"),
        ("wcscpy(a, b)", "strcpy-like"),
        ("lstrcpyA(a, b)", "strcpy-like"),
        ("_mbscpy(a, b)", "strcpy-like"),
        ("StrCpyW(a, b)", "strcpy-like"),
        ("strcat(a, b)", "strcat-like"),
        ("sprintf(a, \"%s\", b)", "sprintf-like"),
        ("vsprintf(a, b, ap)", "sprintf-like"),
        ("sscanf(a, \"%s\", b)", "scanf-like"),
        ("sscanf(a, \"%d\", &n)", "scanf-like"),
        ("gets(a)", "gets-like"),
        ("strtok(a, \" \")", "strtok-like"),
        ("getwd(a)", "path-like"),
        ("realpath(a, b)", "path-like"),
        ("mktemp(a)", "temp-file"),
        ("tmpnam(a)", "temp-file"),
    ],
)  # fmt: skip
def test_every_unbounded_family(call: str, family: str) -> None:
    [finding] = analyze(body(call + ";")).findings
    name = call.split("(")[0]
    assert finding.rule_id == f"unsafe-calls/{name}"
    assert finding.properties == {"function": name, "family": family, "in_macro": False}
    assert family in finding.message
    assert finding.evidence == call + ";"


@pytest.mark.parametrize(
    "call",
    [
        "memcpy_s(a, n, b, n)", "memmove_s(a, n, b, n)", "memset_s(a, n, 0, n)",
        "strcpy_s(a, n, b)", "strncpy(a, b, n)", "strlcpy(a, b, n)", "strncpy_s(a, n, b, n)",
        "strcat_s(a, n, b)", "strncat(a, b, n)", "strlcat(a, b, n)", "snprintf(a, n, \"%s\", b)",
        "vsnprintf(a, n, b, ap)", "sprintf_s(a, n, \"%s\", b)", "sscanf_s(a, \"%s\", b, n)",
        "fgets(a, n, stdin)", "gets_s(a, n)", "strtok_r(a, b, &a)", "getcwd(a, n)",
        "mkstemp(a)", "realpath(a, NULL)", "realpath(a, 0)",
    ],
)  # fmt: skip
def test_bounded_calls_are_counted_not_reported(call: str) -> None:
    result = analyze(body(call + ";"))
    assert result.findings == ()
    assert result.data["calls"] == {
        call.split("(")[0]: {"bounded": 1, "unbounded": 0, "in_macro": 0}
    }


def test_file_data_counts_per_function() -> None:
    code = "#define C(d, s) memcpy(d, s, 4)\n" + body("memcpy(a, b, n); memcpy_s(a, n, b, n);")
    assert analyze(code).data == {
        "calls": {
            "memcpy": {"bounded": 0, "unbounded": 2, "in_macro": 1},
            "memcpy_s": {"bounded": 1, "unbounded": 0, "in_macro": 0},
        }
    }


def test_finding_message_names_family_and_alternative() -> None:
    [finding] = analyze(body("strcpy(a, b);")).findings
    assert finding.message.startswith("strcpy is an unbounded strcpy-like function; use ")
    assert "strcpy_s" in finding.message
    assert (finding.start_line, finding.end_line, finding.severity) == (2, 2, None)


def test_user_wrappers_merge_over_builtin_rows() -> None:
    code = body("VOS_MemCpy(a, b, n); VOS_MemCpy_Safe(a, n, b, n); OS_Copy(a, b);")
    result = analyze(code, settings=WRAPPERS)
    assert [f.properties["function"] for f in result.findings] == ["VOS_MemCpy", "OS_Copy"]
    assert result.data["calls"]["VOS_MemCpy_Safe"]["bounded"] == 1
    assert result.findings[1].message == "OS_Copy is an unbounded vendor-copy function"
    rules = {str(r.id): r for r in unsafe_calls.configure(WRAPPERS).rules()}
    assert rules["unsafe-calls/OS_Copy"].severity is Severity.HIGH
    assert rules["unsafe-calls/VOS_MemCpy"].cwe == 120  # inherited from its family


def test_user_row_replaces_a_builtin_one() -> None:
    settings = {"functions": [{"name": "memset", "family": "memset-like", "bounded": True}]}
    assert found(body("memset(a, 0, n);"), settings=settings) == []


@pytest.mark.parametrize(
    "settings",
    [
        {"function": []},
        {"functions": "memcpy"},
        {"functions": ["memcpy"]},
        {"functions": [{"name": "1x", "family": "memcpy-like", "bounded": False}]},
        {"functions": [{"name": "x", "family": "memcpy-like"}]},
        {"functions": [{"name": "x", "bounded": False}]},
        {"functions": [{"name": "x", "family": "f", "bounded": False, "colour": "red"}]},
        {"functions": [{"name": "x", "family": "f", "bounded": False, "severity": "dire"}]},
        {"functions": [{"name": "x", "family": "f", "bounded": True, "bound_arg": -1}]},
        {"functions": [{"name": "x", "family": "f", "bounded": False, "cwe": "120"}]},
        {"functions": [{"name": "x", "family": 3, "bounded": False}]},
    ],
)
def test_bad_settings_raise_config_error(settings: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        unsafe_calls.configure(settings)


def test_rules_one_per_unbounded_row() -> None:
    analyzer = unsafe_calls.configure({})
    rules = analyzer.rules()
    unbounded = [row for row in analyzer.table.rows if not row.bounded]
    assert len(rules) == len(unbounded) >= 60
    assert len({r.id for r in rules}) == len({r.name for r in rules}) == len(rules)
    names = {str(r.id): r.name for r in rules}
    assert names["unsafe-calls/StrCpy"] == "unbounded-str-cpy"
    assert names["unsafe-calls/_mktemp"] == "unbounded-reserved-mktemp"
    assert all(r.category == "unsafe-calls" and r.rationale and r.alternative for r in rules)
    assert {r.id for r in rules} >= {"unsafe-calls/memcpy", "unsafe-calls/gets"}
    assert "unsafe-calls/strncpy" not in {r.id for r in rules}


def test_every_family_has_both_variants() -> None:
    rows = unsafe_calls.configure({}).table.rows
    families = {row.family for row in rows}
    assert len(families) >= 11
    for family in families:
        assert {row.bounded for row in rows if row.family == family} == {True, False}, family


def test_analyzer_is_picklable_and_wants_sources() -> None:
    analyzer = unsafe_calls.configure(WRAPPERS)
    clone = pickle.loads(pickle.dumps(analyzer))
    assert clone == analyzer
    assert clone.analyze(parse(body("VOS_MemCpy(a, b, n);").encode(), FileKind.C)).findings


def census(*files: tuple[str, str, str]) -> dict[str, Any]:
    """Aggregate (path, directory, code) triples; the first occurrence of a code is unique."""
    analyzer = unsafe_calls.configure({})
    aggregator = analyzer.aggregator()
    seen: set[str] = set()
    for path, directory, code in files:
        result = analyzer.analyze(parse(code.encode(), FileKind.C))
        aggregator.add(PathContext(path, directory), result)
        if code not in seen:
            seen.add(code)
            aggregator.add_unique(result)
    summary, findings = aggregator.finish()
    assert list(findings) == []
    json.dumps(summary)  # JSON-able
    return dict(summary)


def test_census_per_family_directory_and_unique() -> None:
    copy = body("memcpy(a, b, n); memcpy(a, b, n); memcpy_s(a, n, b, n); strcpy(a, b);")
    other = body('snprintf(a, n, "%s", b); wmemcpy(a, b, n);')
    summary = census(
        ("lib/x.c", "lib", copy), ("vendor/x.c", "vendor", copy), ("lib/y.c", "lib", other)
    )
    memcpy_like = summary["families"]["memcpy-like"]
    assert memcpy_like == {
        "calls_bounded": 2,
        "calls_in_macros": 0,
        "calls_unbounded": 5,
        "functions_bounded": ["memcpy_s"],
        "functions_unbounded": ["memcpy", "wmemcpy"],
        "share_unbounded": round(5 / 7, 4),
    }
    assert summary["families"]["sprintf-like"]["share_unbounded"] == 0.0
    assert summary["unique"]["families"]["memcpy-like"]["calls_unbounded"] == 3
    assert summary["directories"]["vendor"]["families"]["memcpy-like"]["calls_unbounded"] == 2
    assert summary["directories"]["lib"]["totals"]["calls_unbounded"] == 4
    assert summary["totals"]["calls_unbounded"] == 7
    assert (summary["files"], summary["files_with_unbounded"]) == (3, 3)
    assert summary["functions"]["strcpy"] == {
        "family": "strcpy-like", "bounded": 0, "unbounded": 2, "in_macro": 0,
    }  # fmt: skip


def test_census_of_nothing() -> None:
    summary = census(("a.c", ".", "int x;\n"))
    assert summary["totals"]["share_unbounded"] is None
    assert summary["families"] == {}
