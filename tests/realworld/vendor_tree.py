"""A vendor tree built from real upstream releases plus planted secrets and backdoor indicators.

``build(releases, root)`` copies each release unmodified below ``third_party/<name>-<version>/``
and writes a small vendor product beside them (``vendor/``) holding the planted items of
``PLANTED``: a known public sample key (OpenSSL's ``apps/server.pem``, byte for byte) installed
and loaded by product code, Mbed TLS's built-in test certificate used by product code, the
vendor's own private key, a hard-coded credential, a literal password compare, a hidden command
and an account with a preset password hash. ``product_lines`` counts the lines outside test
code the way the ``secrets`` analyzer labels them (``context_of``).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from assay.analyze.secrets.index import context_of

_CORPUS = Path(__file__).resolve().parents[1] / "data" / "secrets_corpus"


@dataclass(frozen=True)
class Planted:
    """One planted item: where, which rule must find it, with which severity."""

    path: str
    rule: str
    severity: str
    upstream: str | None = None
    """``name path`` of the upstream file it must be labelled as, when it is sample material."""


PLANTED = (
    Planted("vendor/rootfs/etc/ssl/server.pem", "secrets/private-key-pem", "critical",
            "openssl apps/server.pem"),
    Planted("vendor/rootfs/etc/ssl/server.pem", "secrets/certificate-with-key", "critical",
            "openssl apps/server.pem"),
    Planted("third_party/mbedtls/library/certs.c", "secrets/certificate-with-key",
            "critical", "mbedtls library/certs.c"),
    Planted("vendor/rootfs/etc/ssl/device.key", "secrets/private-key-pem", "high"),
    Planted("vendor/src/cloud.c", "secrets/credential-literal", "high"),
    Planted("vendor/src/login.c", "secrets/literal-auth-compare", "critical"),
    Planted("vendor/src/console.c", "secrets/hidden-command", "critical"),
    Planted("vendor/rootfs/etc/shadow", "secrets/password-hash", "high"),
)  # fmt: skip
"""Every planted item (paths below the tree's root)."""

_TLS_C = """\
/* Vendor TLS set-up: loads the device certificate and key installed by the Makefile. */
#include <mbedtls/ssl.h>
#include <mbedtls/certs.h>

#define DEVICE_CERT "/etc/ssl/server.pem"

int tls_setup(mbedtls_x509_crt *crt, mbedtls_x509_crt *ca)
{
    if (mbedtls_x509_crt_parse_file(crt, DEVICE_CERT) != 0)
        return -1;
    return mbedtls_x509_crt_parse(ca, (const unsigned char *)mbedtls_test_cas_pem,
                                  mbedtls_test_cas_pem_len);
}
"""
_CLOUD_C = """\
/* Vendor cloud uplink. */
#include <string.h>

static const char *cloud_api_key = "k7Qz93LmXw0pTr2v";

const char *uplink_key(void)
{
    return cloud_api_key;
}
"""
_LOGIN_C = """\
/* Vendor web login. */
#include <string.h>

int check_login(const char *user, const char *password)
{
    if (strcmp(password, "Sup3rS3cretAdm1n") == 0)
        return 1;
    return strcmp(user, "admin") == 0 && password[0] != '\\0';
}
"""
_CONSOLE_C = """\
/* Vendor serial console. */
#include <stdlib.h>
#include <string.h>

void console_command(const char *line)
{
    if (strcmp(line, "xq-factory-shell") == 0) {
        system("/bin/sh");
    }
}
"""
_MAKEFILE = """\
# Vendor product build: installs the TLS material into the root file system.
all: tls.o cloud.o login.o console.o

install:
\tinstall -m 0600 rootfs/etc/ssl/server.pem $(DESTDIR)/etc/ssl/server.pem
\tinstall -m 0600 rootfs/etc/ssl/device.key $(DESTDIR)/etc/ssl/device.key
"""


def build(releases: dict[str, Path], root: Path) -> Path:
    """Copy ``releases`` (name -> unpacked release) below ``root/third_party/<name>/`` and
    plant the vendor product beside them; returns ``root``."""
    for name, path in sorted(releases.items()):
        copy_release(path, root / "third_party" / name)
    vendor = root / "vendor"
    (vendor / "src").mkdir(parents=True)
    (vendor / "rootfs" / "etc" / "ssl").mkdir(parents=True)
    (vendor / "src" / "tls.c").write_text(_TLS_C)
    (vendor / "src" / "cloud.c").write_text(_CLOUD_C)
    (vendor / "src" / "login.c").write_text(_LOGIN_C)
    (vendor / "src" / "console.c").write_text(_CONSOLE_C)
    (vendor / "Makefile").write_text(_MAKEFILE)
    shutil.copyfile(releases["openssl"] / "apps" / "server.pem",
                    vendor / "rootfs" / "etc" / "ssl" / "server.pem")  # fmt: skip
    shutil.copyfile(_CORPUS / "keys" / "throwaway-rsa-traditional.key",
                    vendor / "rootfs" / "etc" / "ssl" / "device.key")  # fmt: skip
    shutil.copyfile(_CORPUS / "accounts" / "shadow", vendor / "rootfs" / "etc" / "shadow")
    return root


def copy_release(release: Path, target: Path) -> None:
    """Copy an unpacked release unmodified (links kept as links)."""
    shutil.copytree(release, target, symlinks=True)


def product_lines(root: Path) -> int:
    """Lines of every regular text file outside test code (``secrets`` context ``product``)."""
    total = 0
    for path in root.rglob("*"):
        if not path.is_file() or path.is_symlink():
            continue
        if context_of(path.relative_to(root).as_posix()) != "product":
            continue
        data = path.read_bytes()
        if b"\0" in data[:8192]:
            continue
        total += data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    return total
