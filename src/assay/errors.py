"""One rooted exception tree. Only setup errors raise; per-file failures are ``Skipped`` data."""

from __future__ import annotations


class AssayError(Exception):
    """Root of every error assay raises on purpose."""


class ConfigError(AssayError):
    """Options or a configuration file are invalid."""


class IngestError(AssayError):
    """The input as a whole cannot be read (missing, unreadable, unsupported)."""


class AnalyzerError(AssayError):
    """An analyzer is misconfigured (e.g. an invalid rule file)."""


class StorageError(AssayError):
    """The finding store or the history database failed."""


class FormatError(AssayError):
    """The bytes are not a readable instance of their format (ELF, ``ar``, cpio, cramfs)."""
