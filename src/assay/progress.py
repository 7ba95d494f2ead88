"""Progress observers. The engine reports; the CLI decides how (or whether) to show it."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """Receives progress events from the engine. Every method must be cheap."""

    def stage(self, name: str, total: int | None = None) -> None:
        """A new stage starts; ``total`` units of work when known."""

    def advance(self, units: int = 1) -> None:
        """``units`` of the current stage are done."""

    def done(self) -> None:
        """The evaluation is finished."""


class NullProgress:
    """The default observer: ignores everything."""

    def stage(self, name: str, total: int | None = None) -> None:
        """Ignore."""

    def advance(self, units: int = 1) -> None:
        """Ignore."""

    def done(self) -> None:
        """Ignore."""
