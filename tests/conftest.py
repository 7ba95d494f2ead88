"""Fixtures shared by every test folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from assay import examples
from assay import sandbox as bwrap
from support import Run, run_evaluation


@pytest.fixture
def evaluate(tmp_path: Path) -> Callable[..., Run]:
    """``evaluate(input, **options)`` runs an evaluation into a fresh output directory."""
    counter = iter(range(1000))

    def _run(input: Path, **overrides: Any) -> Run:
        return run_evaluation(input, tmp_path / f"out{next(counter)}", **overrides)

    return _run


@pytest.fixture
def example_tree(tmp_path: Path) -> Path:
    """A fresh copy of the built-in example release."""
    return examples.materialise(tmp_path / "router")


@pytest.fixture(autouse=True)
def _isolated_user_data(tmp_path_factory: pytest.TempPathFactory, monkeypatch: Any) -> None:
    """Keep the developer's own knowledge-base overlays and history (user data directory) and
    result cache (user cache directory) out of tests; the download caches stay shared."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg-data")))
    monkeypatch.setenv("ASSAY_CACHE_DIR", str(tmp_path_factory.mktemp("results-cache")))


@pytest.fixture
def need_sandbox() -> None:
    """Fail (never skip) where the extraction sandbox cannot run: the extractors it confines are
    what the test is about. Modules use it as ``pytest.mark.usefixtures("need_sandbox")``."""
    problem = bwrap.available()
    if problem is not None:
        pytest.fail(f"the extraction sandbox does not work here: {problem}")
