"""Fixtures for tests on real upstream releases, downloaded as Debian source packages.

The ``upstream`` fixture downloads (once, then from the cache; see ``tools/upstream.py``)
and returns an unpacked release. Nothing here is skipped: when a download fails the test
fails, so CI really runs these tests.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

_TOOLS = Path(__file__).resolve().parents[2] / "tools"
if str(_TOOLS) not in sys.path:
    sys.path.insert(0, str(_TOOLS))

import upstream as _upstream  # noqa: E402  (tools/ is a plain script folder)

Release = _upstream.Release


@pytest.fixture(scope="session")
def upstream() -> Callable[[str], Release]:
    """Return ``get(spec) -> Release`` for specs like ``"curl/bookworm"``; fails if unavailable."""
    seen: dict[str, Release] = {}

    def get(spec: str) -> Release:
        if spec not in seen:
            releases = _upstream.fetch([spec])
            if not releases:
                pytest.fail(f"could not download upstream release {spec} (see stderr)")
            seen[spec] = releases[0]
        return seen[spec]

    return get
