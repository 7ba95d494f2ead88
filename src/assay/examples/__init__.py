"""The built-in example release: a small router firmware source tree with typical problems."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

from assay.errors import AssayError


def materialise(dest: Path) -> Path:
    """Copy the example tree to ``dest`` (replacing an older copy) and return it."""
    source = resources.files("assay.examples") / "router"
    try:
        if dest.exists() or dest.is_symlink():
            shutil.rmtree(dest)  # refuses a symbolic link: nothing outside is deleted
        with resources.as_file(source) as tree:
            shutil.copytree(tree, dest)
    except OSError as exc:
        raise AssayError(f"cannot write the example to {dest}: {exc}") from exc
    return dest
