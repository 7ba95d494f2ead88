"""False alarms and recall of the ``secrets`` analyzer on real upstream releases.

False alarms are measured, not guessed: every finding outside test context on these releases
is listed, with its severity and reason, in ``expected/secrets-product.toml`` (keyed by package
name, path below the release root, rule and line, so a new upstream version only breaks the
test when a finding really appears, disappears or changes severity), and the high and critical
ones are at most 1 per 100,000 product lines. The releases' own sample keys are labelled with
their release and path (upstream sample material, ``info``), the credential OpenSSL's example
configuration presets included (the shipped knowledge base records it).
Recall: every PEM private key in OpenSSL's test tree is found and labelled ``test``.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from support import run_evaluation

pytestmark = pytest.mark.realworld

SPECS = (
    "openssl/bookworm",
    "curl/bookworm",
    "busybox/bookworm",
    "dropbear/bookworm",
    "lwip/bookworm",
    "zlib/bookworm",
    "mbedtls/bookworm",
)
LIMIT_PER_100K = 1.0
_SEVERE = ("high", "critical")
EXPECTED = Path(__file__).parent / "expected" / "secrets-product.toml"
_PEM_KEY = re.compile(rb"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")

Key = tuple[str, str, str, int]
"""(package, path below the release root, rule, line)."""


@pytest.fixture(scope="module")
def evaluations(
    upstream: Callable[[str], Any], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[Any, dict[str, Any]]]:
    """Each release evaluated once: (release, evaluation.json)."""
    done = {}
    for spec in SPECS:
        release = upstream(spec)
        out = tmp_path_factory.mktemp("secrets")
        run = run_evaluation(release.path, out, jobs=2, categories=("secrets",))
        done[spec] = (release, run.json())
    return done


def _product(release: Any, doc: dict[str, Any]) -> dict[Key, str]:
    """Each product-context finding with its severity."""
    return {
        (release.name, f["path"], f["rule_id"], f["start_line"]): f["severity"]
        for f in doc["findings"]
        if f["category"] == "secrets" and f["properties"]["context"] == "product"
    }


def _expected() -> dict[Key, tuple[str, str]]:
    rows = tomllib.loads(EXPECTED.read_text(encoding="utf-8"))["finding"]
    return {
        (r["package"], r["path"], r["rule"], r["line"]): (r["severity"], r["reason"]) for r in rows
    }


@pytest.mark.parametrize("spec", SPECS)
def test_product_findings_stay_under_the_limit(
    spec: str, evaluations: dict[str, tuple[Any, dict[str, Any]]]
) -> None:
    release, doc = evaluations[spec]
    section = doc["secrets"]
    lines = section["lines_scanned"]["product"]
    found = _product(release, doc)
    severe = [key for key, severity in found.items() if severity in _SEVERE]
    assert lines > 10_000, f"{release.name} {release.version}: too few lines scanned"
    assert section["findings"]["product"] == len(found)
    assert 1e5 * len(severe) / lines <= LIMIT_PER_100K, (release.name, release.version, severe)


def test_product_findings_are_the_expected_ones(
    evaluations: dict[str, tuple[Any, dict[str, Any]]],
) -> None:
    found: dict[Key, str] = {}
    for release, doc in evaluations.values():
        found |= _product(release, doc)
    expected = _expected()
    assert all(reason.strip() for _, reason in expected.values())
    appeared = sorted(found.keys() - expected.keys())
    disappeared = sorted(expected.keys() - found.keys())
    assert (appeared, disappeared) == ([], [])
    assert found == {key: severity for key, (severity, _) in expected.items()}


def test_openssl_samples_name_their_release_and_path(
    evaluations: dict[str, tuple[Any, dict[str, Any]]],
) -> None:
    release, doc = evaluations["openssl/bookworm"]
    found = [
        f for f in doc["findings"]
        if f["category"] == "secrets" and f["path"].startswith("apps/")
        and f["properties"]["context"] == "product"
    ]  # fmt: skip
    assert len(found) >= 14
    for finding in found:
        assert finding["severity"] == "info", finding["path"]
        assert finding["properties"]["origin"] == "upstream-sample", finding["path"]
        assert finding["properties"]["upstream"] == {
            "name": "openssl", "version": release.version, "path": finding["path"]
        }, finding["path"]  # fmt: skip
    assert "in-copy:info" not in doc["secrets"]["upstream_material"]


def test_openssl_example_configuration_credentials_are_confirmed_by_the_shipped_kb(
    evaluations: dict[str, tuple[Any, dict[str, Any]]],
) -> None:
    # the shipped knowledge base records OpenSSL's configuration files that preset a credential
    # (apps/openssl.cnf's CMP section: 'secret = pass:insta', the Insta Demo CA's published
    # password) as sample material: the credential is confirmed byte-for-byte as the release's,
    # not merely labelled as sitting in the copy's tree (the in-copy fallback)
    release, doc = evaluations["openssl/bookworm"]
    credentials = {
        f["path"]: f
        for f in doc["findings"]
        if f["rule_id"] == "secrets/credential-literal" and f["path"].startswith("apps/")
    }
    assert sorted(credentials) == ["apps/openssl-vms.cnf", "apps/openssl.cnf"]
    for path, finding in credentials.items():
        line = (release.path / path).read_bytes().split(b"\n")[finding["start_line"] - 1]
        assert re.match(rb"\s*secret\s*=\s*pass:", line), (path, line)
        assert finding["severity"] == "info"
        assert finding["properties"]["origin"] == "upstream-sample"
        assert finding["properties"]["upstream"] == {
            "name": "openssl", "version": release.version, "path": path
        }  # fmt: skip
        assert finding["message"].startswith(
            f"upstream sample material (openssl {release.version} {path},"
        )


def test_an_example_credential_shipped_in_a_root_file_system_is_medium_a_key_critical(
    upstream: Callable[[str], Any], tmp_path: Path
) -> None:
    # a root file system that installs OpenSSL's example configuration and its sample server
    # key unchanged: both are the release's published material, but the key authenticates the
    # device to whoever has the release, while the configuration's credential matters only
    # where a service reads that entry (the CMP section of openssl.cnf is used on request)
    release = upstream("openssl/bookworm")
    root = tmp_path / "rootfs"
    (root / "etc/ssl/private").mkdir(parents=True)
    (root / "bin").mkdir()
    (root / "etc/ssl/openssl.cnf").write_bytes((release.path / "apps/openssl.cnf").read_bytes())
    (root / "etc/ssl/private/server.pem").write_bytes(
        (release.path / "apps/server.pem").read_bytes()
    )
    (root / "bin/true").write_bytes(Path("/bin/true").read_bytes())  # a real ELF of this host

    doc = run_evaluation(root, tmp_path / "out", categories=("secrets",)).json()

    found = {f["path"]: f for f in doc["findings"] if f["rule_id"].startswith("secrets/")}
    config, key = found["etc/ssl/openssl.cnf"], found["etc/ssl/private/server.pem"]
    for finding, path in ((config, "apps/openssl.cnf"), (key, "apps/server.pem")):
        assert finding["properties"]["origin"] == "upstream-sample"
        assert finding["properties"]["upstream"]["path"] == path
        assert finding["properties"]["shipped_in"] == "."
    assert config["rule_id"] == "secrets/credential-literal"
    assert config["severity"] == "medium"
    assert "example configuration is shipped unchanged" in config["message"]
    assert key["rule_id"] == "secrets/private-key-pem"
    assert key["severity"] == "critical"


def test_every_openssl_test_key_is_found_and_labelled_test(
    evaluations: dict[str, tuple[Any, dict[str, Any]]],
) -> None:
    release, doc = evaluations["openssl/bookworm"]
    root = Path(release.path)
    keys = set()
    for file in sorted((root / "test").rglob("*")):
        if file.is_file() and not file.is_symlink():
            for number, line in enumerate(file.read_bytes().split(b"\n"), start=1):
                if _PEM_KEY.search(line):
                    keys.add((file.relative_to(root).as_posix(), number))
    assert len(keys) > 500, f"openssl {release.version}: only {len(keys)} keys in test/"
    found = {
        (f["path"], f["start_line"]): f
        for f in doc["findings"]
        if f["rule_id"].startswith("secrets/private-key-")
    }
    missing = sorted(keys - found.keys())
    assert missing == []
    labels = {found[key]["properties"]["context"] for key in keys}
    severities = {found[key]["severity"] for key in keys}
    assert (labels, severities) == ({"test"}, {"info"})
