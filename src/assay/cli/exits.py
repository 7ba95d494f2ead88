"""The command line's exit codes, the same for every sub-command."""

from __future__ import annotations

OK = 0
"""Done: no finding at or above ``--fail-on``, every release of ``evaluate-many`` recorded."""
FAILED = 1
"""A finding at or above ``--fail-on`` exists, or a release of ``evaluate-many`` failed."""
ERROR = 2
"""A usage error, or an error that stopped the command (``AssayError``)."""
INTERRUPTED = 130
"""Interrupted (Ctrl-C): the shell's code for a process ended by SIGINT."""
CLOSED_OUTPUT = 141
"""The reader of the output went away (``assay rules | head``): the shell's code for a process
ended by SIGPIPE; nothing more is printed."""
