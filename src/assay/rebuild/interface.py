"""Types of the rebuild stage: build conditions, build outcomes, artefact comparisons, causes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from assay.errors import AssayError


class RebuildError(AssayError):
    """The rebuild cannot start (no sandbox, no source, bad arguments)."""


class Verdict(StrEnum):
    """How two versions of one artefact compare."""

    IDENTICAL = "identical"
    EQUIVALENT = "equivalent-after-normalisation"
    DIFFERENT = "different"
    MISSING = "missing"


@dataclass(frozen=True, slots=True)
class Variation:
    """The conditions of one build; a reproducible build must not depend on any of them."""

    label: str
    """``rebuild-1`` or ``rebuild-2``."""
    directory: str
    """Name of the build copy's directory (the two differ in name and length)."""
    source_date_epoch: int | None
    """``SOURCE_DATE_EPOCH`` exported to the build, or None for unset."""
    tz: str
    """``TZ``."""
    locale: str
    """``LC_ALL`` and ``LANG``."""
    umask: str
    """umask set before the command."""
    hostname: str
    """Host name inside the sandbox."""
    uid: int
    """User and group id inside the sandbox."""
    env_reversed: bool
    """The environment is passed in reverse order."""


@dataclass(frozen=True, slots=True)
class Build:
    """How one build ended and where its copy is."""

    variation: Variation
    """The conditions it ran under."""
    root: Path
    """The build copy (the command's working directory)."""
    status: str
    """``ok``, ``failed`` (non-zero exit) or ``timed-out``."""
    returncode: int | None
    """Exit status; None when killed on timeout."""
    duration: float
    """Wall-clock seconds."""
    log_tail: str
    """The last lines of stderr then stdout, for the report."""

    @property
    def ok(self) -> bool:
        """The command exited with status 0."""
        return self.status == "ok"


@dataclass(frozen=True, slots=True)
class Side:
    """One version of an artefact: where it came from and what build path it was made in."""

    label: str
    """``rebuild-1``, ``rebuild-2`` or ``shipped``."""
    path: Path
    """The file."""
    build_root: str | None = None
    """The absolute build directory, when known (rebuilds only)."""
    hostname: str | None = None
    """The build's host name, when known."""
    provenance: str | None = None
    """Where the file comes from when it does not say (e.g. the Debian suite and its compiler)."""
    patches: tuple[str, ...] = ()
    """Patches applied to the source it was built from, each with the compiled files it touches."""


@dataclass(frozen=True, slots=True)
class Cause:
    """A named reason for a difference, with the bytes or facts that show it."""

    kind: str
    """``date-time``, ``build-path``, ``host-name``, ``archive-metadata``, ``ordering``,
    ``toolchain``, ``flags``, ``distribution-patches`` or ``randomness`` (none of the others)."""
    evidence: tuple[str, ...]
    """Short, human-readable facts (strings found, section names, versions)."""


@dataclass(frozen=True, slots=True)
class Comparison:
    """One artefact pair compared."""

    artefact: str
    """Path of the artefact relative to the source root."""
    left: str
    """Label of the first side."""
    right: str
    """Label of the second side."""
    verdict: Verdict
    """Identical, equivalent after normalisation, different or missing."""
    format: str
    """``elf``, ``ar``, ``text`` or ``binary``."""
    sha256: tuple[str, str]
    """Hashes of the two files ('' for a missing side)."""
    ignored: tuple[str, ...] = ()
    """Each normalisation that was needed, as ``what: why it is harmless``."""
    differences: tuple[str, ...] = ()
    """Sections, members or lines that differ."""
    functions: tuple[str, ...] = ()
    """Functions whose bytes differ (from the symbol table), where symbols allow."""
    causes: tuple[Cause, ...] = ()
    """Why they differ."""
    diffoscope: str | None = None
    """diffoscope's text output, when installed and the pair differs."""

    @property
    def equivalent(self) -> bool:
        """Identical or equivalent after normalisation."""
        return self.verdict in (Verdict.IDENTICAL, Verdict.EQUIVALENT)
