"""Ingest stage: turn a directory or a (possibly hostile) archive into a safe file inventory."""

from assay.ingest.interface import ArchiveLimits, IngestResult, SourceFile

__all__ = ["ArchiveLimits", "IngestResult", "SourceFile"]
