"""Per-binary findings from ELF facts: hardening, RPATH, unbounded imports, leaked strings."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from assay.analyze.binaries.elf import ElfFacts
from assay.analyze.calltable import CallTable
from assay.model import JSONValue, RawFinding, RuleId, Severity

CATEGORY = "binaries"
"""Category (and analyzer) id."""
FORTIFIABLE = frozenset(
    {
        "memcpy", "mempcpy", "memmove", "memset", "strcpy", "stpcpy", "strncpy", "stpncpy",
        "strcat", "strncat", "sprintf", "snprintf", "vsprintf", "vsnprintf", "printf", "fprintf",
        "vprintf", "vfprintf", "gets", "fgets", "read", "pread", "recv", "recvfrom", "realpath",
        "wcscpy", "wcsncpy", "wcscat", "wmemcpy", "readlink", "getcwd", "confstr", "syslog",
    }
)  # fmt: skip
"""Functions ``_FORTIFY_SOURCE`` has ``__*_chk`` variants of (glibc)."""
_RISKY_RPATH = ("/tmp", "/var/tmp", "/dev/shm", "/home/", "/mnt/", "/media/")


def _finding(
    rule: str, message: str, evidence: str, severity: Severity | None = None, **extra: JSONValue
) -> RawFinding:
    """A finding of a whole binary (line 1), with ``extra`` as properties."""
    return RawFinding(
        rule_id=RuleId(f"{CATEGORY}/{rule}"), start_line=1, end_line=1, message=message,
        evidence=evidence, severity=severity, properties=extra,
    )  # fmt: skip


def hardening(facts: ElfFacts) -> Iterator[RawFinding]:
    """Missing NX, PIE, RELRO, canary and FORTIFY of a linked binary."""
    if not facts.is_linked:
        return
    if facts.nx is False:
        yield _finding("missing-nx", "executable stack (no NX)", "PT_GNU_STACK executable")
    if facts.pie is False:
        yield _finding("missing-pie", "executable is not position-independent", "ET_EXEC")
    if facts.relro == "none":
        yield _finding("missing-relro", "no RELRO: the GOT stays writable", "no PT_GNU_RELRO")
    elif facts.relro == "partial":
        yield _finding("partial-relro", "partial RELRO (no BIND_NOW)", "PT_GNU_RELRO, lazy")
    if facts.canary is False:
        yield _finding("missing-canary", "no stack protector", "no __stack_chk_fail")
    checkable = sorted(FORTIFIABLE.intersection(facts.imports))
    if checkable and not facts.fortified:
        names = ", ".join(checkable[:8])
        yield _finding(
            "missing-fortify", f"no FORTIFY_SOURCE: imports {names} without __*_chk variants",
            "no __*_chk imports", functions=list(checkable),
        )  # fmt: skip


def rpath(facts: ElfFacts) -> Iterator[RawFinding]:
    """One finding for the RPATH/RUNPATH entries; high when an entry looks writable."""
    if not facts.rpath:
        return
    risky = [p for p in facts.rpath if _risky(p)]
    joined = ":".join(facts.rpath)
    more = len(facts.rpath) < facts.rpath_total
    count = f" (the first {len(facts.rpath)} of {facts.rpath_total} entries)" if more else ""
    yield _finding(
        "rpath",
        f"RPATH/RUNPATH {joined}{count}" + (f" (risky: {':'.join(risky)})" if risky else ""),
        joined, entries=list(facts.rpath), risky=risky,
        severity=Severity.HIGH if risky else None,
    )  # fmt: skip


def _risky(entry: str) -> bool:
    """Empty, relative, or below a world-writable or user directory."""
    if not entry or not entry.startswith(("/", "$ORIGIN", "${ORIGIN}")):
        return True
    return entry.startswith(_RISKY_RPATH)


def unbounded(imports: Iterable[str], table: CallTable) -> Iterator[RawFinding]:
    """One finding per imported unbounded function of the unsafe-calls table."""
    for name in sorted(set(imports) & table.unbounded):
        row = table.index[name]
        yield _finding(
            "unbounded-import", f"imports unbounded {name} ({row.family})", f"import {name}",
            function=name, family=row.family, severity=row.severity,
            alternative=row.alternative,
        )  # fmt: skip


def leaks(build_paths: Iterable[str], timestamps: Iterable[str]) -> Iterator[RawFinding]:
    """Build-machine paths and compile dates found in the strings."""
    for path in build_paths:
        yield _finding("build-path", f"build path {path}", path)
    for stamp in timestamps:
        yield _finding("timestamp", f"compile date {stamp}", stamp)


def of_elf(facts: ElfFacts, table: CallTable) -> tuple[RawFinding, ...]:
    """Every per-binary finding of one ELF file."""
    return (
        *hardening(facts),
        *rpath(facts),
        *unbounded(facts.imports, table),
        *leaks(facts.build_paths, facts.timestamps),
    )
