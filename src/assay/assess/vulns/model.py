"""The records every vulnerability and end-of-life source is parsed into."""

from __future__ import annotations

from dataclasses import dataclass

from assay.versions import Range

__all__ = ["OPEN", "Advisory", "Cycle", "Range"]

OPEN = "open"
"""``Cycle.extended_support`` of paid support that goes on with no announced end."""


@dataclass(frozen=True, slots=True)
class Advisory:
    """One vulnerability of one library."""

    id: str
    """CVE id (or the publisher's id when there is no CVE)."""
    library: str
    """Lower-case library name as in components (``openssl``, ``curl``, ``zlib``)."""
    ranges: tuple[Range, ...]
    """Affected ranges; a version is affected when it falls in any of them."""
    source: str
    """Which data set the record comes from (``openssl-secjson``, ``curl-vuln.pm``, ...)."""
    reference: str
    """Where a reader can check it (file in the data set, or URL the publisher gives)."""
    severity: str | None = None
    """Publisher's severity (``low``, ``moderate``, ``high``, ``critical``...) when given."""
    cwe: str | None = None
    """CWE id when given (``CWE-787``)."""
    summary: str = ""
    """One-line description."""
    withdrawn: bool = False
    """True for rejected / retracted / "not a bug" records, kept so they can suppress others."""
    date: str | None = None
    """ISO date the source first records a fix (Debian changelogs), when known."""


@dataclass(frozen=True, slots=True)
class Cycle:
    """One release cycle (branch) of a library and its support policy."""

    library: str
    """Lower-case library name."""
    cycle: str
    """Branch, e.g. ``1.1.1`` or ``3.0``."""
    released: str | None = None
    """ISO date of the cycle's first release."""
    eol: str | None = None
    """ISO date after which the cycle gets no public fixes; ``None`` while supported."""
    extended_support: str | None = None
    """ISO date until which fixes exist only for paying customers (OpenSSL 1.0.2, 1.1.1), or
    ``OPEN`` when such support goes on with no announced end."""
    lts: bool = False
    """Long-term support branch."""
    latest: str | None = None
    """Latest release of the cycle, when the source says."""
    source: str = ""
    """Which data set the record comes from."""
    eol_estimated: bool = False
    """The source gives ``eol`` as its estimate (a planned end), not as a stated end."""
