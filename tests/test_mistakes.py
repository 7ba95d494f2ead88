"""User mistakes get one clear line and exit code 2; Ctrl-C one line and 130 (issue 20, item 5).

Each mistake runs the real command (``python -m assay`` in a subprocess where the exact stderr
matters, ``assay.cli.main`` in-process otherwise) and checks that nothing outside the output
directory was written or deleted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from assay import engine, run
from assay.analyze.interface import FileAnalyzer
from assay.cli import evaluate as evaluate_cli
from assay.cli import main
from assay.config import JOBS_PER_CPU, Options, load
from assay.engine.execute import Executor, InProcess
from assay.errors import ConfigError, OutputDirError
from assay.storage import outdir
from support import write_tree

_C = "int ok(void) { return 0; }\n"


@dataclass(frozen=True)
class Ran:
    """A finished ``python -m assay`` run."""

    code: int
    out: str
    err: str


def _assay(*args: str | Path) -> Ran:
    """Run the command line in a fresh interpreter (the test's user data directories)."""
    done = subprocess.run(
        [sys.executable, "-m", "assay", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return Ran(done.returncode, done.stdout, done.stderr)


def _one_error(ran: Ran) -> str:
    """The single ``assay: `` line of a run that exited 2, no traceback."""
    assert ran.code == 2, ran.err
    lines = ran.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("assay: "), ran.err
    assert "Traceback" not in ran.err
    return lines[0]


def _snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path below ``root`` with the content of its files (``None`` for others)."""
    return {
        str(p.relative_to(root)): (p.read_bytes() if p.is_file() and not p.is_symlink() else None)
        for p in sorted(root.rglob("*"))
    }


def _tree(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "release", {"src/a.c": _C, "src/b.c": _C})


# 1. input and output directory overlapping


@pytest.mark.parametrize(
    ("input", "output"),
    [
        ("release", "release"),
        ("release", "release/src/.."),
        ("link", "release"),
        ("release", "link"),
        ("release/src", "release"),
        ("link/src", "release"),
    ],
)
def test_input_equal_to_or_inside_the_output_directory_is_refused(
    tmp_path: Path, input: str, output: str
) -> None:
    _tree(tmp_path)
    (tmp_path / "link").symlink_to("release")
    before = _snapshot(tmp_path)
    line = _one_error(_assay("evaluate", tmp_path / input, "-o", tmp_path / output, "-q"))
    assert "output directory" in line
    assert _snapshot(tmp_path) == before


def test_output_directory_inside_the_input_works_and_is_not_evaluated(tmp_path: Path) -> None:
    release = _tree(tmp_path)
    args = ["evaluate", str(release), "-o", str(release / "out"), "-q", "-j", "1", "--no-history"]
    assert main(args) == 0
    first = (release / "out" / "evaluation.json").read_bytes()
    assert main(args) == 0  # the outputs of the first run are there now, and still left out
    second = (release / "out" / "evaluation.json").read_bytes()
    assert first == second
    assert b'"out/' not in second and b"src/a.c" in second


def test_rebuild_refuses_an_output_directory_that_holds_its_source(tmp_path: Path) -> None:
    release = _tree(tmp_path)
    before = _snapshot(tmp_path)
    line = _one_error(
        _assay("rebuild", release / "src", "--build", "true", "--artifacts", "x", "-o", release)
    )
    assert "inside the output directory" in line
    assert _snapshot(tmp_path) == before


# 2. one run per output directory


def test_a_second_run_on_a_held_output_directory_fails_at_once(tmp_path: Path) -> None:
    release = _tree(tmp_path)
    out = tmp_path / "out"
    assert main(["evaluate", str(release), "-o", str(out), "-q", "-j", "1", "--no-history"]) == 0
    before = _snapshot(tmp_path)
    with outdir.hold(out):  # the first run, holding the lock
        line = _one_error(_assay("evaluate", release, "-o", out, "-q", "-j", "1"))
        assert str(out) in line and "in use by another run" in line
        assert _snapshot(tmp_path) == before
    assert main(["evaluate", str(release), "-o", str(out), "-q", "-j", "1", "--no-history"]) == 0


def test_the_library_takes_the_lock_too(tmp_path: Path) -> None:
    release = _tree(tmp_path)
    options = replace(Options.default(release, tmp_path / "out"), jobs=1)
    with outdir.hold(options.output_dir):
        with pytest.raises(OutputDirError, match="in use by another run"):
            run(options)
        with pytest.raises(OutputDirError, match="in use"), outdir.hold(options.output_dir):
            pass  # a second open of the lock in the same process is another run too
    run(options)


# 3. output directory not a writable directory


@pytest.mark.parametrize("output", ["a-file", "a-file/out", "a-file/out/deeper"])
def test_an_output_directory_that_cannot_be_a_directory_is_refused(
    tmp_path: Path, output: str
) -> None:
    release = _tree(tmp_path)
    (tmp_path / "a-file").write_text("mine\n", encoding="utf-8")
    before = _snapshot(tmp_path)
    line = _one_error(_assay("evaluate", release, "-o", tmp_path / output, "-q"))
    assert "output directory" in line and "a-file" in line
    assert _snapshot(tmp_path) == before


# 4. config values of the wrong type or not finite


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ("ingest", "max_total_bytes"),
        ("ingest", "max_files"),
        ("ingest", "max_ratio"),
        ("ingest", "max_depth"),
        ("ingest", "extract_timeout"),
        ("parse", "max_bytes"),
        ("parse", "max_line_length"),
        ("parse", "max_mean_line_length"),
    ],
)
@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-1", "0", '"10"', "true", "[1]", "{}"])
def test_every_cap_must_be_a_finite_positive_number(table: str, key: str, value: str) -> None:
    config = tomllib.loads(f"[{table}]\n{key} = {value}\n")
    with pytest.raises(ConfigError, match=rf"\[{table}\] {key}: expected a"):
        load(Path("in"), Path("out"), config)


@pytest.mark.parametrize("key", ["max_total_bytes", "max_files", "max_depth"])
def test_count_caps_must_be_integers(key: str) -> None:
    with pytest.raises(ConfigError, match=f"{key}: expected a positive integer, got 2.5"):
        load(Path("in"), Path("out"), {"ingest": {key: 2.5}})
    assert getattr(load(Path("in"), Path("out"), {"ingest": {key: 7}}).archive, key) == 7


def test_a_limits_section_that_is_not_a_table_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"\[ingest\]: expected a table"):
        load(Path("in"), Path("out"), {"ingest": [1]})


@pytest.mark.parametrize(
    "config",
    [
        "[ingest]\nmax_depth = inf\n",
        "[ingest]\nmax_total_bytes = nan\n",
        '[parse]\nmax_bytes = "64M"\n',
        "ingest = [1]\n",
        '[unsafe-calls]\nfunctions = {name = "x"}\n',
        "[ingest]\nmax_depth = [[[[[[[[[[[[1]]]]]]]]]]]]\n",
    ],
)
def test_a_bad_config_is_one_line_and_exit_two(tmp_path: Path, config: str) -> None:
    release = _tree(tmp_path)
    path = tmp_path / "assay.toml"
    path.write_text(config, encoding="utf-8")
    before = _snapshot(tmp_path)
    out = tmp_path / "out"
    _one_error(_assay("evaluate", release, "-o", out, "--config", path, "-q"))
    assert _snapshot(tmp_path) == before  # checked before the output directory is touched


# 5. --jobs beyond a sane bound


def test_jobs_beyond_the_bound_are_capped_with_one_warning(tmp_path: Path) -> None:
    release = _tree(tmp_path)
    cap = (os.cpu_count() or 1) * JOBS_PER_CPU
    ran = _assay("evaluate", release, "-o", tmp_path / "out", "-q", "-j", "10000", "--no-history")
    assert ran.code == 0, ran.err
    assert ran.err.splitlines() == [
        f"assay: --jobs 10000 capped at {cap} ({JOBS_PER_CPU} per CPU, {cap // JOBS_PER_CPU} CPUs)"
    ]


def test_a_library_options_jobs_is_capped_by_the_engine(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    release = _tree(tmp_path)
    seen: list[int] = []

    def factory(options: Options, analyzers: tuple[FileAnalyzer, ...]) -> Executor:
        seen.append(options.jobs)
        return InProcess(analyzers, options.parse)

    options = replace(Options.default(release, tmp_path / "out"), jobs=10**6, scheduler="x")
    # a scheduler address keeps the fork server from starting; the factory runs in-process
    engine.evaluate(options, executor=factory)
    assert seen == [(os.cpu_count() or 1) * JOBS_PER_CPU]
    assert "jobs 1000000 capped at" in caplog.text


# 6. compile databases


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"file": "a.c"}', "JSON array of entries"),
        ("[1, 2]", "entry 1 is not an object with a 'file' string"),
        ('[{"file": "a.c"}, {"file": ["a.c"]}]', "entry 2 is not an object"),
        ('[{"file": "a.c", "directory": {"a": 1}}]', "'directory' is not a string"),
    ],
)
def test_a_bad_compile_database_is_one_line_and_exit_two(
    tmp_path: Path, content: str, says: str
) -> None:
    release = _tree(tmp_path)
    db = tmp_path / "compile_commands.json"
    db.write_text(content, encoding="utf-8")
    before = _snapshot(release)
    ran = _assay("evaluate", release, "-o", tmp_path / "out", "--compile-db", db, "-q", "-j", "1")
    assert says in _one_error(ran)
    assert _snapshot(release) == before


# 7. Ctrl-C


class _Interrupting:
    """A progress observer that is interrupted when the analysis starts (as Ctrl-C would)."""

    def __init__(self, enabled: bool = True) -> None:
        del enabled

    def stage(self, name: str, total: int | None = None) -> None:
        if name == "analyze":
            raise KeyboardInterrupt

    def advance(self, units: int = 1) -> None:
        """Nothing."""

    def done(self) -> None:
        """Nothing."""


def test_ctrl_c_is_one_line_exit_130_and_frees_the_output_directory(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    release = _tree(tmp_path)
    out = tmp_path / "out"
    monkeypatch.setattr(evaluate_cli, "RichProgress", _Interrupting)
    assert main(["evaluate", str(release), "-o", str(out), "-q", "-j", "1"]) == 130
    assert [r.getMessage() for r in caplog.records] == ["interrupted"]
    assert capsys.readouterr().err == ""
    with outdir.hold(out):  # the lock was released
        pass
    assert not (out / ".assay" / "extract").exists()


# 8. terminal and HTML escaping

_EVIL = "rel\x1b[2Jease\u202etxt.c"


def test_the_summary_escapes_names_from_the_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    release = write_tree(tmp_path / _EVIL, {"a.c": 'void f(char *d) { strcpy(d, "x"); }\n'})
    assert main(["evaluate", str(release), "-o", str(tmp_path / "out"), "-j", "1"]) == 0
    shown = capsys.readouterr().out
    assert "rel\\x1b[2Jease\\u202etxt.c" in shown
    assert "\x1b" not in shown and "\u202e" not in shown


def test_evaluate_many_escapes_names_and_messages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = tmp_path / "fleet.toml"
    manifest.write_text(
        '[[release]]\nproduct = "p\\u001b[2J"\nrelease = "r\\u202e1"\n'
        'input = "missing\\u001b]0;owned\\u0007[bold]x"\n',
        encoding="utf-8",
    )
    assert main(["evaluate-many", str(manifest), "-o", str(tmp_path / "out"), "-j", "1"]) == 1
    shown = capsys.readouterr().err
    assert "\x1b" not in shown and "\u202e" not in shown and "\x07" not in shown
    assert "p\\x1b[2J" in shown and "r\\u202e1" in shown
    assert "[bold]x" in shown  # printed as text, not taken as markup


def test_the_html_report_marks_bidi_controls(tmp_path: Path) -> None:
    name = "evil\u202ec.tpircs.c"
    release = write_tree(tmp_path / "rel", {name: 'void f(char *d) { strcpy(d, "x"); }\n'})
    out = tmp_path / "out"
    assert main(["evaluate", str(release), "-o", str(out), "-q", "-j", "1", "--no-history"]) == 0
    page = (out / "report.html").read_text(encoding="utf-8")
    rendered = _without_scripts(page)
    assert "\u202e" not in rendered
    assert "evil<span class=bidi title=U+202E>\u27e8U+202E\u27e9</span>c.tpircs.c" in rendered
    findings = json.loads((out / "evaluation.json").read_text(encoding="utf-8"))["findings"]
    assert [f["path"] for f in findings] == [name]  # the data outputs carry the raw name


def _without_scripts(page: str) -> str:
    """The page without its ``<script>`` elements (data the page's script renders itself)."""
    kept, rest = [], page
    while "<script" in rest:
        before, _, after = rest.partition("<script")
        kept.append(before)
        rest = after.partition("</script>")[2]
    kept.append(rest)
    return "".join(kept)


def test_mark_bidi_escapes_and_marks_only_strings_with_bidi_controls() -> None:
    from markupsafe import Markup

    from assay.report.html import mark_bidi

    assert mark_bidi("a<b>") == "a<b>"  # autoescape still escapes it
    assert mark_bidi(3) == 3
    assert mark_bidi(Markup("<i>\u202e</i>")) == Markup("<i>\u202e</i>")
    marked = mark_bidi('<x y="\u2066">')
    assert isinstance(marked, Markup)
    assert marked == "&lt;x y=&#34;<span class=bidi title=U+2066>\u27e8U+2066\u27e9</span>&#34;&gt;"
    assert '"' not in marked  # the token is safe inside a quoted attribute value


def test_example_refuses_to_delete_through_a_symlinked_example_input(tmp_path: Path) -> None:
    elsewhere = _tree(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "example-input").symlink_to(elsewhere)
    before = _snapshot(elsewhere)
    line = _one_error(_assay("example", "-o", out, "-q", "-j", "1", "--no-history"))
    assert "cannot write the example" in line
    assert _snapshot(elsewhere) == before


@pytest.mark.parametrize("flag", ["--config", "--baseline", "manifest"])
def test_toml_nested_too_deeply_is_one_line_and_exit_two(tmp_path: Path, flag: str) -> None:
    release = _tree(tmp_path)
    deep = tmp_path / "deep.toml"
    deep.write_text("x = " + "[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    out = tmp_path / "out"
    if flag == "manifest":
        ran = _assay("evaluate-many", deep, "-o", out, "-q")
    else:
        ran = _assay("evaluate", release, "-o", out, flag, deep, "-q", "-j", "1", "--no-history")
    assert "nested too deeply" in _one_error(ran)
