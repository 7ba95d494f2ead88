"""The ``clones`` analyzer: tokens, renamed and exact classes, copies, options, SARIF."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from assay.analyze import clones
from assay.analyze.clones.tokens import IDENT, NUMBER, STRING, tokenize
from assay.errors import ConfigError
from support import Run, run_evaluation, write_tree

FUNC = """int checksum(const unsigned char *buf, int len)
{
    int sum = 0;
    int i;
    for (i = 0; i < len; i++) {
        sum += buf[i] * 31 + (sum >> 3);
        if (sum > 100000) {
            sum = sum % 65521;
        }
    }
    return sum ^ 0x5a5a;
}
"""
RENAMED = (
    FUNC.replace("checksum", "digest")
    .replace("buf", "data")
    .replace("sum", "acc")
    .replace("31", "17")
)
OTHER = 'static void hello(void)\n{\n    puts("hello");\n}\n'


def _evaluate(tmp_path: Path, files: dict[str, str], **settings: Any) -> Run:
    root = write_tree(tmp_path / "in", files)
    return run_evaluation(root, tmp_path / "out", settings={"clones": settings})


@pytest.mark.parametrize(
    ("source", "kinds"),
    [
        (b"a = b;", [IDENT, None, IDENT, None]),
        (b"x->y /* c */ + 0x1f // z", [IDENT, None, IDENT, None, NUMBER]),
        (b'f("s", 1.5e+3)', [IDENT, None, STRING, None, NUMBER, None]),
    ],
)
def test_identifiers_and_literals_fold_and_comments_drop(
    source: bytes, kinds: list[int | None]
) -> None:
    streams = tokenize(source)
    assert len(streams.kinds) == len(kinds)
    for got, want in zip(streams.kinds, kinds, strict=True):
        assert (got == want) if want is not None else got < IDENT


def test_token_lines_follow_newlines_and_block_comments() -> None:
    streams = tokenize(b"a\n/* one\ntwo */ b\n\nc")
    assert [streams.line_of(i) for i in range(streams.count)] == [1, 3, 5]


def test_renamed_copy_is_one_class_with_both_places(tmp_path: Path) -> None:
    run = _evaluate(tmp_path, {"src/a.c": FUNC, "lib/b.c": OTHER + RENAMED})
    [finding] = run.findings("clones")
    assert finding["rule_id"] == "clones/renamed"
    assert finding["path"] == "lib/b.c"
    assert finding["start_line"] == 5
    assert finding["properties"]["related"] == [
        {"path": "src/a.c", "start_line": 1, "end_line": 12}
    ]
    totals = run.json()["clones"]["totals"]
    assert totals["duplicated_lines"] == 24
    assert totals["renamed_only_duplicated_lines"] == 24
    assert totals["renamed_classes"] == 1


def test_exact_mode_ignores_renamed_copies(tmp_path: Path) -> None:
    run = _evaluate(tmp_path, {"a.c": FUNC, "b.c": RENAMED}, mode="exact")
    assert run.findings("clones") == []
    assert run.json()["clones"]["mode"] == "exact"


def test_clone_within_one_file_is_found(tmp_path: Path) -> None:
    twice = FUNC + OTHER + FUNC.replace("checksum", "checksum2")
    run = _evaluate(tmp_path, {"x/one.c": twice}, mode="exact")
    [finding] = run.findings("clones")
    assert finding["rule_id"] == "clones/exact"
    lines = (finding["start_line"], finding["end_line"])
    related = finding["properties"]["related"]
    assert lines == (1, 12)
    assert [(r["path"], r["start_line"], r["end_line"]) for r in related] == [("x/one.c", 17, 28)]
    assert run.json()["clones"]["totals"]["duplicated_lines"] == 24


def test_minimum_tokens_is_configurable(tmp_path: Path) -> None:
    small = "int f(int a)\n{\n    int b = a * 2;\n    b += a;\n    return b + 1;\n}\n"
    files = {"a.c": small, "b.c": small.replace("f(", "g(") + "\n"}
    assert _evaluate(tmp_path / "1", files).findings("clones") == []
    found = _evaluate(tmp_path / "2", files, min_tokens=20)
    assert len(found.findings("clones")) == 1


def test_identical_files_form_one_class_named_in_sarif(tmp_path: Path) -> None:
    run = _evaluate(tmp_path, {"a/x.c": FUNC, "b/x.c": FUNC, "c/x.c": FUNC})
    [finding] = run.findings("clones")
    assert finding["properties"]["places"] == 3
    [result] = [r for r in run.sarif()["runs"][0]["results"] if r["ruleId"] == "clones/exact"]
    related = {r["physicalLocation"]["artifactLocation"]["uri"] for r in result["relatedLocations"]}
    assert related == {"b/x.c", "c/x.c"}
    section = run.json()["clones"]
    assert section["totals"]["duplicated_lines"] == 36
    assert section["largest"][0]["tokens"] == section["totals"]["duplicated_tokens"] // 3


def test_copies_of_one_library_are_components_not_clones(tmp_path: Path) -> None:
    zlib_h = '#ifndef ZLIB_H\n#define ZLIB_H\n#define ZLIB_VERSION "1.2.11"\n#endif\n'
    files = {
        "third_party/zlib/zlib.h": zlib_h,
        "third_party/zlib/adler.c": FUNC,
        "vendor/zlib/zlib.h": zlib_h,
        "vendor/zlib/adler.c": FUNC,
    }
    section = _evaluate(tmp_path / "1", files).json()["clones"]
    assert section["totals"]["classes"] == 0
    assert section["component_copies"]["classes"] == 1
    assert section["component_copies"]["duplicated_lines"] == 24
    # Vendor code copying the library's code is still a clone.
    copied = _evaluate(tmp_path / "2", {**files, "src/mine.c": RENAMED})
    [finding] = copied.findings("clones")
    assert finding["properties"]["places"] == 3
    assert copied.json()["clones"]["by_component"]["(vendor)"]["duplicated_lines"] == 12


@pytest.mark.parametrize(
    "settings",
    [{"min_tokens": 0}, {"mode": "fuzzy"}, {"min_lines": "5"}, {"size": 3}],
)
def test_bad_settings_are_refused(settings: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        clones.configure(settings)


def test_section_follows_the_schema(tmp_path: Path) -> None:
    import json
    from importlib import resources

    import jsonschema

    schema = json.loads(
        (resources.files("assay") / "schemas" / "evaluation.schema.json").read_text("utf-8")
    )
    run = _evaluate(tmp_path, {"a.c": FUNC, "b.c": RENAMED, "c.c": FUNC})
    jsonschema.validate(run.json(), schema)
    section = run.json()["clones"]
    assert section["totals"]["classes"] == 2
    assert {c["kind"] for c in section["largest"]} == {"exact", "renamed"}


def test_results_do_not_depend_on_the_order_contents_arrive() -> None:
    from assay.analyze.interface import PathContext
    from assay.model import FileKind
    from assay.parse import parse

    analyzer = clones.configure({"min_tokens": 20})
    sources = {
        "a.c": FUNC,
        "b.c": RENAMED,
        "c.c": OTHER + FUNC.replace("31", "7"),
        "d.c": FUNC + FUNC.replace("checksum", "other"),
    }
    results = {
        path: analyzer.analyze(parse(text.encode(), FileKind.C)) for path, text in sources.items()
    }
    outputs = []
    for order in (sorted(results), sorted(results, reverse=True)):
        aggregator = analyzer.aggregator()
        for path in order:
            aggregator.add_unique(results[path])
            aggregator.add(PathContext(path, "."), results[path])
        section, findings = aggregator.finish()
        outputs.append((section, sorted(findings, key=repr)))
    assert outputs[0] == outputs[1]
    places = [sorted(p["path"] for p in c["places"]) for c in outputs[0][0]["largest"]]
    assert places == [["c.c", "d.c"], ["a.c", "b.c", "c.c", "d.c", "d.c"]]


def _reference_big(corpus: Any, group: list[tuple[int, int]]) -> list[Any]:
    """The big-group candidates by the definition: places split by the bytes of their
    ``min_tokens`` context (shorter at a file's end), contexts in order of first appearance,
    the first place of each paired with up to ``MAX_PARTNERS`` others."""
    from assay.analyze.clones.anchors import stream_of
    from assay.analyze.clones.match import MAX_PARTNERS

    contexts: dict[bytes, list[tuple[int, int]]] = {}
    size = corpus.geometry.min_tokens
    for content, token in group:
        data, width = stream_of(corpus.streams[content], corpus.mode)
        contexts.setdefault(data[token * width : (token + size) * width], []).append(
            (content, token)
        )
    return [(places[0], other) for places in contexts.values()
            for other in places[1 : MAX_PARTNERS + 1]]  # fmt: skip


@pytest.mark.parametrize("mode", ["normalised", "exact"])
def test_big_groups_pair_places_as_their_definition_says(mode: str) -> None:
    """Tables repeat one window hundreds of times: groups of more than ``ALL_PAIRS`` places
    are split by context in numpy. Their candidates equal the byte-wise definition, including
    contexts cut short by the end of a file and more than ``MAX_PARTNERS`` equal contexts."""
    from assay.analyze.clones.anchors import Geometry, Mode, anchors
    from assay.analyze.clones.match import ALL_PAIRS, Corpus

    rows = [f"    {{{', '.join(str((r * 7 + c) % 5) for c in range(12))}}},\n" for r in range(90)]
    sources = [
        "static const int t[][12] = {\n" + "".join(rows) + "};\n",
        "int u[][12] = {\n" + "".join(rows[:70]) + "};\n",
        "int v[][12] = {\n" + "".join(rows[5:40]) + "};\nint w;\n",
    ]
    geometry = Geometry(50)

    def corpus() -> Corpus:
        made = Corpus(Mode(mode), geometry, 1)
        for text in sources:
            streams = tokenize(text.encode())
            made.add(streams, anchors(streams, Mode(mode), geometry))
        return made

    found = list(corpus().group_candidates())
    reference = corpus()
    kept = reference.kept_groups()
    assert kept is not None
    contents, positions, sizes = kept
    expected, start = [], 0
    for size in sizes.tolist():
        group = list(zip(contents[start : start + size].tolist(),
                         positions[start : start + size].tolist(), strict=True))  # fmt: skip
        start += size
        if size <= ALL_PAIRS:
            expected.append(list(Corpus.candidates(group)))
        else:
            expected.append(_reference_big(reference, group))
    assert found == expected
    assert max(sizes.tolist()) > ALL_PAIRS  # big groups were split
    if mode == "normalised":  # all rows alike: more equal contexts than partners
        assert max(sizes.tolist()) > 64 + ALL_PAIRS
