"""Imported first by the fork server (``engine._PRELOAD``): Ctrl-C ends it and its children
quietly.

A Ctrl-C at a terminal interrupts the whole process group: the command, which says
``assay: interrupted`` once, but also the fork server, which would print a traceback while it
is still importing its preload modules, and every worker and reporter process it starts
(they inherit the handler the fork server had before it began ignoring SIGINT itself). This
module's import installs a SIGINT handler that ends such a process at once, with the shell's
code 130 and nothing printed; the command's own process never imports it.
"""

from __future__ import annotations

import os
import signal
from types import FrameType

INTERRUPTED = 130
"""The exit status of a process ended by Ctrl-C."""


def _exit_quietly(signum: int, frame: FrameType | None) -> None:
    """End the process at once, without a traceback (the command reports the interrupt)."""
    del signum, frame
    os._exit(INTERRUPTED)


signal.signal(signal.SIGINT, _exit_quietly)
