"""Upstream sample material: keys and certificates byte-identical to a file of a release the
knowledge base knows are labelled with that release and path and graded by use.

The releases here are miniature (an OpenSSL-like ``apps/server.pem`` beside ``apps/s_server.c``
naming it, an Mbed TLS-like ``library/certs.c``), recorded in a knowledge base of the test's
own with ``kb.add_release``; the keys and certificates are the throwaway ones of the secrets
corpus. The realworld counterpart on the real releases is
``tests/realworld/test_secrets_realworld.py``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from assay.correlate.components.kb import KnowledgeBase, add_release
from support import DATA, run_evaluation, write_tree

CORPUS = DATA / "secrets_corpus"
SERVER_PEM = (CORPUS / "device" / "server-cert.pem").read_bytes() + (
    CORPUS / "device" / "server-key.pem"
).read_bytes()
_EC_KEY = (CORPUS / "keys" / "throwaway-ec-sec1.key").read_text(encoding="utf-8").splitlines()
CERTS_C = (
    "#if defined(MBEDTLS_CERTS_C)\nconst char mbedtls_test_srv_key_ec[] =\n"
    + "".join(f'    "{line}\\n"\n' for line in _EC_KEY if not line.startswith("#"))
    + ';\nconst char mbedtls_test_cas_pem[] = "";\n#endif\n'
)
OPENSSL = {
    "include/openssl/opensslv.h": '# define OPENSSL_VERSION_TEXT "OpenSSL 9.9.9  1 Jan 2030"\n',
    "apps/s_server.c": '#define TEST_CERT "server.pem"\nint main(void) { return 0; }\n',
    "apps/server.pem": SERVER_PEM,
}
AUTH_C = (
    "int check(const char *password)\n{\n"
    '    if (strcmp(password, "Zx9vLq2wPt") == 0)\n        return 1;\n    return 0;\n}\n'
)
MBEDTLS = {
    "include/mbedtls/version.h": '#define MBEDTLS_VERSION_STRING_FULL "mbed TLS 9.9.9"\n',
    "include/mbedtls/config.h": "#define MBEDTLS_SELF_TEST\n#define MBEDTLS_CERTS_C\n",
    "library/certs.c": CERTS_C,
}


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A knowledge base holding the two miniature releases."""
    root = tmp_path_factory.mktemp("releases")
    path = root / "kb.sqlite"
    add_release(path, write_tree(root / "openssl-9.9.9", OPENSSL), "openssl", "9.9.9", "test")
    add_release(path, write_tree(root / "mbedtls-9.9.9", MBEDTLS), "mbedtls", "9.9.9", "test")
    curl = write_tree(root / "curl-9.9.9", {"lib/auth.c": AUTH_C, "README": "curl"})
    add_release(path, curl, "curl", "9.9.9", "test")
    return path


def _secrets(doc: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(f["path"], f["rule_id"]): f for f in doc["findings"] if f["category"] == "secrets"}


def test_the_kb_records_sample_material_but_not_as_release_source(kb: Path) -> None:
    with KnowledgeBase.open([kb]) as base:
        files = base.release_files("openssl", "9.9.9")
        assert sorted(files) == ["apps/s_server.c", "include/openssl/opensslv.h"]
        found = base.upstream_of(hashlib.sha256(SERVER_PEM).hexdigest())
        assert [(r.name, r.version, r.path) for r in found] == [
            ("openssl", "9.9.9", "apps/server.pem")
        ]
        assert base.upstream_of(hashlib.sha256(SERVER_PEM + b"\n").hexdigest()) == []


def test_unreferenced_samples_are_information_and_the_rating_passes(
    kb: Path, tmp_path: Path
) -> None:
    tree = write_tree(tmp_path / "release", {"src/main.c": "int main(void) { return 0; }\n"})
    write_tree(tree / "third_party" / "openssl", OPENSSL)
    write_tree(tree / "third_party" / "mbedtls", MBEDTLS)
    doc = run_evaluation(tree, tmp_path / "out", kb=kb, categories=("secrets",)).json()
    found = _secrets(doc)
    key = found[("third_party/openssl/apps/server.pem", "secrets/private-key-pem")]
    pair = found[("third_party/openssl/apps/server.pem", "secrets/certificate-with-key")]
    for finding in (key, pair):
        assert finding["severity"] == "info"
        assert finding["properties"]["origin"] == "upstream-sample"
        assert finding["properties"]["upstream"] == {
            "name": "openssl", "version": "9.9.9", "path": "apps/server.pem"
        }  # fmt: skip
        assert finding["properties"]["referenced_by"] == []
        assert "openssl 9.9.9 apps/server.pem" in finding["message"]
    table = [f for f in found.values() if f["path"] == "third_party/mbedtls/library/certs.c"]
    assert [(f["rule_id"], f["severity"]) for f in table] == [
        ("secrets/certificate-with-key", "info")
    ]
    assert table[0]["properties"]["options"] == ["MBEDTLS_CERTS_C"]
    assert table[0]["properties"]["enabled"] is True
    assert "MBEDTLS_CERTS_C (enabled in this copy)" in table[0]["message"]
    assert doc["rating"]["categories"]["secrets"]["grade"] == "pass"
    assert doc["secrets"]["upstream_material"] == {
        "upstream-sample:info": 2, "upstream-test-material:info": 1
    }  # fmt: skip
    assert "pending" not in doc["secrets"] and "references" not in doc["secrets"]
    schema = json.loads(
        (resources.files("assay") / "schemas" / "evaluation.schema.json").read_text("utf-8")
    )
    jsonschema.validate(doc, schema, cls=jsonschema.Draft202012Validator)


def _cpio(root: Path, names: list[str]) -> bytes:
    cpio = shutil.which("cpio")
    if cpio is None:
        pytest.fail("cpio is not installed (Debian: apt-get install cpio)")
    listing = "".join(f"{name}\n" for name in names).encode()
    done = subprocess.run(
        [cpio, "-o", "-H", "newc", "--quiet"], cwd=root, input=listing,
        capture_output=True, check=True,
    )  # fmt: skip
    return done.stdout


def test_samples_used_by_the_product_are_critical(kb: Path, tmp_path: Path) -> None:
    tls = (
        '#define DEVICE_CERT "/etc/ssl/server.pem"\n'
        "int tls(void) { return load(DEVICE_CERT, mbedtls_test_cas_pem); }\n"
    )
    tree = write_tree(
        tmp_path / "release",
        {
            "vendor/src/tls.c": tls,
            "vendor/rootfs/etc/ssl/server.pem": SERVER_PEM,
            "vendor/rootfs/etc/ssl/device.key": (
                CORPUS / "keys" / "throwaway-rsa-traditional.key"
            ).read_bytes(),
            "vendor/rootfs/etc/ssl/edited.pem": SERVER_PEM + b"\n",
        },
    )
    write_tree(tree / "third_party" / "openssl", OPENSSL)
    write_tree(tree / "third_party" / "mbedtls", MBEDTLS)
    write_tree(tree / "third_party" / "curl", {"lib/auth.c": AUTH_C})
    image = write_tree(tmp_path / "image", {"etc/ssl/server.pem": SERVER_PEM})
    (tree / "rootfs.cpio").write_bytes(_cpio(image, ["etc", "etc/ssl", "etc/ssl/server.pem"]))
    doc = run_evaluation(tree, tmp_path / "out", kb=kb, categories=("secrets",)).json()
    found = _secrets(doc)

    used = found[("vendor/rootfs/etc/ssl/server.pem", "secrets/private-key-pem")]
    assert used["severity"] == "critical"
    assert used["properties"]["referenced_by"] == ["vendor/src/tls.c"]
    assert used["properties"]["upstream"]["path"] == "apps/server.pem"
    # The product's reference names /etc/ssl/server.pem, not OpenSSL's own apps/server.pem.
    upstream = found[("third_party/openssl/apps/server.pem", "secrets/private-key-pem")]
    assert upstream["severity"] == "info"

    shipped = found[("rootfs.cpio!/etc/ssl/server.pem", "secrets/private-key-pem")]
    assert (shipped["severity"], shipped["properties"]["shipped_in"]) == ("critical", "rootfs.cpio")

    table = found[("third_party/mbedtls/library/certs.c", "secrets/certificate-with-key")]
    assert table["properties"]["origin"] == "upstream-test-material"
    assert table["severity"] == "critical"
    assert table["properties"]["referenced_by"] == ["vendor/src/tls.c"]

    # The vendor's own key, and a sample changed by one byte, are not upstream material.
    own = found[("vendor/rootfs/etc/ssl/device.key", "secrets/private-key-pem")]
    edited = found[("vendor/rootfs/etc/ssl/edited.pem", "secrets/private-key-pem")]
    for finding in (own, edited):
        assert finding["severity"] == "high" and "origin" not in finding["properties"]
    # A fixed password accepted by upstream code stays a backdoor: labelled, not lowered.
    compare = found[("third_party/curl/lib/auth.c", "secrets/literal-auth-compare")]
    assert compare["severity"] == "critical"
    assert compare["properties"]["origin"] == "upstream"
    assert compare["properties"]["upstream"]["path"] == "lib/auth.c"
    assert doc["rating"]["categories"]["secrets"]["grade"] == "fail"


def test_a_sample_in_an_evaluated_root_file_system_is_critical(kb: Path, tmp_path: Path) -> None:
    true = shutil.which("true")
    assert true is not None
    image = write_tree(tmp_path / "image", {"etc/ssl/server.pem": SERVER_PEM})
    (image / "bin").mkdir()
    shutil.copyfile(Path(true).resolve(), image / "bin" / "true")
    names = ["bin", "bin/true", "etc", "etc/ssl", "etc/ssl/server.pem"]
    rootfs = tmp_path / "rootfs.cpio"
    rootfs.write_bytes(_cpio(image, names))
    for release, out in ((rootfs, "out-image"), (image, "out-directory")):
        doc = run_evaluation(release, tmp_path / out, kb=kb, categories=("secrets",)).json()
        key = _secrets(doc)[("etc/ssl/server.pem", "secrets/private-key-pem")]
        assert (key["severity"], key["properties"]["shipped_in"]) == ("critical", "."), out
    # Without a binary beside it, the same tree is not a root file system.
    (image / "bin" / "true").unlink()
    doc = run_evaluation(image, tmp_path / "out-plain", kb=kb, categories=("secrets",)).json()
    key = _secrets(doc)[("etc/ssl/server.pem", "secrets/private-key-pem")]
    assert (key["severity"], key["properties"]["shipped_in"]) == ("info", None)


def test_config_credentials_in_a_copys_tree_are_information_the_vendors_own_stay_severe(
    kb: Path, tmp_path: Path
) -> None:
    # the knowledge base does not hold this configuration file (not in the recorded release):
    # in the copy's tree it is labelled as likely the project's example, graded info; the same
    # line in the vendor's own configuration keeps its severity
    preset = "[cmp]\nsecret = pass:insta-demo\n"
    tree = write_tree(tmp_path / "release", {"src/main.c": "int main(void) { return 0; }\n",
                                             "etc/device.cnf": preset})  # fmt: skip
    write_tree(tree / "third_party" / "openssl", {**OPENSSL, "apps/demo.cnf": preset})
    doc = run_evaluation(tree, tmp_path / "out", kb=kb, categories=("secrets",)).json()
    found = _secrets(doc)
    copied = found[("third_party/openssl/apps/demo.cnf", "secrets/credential-literal")]
    own = found[("etc/device.cnf", "secrets/credential-literal")]
    assert copied["severity"] == "info"
    assert copied["properties"]["origin"] == "in-copy"
    assert copied["properties"]["copy"].startswith("openssl@9.9.9:")
    assert "in the tree of the openssl@9.9.9 copy" in copied["message"]
    assert "pass:insta-demo" not in json.dumps(copied)
    assert own["severity"] == "high" and "origin" not in own["properties"]
    assert doc["secrets"]["upstream_material"]["in-copy:info"] == 1


def test_a_release_recorded_with_its_configuration_confirms_the_copys_credential(
    tmp_path: Path,
) -> None:
    # a knowledge base built since configuration files are scanned holds the release's .cnf:
    # the copy's identical file is then an upstream sample, not merely in-copy
    preset = "[cmp]\nsecret = pass:insta-demo\n"
    release = {**OPENSSL, "apps/demo.cnf": preset}
    path = tmp_path / "kb.sqlite"
    add_release(path, write_tree(tmp_path / "openssl-9.9.9", release), "openssl", "9.9.9", "t")
    with KnowledgeBase.open([path]) as base:
        found = base.upstream_of(hashlib.sha256(preset.encode()).hexdigest())
        assert [(r.name, r.path) for r in found] == [("openssl", "apps/demo.cnf")]
    tree = write_tree(tmp_path / "release", {"src/main.c": "int main(void) { return 0; }\n"})
    write_tree(tree / "third_party" / "openssl", release)
    doc = run_evaluation(tree, tmp_path / "out", kb=path, categories=("secrets",)).json()
    finding = _secrets(doc)[("third_party/openssl/apps/demo.cnf", "secrets/credential-literal")]
    assert (finding["severity"], finding["properties"]["origin"]) == ("info", "upstream-sample")
    assert finding["properties"]["upstream"]["path"] == "apps/demo.cnf"
