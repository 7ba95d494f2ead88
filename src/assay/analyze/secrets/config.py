"""Credentials preset in configuration files: ``psk="..."`` in ``wpa_supplicant.conf``,
``wpa_passphrase=...`` in ``hostapd.conf``, ``password = ...`` in an ``.ini``.

Only files named as configuration files are read (``.conf``, ``.cfg``, ``.cnf``, ``.ini``,
``.env``, ``.properties``): documentation and scripts mention credential names in prose and
examples. A line ``name = value`` or ``name: value`` (optionally ``export``ed, the value
optionally quoted) whose name is a credential name and whose value could be a secret is a
``credential-literal``. Unlike a C literal, a value is never a label here (``psk=`` holds the
key itself, even ``psk="router-psk"``) and a quoted one may hold spaces (a passphrase); formats,
options, paths, URLs, variable references and keywords (``none``, ``yes``, ``required``...) are
not secrets. Comment lines (``#``, ``;``) are not read. The value is only ever reported
redacted.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from assay.analyze.secrets.csource import credential_name, segments
from assay.analyze.secrets.redact import digest, redact, token
from assay.model import RawFinding, RuleId

CONFIG_SUFFIXES = (".conf", ".cfg", ".cnf", ".ini", ".env", ".properties")
"""Base-name endings of the configuration files read."""

_ASSIGNMENT = re.compile(
    rb"(?m)^[ \t]*(?:export[ \t]+)?([A-Za-z_][\w.-]{0,63})[ \t]*[=:][ \t]*"
    rb"(?:\"([^\"\n]*)\"|'([^'\n]*)'|([^\s\"'#;][^\s#;]*))[ \t]*(?:[#;].*)?\r?$"
)
_KEYWORDS = frozenset(
    {"none", "null", "nil", "true", "false", "yes", "no", "on", "off", "auto", "required",
     "optional", "disabled", "enabled", "default", "empty", "unset", "prompt", "ask"}
)  # fmt: skip
"""Values that configure how a credential is asked for, not the credential."""


def is_config(name: str) -> bool:
    """Is a file of this base name read as a configuration file?"""
    lowered = name.lower()
    return lowered.endswith(CONFIG_SUFFIXES) or lowered == ".env"


def config_credentials(source: bytes) -> Iterator[RawFinding]:
    """Credential names given a literal value in one configuration file."""
    for match in _ASSIGNMENT.finditer(source):
        name = match.group(1).decode("ascii")
        raw = next(g for g in match.groups()[1:] if g is not None)
        value = raw.decode("utf-8", "replace")
        if not credential_name(name.replace(".", "_").replace("-", "_")):
            continue
        if not _plausible(value):
            continue
        line = source.count(b"\n", 0, match.start(1)) + 1
        text = match.group(0).decode("utf-8", "replace").strip()[:200]
        message = (
            f"{name} is set to a literal {token(value)} in a configuration file: every device "
            "of the release starts with it; set it per device at provisioning or first boot"
        )
        props = {
            "name": name, "value_length": len(value), "value_sha256": digest(value),
            "words": segments(name), "config": True,
        }  # fmt: skip
        yield RawFinding(
            RuleId("secrets/credential-literal"), line, line, message, redact(text, [value]),
            None, props,
        )  # fmt: skip


def _plausible(value: str) -> bool:
    """Could a configuration value be a password or key (not a keyword, path or reference)?"""
    if not 4 <= len(value) <= 256 or not any(c.isalnum() for c in value):
        return False
    if value.startswith(("-", "/", "~", "$", "%", "<", "@", "{", "[")) or "://" in value:
        return False
    return value.lower() not in _KEYWORDS and "%s" not in value
