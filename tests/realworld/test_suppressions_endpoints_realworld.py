"""suppressions and endpoints on real releases, checked against independent oracles.

Suppressions: the pragmas and NOLINT comments the analyzer reports are compared, line by line,
with a plain line search over the same files (the ``grep -rn`` an evaluator would run).
Endpoints: every URL reported in curl's code is re-read at its line; every URL whose host
``urllib.parse`` reads as an RFC 2606 name or an RFC 5737 address is classed documentation,
and none of them is a finding.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from assay.analyze import suppressions
from assay.analyze.endpoints.match import find, redact
from assay.analyze.endpoints.source import endpoints
from assay.analyze.endpoints.text import file_commands, in_text
from assay.ingest.classify import source_kind
from assay.parse import parse
from support import run_evaluation

pytestmark = pytest.mark.realworld

_PRAGMA = re.compile(r"^\s*#\s*pragma\s+(?:GCC|clang)\s+diagnostic\s+ignored\b")
_NOLINT = re.compile(r"NOLINT(?!END)")
_DOC_NETS = [ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")]


def _c_files(root: Path) -> Iterator[tuple[str, Path]]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink() and source_kind(path.name):
            yield path.relative_to(root).as_posix(), path


def _grep(root: Path, pattern: re.Pattern[str]) -> set[tuple[str, int]]:
    """(path, line) of every line of a C/C++ file that matches: the independent oracle."""
    found = set()
    for rel, path in _c_files(root):
        text = path.read_text("utf-8", "replace")
        found |= {(rel, n) for n, line in enumerate(text.splitlines(), 1) if pattern.search(line)}
    return found


def _reported(root: Path, kind: str) -> set[tuple[str, int]]:
    """(path, line) of every suppression of ``kind`` the analyzer finds in the C/C++ files."""
    analyzer = suppressions.configure({})
    found = set()
    for rel, path in _c_files(root):
        kind_of = source_kind(path.name)
        assert kind_of is not None
        result = analyzer.analyze(parse(path.read_bytes(), kind_of))
        found |= {(rel, f.start_line) for f in result.findings if f.rule_id.endswith("/" + kind)}
    return found


@pytest.mark.parametrize("spec", ["openssl/bookworm", "wolfssl/bookworm"])
def test_pragmas_equal_a_line_search(upstream: Callable[[str], Any], spec: str) -> None:
    root = upstream(spec).path
    expected = _grep(root, _PRAGMA)
    assert expected, f"{spec}: the oracle found no pragma, the test would prove nothing"
    assert _reported(root, "pragma-diagnostic") == expected


def test_nolint_equals_a_line_search(upstream: Callable[[str], Any]) -> None:
    root = upstream("wolfssl/bookworm").path
    expected = _grep(root, _NOLINT)
    assert len(expected) >= 3
    assert _reported(root, "nolint") == expected


_VERSION_COMPARE = re.compile(r'strcmp\(\w*[Vv]ersion\(\),\s*"(\d+\.\d+\.\d+\.\d+)"\)')


def test_a_quad_compared_with_a_version_is_not_an_address(upstream: Callable[[str], Any]) -> None:
    """curl checks its zlib with ``strcmp(zlibVersion(), "1.2.0.4")``: a version, not an
    address, though the string alone reads as a public one."""
    root = upstream("curl/bookworm").path
    compared = {(rel, n, m.group(1)) for rel, path in _c_files(root)
                for n, line in enumerate(path.read_text("utf-8", "replace").splitlines(), 1)
                for m in _VERSION_COMPARE.finditer(line)}  # fmt: skip
    assert compared, "the oracle found no version comparison, the test would prove nothing"
    for rel, line, value in compared:
        assert [(m.kind, m.klass) for m in find(value)] == [("ipv4", "public")]
        kind = source_kind(rel)
        assert kind is not None
        found = endpoints(parse((root / rel).read_bytes(), kind))
        assert [(n, m.value) for n, m, context, _ in found if context == "code" and n == line] == []


@pytest.fixture(scope="module")
def curl_run(upstream: Callable[[str], Any], tmp_path_factory: pytest.TempPathFactory) -> Any:
    release = upstream("curl/bookworm")
    run = run_evaluation(release.path, tmp_path_factory.mktemp("curl-out"), jobs=2)
    return release, run


def test_every_reported_url_is_at_its_line(curl_run: Any) -> None:
    release, run = curl_run
    findings = [f for f in run.findings("endpoints") if f["properties"]["kind"] == "url"]
    assert len(findings) > 50
    for finding in findings:
        where = (finding["path"], finding["start_line"])
        lines = (release.path / where[0]).read_text("utf-8", "replace").splitlines()
        # URL passwords are redacted in the report (endpoints.redact), so in the line too
        assert finding["properties"]["value"] in redact(lines[where[1] - 1]), where


def _documentation_host(url: str) -> bool:
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:  # urllib refuses a bracketed host that is not an IPv6 address
        return False
    if host in ("example.com", "example.org", "example.net") or host.endswith(
        (".example.com", ".example.org", ".example.net", ".example", ".test", ".invalid")
    ):
        return True
    try:
        return any(ipaddress.ip_address(host) in net for net in _DOC_NETS)
    except ValueError:
        return False


def test_documentation_urls_are_classed_documentation(curl_run: Any) -> None:
    _, run = curl_run
    section = run.json()["endpoints"]
    listed = [e for c in section["components"].values() for e in c["endpoints"]]
    documentation = [e for e in listed if e["kind"] == "url" and _documentation_host(e["endpoint"])]
    assert len(documentation) > 20
    assert {e["class"] for e in documentation} == {"documentation"}
    reported = {f["properties"]["value"] for f in run.findings("endpoints")}
    assert not reported & {e["endpoint"] for e in documentation}


def test_curl_suppressions_section(curl_run: Any) -> None:
    release, run = curl_run
    totals = run.json()["suppressions"]["totals"]
    assert totals["by_kind"]["pragma-diagnostic"] == len(_grep(release.path, _PRAGMA))
    assert totals["source_lines"] > 100_000 and totals["per_kloc"] is not None


@pytest.mark.parametrize(
    ("spec", "script"), [("libtomcrypt/bullseye", "coverage.sh"), ("curl/bookworm", "ltmain.sh")]
)
def test_files_in_shell_scripts_are_not_hosts(
    upstream: Callable[[str], Any], spec: str, script: str
) -> None:
    """libtomcrypt's coverage.sh uploads lcov's ``coverage.info``; libtool's ltmain.sh writes
    autoconf's ``conftest.nl``. Read alone, both are public hosts (.info, .nl); given to a
    command of the file-command table, or after a redirection, they are files. The oracle
    splits each line with ``shlex`` on its own."""
    path = upstream(spec).path / script
    text = path.read_text("utf-8", "replace")
    commands = file_commands()
    files: set[tuple[int, str]] = set()
    for number, line in enumerate(text.splitlines(), 1):
        try:
            words = shlex.split(line, comments=True)
        except ValueError:
            continue
        for command, *arguments in _commands(words):
            takes_files = command.rpartition("/")[2] in commands
            for previous, word in zip(["", *arguments], arguments, strict=False):
                redirected = word.startswith(("<", ">")) or previous in ("<", ">", ">>")
                name = word.lstrip("<>")
                if (takes_files or redirected) and [m.kind for m in find(name)] == ["host"]:
                    files.add((number, name.lower()))
    assert files, "the oracle found no file argument, the test would prove nothing"
    shell = {(n, m.value) for n, m, _ in in_text(text, shell=True)}
    plain = {(n, m.value) for n, m, _ in in_text(text)}
    assert all(m.klass == "public" for _, m, _ in in_text(text) if (_, m.value) in files)
    assert not files & shell
    assert files <= plain
    assert plain - shell <= files


def _commands(words: list[str]) -> Iterator[list[str]]:
    """The simple commands of a shlex-split line: split at ; && || | and shell keywords."""
    command: list[str] = []
    for word in words:
        if word in (";", "&&", "||", "|", "then", "do", "else") or word.endswith(";"):
            if word.endswith(";") and len(word) > 1:
                command.append(word[:-1])
            if command:
                yield command
            command = []
        else:
            command.append(word)
    if command:
        yield command
