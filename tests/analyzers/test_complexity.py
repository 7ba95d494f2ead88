"""complexity on short C/C++ snippets: what a function is, how CCN, NLOC, parameters and
nesting are counted (lizard's rules), partial parses, pathological input, findings and sums."""

from __future__ import annotations

import json
import pickle
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from assay import examples
from assay.analyze import complexity
from assay.analyze.complexity import functions as functions_module
from assay.analyze.complexity.functions import FunctionMetrics, function_metrics, measure
from assay.analyze.interface import PathContext
from assay.errors import ConfigError
from assay.model import FileKind
from assay.parse import parse
from support import GOLDEN


def functions(code: str, kind: FileKind = FileKind.C) -> list[FunctionMetrics]:
    return function_metrics(parse(code.encode(), kind))


def one(code: str, kind: FileKind = FileKind.C) -> FunctionMetrics:
    [function] = functions(code, kind)
    return function


def body(statements: str) -> str:
    return "int f(int a, int b) {\n" + statements + "\n}\n"


@pytest.mark.parametrize(
    ("code", "ccn"),
    [
        ("int f(void) { return 0; }", 1),
        (body("if (a) return 1;"), 2),
        (body("if (a) return 1; else return 2;"), 2),
        (body("if (a) return 1; else if (b) return 2; else return 3;"), 3),
        (body("return a && b || !a;"), 3),
        (body("return a ? b : 0;"), 2),
        (body("switch (a) { case 1: case 2: return 1; case 3: break; default: return 0; }"), 4),
        (body("for (;;) { while (a) a--; do { b++; } while (b < 3); }"), 4),
        (body("goto out; out: return 0;"), 1),
        (body("for (a = 0; a < 9; a++) for (b = 0; b < 9; b++) if (a == b && a) return 1;"), 5),
        (body("#if A\n a++;\n#elif B\n a--;\n#else\n b++;\n#endif"), 3),
        (body("#ifdef A\n a++;\n#endif\n#ifndef B\n b++;\n#endif"), 2),
        (body("#if defined(A) && !defined(B) || C\n a++;\n#endif"), 2),
        (body("#define TEST(x) if (x && a) return 0\n TEST(b);"), 1),
        (body('/* if (a && b) */ puts("if (a) ? b : c || d"); // while (x)'), 1),
        ("int f(a, b) int a; char *b; { if (a) return 1; return 0; }", 2),
        (
            "int f(int a) {\n  if (a == 1) return 1;\n#ifdef X\n  else if (a == 2) return 2;\n"
            "#endif\n  else return 3;\n}\n",
            4,
        ),
    ],
    ids=[
        "empty",
        "if",
        "if-else",
        "else-if",
        "and-or",
        "ternary",
        "switch-case-default",
        "loops-do-while",
        "goto-return",
        "nested-loops",
        "if-elif-else-directives",
        "ifdef-counts-ifndef-not",
        "directive-condition-tokens",
        "define-in-body",
        "comments-and-strings",
        "k-and-r",
        "else-if-after-directive",
    ],
)
def test_ccn_c(code: str, ccn: int) -> None:
    assert one(code).ccn == ccn


@pytest.mark.parametrize(
    ("code", "ccn"),
    [
        ("void f() { try { g(); } catch (const E& e) { h(); } catch (...) { } }", 3),
        ("int f(std::vector<int>& v) { for (auto&& x : v) if (x) return 1; return 0; }", 3),
        ("int f(T&& x) { T&& y = x; return y; }", 1),
        ("bool f(int a, int b) { return a and (b or a); }", 3),
        ("int f() { auto k = [](int y) { if (y) return 1; return 0; }; return k(1); }", 2),
        ("struct S { int v; S(int a) : v(a ? 1 : 2) { } };", 1),
        ("int f(int n = X ? 1 : 2) { return n; }", 1),
    ],
    ids=[
        "catch",
        "range-for",
        "rvalue-reference",
        "and-or-words",
        "lambda-in-function",
        "initializer-list",
        "default-argument",
    ],
)
def test_ccn_cpp(code: str, ccn: int) -> None:
    assert one(code, FileKind.CPP).ccn == ccn


@pytest.mark.parametrize(
    ("code", "nloc"),
    [
        ("int f(void) { return 0; }", 1),
        ("int f(void)\n{\n  a();\n\n  /* one\n     two */\n  b(); // tail\n}\n", 5),
        ("static int\nfoo(void)\n{\n#ifdef X\n  return 1;\n#endif\n  return 2;\n}\n", 5),
        ("int f(void)\n{\n#define LONG(x) \\\n  ((x) + 1)\n  return LONG(1);\n}\n", 4),
        ('int f(void)\n{\n  s = "a\\\nb";\n  return 0;\n}\n', 6),
        ("int f(int a, /* a */\n  /* only a comment */\n  int b)\n{\n  return a;\n}\n", 5),
        ("int f(void)\n{\n  a(); /* x\n  y */ b();\n}\n", 5),
    ],
    ids=[
        "one-line",
        "blank-and-comment-lines",
        "directive-lines",
        "macro-continuation",
        "string-continuation",
        "comment-in-signature",
        "code-after-comment",
    ],
)
def test_nloc(code: str, nloc: int) -> None:
    assert one(code).nloc == nloc


@pytest.mark.parametrize(
    ("code", "params"),
    [
        ("int f(void) { return 0; }", 0),
        ("int f() { return 0; }", 0),
        ("int main(int argc, char *argv[]) { return 0; }", 2),
        ("int logf(const char *fmt, ...) { return 0; }", 1),
        ("int f(a, b, c) int a, b; char *c; { return a; }", 3),
        ("void on(int sig, void (*handler)(int)) { }", 2),
        ("int f(int, long) { return 0; }", 2),
    ],
    ids=["void", "empty", "array", "variadic", "k-and-r", "function-pointer", "unnamed"],
)
def test_params(code: str, params: int) -> None:
    assert one(code).params == params


def test_params_cpp() -> None:
    assert one("int f(int a, int b = 3, Args... rest) { return a; }", FileKind.CPP).params == 3


@pytest.mark.parametrize(
    ("statements", "nesting"),
    [
        ("return a;", 0),
        ("if (a) return 1;", 1),
        ("for (;;) { if (a) break; }", 2),
        ("if (a) b = 1; else if (b) a = 1; else if (a + b) a = 2; else b = 2;", 1),
        ("switch (a) { case 1: if (b) { while (b) b--; } }", 3),
        ("if (a) if (b) a = b;", 2),
        ("do { if (a) { for (;;) { if (b) { switch (a) { default: break; } } } } } while (0);", 5),
        ("if (a) { } while (b) { } for (;;) { }", 1),
    ],
    ids=[
        "none",
        "if",
        "if-in-for",
        "else-if-chain-is-flat",
        "switch-if-while",
        "braceless",
        "five-levels",
        "siblings",
    ],
)
def test_nesting(statements: str, nesting: int) -> None:
    assert one(body(statements)).max_nesting == nesting


def test_nesting_try_cpp() -> None:
    code = "void f() { try { if (a) { } } catch (...) { if (b) { } } }"
    assert one(code, FileKind.CPP).max_nesting == 2


@pytest.mark.parametrize(
    ("code", "kind", "expected"),
    [
        ("static int\nfoo(void)\n{\n  return 0;\n}\n", FileKind.C, [("foo", 2, 5)]),
        (
            "char *\ndup(const char *s) { return 0; }\nint g(void) { }",
            FileKind.C,
            [("dup", 2, 2), ("g", 3, 3)],
        ),
        (
            "void (*signal(int sig, void (*f)(int)))(int) { return 0; }",
            FileKind.C,
            [("signal", 1, 1)],
        ),
        (
            "static LIBSSH2_ALLOC_FUNC(my_malloc)\n{\n  return malloc(count);\n}\n",
            FileKind.C,
            [("my_malloc", 1, 4)],
        ),
        ("int A::f() const { return 0; }", FileKind.CPP, [("A::f", 1, 1)]),
        ("namespace n { class A { int f() { return 0; } }; }", FileKind.CPP, [("n::A::f", 1, 1)]),
        ("namespace a::b { int f() { return 0; } }", FileKind.CPP, [("a::b::f", 1, 1)]),
        ("namespace { int g() { return 0; } }", FileKind.CPP, [("g", 1, 1)]),
        (
            "template <typename T, typename U> T A<T, U>::get() const { return T(); }",
            FileKind.CPP,
            [("A<T,U>::get", 1, 1)],
        ),
        ("template <> struct X<int> { void k() { } };", FileKind.CPP, [("X::k", 1, 1)]),
        ("A::~A() { }", FileKind.CPP, [("A::~A", 1, 1)]),
        (
            "bool operator==(const A& x, const A& y) { return true; }",
            FileKind.CPP,
            [("operator==", 1, 1)],
        ),
        (
            "void *A::operator new[](size_t n) { return 0; }",
            FileKind.CPP,
            [("A::operator new[]", 1, 1)],
        ),
        ("int F::operator()(int x) { return x; }", FileKind.CPP, [("F::operator()", 1, 1)]),
        (
            "struct S { explicit operator bool() const { return true; } };",
            FileKind.CPP,
            [("S::operator bool", 1, 1)],
        ),
        ("struct S { S() = default; ~S() = delete; };", FileKind.CPP, []),
        ("int f(void);\nextern int g(int);\n", FileKind.C, []),
        ('extern "C" {\nint f(void) { return 0; }\n}\n', FileKind.CPP, [("f", 2, 2)]),
        (
            "#ifdef X\nint f(void) { return 0; }\n#else\nint f(void) { return 1; }\n#endif\n",
            FileKind.C,
            [("f", 2, 2), ("f", 4, 4)],
        ),
        (
            "int f() {\n  struct L { int g() { if (x) return 1; return 0; } };\n  return 0;\n}\n",
            FileKind.CPP,
            [("f", 1, 4)],
        ),
    ],
    ids=[
        "name-on-own-line",
        "pointer-return",
        "returns-function-pointer",
        "macro-declarator",
        "method",
        "class-in-namespace",
        "nested-namespace",
        "anonymous-namespace",
        "template",
        "specialization",
        "destructor",
        "operator",
        "operator-new",
        "call-operator",
        "conversion-operator",
        "defaulted-deleted",
        "declarations",
        "extern-c",
        "conditional-groups",
        "local-class-belongs-to-function",
    ],
)
def test_names_and_lines(code: str, kind: FileKind, expected: list[tuple[str, int, int]]) -> None:
    assert [(f.name, f.start_line, f.end_line) for f in functions(code, kind)] == expected


def test_local_class_method_counts_in_its_function() -> None:
    code = "int f() {\n  struct L { int g() { if (x) return 1; return 0; } };\n  return 0;\n}\n"
    assert one(code, FileKind.CPP).ccn == 2


# Partial parses: what tree-sitter still recognises counts; what it cannot is reported.

SWALLOWED = """int f(int a)
{
  if (a) {
#ifdef X
    a++;
  }
  else {
#endif
    a--;
  }
  return a;
}

int g(int b)
{
  if (b) return 1;
  return 0;
}
"""


def test_unbalanced_conditional_group_keeps_both_functions() -> None:
    found = [(f.name, f.start_line, f.end_line, f.ccn) for f in functions(SWALLOWED)]
    assert found == [("f", 1, 12, 3), ("g", 14, 18, 2)]


UNBALANCED_IF = """int f(int a)
{
#ifdef X
  if (a) {
#else
  if (!a) {
#endif
    a++;
  }
  return a;
}

static int g(void)
{
  return 1;
}
"""


def test_function_lost_in_error_region_is_reported_as_error_lines() -> None:
    measured = measure(parse(UNBALANCED_IF.encode(), FileKind.C))
    assert [f.name for f in measured.functions] == ["g"]
    assert measured.error_lines == 16  # one ERROR node spans the whole file, lines 1-16


def test_function_inside_error_region_still_counts() -> None:
    code = "FOO_BEGIN(x) int a = ;\nstatic int g(int b)\n{\n  if (b) return 1;\n  return 0;\n}\n"
    parsed = parse(code.encode(), FileKind.C)
    assert parsed.tree.root_node.has_error
    assert [(f.name, f.ccn) for f in function_metrics(parsed)] == [("g", 2)]


def test_keyword_named_misparse_is_no_function() -> None:
    code = (
        "int f(int a)\n{\n  if (a == 1) {\n    a = 2;\n  }\n#ifndef X\n  else if (a == 3) {\n"
        "    a = 4;\n  }\n#endif\n  else if (a == 5) {\n    a = 6;\n  }\n  return a;\n}\n"
    )
    assert [f.name for f in functions(code)] == ["f"]


def test_macro_block_inside_body_stays_in_function() -> None:
    code = "int f(int a)\n{\n  LIST_FOREACH(item) {\n    if (a) a++;\n  }\n  return a;\n}\n"
    assert [(f.name, f.ccn) for f in functions(code)] == [("f", 2)]


MACRO_IDIOMS = [
    (
        "DEFINE_RUN_ONCE_STATIC_ALT(init_no_atexit,\n    init_atexit)\n{\n"
        "  if (x) return 1;\n  return 0;\n}\n",
        [("DEFINE_RUN_ONCE_STATIC_ALT", 1, 6, 2, 0)],
    ),
    (
        "#ifdef _UNICODE\nint wmain(int argc, wchar_t *argv[])\n#else\n"
        "int main(int argc, char *argv[])\n#endif\n{\n  if (a) return 1;\n  return 0;\n}\n",
        [("main", 4, 9, 2, 2)],
    ),
    (
        "IMPLEMENT_ASN1_FUNCTIONS(TS_STATUS_INFO)\nIMPLEMENT_ASN1_DUP_FUNCTION(TS_STATUS_INFO)\n\n"
        "static int set_tst_info(TS_RESP *a)\n{\n  if (a) return 1;\n  return 0;\n}\n",
        [("set_tst_info", 4, 8, 2, 1)],
    ),
    (
        "ASN1_SEQUENCE(X509_SIG) = {\n  ASN1_SIMPLE(X509_SIG, algor, X509_ALGOR),\n"
        "} ASN1_SEQUENCE_END(X509_SIG)\n\nIMPLEMENT_ASN1_FUNCTIONS(X509_SIG)\n\n"
        "void get0(const X509_SIG *sig, const X509_ALGOR **palg)\n{\n  if (palg) *palg = 0;\n}\n"
        "\nvoid getm(X509_SIG *sig, X509_ALGOR **palg)\n{\n  if (palg) *palg = 0;\n}\n",
        [("getm", 12, 15, 2, 2)],
    ),
    (
        "DECLARE_ASN1_FUNCTIONS(REQ)\nDECLARE_ASN1_DUP_FUNCTION(REQ)\n\n"
        "struct req_st {\n  int *type;\n  union {\n    int a;\n  } value;\n};\n",
        [],
    ),
]


@pytest.mark.parametrize(
    ("code", "expected"),
    MACRO_IDIOMS,
    ids=[
        "macro-header",
        "conditional-headers",
        "macro-lines-then-definition",
        "macro-lines-read-as-k-and-r",
        "macro-lines-then-struct",
    ],
)
def test_macro_idioms(code: str, expected: list[tuple[str, int, int, int, int]]) -> None:
    found = [(f.name, f.start_line, f.end_line, f.ccn, f.params) for f in functions(code)]
    assert found == expected


@pytest.mark.parametrize("kind", [FileKind.C, FileKind.CPP])
def test_and_after_directive_inside_expression(kind: FileKind) -> None:
    code = (
        "int f(int n)\n{\n  return A(n)\n    && B(n)\n#if defined(X) && Y >= 1\n    && C(n)\n"
        "#endif\n    && D(n);\n}\n"
    )
    assert one(code, kind).ccn == 5


# Pathological input: no recursion, work linear in the nesting.


PATHOLOGICAL: dict[str, Callable[[int], bytes]] = {
    "nested-blocks": lambda n: b"void f(void) {" + b"{" * n + b"}" * n + b"}",
    "unclosed-braces": lambda n: b"{" * n,
    "nested-ifs": lambda n: b"int f(void) {" + b"if (a) {" * n + b"}" * n + b"}",
    "braceless-ifs": lambda n: b"int f(void) {" + b"if (a) " * n + b"a++; }",
    "parentheses": lambda n: b"int f(void) { x = " + b"(" * n + b"1" + b")" * n + b"; }",
    "nested-conditional-groups": lambda n: (
        b"#if A\n" * (n // 2) + b"int f(void) { return 0; }\n" + b"#endif\n" * (n // 2)
    ),
}


def _calls(code: bytes) -> int:
    """The Python and C function calls ``measure`` makes on ``code`` (a count of work that,
    unlike a time, does not depend on the machine or its load)."""
    parsed = parse(code, FileKind.C)
    calls = 0

    def count(frame: object, event: str, arg: object) -> None:
        nonlocal calls
        calls += event in ("call", "c_call")

    sys.setprofile(count)
    try:
        measured = measure(parsed)
    finally:
        sys.setprofile(None)
    assert all(f.ccn >= 1 for f in measured.functions)
    return calls


@pytest.mark.parametrize("shape", sorted(PATHOLOGICAL))
def test_pathological_nesting_finishes_in_linear_work(shape: str) -> None:
    # 50,000 levels: a recursive walk would overflow the stack; doubling the nesting from
    # 25,000 must not more than double the work plus a margin (quadratic work would be 4x)
    half, whole = (_calls(PATHOLOGICAL[shape](n)) for n in (25_000, 50_000))
    assert whole <= 2.5 * half


def test_fifty_thousand_nested_blocks() -> None:
    code = b"void f(void) {" + b"{" * 50_000 + b"if (a) b();" + b"}" * 50_000 + b"}"
    [function] = function_metrics(parse(code, FileKind.C))
    assert (function.name, function.ccn, function.nloc, function.max_nesting) == ("f", 2, 1, 1)


def test_fifty_thousand_nested_braced_ifs_are_exact() -> None:
    # 100,000 tree levels: past what one query run can reach (it stopped at 30,000 ifs)
    code = b"int f(void) {" + b"if (a) {" * 50_000 + b"b();" + b"}" * 50_000 + b"}"
    [function] = function_metrics(parse(code, FileKind.C))
    assert (function.ccn, function.max_nesting, function.nloc) == (50_001, 50_000, 1)


SLICED = """int f(int a, int b)
{
    /* a comment */
    if (a) {
        while (a && b) { a = b ? a : 0; }
    } else if (b) {
        for (;;) { do { b--; } while (b > 0 || a); }
    }
    switch (a) { case 1: return 1; }
    return 0;
}
"""


@pytest.mark.parametrize("depth", [1, 2, 3, 5, 8])
@pytest.mark.parametrize("kind", [FileKind.C, FileKind.CPP])
def test_a_body_measured_in_slices_gives_the_same_figures(
    depth: int, kind: FileKind, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed = parse(SLICED.encode(), kind)
    whole = measure(parsed)
    # 5 branches (if, while, else if, for, do) and 4 tokens (&&, ?, ||, case); if > while,
    # else if > for > do; 10 of the 11 lines hold code
    assert [(f.ccn, f.max_nesting, f.nloc) for f in whole.functions] == [(10, 3, 10)]
    monkeypatch.setattr(functions_module, "_MAX_DEPTH", depth)
    assert measure(parsed) == whole


def test_example_measured_in_slices_gives_the_same_figures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = examples.materialise(tmp_path / "example")
    sources = [p for p in root.rglob("*") if p.suffix in (".c", ".h")]
    parsed = [parse(p.read_bytes(), FileKind.HEADER if p.suffix == ".h" else FileKind.C)
              for p in sources]  # fmt: skip
    whole = [measure(p) for p in parsed]
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))["complexity"]["totals"]
    assert sum(len(m.functions) for m in whole) == golden["functions"]  # 13, every one measured
    monkeypatch.setattr(functions_module, "_MAX_DEPTH", 2)
    assert [measure(p) for p in parsed] == whole


def test_deep_if_chain_measured() -> None:
    code = b"int f(void) {" + b"if (a) " * 50_000 + b"a++; }"
    [function] = function_metrics(parse(code, FileKind.C))
    assert (function.ccn, function.max_nesting) == (50_001, 50_000)


# The analyzer: configuration, rules, findings, rows, sums.

LONG = "int big(int a)\n{\n" + "  if (a) a++;\n" * 20 + "  return a;\n}\n\nint small(void) { }\n"


def test_configure_defaults_and_overrides() -> None:
    thresholds = {limit.metric: limit.threshold for limit in complexity.configure({}).limits}
    assert thresholds == {"ccn": 15, "nloc": 100, "params": 7, "nesting": 4}
    limits = complexity.configure({"ccn": 20, "nesting": 2}).limits
    assert {limit.metric: limit.threshold for limit in limits} == {
        "ccn": 20,
        "nloc": 100,
        "params": 7,
        "nesting": 2,
    }


@pytest.mark.parametrize("settings", [{"cnn": 3}, {"ccn": "20"}, {"ccn": True}, {"nloc": -1}])
def test_configure_rejects_bad_settings(settings: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        complexity.configure(settings)


def test_analyzer_contract() -> None:
    analyzer = complexity.configure({})
    assert pickle.loads(pickle.dumps(analyzer)) == analyzer
    assert (analyzer.id, analyzer.rows_key) == ("complexity", "functions")
    rules = {rule.id: rule for rule in analyzer.rules()}
    assert sorted(rules) == [
        "complexity/ccn",
        "complexity/nesting",
        "complexity/nloc",
        "complexity/params",
    ]
    assert all(r.category == "complexity" and r.rationale and r.example for r in rules.values())
    assert rules["complexity/ccn"].cwe == 1121


def test_findings_rows_and_figures() -> None:
    analyzer = complexity.configure({"nesting": 0})
    result = analyzer.analyze(parse(LONG.encode(), FileKind.C))
    assert [(f.rule_id, f.start_line, f.end_line) for f in result.findings] == [
        ("complexity/ccn", 1, 24),
        ("complexity/nesting", 1, 24),
    ]
    ccn = result.findings[0]
    assert ccn.evidence == "int big(int a)"
    assert dict(ccn.properties) == {
        "function": "big",
        "metric": "ccn",
        "value": 21,
        "threshold": 15,
    }
    assert result.rows == (
        {
            "line": 1,
            "end_line": 24,
            "name": "big",
            "ccn": 21,
            "nloc": 24,
            "params": 1,
            "max_nesting": 1,
        },
        {
            "line": 26,
            "end_line": 26,
            "name": "small",
            "ccn": 1,
            "nloc": 1,
            "params": 0,
            "max_nesting": 0,
        },
    )
    assert result.data["ccn_buckets"] == {"1-5": 1, "21-50": 1}
    assert result.data["over"] == {"ccn": 1, "nloc": 0, "params": 0, "nesting": 1}


def test_aggregator_counts_paths_directories_and_unique_contents() -> None:
    analyzer = complexity.configure({})
    result = analyzer.analyze(parse(LONG.encode(), FileKind.C))
    empty = analyzer.analyze(parse(b"int x;\n", FileKind.HEADER))
    summary = analyzer.aggregator()
    summary.add(PathContext("lib/a.c", "lib"), result)
    summary.add(PathContext("vendor/a.c", "vendor", component="zlib"), result)
    summary.add(PathContext("lib/a.h", "lib"), empty)
    summary.add_unique(result)
    summary.add_unique(empty)
    section, findings = summary.finish()
    assert list(findings) == []
    assert json.loads(json.dumps(section)) == section
    totals = section["totals"]
    assert (totals["files"], totals["functions"], totals["ccn_max"]) == (3, 4, 21)
    assert totals["ccn_mean"] == 11.0
    assert totals["ccn_distribution"] == {"1-5": 2, "6-10": 0, "11-20": 0, "21-50": 2, ">50": 0}
    assert totals["over_threshold"] == {"ccn": 2, "nesting": 0, "nloc": 0, "params": 0}
    assert section["unique"]["functions"] == 2
    assert sorted(section["directories"]) == ["lib", "vendor"]
    assert section["directories"]["lib"]["files"] == 2
    assert section["components"]["zlib"]["functions"] == 2
    assert section["thresholds"] == {"ccn": 15, "nesting": 4, "nloc": 100, "params": 7}
    assert list(section) == sorted(section)


def test_wants_c_cpp_and_headers_only() -> None:
    from assay.ingest.interface import SourceFile

    analyzer = complexity.configure({})

    def file(kind: FileKind) -> SourceFile:
        return SourceFile(path="x", disk_path="/x", kind=kind, size=1, sha256="0" * 64)

    assert [analyzer.wants(file(k)) for k in (FileKind.C, FileKind.CPP, FileKind.HEADER)] == [
        True,
        True,
        True,
    ]
    assert not analyzer.wants(file(FileKind.ELF))
