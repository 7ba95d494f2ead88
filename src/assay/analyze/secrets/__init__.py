"""``secrets``: hard-coded secrets and backdoor indicators.

Secrets: private keys (PEM, OpenSSH, PuTTY), certificates shipped with their key, password hashes
in account files, credential literals (in C/C++ and in configuration files) and credentials
compared with literals. Backdoor
indicators: hidden commands, magic debug modes, magic authentication bypasses and fixed-port
listeners on every interface. C/C++ files go through both the byte scan and the tree rules; other
text files through the byte scan only. Values are always redacted (``_secret_redact``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar

from assay.analyze.interface import AnalyzerFailure, Catalogued, Content, FileResult
from assay.analyze.secrets.backdoor import indicators
from assay.analyze.secrets.config import config_credentials, is_config
from assay.analyze.secrets.csource import compares
from assay.analyze.secrets.files import scan_bytes
from assay.analyze.secrets.index import SecretIndex
from assay.analyze.secrets.listen import listeners
from assay.analyze.secrets.literals import credential_literals, literal_compares
from assay.analyze.secrets.refs import references
from assay.ingest.interface import SourceFile
from assay.model import SOURCE_KINDS, FileKind, RawFinding, Rule
from assay.parse import ParsedFile
from assay.rules import rule_from_row, rule_table

ID = "secrets"
"""Analyzer and category id."""
VERSION = "3"
"""Bumped whenever results for the same input can change."""
MAX_TEXT_BYTES = 16 * 1024**2
"""Largest non-source text file read (key and account files are small)."""


@cache
def rules() -> tuple[Rule, ...]:
    """The documented rules of ``rules/secrets.toml``."""
    return tuple(rule_from_row(ID, row["key"], row) for row in rule_table("secrets.toml")["rules"])


def scan_source(parsed: ParsedFile) -> FileResult:
    """Every secret and backdoor rule on one parsed C/C++ file (path-free)."""
    found = scan_bytes(parsed.source, "")
    findings: list[RawFinding] = [*found.findings]
    findings += credential_literals(parsed)
    found_compares = list(compares(parsed))
    findings += literal_compares(parsed, found_compares)
    findings += indicators(parsed, found_compares)
    findings += listeners(parsed)
    return _result(findings, found.certificates, parsed.line_count, references(parsed.source))


def scan_content(content: Content) -> FileResult:
    """Keys, certificates and password hashes in one text file; credentials preset in a
    configuration file (``config.py``)."""
    if content.kind is not FileKind.TEXT:
        raise AnalyzerFailure("unsupported-kind", content.kind.value)
    found = scan_bytes(content.source, content.name)
    findings = list(found.findings)
    if is_config(content.name):
        findings += config_credentials(content.source)
    lines = content.source.count(b"\n") + (0 if content.source.endswith(b"\n") else 1)
    return _result(findings, found.certificates, lines, references(content.source))


def _result(
    findings: list[RawFinding], certificates: tuple[int, ...], lines: int, refs: tuple[str, ...]
) -> FileResult:
    ordered = tuple(sorted(findings, key=lambda f: (f.start_line, f.rule_id)))
    data = {"findings": ordered, "certificates": list(certificates), "lines": lines}
    if refs:
        data["refs"] = list(refs)
    return FileResult(data=data)


@dataclass(frozen=True, slots=True)
class Secrets(Catalogued):
    """The ``secrets`` analyzer: a picklable adapter; findings are emitted by the aggregator."""

    ID: ClassVar[str] = ID
    VERSION: ClassVar[str] = VERSION

    def rules(self) -> tuple[Rule, ...]:
        """Secret and backdoor rules."""
        return rules()

    def wants(self, file: SourceFile) -> bool:
        """C/C++ files, and text files up to ``MAX_TEXT_BYTES``."""
        if file.kind in SOURCE_KINDS:
            return True
        return file.kind is FileKind.TEXT and file.size <= MAX_TEXT_BYTES

    def analyze(self, parsed: ParsedFile) -> FileResult:
        """Byte scan and tree rules on one C/C++ file."""
        return scan_source(parsed)

    def analyze_content(self, content: Content) -> FileResult:
        """Byte scan of one text file."""
        return scan_content(content)

    def aggregator(self) -> SecretIndex:
        """A fresh aggregator that labels and emits the findings."""
        return SecretIndex()


def configure(settings: Mapping[str, Any]) -> Secrets:
    """The analyzer (no settings yet)."""
    del settings
    return Secrets()
