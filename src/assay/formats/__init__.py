"""Binary formats read by more than one stage, each by one bounded reader.

``ar`` (static libraries) and ``elf`` (executables, shared objects, kernel modules) are read
by the binaries analyzer and by ``assay rebuild`` through the same code: every count, size and
offset in the input is checked against the bytes present and against a cap before it is used,
and a malformed file raises a ``FormatError`` (``assay.errors``), never something else.
"""
