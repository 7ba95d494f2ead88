"""Binary components against the knowledge base and the source: the ``binaries`` section's
second half, completed by the ``BinariesStep`` once the source copies are known.

:func:`compare` matches every library version found in binaries with the copies found in the
source; :func:`complete` adds the OS, the vulnerabilities and end of life of the binary
components and the toolchains, and returns the findings as (path, finding) pairs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from assay.analyze.binaries import signatures
from assay.analyze.binaries.findings import CATEGORY
from assay.analyze.binaries.system import C_LIBRARIES
from assay.assess import system
from assay.assess.vulns.db import VulnDB
from assay.assess.vulns.match import UNRATED, Assessment, Support, assess
from assay.correlate.step import Corpus, StepResult
from assay.model import SOURCE_KINDS, Component, JSONValue, RawFinding, Rule, RuleId, Severity

_GCC = re.compile(r"^GCC: \(.*?\) (?P<version>\d+\.\d+(?:\.\d+)?)")
_CLANG = re.compile(r"clang version (?P<version>\d+\.\d+(?:\.\d+)?)")
_SEVERITY = {"critical": Severity.CRITICAL, "high": Severity.HIGH, "moderate": Severity.MEDIUM,
             "medium": Severity.MEDIUM, "low": Severity.LOW}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Match:
    """One binary component and the source copies of the same library."""

    name: str
    """Library."""
    version: str
    """Version found in the binary."""
    path: str
    """First binary that holds it."""
    source: tuple[str, ...]
    """Keys of the source copies of the same library (any version)."""
    matched: tuple[str, ...]
    """Keys of the source copies of the same version."""


def compare(found: Sequence[Component], binary: Sequence[Mapping[str, Any]]) -> list[Match]:
    """Match each versioned, non-toolchain binary component with the source copies."""
    skip = signatures.toolchain_libraries()
    out = []
    for item in binary:
        name, version = item["name"], item["version"]
        if not version or name in skip:
            continue
        same = [c for c in found if c.name == name]
        matched = [c.key for c in same if c.version == version or version in c.candidates]
        out.append(Match(name, version, item["paths"][0], tuple(c.key for c in same),
                         tuple(matched)))  # fmt: skip
    return out


def _mismatch(match: Match) -> RawFinding:
    if match.source:
        why = f"the source holds {', '.join(match.source)}"
    else:
        why = "the source holds no copy of it"
    return RawFinding(
        rule_id=RuleId(f"{CATEGORY}/source-mismatch"), start_line=1, end_line=1,
        message=f"{match.name} {match.version} in the binary, but {why}: the shipped binary "
                "does not come from the reviewed source",
        evidence=f"{match.name} {match.version}",
        properties={"library": match.name, "version": match.version,
                    "source_copies": list(match.source)},
    )  # fmt: skip


def _verdicts(item: Mapping[str, Any], result: Assessment) -> Iterator[RawFinding]:
    name, version = item["name"], item["version"]
    for hit in result.hits:
        severity = _SEVERITY.get((hit.severity or "").lower(), Severity.MEDIUM)
        if hit.exploited:
            severity = max(severity, Severity.HIGH)
        fixed = f"; fixed in {hit.fixed_in}" if hit.fixed_in else ""
        unrated = "" if hit.severity else f"; {UNRATED}"
        yield RawFinding(
            rule_id=RuleId(f"{CATEGORY}/known-cve"), start_line=1, end_line=1,
            message=f"{name} {version} (in the binary): {hit.id}{fixed}{unrated}",
            evidence=f"{name} {version} {hit.id}", severity=severity,
            properties={"cve": hit.id, "fixed_in": hit.fixed_in, "exploited": hit.exploited},
        )  # fmt: skip
    operating_system = name == "linux" or name in C_LIBRARIES
    if result.support in (Support.END_OF_LIFE, Support.PAID_ONLY) and not operating_system:
        yield _eol(f"{name} {version}", result.cycle, result.since, result.support.value,
                   result.reason)  # fmt: skip


def _eol(
    what: str, cycle: str | None, since: str | None, status: str, reason: str = "",
    rule: str = "end-of-life",
) -> RawFinding:  # fmt: skip
    branch = f"branch {cycle} " if cycle else ""
    why = f" ({reason})" if reason else ""
    return RawFinding(
        rule_id=RuleId(f"{CATEGORY}/{rule}"), start_line=1, end_line=1,
        message=f"{what}: {branch}{status} since {since or 'a date the data does not give'}{why}",
        evidence=f"{what} {branch}".strip(), properties={"cycle": cycle, "since": since},
    )  # fmt: skip


def toolchain(entry: str) -> tuple[str, str] | None:
    """(compiler, version) of a ``.comment`` entry, for GCC and clang."""
    for name, pattern in (("gcc", _GCC), ("clang", _CLANG)):
        match = pattern.search(entry)
        if match:
            return name, match.group("version")
    return None


def _toolchains(
    section: Mapping[str, Any], known: VulnDB
) -> tuple[dict[str, JSONValue], list[tuple[str, RawFinding]]]:
    out: dict[str, JSONValue] = {}
    pairs = []
    for entry, info in section.get("toolchains", {}).items():
        parsed = toolchain(entry)
        support: JSONValue = "unknown"
        if parsed is not None:
            support = system.end_of_life(parsed[0], parsed[1], known)
            if isinstance(support, dict) and support["status"] == Support.END_OF_LIFE.value:
                finding = RawFinding(
                    rule_id=RuleId(f"{CATEGORY}/toolchain-end-of-life"), start_line=1,
                    end_line=1, message=f"built with {entry}, past its end of life",
                    evidence=entry, properties={"compiler": parsed[0], "version": parsed[1]},
                )  # fmt: skip
                pairs.append((info["first"], finding))
        out[entry] = {**info, "compiler": parsed[0] if parsed else None,
                      "version": parsed[1] if parsed else None, "support": support}  # fmt: skip
    return out, pairs


def complete(
    section: Mapping[str, Any], found: Sequence[Component], known: VulnDB, has_source: bool
) -> tuple[dict[str, Any], list[tuple[str, RawFinding]]]:
    """The finished section and its corpus-level findings (path, finding)."""
    items = list(section.get("components", []))
    pairs: list[tuple[str, RawFinding]] = []
    verdicts: dict[str, JSONValue] = {}
    for item in items:
        probe = Component(item["name"], item["version"], item["paths"][0])
        result = assess(probe, known)
        verdicts[f"{item['name']}@{item['version'] or '?'}"] = {
            "support": result.support.value, "cycle": result.cycle, "since": result.since,
            "cves": [{"id": h.id, "severity": h.severity, "fixed_in": h.fixed_in,
                      "exploited": h.exploited, "source": h.source} for h in result.hits],
            "unbounded": list(result.unbounded),
        }  # fmt: skip
        pairs.extend((item["paths"][0], f) for f in _verdicts(item, result))
    triples = [(i["name"], i["version"], i["paths"][0]) for i in items]
    described = system.describe(section.get("release_files", {}),
                                section.get("module_kernels", []), triples, known)  # fmt: skip
    pairs.extend(_os_findings(described, section))
    matches = compare(found, items) if has_source else []
    pairs.extend((m.path, _mismatch(m)) for m in matches if not m.matched)
    tools, tool_pairs = _toolchains(section, known)
    pairs.extend(tool_pairs)
    done = {
        **section, "toolchains": tools, "os": described, "assessment": verdicts,
        "source_match": {
            "compared": has_source,
            "matched": [{"name": m.name, "version": m.version, "copies": list(m.matched)}
                        for m in matches if m.matched],
            "mismatched": [{"name": m.name, "version": m.version, "path": m.path,
                            "source_copies": list(m.source)} for m in matches if not m.matched],
        },
    }  # fmt: skip
    return done, pairs


def _os_findings(
    described: Mapping[str, Any], section: Mapping[str, Any]
) -> Iterator[tuple[str, RawFinding]]:
    """End of life of the operating system: kernel, C library and distribution."""
    for key in ("kernel", "libc", "distribution"):
        part = described.get(key)
        if not part or part["support"]["status"] != Support.END_OF_LIFE.value:
            continue
        path = part.get("evidence") or _first_path(section, part.get("name", "linux")) or "."
        name = part.get("name", "linux")
        yield path, _eol(f"{name} {part['version']}", part["support"]["cycle"],
                         part["support"]["eol"], Support.END_OF_LIFE.value,
                         part["support"]["reason"], "os-end-of-life")  # fmt: skip


def _first_path(section: Mapping[str, Any], name: str) -> str | None:
    """A path that shows the component: its binary, else (kernel) a module below lib/modules."""
    for item in section.get("components", []):
        if item["name"] == name:
            return str(item["paths"][0])
    if name != "linux":
        return None
    modules = section.get("module_kernels", {})
    return str(modules[min(modules)]) if modules else None


@dataclass(frozen=True, slots=True)
class BinariesStep:
    """Completes the binaries analyzer's section: the OS, the binary components' and
    toolchains' vulnerabilities and support, and their match with the source copies."""

    known: VulnDB

    @property
    def id(self) -> str:
        """The category it shares with the binaries analyzer."""
        return CATEGORY

    def rules(self) -> tuple[Rule, ...]:
        """None of its own: it reports under the binaries analyzer's rules."""
        return ()

    def run(self, corpus: Corpus) -> StepResult:
        """The completed section and its findings; nothing when the analyzer did not run."""
        section = corpus.sections.get(CATEGORY)
        if section is None:
            return StepResult()
        has_source = any(f.kind in SOURCE_KINDS for f in corpus.files)
        done, pairs = complete(section, corpus.components, self.known, has_source)
        return StepResult(sections={CATEGORY: done}, findings=tuple(pairs))
