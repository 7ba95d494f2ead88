"""The ``secrets`` analyzer: the recall corpus, redaction, keys, hashes, credentials, labels."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from assay.analyze.interface import Content
from assay.analyze.secrets import rules, scan_content, scan_source
from assay.analyze.secrets.csource import credential_name
from assay.analyze.secrets.index import context_of
from assay.analyze.secrets.literals import plausible_secret
from assay.analyze.secrets.redact import token
from assay.analyze.secrets.refs import references
from assay.model import FileKind
from assay.parse import parse
from support import DATA, run_evaluation, write_tree

CORPUS = DATA / "secrets_corpus"
_MARK = re.compile(r"expect(-next)?: (secrets/[a-z-]+)")


def expected_markers() -> set[tuple[str, int, str]]:
    """(path, line, rule) from the corpus markers: ``expect:`` on the line, ``expect-next:``
    on the line before."""
    found = set()
    for file in sorted(p for p in CORPUS.rglob("*") if p.is_file()):
        lines = file.read_text(encoding="utf-8").splitlines()
        for number, text in enumerate(lines, start=1):
            for match in _MARK.finditer(text):
                line = number + 1 if match.group(1) else number
                found.add((file.relative_to(CORPUS).as_posix(), line, match.group(2)))
    return found


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    run = run_evaluation(CORPUS, tmp_path_factory.mktemp("secrets-corpus"))
    outputs = "".join(
        (run.out / name).read_text(encoding="utf-8")
        for name in ("evaluation.json", "results.sarif")
    )
    return {
        "findings": run.findings("secrets"),
        "json": run.json(),
        "outputs": outputs,
        "sarif": run.sarif(),
    }


def test_every_corpus_case_is_found_and_nothing_else(corpus_run: dict[str, object]) -> None:
    findings = corpus_run["findings"]
    assert isinstance(findings, list)
    got = {(f["path"], f["start_line"], f["rule_id"]) for f in findings}
    expected = expected_markers()
    assert got == expected


def test_sarif_results_in_category_secrets(corpus_run: dict[str, object]) -> None:
    sarif = corpus_run["sarif"]
    assert isinstance(sarif, dict)
    results = [r for r in sarif["runs"][0]["results"] if r["ruleId"].startswith("secrets/")]
    assert len(results) == len(expected_markers())
    assert {r["properties"]["category"] for r in results} == {"secrets"}
    assert {r["properties"]["context"] for r in results} == {"product"}


def test_corpus_has_three_cases_per_rule() -> None:
    per_rule: dict[str, int] = {}
    for _, _, rule in expected_markers():
        per_rule[rule] = per_rule.get(rule, 0) + 1
    assert set(per_rule) == {str(r.id) for r in rules()}
    assert min(per_rule.values()) >= 3, per_rule


def _secret_values() -> list[str]:
    """Secret literals and key bodies of the corpus, which no output may contain."""
    values = []
    for file in (CORPUS / "src").glob("*.c"):
        for line in file.read_text(encoding="utf-8").splitlines():
            if "expect:" in line and (m := re.search(r'"([^"]{6,})"', line)):
                values.append(m.group(1))
    for file in (CORPUS / "keys").iterdir():
        body = [x for x in file.read_text(encoding="utf-8").splitlines() if len(x) == 64]
        values += body[:1]
    values.append("rrWCsc5yrHG2t2qzScJfoWAfdUl7rC3R")
    return values


def test_outputs_never_contain_a_secret_value(corpus_run: dict[str, object]) -> None:
    values = _secret_values()
    assert len(values) > 20
    outputs = corpus_run["outputs"]
    assert isinstance(outputs, str)
    leaked = [v for v in values if v in outputs]
    assert leaked == []


def test_section_counts_per_rule_context_and_lines(corpus_run: dict[str, object]) -> None:
    doc = corpus_run["json"]
    assert isinstance(doc, dict)
    section = doc["secrets"]
    total = len(expected_markers())
    assert section["findings"] == {"product": total, "test": 0}
    assert sum(c["product"] for c in section["by_rule"].values()) == total
    assert section["by_directory"]["keys"]["product"] == 12
    lines = sum(len(p.read_bytes().splitlines()) for p in CORPUS.rglob("*") if p.is_file())
    assert section["lines_scanned"]["product"] == lines


def test_corpus_evaluation_validates_against_the_schema(corpus_run: dict[str, object]) -> None:
    schema = json.loads(
        (resources.files("assay") / "schemas" / "evaluation.schema.json").read_text("utf-8")
    )
    doc = corpus_run["json"]
    assert isinstance(doc, dict) and "secrets" in schema["properties"]
    jsonschema.validate(doc, schema, cls=jsonschema.Draft202012Validator)


def test_test_paths_are_labelled_and_lowered(tmp_path: Path) -> None:
    key = (CORPUS / "keys" / "throwaway-rsa-pkcs8.pem").read_bytes()
    tree = write_tree(
        tmp_path / "in",
        {"etc/ssl/server.pem": key, "tests/certs/server.pem": key + b"\n", "fuzz/k.pem": key},
    )
    run = run_evaluation(tree, tmp_path / "out")
    by_path = {f["path"]: f for f in run.findings("secrets")}
    assert by_path["etc/ssl/server.pem"]["properties"]["context"] == "product"
    assert by_path["etc/ssl/server.pem"]["severity"] == "high"
    for path in ("tests/certs/server.pem", "fuzz/k.pem"):
        assert by_path[path]["properties"]["context"] == "test"
        assert by_path[path]["severity"] == "info"
    # Same key, same digest: the copies correlate without the key being shown.
    digests = {f["properties"]["value_sha256"] for f in by_path.values()}
    assert len(digests) == 1


@pytest.mark.parametrize(
    ("path", "context"),
    [
        ("src/auth.c", "product"),
        ("test/recipes/k.pem", "test"),
        ("lib/tests/a.c", "test"),
        ("demos/bio/server.pem", "test"),
        ("examples/x.c", "test"),
        ("regress/rsa.prv", "test"),
        ("src/unittest_helpers.c", "test"),
        ("src/contest.c", "product"),
        ("src/selftest.c", "test"),
        ("src/latest/x.c", "product"),
    ],
)
def test_context_of(path: str, context: str) -> None:
    assert context_of(path) == context


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("password", True),
        ("admin_passwd", True),
        ("rootPass", True),
        ("api_key", True),
        ("access_token", True),
        ("WIFI_PSK", True),
        ("password_prompt", False),
        ("passwd_file", False),
        ("psk_identity", False),
        ("token", False),
        ("key", False),
        ("monkey", False),
        ("passage", False),
    ],
)
def test_credential_name(name: str, expected: bool) -> None:
    assert credential_name(name) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("hunter22", True),
        ("AKIA0123456789CORPUS", True),
        ("Enter password: ", False),
        ("%s", False),
        ("--password", False),
        ("/etc/shadow", False),
        ("APP_PASSWORD", False),
        ("password", False),
        ("X-Api-Key", False),
        ("abc", False),
    ],
)
def test_plausible_secret(value: str, expected: bool) -> None:
    assert plausible_secret(value) is expected


def test_token_hides_the_value_but_correlates() -> None:
    one, two = token("correct-horse-battery"), token("correct-horse-battery")
    assert one == two
    assert "horse" not in one and "21 chars" in one
    assert token("correct-horse-batterx") != one


def _text(source: str, name: str = "x.txt") -> list[tuple[str, int]]:
    result = scan_content(Content(source.encode(), FileKind.TEXT, name))
    return [(f.rule_id, f.start_line) for f in result.data["findings"]]


def test_documentation_placeholders_are_not_keys() -> None:
    doc = (
        "Example:\n\n -----BEGIN PRIVATE KEY-----\n MIICdg....\n ... bhTQ==\n"
        " -----END PRIVATE KEY-----\n"
    )
    assert _text(doc) == []


def test_key_inside_a_c_string_literal() -> None:
    pem = (CORPUS / "keys" / "throwaway-ec-sec1.key").read_text(encoding="utf-8").splitlines()
    body = "".join(f'    "{line}\\n"\n' for line in pem[1:])
    source = f"static const char key_pem[] =\n{body};\n"
    result = scan_source(parse(source.encode(), FileKind.C))
    assert [(f.rule_id, f.start_line) for f in result.data["findings"]] == [
        ("secrets/private-key-pem", 2)
    ]


def test_des_hashes_only_in_account_files() -> None:
    line = "admin:abJnggxhB/yWI:0:0::/root:/bin/sh\n"
    assert _text(line, "passwd") == [("secrets/password-hash", 1)]
    assert _text(line, "notes.txt") == []
    assert _text("root:*:19000:0:99999:7:::\nbin:!:1::\n", "shadow") == []


def test_shadow_line_in_a_c_literal_is_found() -> None:
    source = b'const char *s = "root:$6$abcdefgh$ABCDEFGHIJKLMNOPQRSTUV:0:0:::";\n'
    result = scan_source(parse(source, FileKind.C))
    assert [f.rule_id for f in result.data["findings"]] == ["secrets/password-hash"]
    assert "ABCDEFGHIJ" not in result.data["findings"][0].evidence


def _c_rules(source: str) -> list[tuple[str, int]]:
    result = scan_source(parse(source.encode(), FileKind.C))
    return [(f.rule_id, f.start_line) for f in result.data["findings"]]


@pytest.mark.parametrize(
    "source",
    [
        # curl 7.88.1 lib/urldata.h
        '#define CURL_DEFAULT_USER "anonymous"\n#define CURL_DEFAULT_PASSWORD "ftp@example.com"\n',
        # BusyBox 1.35.0 networking/ftpgetput.c
        'void f(void) {\n\tuser = "anonymous";\n\tpassword = "busybox";\n}\n',
        # BusyBox 1.35.0 networking/wget.c
        'void f(void) {\n\tpass = (char*)"busybox"; /* password for "anonymous" */\n}\n',
    ],
)
def test_anonymous_login_defaults_are_not_credentials(source: str) -> None:
    assert _c_rules(source) == []


def test_a_credential_three_lines_from_anonymous_is_still_one() -> None:
    source = 'void f(void) {\n\tuser = "anonymous";\n\n\n\tpassword = "Xk9pQ2wz";\n}\n'
    assert _c_rules(source) == [("secrets/credential-literal", 5)]


def test_references_to_key_files_and_test_tables() -> None:
    source = (
        b'#define CERT "/etc/ssl/server.pem"\n'
        b"install -m 0600 rootfs/etc/ssl/device.key $(DESTDIR)/etc/ssl/device.key\n"
        b"see ./certs/../ca.crt and server.pem.bak and x.pemfile\n"
        b"mbedtls_x509_crt_parse(&ca, mbedtls_test_cas_pem, mbedtls_test_cas_pem_len);\n"
    )
    assert references(source) == (
        "certs/ca.crt", "etc/ssl/device.key", "etc/ssl/server.pem",
        "rootfs/etc/ssl/device.key", "symbol:mbedtls_test_cas_pem",
        "symbol:mbedtls_test_cas_pem_len",
    )  # fmt: skip


def test_config_credential_is_redacted_and_only_read_in_config_files() -> None:
    """A preset ``psk`` in a shipped wpa_supplicant.conf: found, its value never shown; the
    same line in a file not named as configuration (a README) is not read."""
    source = 'network={\n  ssid="uplink"\n  psk="router-default-psk"\n}\n'
    result = scan_content(Content(source.encode(), FileKind.TEXT, "wpa_supplicant.conf"))
    (found,) = result.data["findings"]
    assert (found.rule_id, found.start_line) == ("secrets/credential-literal", 3)
    assert found.evidence == f"psk={token('router-default-psk')}".replace("=", '="', 1) + '"'
    assert "router-default" not in found.message + found.evidence
    assert found.properties["config"] is True and found.properties["name"] == "psk"
    assert _text(source, "README") == []
    assert _text(source, "wpa_supplicant.conf.example") == []
