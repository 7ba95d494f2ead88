"""safe-defeated on C snippets: which redefinitions defeat a bound, and whose calls they reach."""

from __future__ import annotations

import json
import pickle
from typing import Any

import pytest

from assay.analyze import safe_defeated
from assay.analyze.includes import IncludeGraph, includes_of
from assay.analyze.interface import FileResult, PathContext
from assay.model import FileKind, RawFinding, Severity
from assay.parse import parse

WRAPPERS = {
    "functions": [
        {"name": "VOS_StrCpy", "family": "strcpy-like", "bounded": True, "bound_arg": 1},
    ]
}


def scan(code: str, settings: Any = None, kind: FileKind = FileKind.HEADER) -> FileResult:
    return safe_defeated.configure(settings or {}).analyze(parse(code.encode(), kind))


def defeats(code: str, settings: Any = None) -> list[tuple[str, str, str, str]]:
    found = scan(code, settings).data["defeats"]
    return [(d["name"], d["reason"], d["target"], d["bound"]) for d in found]


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (
            "#define memcpy_s(dest, destMax, src, count) memcpy(dest, src, count)",
            [("memcpy_s", "macro-drops-bound", "memcpy", "destMax")],
        ),
        ("#define strncpy(d,s,n) strcpy(d,s)", [("strncpy", "macro-drops-bound", "strcpy", "n")]),
        (
            "#define snprintf(b, n, ...) sprintf(b, __VA_ARGS__)",
            [("snprintf", "macro-drops-bound", "sprintf", "n")],
        ),
        (
            "#define sprintf_s(buf, ...) sprintf(buf, __VA_ARGS__)",
            [("sprintf_s", "macro-calls-unbounded", "sprintf", "")],
        ),
        (
            "#define memcpy_s(d, dm, s, n) (memcpy(d, s, n), (void)(dm), 0)",
            [("memcpy_s", "macro-calls-unbounded", "memcpy", "dm")],
        ),
        ("#define strlcpy strcpy", [("strlcpy", "alias-to-unbounded", "strcpy", "")]),
        ("#define strcat_s (strcat)", [("strcat_s", "alias-to-unbounded", "strcat", "")]),
        (
            "#define VOS_memcpy_s(d, dmax, s, cnt) memcpy(d, s, cnt)",
            [("VOS_memcpy_s", "macro-drops-bound", "memcpy", "dmax")],
        ),
        ("#define strlcpy(d, s, n) my_copy(d, s)", [("strlcpy", "macro-drops-bound", "", "n")]),
        ("#define strcpy_s(d, n, s) ((strlen(s) < (n)) ? strcpy(d, s) : abort())", []),
        ("#define memcpy_s(d, dm, s, n) secure_memcpy(d, dm, s, n)", []),
        ("#define snprintf _snprintf", []),
        ("#define sprintf_s snprintf", []),
        (
            "#define strcpy_s(d, n, s) strcpy(d, s) /* n */",
            [("strcpy_s", "macro-drops-bound", "strcpy", "n")],
        ),
        ("#define memcpy(d, s, n) my_memcpy(d, s, n)", []),
        ("#define point_s(x) ((x) * 2)", []),
        ("#define STR_s \"memcpy\"", []),
    ],
    ids=[
        "memcpy_s-drops-destMax", "strncpy-to-strcpy", "snprintf-variadic", "sprintf_s-variadic",
        "reads-bound-but-no-check", "object-like", "object-like-parenthesised", "vendor-_s",
        "drops-bound-no-unbounded", "checked-macro", "forwards-bound", "alias-to-bounded",
        "alias-_s-to-bounded", "bound-only-in-comment", "unbounded-name-not-protected",
        "_s-without-size", "_s-string",
    ],
)  # fmt: skip
def test_macros(code: str, expected: list[tuple[str, str, str, str]]) -> None:
    assert defeats(code + "\n") == expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (
            "errno_t strcat_s(char *d, size_t destMax, const char *s)\n"
            "{ /* destMax ignored */ strcat(d, s); return 0; }",
            [("strcat_s", "body-ignores-bound", "strcat", "destMax")],
        ),
        (
            "errno_t strncat_s(char *d, size_t destMax, const char *s, size_t n)\n"
            "{ if (n >= destMax) return 34; strncat(d, s, n); return 0; }",
            [],
        ),
        (
            "static inline int *memcpy_s(void *d, size_t dmax, const void *s, size_t n)\n"
            "{ return memcpy(d, s, n); }",
            [("memcpy_s", "body-ignores-bound", "memcpy", "dmax")],
        ),
        (
            "int VOS_Copy_s(char *dst, unsigned int dstSize, const char *src)\n"
            "{ while ((*dst++ = *src++)) ; return 0; }",
            [("VOS_Copy_s", "body-ignores-bound", "", "dstSize")],
        ),
        ("int hash_s(const char *s) { return s[0]; }", []),
        ("char *getcwd(char *buf, unsigned int size) { return NULL; }", []),
        ("errno_t memcpy_s(void *d, size_t dmax, const void *s, size_t n);", []),
        ("int snprintf(char *b, size_t n, const char *f, ...) { return vsprintf(b, f, 0); }",
         [("snprintf", "body-ignores-bound", "vsprintf", "n")]),
        ("int sscanf_s(const char *s, const char *f, ...) { return 0; }", []),
    ],
    ids=[
        "ignores-destMax", "checks-destMax", "pointer-return", "vendor-_s-size-name",
        "_s-without-size", "stub", "prototype", "variadic-snprintf", "no-bound-argument",
    ],
)  # fmt: skip
def test_function_bodies(code: str, expected: list[tuple[str, str, str, str]]) -> None:
    assert defeats(code + "\n") == expected


def test_user_bounded_wrapper_is_protected() -> None:
    code = "#define VOS_StrCpy(d, n, s) strcpy(d, s)\n"
    assert defeats(code) == []
    assert defeats(code, WRAPPERS) == [("VOS_StrCpy", "macro-drops-bound", "strcpy", "n")]


def test_file_data() -> None:
    code = (
        '#include "sec/securec.h"\n'
        "# include <string.h>\n"
        '/* #include "not.h" */\n'
        "#define strlcpy strcpy\n"
        "void f(char *a, char *b)\n"
        "{ strlcpy(a, b, 4); memcpy_s(a, 4, b, 4); x_s(a); memcpy(a, b, 4); }\n"
    )
    data = scan(code, kind=FileKind.C).data
    assert data["includes"] == ["sec/securec.h", "string.h"]
    assert data["calls"] == {"memcpy_s": 1, "strlcpy": 1, "x_s": 1}
    assert [(d["line"], d["evidence"]) for d in data["defeats"]] == [(4, "#define strlcpy strcpy")]
    json.dumps(data)


def test_includes_of_ignores_non_directives() -> None:
    code = b'#include "a.h"\nx = 1; #include "b.h"\n  #  include <c/d.h>\n#include_next <e.h>\n'
    assert includes_of(code) == ["a.h", "c/d.h"]


def test_include_graph_resolves_suffix_and_transitively() -> None:
    graph = IncludeGraph(
        {
            "inc/sec.h": [],
            "other/sec.h": [],
            "inc/wrap.h": ["sec.h"],
            "src/a.c": ["../inc/wrap.h"],
            "src/b.c": ["inc/sec.h"],
            "src/c.c": ["stdio.h"],
        }
    )
    assert graph.includers("inc/sec.h") == {"inc/wrap.h", "src/a.c", "src/b.c"}
    assert graph.includers("other/sec.h") == {"inc/wrap.h", "src/a.c"}
    assert graph.includers("src/c.c") == frozenset()


TREE = {
    "include/securec.h": "#define memcpy_s(d, dm, s, n) memcpy(d, s, n)\n",
    "include/wrap.h": '#include "securec.h"\n',
    "src/a.c": '#include "wrap.h"\nvoid f(void) { memcpy_s(a, 1, b, 1); memcpy_s(a, 1, b, 1); }\n',
    "src/b.c": "void g(void) { memcpy_s(a, 1, b, 1); }\n",
    "lib/orphan.h": "#define strcpy_s(d, n, s) strcpy(d, s)\n",
    "lib/c.c": "void h(void) { strcpy_s(a, 1, b); strcpy_s(a, 1, b); }\n",
    "lib/impl.c": "int strcat_s(char *d, size_t dmax, const char *s) { strcat(d, s); return 0; }\n"
    "void k(void) { strcat_s(a, 1, b); }\n",
    "src/local.c": "#define strncpy(d, s, n) strcpy(d, s)\nvoid m(void) { strncpy(a, b, 1); }\n",
    "copy/a.c": '#include "wrap.h"\nvoid f(void) { memcpy_s(a, 1, b, 1); memcpy_s(a, 1, b, 1); }\n',
}


def aggregate(tree: dict[str, str]) -> tuple[dict[str, Any], dict[str, RawFinding]]:
    analyzer = safe_defeated.configure({})
    aggregator = analyzer.aggregator()
    for path, code in tree.items():
        kind = FileKind.HEADER if path.endswith(".h") else FileKind.C
        result = analyzer.analyze(parse(code.encode(), kind))
        aggregator.add(PathContext(path, path.split("/")[0]), result)
        aggregator.add_unique(result)
    summary, pairs = aggregator.finish()
    json.dumps(summary)
    return dict(summary), {f"{path}:{f.properties['function']}": f for path, f in pairs}


def test_affected_calls_across_files() -> None:
    summary, findings = aggregate(TREE)
    expected = {
        "include/securec.h:memcpy_s": (4, "includers"),  # a.c and copy/a.c via wrap.h; not b.c
        "lib/orphan.h:strcpy_s": (2, "tree-approximate"),  # nobody includes it
        "lib/impl.c:strcat_s": (1, "tree-approximate"),  # a function: callers link to it
        "src/local.c:strncpy": (1, "includers"),  # a macro in a .c file: that file
    }
    got = {
        k: (f.properties["affected_calls"], f.properties["affected_scope"])
        for k, f in findings.items()
    }
    assert got == expected
    message = findings["include/securec.h:memcpy_s"].message
    assert message == (
        "macro memcpy_s drops its bound argument dm and calls the unbounded memcpy: "
        "4 call site(s) in its file and includers lose the bound"
    )
    assert summary["affected_calls"] == 8
    assert summary["by_reason"] == {"body-ignores-bound": 1, "macro-drops-bound": 3}
    assert summary["names"] == ["memcpy_s", "strcat_s", "strcpy_s", "strncpy"]


def test_every_copy_of_a_defining_file_is_reported() -> None:
    tree = {"a/sec.h": TREE["include/securec.h"], "b/sec.h": TREE["include/securec.h"]}
    summary, findings = aggregate(tree)
    assert sorted(findings) == ["a/sec.h:memcpy_s", "b/sec.h:memcpy_s"]
    assert (summary["definitions"], summary["unique_definitions"]) == (2, 2)


def test_rules_and_pickling() -> None:
    analyzer = safe_defeated.configure(WRAPPERS)
    rules = analyzer.rules()
    assert {r.id for r in rules} == {
        "safe-defeated/alias-to-unbounded",
        "safe-defeated/macro-drops-bound",
        "safe-defeated/macro-calls-unbounded",
        "safe-defeated/body-ignores-bound",
    }
    assert all(r.severity is Severity.HIGH and r.example and r.rationale for r in rules)
    assert pickle.loads(pickle.dumps(analyzer)) == analyzer
