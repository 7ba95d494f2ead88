"""Command line: parse arguments, build ``Options``, call the library, write files, exit code.

Exit codes (``assay.cli.exits``): 0 evaluated (no finding at or above ``--fail-on``), 1 a
finding at or above ``--fail-on`` exists (or a release of ``evaluate-many`` failed), 2 usage
error or an error that stopped the evaluation (one line ``assay: ...`` on stderr), 130
interrupted (Ctrl-C: one line ``assay: interrupted``).

Every sub-command lives in a module of this package whose ``register(sub)`` adds its parsers,
each setting ``run=handler(args) -> exit code``; ``main`` parses, dispatches, and turns an
``AssayError`` into exit code 2 with a one-line message.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
from collections.abc import Sequence
from typing import Protocol

from assay import __version__
from assay.cli import evaluate, exits, flags, history, kb, many, rebuild, rules
from assay.cli.terminal import printable
from assay.engine.worker import GC_THRESHOLDS
from assay.errors import AssayError

log = logging.getLogger("assay")


class _Command(Protocol):
    """A module that adds sub-commands: each parser sets ``run=handler(args) -> exit code``.

    Handlers raise ``AssayError`` for errors that stop the command (exit code 2).
    """

    def register(self, sub: flags.Subparsers) -> None:
        """Add the module's sub-command parsers to ``sub``."""


COMMANDS: tuple[_Command, ...] = (evaluate, kb, rules, many, history, rebuild)
"""The command modules, in the order ``assay --help`` lists their sub-commands."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="assay", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"assay {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in COMMANDS:
        module.register(sub)
    return parser


class _Printable(logging.Formatter):
    """``assay: message`` with the message made printable (``terminal.printable``): a logged
    name from the input can neither drive the terminal nor break the line."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one printable line (a traceback, if any, follows unchanged)."""
        record.msg, record.args = printable(record.getMessage()), None
        return super().format(record)


def _logging() -> None:
    """Warnings and errors to stderr, one printable line each."""
    if not logging.getLogger().handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_Printable("assay: %(message)s"))
        logging.basicConfig(level=logging.WARNING, handlers=[handler])


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (``assay.cli.exits``)."""
    _logging()
    try:
        return _dispatch(argv)
    except KeyboardInterrupt:  # wherever it arrives, from parsing the arguments on
        log.error("interrupted")
        return exits.INTERRUPTED
    except BrokenPipeError:  # the reader went away (`| head`): no traceback, no more output
        _silence_stdout()
        return exits.CLOSED_OUTPUT


def _silence_stdout() -> None:
    """Point standard output at /dev/null, so that the interpreter's flush at exit does not
    fail again on the closed pipe."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real descriptor (captured output): nothing to flush
        pass
    finally:
        os.close(devnull)


def _dispatch(argv: Sequence[str] | None) -> int:
    """Parse ``argv`` and run its command; an ``AssayError`` is one line and exit code 2."""
    args = _parser().parse_args(argv)
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        return int(args.run(args))
    except AssayError as exc:
        log.error("%s", exc)
        return exits.ERROR
