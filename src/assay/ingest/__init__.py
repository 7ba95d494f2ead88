"""Ingest stage: turn a directory or a (possibly hostile) archive into a safe file inventory.

``ingest`` (in ``tree``) is the stage's entry point; ``classify`` says what a file is;
``archive`` extracts tar, zip, cpio (``cpio``) and cramfs (``cramfs``) member by member, within
caps, into the work area; ``images`` unpacks squashfs and ext images with their own tools in the
sandbox. docs/ingest.md lists every format, cap and ``Skipped`` reason.
"""

from assay.ingest.interface import ArchiveLimits, IngestResult, SourceFile
from assay.ingest.tree import ingest

__all__ = ["ArchiveLimits", "IngestResult", "SourceFile", "ingest"]
