"""Shipped binaries: ELF facts, components inside binaries, the operating system, and the
comparison of binary components with the copies found in the source.

Every module here is a pure function of bytes, names or records; the ``binaries`` analyzer
(``assay.analyzers.binaries``) is the thin adapter the engine runs.
"""
