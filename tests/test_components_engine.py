"""Copies of libraries through the engine: ownership, per-component figures, SBOM, fingerprints."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from support import Run, write_tree

ZLIB_H = '#ifndef ZLIB_H\n#define ZLIB_H\n#define ZLIB_VERSION "1.2.11"\n#endif\n'
OPENSSLV_H = (
    "#ifndef OPENSSL_OPENSSLV_H\n# define OPENSSL_OPENSSLV_H\n"
    "# define OPENSSL_VERSION_NUMBER  0x1010117fL\n"
    '# define OPENSSL_VERSION_TEXT    "OpenSSL 1.1.1w  11 Sep 2023"\n#endif\n'
)
COPY_C = "void c(char *d, const char *s)\n{\n    strcpy(d, s);\n}\n"
VENDOR_C = "void v(char *d, const char *s)\n{\n    strcat(d, s);\n    strcpy(d, s);\n}\n"


def _tree(root: Path, zlib_dir: str) -> Path:
    return write_tree(
        root,
        {
            f"{zlib_dir}/zlib.h": ZLIB_H,
            f"{zlib_dir}/deflate.c": COPY_C,
            "third_party/ssl/include/openssl/opensslv.h": OPENSSLV_H,
            "third_party/ssl/crypto/mem.c": COPY_C,
            "src/main.c": VENDOR_C,
        },
    )


def test_copies_are_named_versioned_and_own_their_files(
    tmp_path: Path, evaluate: Callable[..., Run]
) -> None:
    run = evaluate(_tree(tmp_path / "t", "third_party/zlib"))
    section = run.json()["components"]
    copies = {(c["name"], c["version"], c["root"]) for c in section["copies"]}
    assert copies == {
        ("zlib", "1.2.11", "third_party/zlib"),
        ("openssl", "1.1.1w", "third_party/ssl"),
    }
    assert section["libraries"]["openssl"]["newest"] == "1.1.1w"
    owners = {f["path"]: f["component"] for f in run.findings("unsafe-calls")}
    assert owners["third_party/zlib/deflate.c"] == "zlib@1.2.11:third_party/zlib"
    assert owners["third_party/ssl/crypto/mem.c"] == "openssl@1.1.1w:third_party/ssl"
    assert owners["src/main.c"] is None


def test_census_is_reported_per_component_and_for_vendor_code(
    tmp_path: Path, evaluate: Callable[..., Run]
) -> None:
    census = evaluate(_tree(tmp_path / "t", "third_party/zlib")).json()["unsafe-calls"]
    per_component = {k: v["totals"]["calls_unbounded"] for k, v in census["components"].items()}
    assert per_component["zlib@1.2.11:third_party/zlib"] == 1
    assert per_component["openssl@1.1.1w:third_party/ssl"] == 1
    assert per_component["(vendor)"] == 2
    assert sum(per_component.values()) == census["totals"]["calls_unbounded"]


def test_fingerprints_are_relative_to_the_copy_root(
    tmp_path: Path, evaluate: Callable[..., Run]
) -> None:
    before = evaluate(_tree(tmp_path / "a", "third_party/zlib"))
    after = evaluate(_tree(tmp_path / "b", "ext/compression/zlib"))
    moved = {f["fingerprint"] for f in before.findings("unsafe-calls") if "zlib" in f["path"]}
    assert moved == {
        f["fingerprint"] for f in after.findings("unsafe-calls") if "zlib" in f["path"]
    }


def test_sbom_lists_every_copy_and_validates(tmp_path: Path, evaluate: Callable[..., Run]) -> None:
    run = evaluate(_tree(tmp_path / "t", "third_party/zlib"))
    text = (run.out / "sbom.cdx.json").read_text(encoding="utf-8")
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    bom = json.loads(text)
    purls = sorted(c["purl"] for c in bom["components"])
    assert purls == ["pkg:generic/openssl@1.1.1w", "pkg:generic/zlib@1.2.11"]
    zlib = next(c for c in bom["components"] if c["name"] == "zlib")
    assert {"name": "assay:root", "value": "third_party/zlib"} in zlib["properties"]
    locations = {o["location"] for o in zlib["evidence"]["occurrences"]}
    assert "third_party/zlib/zlib.h" in locations
