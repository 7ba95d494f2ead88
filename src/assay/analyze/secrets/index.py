"""The ``secrets`` aggregator: labels each path's findings test or product, pairs certificates
with their private keys, and counts per rule, context, directory and component.

``analyze`` is path-free, so the label is decided here: a path with a test-like directory
(``test``, ``tests``, ``fuzz``, ``demos``, ``examples``...) or a base name containing ``test`` is
test code; its findings carry ``context: "test"`` and drop to ``info``. Findings are few, so they
are kept until ``finish`` and emitted as (path, finding) pairs.

Keys, certificates and credentials in product context (``MATERIAL_RULES``) are not emitted here:
whether they are upstream sample material, and how the product uses them, needs the knowledge
base, which this layer cannot read. They go to the section under ``PENDING``, with the product
files' references to key files (``REFERENCES``), and the ``secrets`` assess step
(``assay.assess.samples``) labels, grades and emits them, and removes both keys.
"""

from __future__ import annotations

import posixpath
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import replace

from assay.analyze.interface import FileResult, PathContext
from assay.model import JSONValue, RawFinding, RuleId, Severity

TEST_DIRECTORIES = frozenset(
    [
        "test",
        "tests",
        "testing",
        "testdata",
        "test-data",
        "testsuite",
        "unittest",
        "unittests",
        "fuzz",
        "fuzzing",
        "fuzzer",
        "fuzzers",
        "demo",
        "demos",
        "example",
        "examples",
        "sample",
        "samples",
        "regress",
        "regression",
    ]
)
"""Directory names whose files are test code, test vectors or demonstrations."""
MATERIAL_RULES = frozenset(
    {
        "secrets/private-key-pem", "secrets/private-key-openssh", "secrets/private-key-putty",
        "secrets/certificate-with-key", "secrets/password-hash", "secrets/credential-literal",
        "secrets/literal-auth-compare",
    }
)  # fmt: skip
"""Rules whose product findings the assess step labels by their upstream origin."""
PENDING = "pending"
"""Section key of the findings left to the assess step."""
REFERENCES = "references"
"""Section key of the references product files make to key files and test-material tables."""
TEST_SEVERITY = Severity.INFO
"""Severity of every finding in test context (a test key does not ship in the product)."""
_NOT_TESTS = frozenset({"latest", "contest", "protest", "attest", "detest"})
_STEM_NOISE = re.compile(
    r"\.(pem|crt|cer|key|der|p12|pfx)$|key|cert|crt|priv(ate)?|pub(lic)?|[-_.]"
)
_PAIR_CLEARS = (
    "the certificate's private key ships with it, so anyone holding the release can impersonate "
    "the device: generate the key pair on each device and ship no private key"
)


def context_of(path: str) -> str:
    """``test`` for test, fuzz, demo and example code; ``product`` otherwise.

    A file is test code below a directory of ``TEST_DIRECTORIES``, or when a word of its base
    name starts or ends with ``test`` (``test_x.c``, ``x_unittest.c``; not ``latest.c``).
    """
    parts = path.lower().split("/")
    if any(part in TEST_DIRECTORIES for part in parts[:-1]):
        return "test"
    words = [w for w in re.split(r"[^a-z0-9]+", parts[-1]) if w not in _NOT_TESTS]
    return "test" if any(w.startswith("test") or w.endswith("test") for w in words) else "product"


def _stem(path: str) -> str:
    return _STEM_NOISE.sub("", posixpath.basename(path).lower())


class SecretIndex:
    """Collects labelled findings and certificate/key facts per path."""

    def __init__(self) -> None:
        self._found: list[tuple[str, str, RawFinding]] = []
        self._scopes: dict[str, tuple[str, str]] = {}
        self._certificates: dict[str, int] = {}
        self._keys: dict[str, list[str]] = defaultdict(list)
        self._lines: Counter[str] = Counter()
        self._unique_lines = 0
        self._refs: dict[str, list[list[str]]] = defaultdict(list)

    def add(self, ctx: PathContext, result: FileResult) -> None:
        """Label and keep one path's findings; note its certificates and keys."""
        context = context_of(ctx.path)
        self._lines[context] += int(result.data.get("lines", 0))
        findings: tuple[RawFinding, ...] = result.data.get("findings", ())
        if findings or result.data.get("certificates"):
            self._scopes[ctx.path] = (ctx.directory, ctx.scope)
        for raw in findings:
            self._found.append((ctx.path, context, raw))
            if raw.rule_id.startswith("secrets/private-key-"):
                self._keys[posixpath.dirname(ctx.path)].append(ctx.path)
        if certificates := result.data.get("certificates"):
            self._certificates[ctx.path] = certificates[0]
        if context == "product":
            for ref in result.data.get("refs", ()):
                self._refs[ref].append([ctx.path, ctx.scope])

    def add_unique(self, result: FileResult) -> None:
        """Count the lines of one distinct content."""
        self._unique_lines += int(result.data.get("lines", 0))

    def finish(self) -> tuple[Mapping[str, JSONValue], Iterable[tuple[str, RawFinding]]]:
        """The section summary and every finding, labelled, as (path, finding)."""
        self._found += self._pairs()
        self._found.sort(key=lambda f: (f[0], f[2].start_line, f[2].rule_id))
        held = [f for f in self._found if f[1] == "product" and f[2].rule_id in MATERIAL_RULES]
        self._found = [
            f for f in self._found if f[1] != "product" or f[2].rule_id not in MATERIAL_RULES
        ]
        pairs = [(path, _labelled(raw, context)) for path, context, raw in self._found]
        summary = self._summary()
        summary[PENDING] = [self._pending(path, raw) for path, _, raw in held]
        summary[REFERENCES] = {ref: sorted(paths) for ref, paths in sorted(self._refs.items())}
        return summary, pairs

    def _pending(self, path: str, raw: RawFinding) -> dict[str, JSONValue]:
        """A held-back product finding as section data (the assess step reads it back)."""
        directory, scope = self._scopes.get(path, (".", "(vendor)"))
        return {
            "path": path, "directory": directory, "scope": scope, "rule_id": raw.rule_id,
            "start_line": raw.start_line, "end_line": raw.end_line, "message": raw.message,
            "evidence": raw.evidence,
            "severity": raw.severity.label if raw.severity is not None else None,
            "properties": {**raw.properties, "context": "product"},
        }  # fmt: skip

    def _pairs(self) -> list[tuple[str, str, RawFinding]]:
        """A certificate with its private key in the same file or beside it (same stem)."""
        found: list[tuple[str, str, RawFinding]] = []
        for path, line in sorted(self._certificates.items()):
            keys = [
                k for k in self._keys.get(posixpath.dirname(path), ())
                if k == path or _stem(k) == _stem(path)
            ]  # fmt: skip
            if keys:
                key = path if path in keys else sorted(keys)[0]
                where = (
                    "in the same file" if key == path else f"beside it ({posixpath.basename(key)})"
                )
                message = f"certificate with its private key {where}: {_PAIR_CLEARS}"
                raw = RawFinding(
                    RuleId("secrets/certificate-with-key"), line, line, message,
                    f"certificate; private key {where}", None, {"key_path": key},
                )  # fmt: skip
                found.append((path, context_of(path), raw))
        return found

    def _summary(self) -> dict[str, JSONValue]:
        by_rule: dict[str, Counter[str]] = defaultdict(Counter)
        by_directory: dict[str, Counter[str]] = defaultdict(Counter)
        by_component: dict[str, Counter[str]] = defaultdict(Counter)
        for path, context, raw in self._found:
            directory, scope = self._scopes.get(path, (".", "(vendor)"))
            by_rule[raw.rule_id][context] += 1
            by_directory[directory][context] += 1
            by_component[scope][context] += 1
        totals = Counter(context for _, context, _ in self._found)
        product_lines = self._lines["product"]
        return {
            "findings": {"product": totals["product"], "test": totals["test"]},
            "lines_scanned": {
                "product": product_lines, "test": self._lines["test"],
                "unique": self._unique_lines,
            },
            "product_per_100k_lines": round(1e5 * totals["product"] / product_lines, 3)
            if product_lines else 0.0,
            "by_rule": _table(by_rule),
            "by_directory": _table(by_directory),
            "by_component": _table(by_component),
        }  # fmt: skip


def _table(counts: Mapping[str, Counter[str]]) -> dict[str, JSONValue]:
    return {
        key: {"product": counts[key]["product"], "test": counts[key]["test"]}
        for key in sorted(counts)
    }


def _labelled(raw: RawFinding, context: str) -> RawFinding:
    severity = TEST_SEVERITY if context == "test" else raw.severity
    return replace(raw, severity=severity, properties={**raw.properties, "context": context})
