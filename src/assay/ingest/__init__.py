"""Ingest stage: turn a directory or a (possibly hostile) archive into a safe file inventory.

``ingest`` (in ``tree``) is the stage's entry point; ``classify`` says what a file is and
``archive`` extracts tar and zip archives member by member, within caps, into the work area.
"""

from assay.ingest.interface import ArchiveLimits, IngestResult, SourceFile
from assay.ingest.tree import ingest

__all__ = ["ArchiveLimits", "IngestResult", "SourceFile", "ingest"]
