"""endpoints on strings, C snippets, config text and a small ELF built here: kind, class, usage."""

from __future__ import annotations

import json
import pickle
import shutil
import subprocess
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from assay.analyze import endpoints
from assay.analyze.endpoints.match import find
from assay.analyze.interface import Content, FileResult, PathContext
from assay.ingest.interface import SourceFile
from assay.model import FileKind
from assay.parse import parse
from support import run_evaluation, write_tree

SCHEMA = json.loads((resources.files("assay") / "schemas" / "evaluation.schema.json").read_text())
ANALYZER = endpoints.configure({})


def scan(code: str) -> FileResult:
    return ANALYZER.analyze(parse(code.encode(), FileKind.C))


def rows(result: FileResult) -> list[tuple[int, str, str, str, list[str]]]:
    return [
        (r["line"], r["value"], r["class"], r["context"], r["usage"])
        for r in result.data["endpoints"]
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://curl.se/docs/ and http://192.0.2.1:8080/x.",
         [("url", "https://curl.se/docs/", "public"),
          ("url", "http://192.0.2.1:8080/x", "documentation")]),
        ("pool.ntp.org", [("host", "pool.ntp.org", "public")]),
        ("8.8.8.8", [("ipv4", "8.8.8.8", "public")]),
        ("10.0.0.1 172.16.5.4 192.168.1.1", [("ipv4", "10.0.0.1", "private"),
         ("ipv4", "172.16.5.4", "private"), ("ipv4", "192.168.1.1", "private")]),
        ("127.0.0.1 ::1 localhost", [("ipv4", "127.0.0.1", "loopback"), ("ipv6", "::1", "loopback"),
                                     ("host", "localhost", "loopback")]),
        ("198.51.100.7 203.0.113.9 2001:db8::1",
         [("ipv4", "198.51.100.7", "documentation"), ("ipv4", "203.0.113.9", "documentation"),
          ("ipv6", "2001:db8::1", "documentation")]),
        ("www.example.com foo.test bar.invalid", [("host", "www.example.com", "documentation"),
         ("host", "foo.test", "documentation"), ("host", "bar.invalid", "documentation")]),
        ("0.0.0.0 224.0.0.1", [("ipv4", "0.0.0.0", "special"), ("ipv4", "224.0.0.1", "special")]),
        ("fe80::1 printer.local",
         [("ipv6", "fe80::1", "private"), ("host", "printer.local", "private")]),
        ("2606:4700:4700::1111", [("ipv6", "2606:4700:4700::1111", "public")]),
        ("http://%s:%d/path", [("url", "http://%s:%d/path", "unknown")]),
        ("https://%s.vendor.com/x http://srv%d.example.com:%s/",
         [("url", "https://%s.vendor.com/x", "public"),
          ("url", "http://srv%d.example.com:%s/", "documentation")]),
        ("https://0177.1 http://[ab.be]/", [("url", "https://0177.1", "unknown"),
                                            ("url", "http://[ab.be]/", "unknown")]),
        ("http://[2001:db8::1]:80/x", [("url", "http://[2001:db8::1]:80/x", "documentation")]),
        ("libfoo.so.1 Makefile.am config.in main.c README.md", []),
        ("version 1.2.3.4 v2.0.0.1 1.3.6.1.4.1 2.5.4.3 2.5.29.17 1.3.101.110 1.3.101.113", []),
        ('{ OID_SOMETHING, "1.2.0.4" }', []),
        ("bugs@openssl.org", []),
        ("ftp://admin:s3cret@files.vendor.com/fw",
         [("url", "ftp://admin:****@files.vendor.com/fw", "public")]),
        ("std::string 12:34:56 de:ad:be:ef:00:11 %s.com System.Net", []),
        ("256.1.1.1 01.2.3.4", []),
        # strings of every ELF file and of glibc, dnsmasq, libcrypto (the router trial)
        (".data.rel.ro .ip6.arpa .example.com", []),
        ("in-addr.arpa ip6.arpa b.a.ip6.arpa", [("host", "in-addr.arpa", "special"),
         ("host", "ip6.arpa", "special"), ("host", "b.a.ip6.arpa", "special")]),
        ("1.3.101.110 1.3.101.112", []),
        ("in-addr.arpa ip6.arpa home.arpa",
         [("host", "in-addr.arpa", "special"), ("host", "ip6.arpa", "special"),
          ("host", "home.arpa", "private")]),
        # bytes of a key table in libcrypto (armhf), NXP's SoC family in kernel modules
        ("Gw.EE#G] i.MX SoC", []),
        ("A.ROOT-SERVERS.NET. Amazon.com", [("host", "a.root-servers.net", "public"),
                                            ("host", "amazon.com", "public")]),
        # the kernel's firmware file names (bna, bfa); a quad ending a sentence is an address,
        # one in a host name is the host
        ("ct2fw-3.2.5.1.bin ctfw-3.2.5.1.bin", []),
        ("dns 8.8.8.8. 10.0.0.1.nip.io", [("ipv4", "8.8.8.8", "public"),
                                          ("host", "10.0.0.1.nip.io", "public")]),
        # a C member access printed by ftdi-elan; after a separator or an SRV label, a name
        ("platform_dev.dev.parent=%p platform_dev.dev=%p", []),
        ("ntp_server=pool.ntp.org _ntp._udp.vendor.com",
         [("host", "pool.ntp.org", "public"), ("host", "udp.vendor.com", "public")]),
        # DER strings of libnssckbi's root certificates: the length byte glued before them
        ("0www.entrust.net/CPS is incorporated by reference1\x1f",
         [("host", "www.entrust.net", "public")]),
        ("8http://crl.d-trust.net/crl/d-trust_ev_root_ca_1_2009.crl0",
         [("url", "http://crl.d-trust.net/crl/d-trust_ev_root_ca_1_2009.crl", "public")]),
        # a digit announcing more than follows, or glued to a word, is part of the name
        ("1www.vendor.com a0www.vendor.com", [("host", "1www.vendor.com", "public"),
                                              ("host", "a0www.vendor.com", "public")]),
        ("rhttp://vendor.com 02http://www.vendor.com/x svn+ssh://vendor.com/x", []),
        # wolfSSL's gen_revoked.sh and renewcerts.sh (echo -e), c-ares' hosts file test (C);
        # a UNC path is no escape
        (r'echo -e "US\nwww.wolfssl.com\n" "URI\\nwww.wolfssl.com" \\tftp.vendor.com\fw',
         [("host", "www.wolfssl.com", "public"), ("host", "www.wolfssl.com", "public"),
          ("host", "tftp.vendor.com", "public")]),
        ('"2.3.4.5\\tgoogle.com www.google.com" nwww.vendor.com',
         [("ipv4", "2.3.4.5", "public"), ("host", "google.com", "public"),
          ("host", "www.google.com", "public"), ("host", "nwww.vendor.com", "public")]),
    ],
    ids=["urls", "host", "public-ip", "rfc1918", "loopback", "rfc5737-3849", "rfc2606",
         "special", "link-local", "public-ipv6", "placeholder-host", "placeholder-label",
         "not-a-name", "bracketed-ipv6", "file-names", "versions-oids", "after-oid", "e-mail",
         "password-redacted", "not-addresses", "invalid-octets", "suffixes", "reverse-zones",
         "rfc8410-oids", "reverse-dns", "capital-tld-lower-label", "capitals-throughout",
         "firmware-file-names", "quad-then-dot", "member-access", "not-identifier-tails",
         "der-length-host", "der-length-url", "not-length-bytes", "glued-schemes", "escapes",
         "c-escape"],
)  # fmt: skip
def test_find(text: str, expected: list[tuple[str, str, str]]) -> None:
    assert [(m.kind, m.value, m.klass) for m in find(text)] == expected


CODE = """\
#include "server.h"
#define NTP_SERVER "pool.ntp.org"
/* see https://www.openssl.org/license.html */
static const char *servers[] = { "time1.vendor.com", "10.1.2.3" };
int f(CURL *h) {
  struct addrinfo *r;
  getaddrinfo(NTP_SERVER, "123", 0, &r);
  getaddrinfo(servers[0], 0, 0, &r);
  curl_easy_setopt(h, CURLOPT_URL, "https://telemetry.vendor.com/v1?id=%s");
  curl_easy_setopt(h, CURLOPT_USERAGENT, "agent www.vendor.com");
  inet_addr("8.8.8.8");
  printf("see https://example.com/ or localhost\\n");
  system("wget -q http://updates.vendor.net/fw.bin");
  return 0;
}
"""


def test_usage_in_c() -> None:
    assert rows(scan(CODE)) == [
        (2, "pool.ntp.org", "public", "code", ["resolve"]),
        (3, "https://www.openssl.org/license.html", "public", "comment", []),
        (4, "time1.vendor.com", "public", "code", ["resolve"]),
        (4, "10.1.2.3", "private", "code", ["resolve"]),
        (9, "https://telemetry.vendor.com/v1?id=%s", "public", "code", ["http-client"]),
        (10, "www.vendor.com", "public", "code", []),
        (11, "8.8.8.8", "public", "code", ["resolve"]),
        (12, "https://example.com/", "documentation", "code", []),
        (12, "localhost", "loopback", "code", []),
        (13, "http://updates.vendor.net/fw.bin", "public", "code", ["command"]),
    ]


def test_findings_only_for_public_and_private_outside_comments() -> None:
    found = [(f.start_line, f.rule_id) for f in scan(CODE).findings]
    assert found == [
        (2, "endpoints/public-endpoint-used"), (4, "endpoints/public-endpoint-used"),
        (4, "endpoints/private-endpoint"), (9, "endpoints/public-endpoint-used"),
        (10, "endpoints/public-endpoint"), (11, "endpoints/public-endpoint-used"),
        (13, "endpoints/public-endpoint-used"),
    ]  # fmt: skip


def test_config_text() -> None:
    text = b"server = update.vendor.com\n# docs at https://example.com\n; 8.8.8.8\nntp=10.0.0.5\n"
    result = ANALYZER.analyze_content(Content(text, FileKind.TEXT, "app.conf"))
    assert rows(result) == [
        (1, "update.vendor.com", "public", "config", []),
        (2, "https://example.com", "documentation", "comment", []),
        (3, "8.8.8.8", "public", "comment", []),
        (4, "10.0.0.5", "private", "config", []),
    ]


@pytest.mark.parametrize(
    ("path", "kind", "wanted"),
    [("a.c", FileKind.C, True), ("bin/app", FileKind.ELF, True),
     ("etc/app.conf", FileKind.TEXT, True),
     ("rootfs/etc/hosts", FileKind.TEXT, True), ("docs/index.md", FileKind.TEXT, False),
     ("tests/data/test1", FileKind.TEXT, False), ("x.tar", FileKind.ARCHIVE, False)],
)  # fmt: skip
def test_wants(path: str, kind: FileKind, wanted: bool) -> None:
    assert ANALYZER.wants(SourceFile(path, "/dev/null", kind, 1, "0" * 64)) is wanted


def _compile(tmp_path: Path) -> Path:
    gcc = shutil.which("gcc")
    assert gcc is not None, "gcc is needed to build the test ELF (apt-get install gcc)"
    source = tmp_path / "beacon.c"
    source.write_text(
        '#include <stdio.h>\n'
        'const char *url = "https://beacon.vendor-cloud.com/report";\n'
        'const char *doc = "http://192.0.2.10/";\n'
        'int main(void) { puts(url); puts(doc); return 0; }\n'
    )  # fmt: skip
    binary = tmp_path / "beacon"
    subprocess.run([gcc, "-O0", "-o", str(binary), str(source)], check=True)
    return binary


def test_elf_strings(tmp_path: Path) -> None:
    data = _compile(tmp_path).read_bytes()  # compiled here, never executed
    result = ANALYZER.analyze_content(Content(data, FileKind.ELF, "beacon"))
    found = {(r["value"], r["class"], r["context"]): r["offset"]
             for r in result.data["endpoints"]}  # fmt: skip
    url = "https://beacon.vendor-cloud.com/report"
    assert set(found) >= {
        (url, "public", "binary"),
        ("http://192.0.2.10/", "documentation", "binary"),
    }
    offset = found[(url, "public", "binary")]
    assert data[offset : offset + len(url)] == url.encode()
    assert [f.rule_id for f in result.findings] == ["endpoints/public-endpoint"]


def test_section_names_of_a_binary_are_not_hosts(tmp_path: Path) -> None:
    # every linked binary names its section .data.rel.ro in .shstrtab: ".ro" is Romania's TLD
    gcc = shutil.which("gcc")
    assert gcc is not None, "gcc is needed (tools/system-deps.sh)"
    source = tmp_path / "table.c"
    source.write_text(
        'static const char *const names[] = {"alpha", "beta"};\n'
        "int main(int argc, char **argv) { return names[argc & 1][0]; }\n"
    )
    binary = tmp_path / "table"
    subprocess.run([gcc, "-O0", "-fPIE", "-pie", "-o", str(binary), str(source)], check=True)
    data = binary.read_bytes()  # compiled here, never executed
    assert b"\0.data.rel.ro\0" in data
    result = ANALYZER.analyze_content(Content(data, FileKind.ELF, "table"))
    assert [r["value"] for r in result.data["endpoints"]] == []
    assert result.findings == ()


def test_inventory_per_component() -> None:
    code, other = scan(CODE), scan('const char *u = "http://8.8.4.4/x";')
    inventory = ANALYZER.aggregator()
    inventory.add(PathContext("src/net.c", "src"), code)
    inventory.add(PathContext("src/copy.c", "src"), code)
    inventory.add(PathContext("third/curl/x.c", "third", "curl"), other)
    summary, extra = inventory.finish()
    assert list(extra) == []
    destinations = summary["destinations"]
    assert [(d["component"], d["endpoint"]) for d in destinations] == [
        ("(vendor)", "pool.ntp.org"), ("(vendor)", "time1.vendor.com"), ("(vendor)", "8.8.8.8"),
        ("(vendor)", "http://updates.vendor.net/fw.bin"),
        ("(vendor)", "https://telemetry.vendor.com/v1?id=%s"), ("(vendor)", "10.1.2.3"),
    ]  # fmt: skip
    vendor = summary["components"]["(vendor)"]
    ntp = next(e for e in vendor["endpoints"] if e["endpoint"] == "pool.ntp.org")
    assert (ntp["occurrences"], ntp["locations"]) == (2, ["src/copy.c:2", "src/net.c:2"])
    assert vendor["comments_by_class"] == {"public": 2}
    curl = summary["components"]["curl"]["endpoints"]
    assert [(e["endpoint"], e["usage"]) for e in curl] == [("http://8.8.4.4/x", [])]


def test_picklable() -> None:
    assert pickle.loads(pickle.dumps(ANALYZER)) == ANALYZER


def test_evaluation_json_and_sarif(tmp_path: Path) -> None:
    tree = write_tree(
        tmp_path / "in", {"src/net.c": CODE, "etc/app.conf": "url = https://cloud.vendor.io/\n"}
    )
    run = run_evaluation(tree, tmp_path / "out")
    document = run.json()
    jsonschema.validate(document, SCHEMA, cls=jsonschema.Draft202012Validator)
    section = document["endpoints"]
    assert "pool.ntp.org" in {d["endpoint"] for d in section["destinations"]}
    assert section["totals"]["by_context"] == {"code": 9, "comment": 1, "config": 1}
    results = run.sarif()["runs"][0]["results"]
    ours = {r["ruleId"] for r in results if r["ruleId"].startswith("endpoints/")}
    assert ours == {
        "endpoints/public-endpoint-used",
        "endpoints/public-endpoint",
        "endpoints/private-endpoint",
    }


def test_non_ascii_files_keep_lines_and_values() -> None:
    source = '/* é */\nconst char *a = "https://räksmörgås.se/x";\n'.encode()
    source += b'/* \xff */ const char *b = "8.8.8.8";\n'
    result = ANALYZER.analyze(parse(source, FileKind.C))
    assert rows(result) == [
        (2, "https://räksmörgås.se/x", "public", "code", []),
        (3, "8.8.8.8", "public", "code", []),
    ]


def test_binary_in_the_inventory(tmp_path: Path) -> None:
    binary = _compile(tmp_path).read_bytes()
    tree = write_tree(tmp_path / "in", {"bin/beacon": binary})
    section = run_evaluation(tree, tmp_path / "out").json()["endpoints"]
    listed = section["components"]["(vendor)"]["endpoints"]
    url = next(e for e in listed if e["endpoint"] == "https://beacon.vendor-cloud.com/report")
    assert url["contexts"] == ["binary"] and url["usage"] == []
    [location] = url["locations"]
    path, _, offset = location.partition("@")
    assert path == "bin/beacon" and binary[int(offset, 16) :].startswith(url["endpoint"].encode())


def test_a_section_table_stretched_over_the_file_hides_no_url() -> None:
    from assay.analyze.endpoints.text import in_binary, section_names

    # ELF32 little-endian, e_shoff 0x40, two 40-byte section headers, e_shstrndx 1 whose
    # sh_offset/sh_size cover the whole file
    body = b"\0.data.rel.ro\0https://c2.vendor-cloud.com/x\0.evil-name.ro\0"
    header = bytearray(0x40 + 80)
    header[:6] = b"\x7fELF\x01\x01"
    header[0x20:0x24] = (0x40).to_bytes(4, "little")
    header[0x2E:0x34] = (40).to_bytes(2, "little") + (2).to_bytes(2, "little") + b"\x01\0"
    data = bytes(header) + body
    size = len(data)
    data = data[: 0x40 + 40 + 16] + (0).to_bytes(4, "little") + size.to_bytes(4, "little")
    data += (bytes(header) + body)[len(data) :]
    assert section_names(data) == (0, size)
    assert [m.value for _, m in in_binary(data)] == ["https://c2.vendor-cloud.com/x"]


def _strings(*strings: str, gap: int = 0) -> bytes:
    """NUL-terminated strings as a linker lays them out in .rodata (``gap`` NULs between)."""
    return b"".join(b"\0" + s.encode() + b"\0" * gap for s in strings) + b"\0"


# libcrypto's OSSL_CMP_PKIBODY field names, in their order in the Debian armhf library
ASN1_FIELDS = ("generalInfo", "value.ir", "value.ip", "value.cr", "value.cp", "value.p10cr")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (_strings(*ASN1_FIELDS), []),
        # one sibling is not a family
        (_strings("value.ir", "value.ip"), ["value.ir"]),
        # alone, beside other stems, or inside a longer string: a host
        (_strings("value.ir"), ["value.ir"]),
        (_strings("pool.ntp.org", "value.ip", "value.cr"), ["pool.ntp.org"]),
        (_strings("server value.ir", "value.ip", "value.cr"), ["value.ir"]),
        # siblings that are TLDs are hosts of one domain, not fields
        (_strings("vendor.de", "vendor.com", "vendor.net"),
         ["vendor.de", "vendor.com", "vendor.net"]),
        # siblings farther than NEIGHBOURHOOD bytes are not context
        (_strings("value.ir", gap=300) + _strings("value.ip", "value.cr"), ["value.ir"]),
        # libcurl: the zlib version it compares with, 148 bytes from zlib's own
        (_strings("1.2.13", "Error while processing content unencoding: %s",
                  "Error while processing content unencoding: Unknown failure within "
                  "decompression software.", "1.2.0.4"), []),
        (_strings("1.2.0.4"), ["1.2.0.4"]),
        (_strings("1.2.13", "8.8.8.8", "1.1.1.1"), ["8.8.8.8", "1.1.1.1"]),
        (_strings("1.2.13", "dns 1.2.0.4"), ["1.2.0.4"]),
        (_strings("1.2.13.4", "1.2.0.4"), ["1.2.13.4", "1.2.0.4"]),
        (_strings("1.2.13", gap=300) + _strings("1.2.0.4"), ["1.2.0.4"]),
    ],
    ids=["asn1-fields", "one-sibling", "alone", "other-stem", "in-a-sentence", "tld-siblings",
         "far-siblings", "zlib-version", "quad-alone", "other-quads", "quad-in-a-sentence",
         "quad-beside-quad", "far-version"],
)  # fmt: skip
def test_binary_strings_read_with_their_neighbours(data: bytes, expected: list[str]) -> None:
    from assay.analyze.endpoints.text import NEIGHBOURHOOD, in_binary

    assert NEIGHBOURHOOD < 300
    found = in_binary(data)
    assert [m.value for _, m in found] == expected
    for offset, match in found:
        assert data[offset:].lower().startswith(match.value.encode())


def test_field_paths_and_versions_in_a_compiled_binary(tmp_path: Path) -> None:
    """The same strings laid out by gcc and ld, read from the ELF file."""
    gcc = shutil.which("gcc")
    assert gcc is not None, "gcc is needed (tools/system-deps.sh)"
    fields = ", ".join(f'"{f}"' for f in ASN1_FIELDS)
    source = tmp_path / "lib.c"
    source.write_text(
        f"const char *const fields[] = {{{fields}}};\n"
        'int zlib_ok(const char *v) { return __builtin_strcmp(v, "1.2.0.4") >= 0; }\n'
        'const char *const zlib = "1.2.13";\n'
        'const char *const ntp = "pool.ntp.org";\n'
        'const char *const dns = "8.8.8.8";\n'
    )
    binary = tmp_path / "lib.so"
    subprocess.run([gcc, "-O0", "-shared", "-fPIC", "-o", str(binary), str(source)], check=True)
    data = binary.read_bytes()  # compiled here, never executed
    for string in ("value.ir", "1.2.0.4"):
        assert [m.klass for m in find(string)] == ["public"]
        assert f"\0{string}\0".encode() in data
    result = ANALYZER.analyze_content(Content(data, FileKind.ELF, "lib.so"))
    public = {r["value"] for r in result.data["endpoints"] if r["class"] == "public"}
    assert public == {"pool.ntp.org", "8.8.8.8"}


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ('int f(void) { return strcmp(zlibVersion(), "1.2.0.4") >= 0; }', []),
        ('int f(void) { return strcmp(zlib_version, ("1.2.0.4")); }', []),
        ('int f(void) { inet_addr("1.2.0.4"); return strcmp(zlibVersion(), "1.2.13"); }',
         [(1, "1.2.0.4", "public", "code", ["resolve"])]),
        ('int f(const char *v) { return strcmp(v, "1.2.0.4"); }',
         [(1, "1.2.0.4", "public", "code", [])]),
        ('void f(void) { printf("version %s, dns 8.8.8.8", version); }',
         [(1, "8.8.8.8", "public", "code", [])]),
    ],
    ids=["version-call", "version-variable", "address-call", "no-version", "not-alone"],
)  # fmt: skip
def test_a_quad_compared_with_a_version_is_a_version(
    code: str, expected: list[tuple[int, str, str, str, list[str]]]
) -> None:
    assert rows(scan(code)) == expected


# nfc_digital.ko: the clause numbers its protocol errors name, in their order in the module
NFC_CLAUSES = ("12.6.2", "12.6.2.1", "4.7.2.8", "4.7.2.6", "4.7.2.1", "6.4.1.8", "5.6.2.1",
               "5.6.2.12", "5.6.2.16", "4.4.1.3", "4.6.3.3", "9.4.1.2", "14.4.1.6",
               "NFC Digital Protocol error: %s", "14.4.1.2", "14.6.1.1", "14.8.2.1",
               "14.12.3.3", "14.12.4.5", "14.12.4.3", "14.12.4.4", "14.8.4.1",
               "14.12.3.4")  # fmt: skip
RESOLVERS = ("8.8.8.8", "8.8.4.4", "8.26.56.26", "1.1.1.1", "1.0.0.1", "1.1.1.2", "9.9.9.9",
             "4.2.2.1", "4.2.2.2", "4.2.2.3")  # fmt: skip


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (_strings(*NFC_CLAUSES), []),
        # addresses do not branch under one first number with small numbers only
        (_strings(*RESOLVERS), list(RESOLVERS)),
        # three branches with a number over 99 or a zero are no clause numbers
        (_strings("14.4.1.6", "14.6.1.1", "14.128.2.1"), ["14.4.1.6", "14.6.1.1", "14.128.2.1"]),
        (_strings("14.4.1.6", "14.6.1.1", "14.0.2.1"), ["14.4.1.6", "14.6.1.1", "14.0.2.1"]),
        # a quad beside the family with a large number, or farther than the window, stays
        (_strings(*NFC_CLAUSES[12:], "193.0.14.129"), ["193.0.14.129"]),
        (_strings(*NFC_CLAUSES[12:]) + b"\0" * 300 + _strings("8.8.8.8"), ["8.8.8.8"]),
        (_strings("dns 14.12.3.3", *NFC_CLAUSES[14:]), ["14.12.3.3"]),
    ],
    ids=["nfc-clauses", "resolvers", "large-number", "zero", "root-server-beside", "far",
         "in-a-sentence"],
)  # fmt: skip
def test_clause_numbers_are_not_addresses(data: bytes, expected: list[str]) -> None:
    from assay.analyze.endpoints.text import in_binary

    assert [m.value for _, m in in_binary(data)] == expected


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        # raid6_pq's Galois-field tables, libgcrypt's and libtomcrypt's constants
        (b"\x8d\x1a4.hr\\F\xd0\xca", []),
        (b"\xeba\xf1p.il :\x12hT", []),
        # a C string ends with NUL; text with a line break; a long run is read
        (b"\x8d\x1a4.hr\\F\0", ["4.hr"]),
        (b"\xff169.254.0.1\0", ["169.254.0.1"]),
        (b"\x8d8.8.8.8\n\xd0", ["8.8.8.8"]),
        (b"\x8dntp.vendor.com\xd0", ["ntp.vendor.com"]),
    ],
    ids=["raid6-table", "cipher-table", "c-string", "after-binary", "line-break", "long-run"],
)  # fmt: skip
def test_short_runs_between_binary_bytes_are_not_strings(data: bytes, expected: list[str]) -> None:
    from assay.analyze.endpoints.text import SHORT, in_binary

    assert len("ntp.vendor.com") >= SHORT > len("p.il :")
    assert [m.value for _, m in in_binary(b"\x01" * 8 + data + b"\x01" * 8)] == expected


CRL = b"http://crl.certigna.fr/certignarootca.crl"  # 41 bytes: a printable length, ")"
LDAP = b"ldap://directory.vendor.com/" + b"CN=x," * 20  # 128 bytes: 0x81 0x80


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        # a CRL distribution point: [6] URI, its length, the URL, then SEQUENCE (0x30, "0")
        (b"\xa0\x2b\x86\x29" + CRL + b"01\xa0\x06", [CRL.decode()]),
        (b"\x30\x1d\x86\x13http://ocsp.accv.es0\x1d\x06", ["http://ocsp.accv.es"]),
        (b"\x30\x81\x86\x81\x80" + LDAP + b"0F\xa0", [LDAP.decode()]),
        # no URI or string tag before the length, or a length past the run: as written
        (b"\xa0\x2b\x87\x29" + CRL + b"01\xa0\x06", [CRL.decode() + "01"]),
        (b"\xa0\x2b\x86\x7e" + CRL + b"01\xa0\x06", [CRL.decode() + "01"]),
    ],
    ids=["printable-length", "short-length", "long-form", "other-tag", "past-the-run"],
)  # fmt: skip
def test_a_der_url_ends_where_its_length_says(data: bytes, expected: list[str]) -> None:
    from assay.analyze.endpoints.text import in_binary

    assert [m.value for _, m in in_binary(b"\x01" * 8 + data + b"\x01" * 8)] == expected


SCRIPT = """\
#!/bin/sh
cp conftest.in conftest.nl
$as_echo '' >> "conftest.nl"
   coveralls-lcov coverage.info
ntpdate pool.ntp.org
echo "report bugs to libusb.info"; ping -c1 vendor.com
rm -f /tmp/x && curl vendor.net
"""


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        # autoconf's ltmain.sh, libtomcrypt's coverage.sh: files given to commands that take
        # files; the hosts given to other commands stay
        ("coverage.sh", SCRIPT, [(5, "pool.ntp.org"), (6, "libusb.info"), (6, "vendor.com"),
                                 (7, "vendor.net")]),
        ("rc.local", SCRIPT, [(5, "pool.ntp.org"), (6, "libusb.info"), (6, "vendor.com"),
                              (7, "vendor.net")]),
        # the same lines in configuration that is no shell script are read as they are
        ("build.conf", SCRIPT.partition("\n")[2],
         [(1, "conftest.nl"), (2, "conftest.nl"), (3, "coverage.info"), (4, "pool.ntp.org"),
          (5, "libusb.info"), (5, "vendor.com"), (6, "vendor.net")]),
        # XML: a ">" that ends a tag is no redirection
        ("x.sh", "<server>pool.ntp.org</server>\n", [(1, "pool.ntp.org")]),
    ],
    ids=["shell-script", "shebang", "not-shell", "xml-tag"],
)  # fmt: skip
def test_file_arguments_in_shell_scripts_are_not_hosts(
    name: str, text: str, expected: list[tuple[int, str]]
) -> None:
    result = ANALYZER.analyze_content(Content(text.encode(), FileKind.TEXT, name))
    assert [(r["line"], r["value"]) for r in result.data["endpoints"]] == expected
