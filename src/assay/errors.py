"""One rooted exception tree. Only setup errors raise; per-file failures are ``Skipped`` data.

``Unreadable`` and ``FormatError`` are the exceptions whose instances become ``Skipped``
records: the first carries the record's reason and detail, the second says why the bytes of
one format (ELF, ``ar``, cpio, cramfs) cannot be read.
"""

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


class OutputDirError(AssayError):
    """The output directory cannot be used: it is (or holds) the input, it is not a writable
    directory, or another run holds it."""


class Unreadable(AssayError):
    """One file, archive or image cannot be processed; ``reason`` and ``detail`` make its
    ``Skipped`` record. The message is ``reason: detail`` (``reason`` without a detail)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail

    def __reduce__(self) -> tuple[type[Unreadable], tuple[str, str]]:
        """Pickle with both fields (the default would pass only the message back)."""
        return type(self), (self.reason, self.detail)


class FormatError(AssayError):
    """The bytes are not a readable instance of their format (ELF, ``ar``, cpio, cramfs)."""
