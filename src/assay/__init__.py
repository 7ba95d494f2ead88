"""assay: evaluate a vendor's software release the way a national evaluation centre does.

Used as a library::

    from pathlib import Path
    import assay

    if __name__ == "__main__":  # worker processes import the main module: guard what runs
        options = assay.load_options(Path("release.tar.gz"), Path("out"), assay.read_config(None))
        result = assay.run(options, recording=assay.Recording(product="router", release="1.0"))
        print(result.evaluation.rating["verdict"], result.written)

``run`` is the whole sequence of the command line (evaluate, baseline, rate, trend, write
evaluation.json, results.sarif, report.html and sbom.cdx.json, record in the history);
``evaluate`` only evaluates (findings go to the output directory's finding store). The names
below are imported on first use, so ``import assay`` stays cheap and every submodule can import
``assay`` for ``__version__``.
"""

from __future__ import annotations

from importlib import import_module

__version__ = "0.1.0"

TYPE_CHECKING = False  # ``typing.TYPE_CHECKING`` without importing ``typing`` (mypy knows it)
if TYPE_CHECKING:
    from typing import Any

    from assay.config import Options as Options
    from assay.config import load as load_options
    from assay.config import read_config as read_config
    from assay.engine import evaluate as evaluate
    from assay.errors import AssayError as AssayError
    from assay.model import Evaluation as Evaluation
    from assay.model import Severity as Severity
    from assay.pipeline import Recording as Recording
    from assay.pipeline import Result as Result
    from assay.pipeline import run as run

_LAZY = {
    "AssayError": ("assay.errors", "AssayError"),
    "Evaluation": ("assay.model", "Evaluation"),
    "Options": ("assay.config", "Options"),
    "Recording": ("assay.pipeline", "Recording"),
    "Result": ("assay.pipeline", "Result"),
    "Severity": ("assay.model", "Severity"),
    "evaluate": ("assay.engine", "evaluate"),
    "load_options": ("assay.config", "load"),
    "read_config": ("assay.config", "read_config"),
    "run": ("assay.pipeline", "run"),
}
"""Public name -> (module, attribute), imported when first asked for."""

__all__ = [
    "AssayError",
    "Evaluation",
    "Options",
    "Recording",
    "Result",
    "Severity",
    "__version__",
    "evaluate",
    "load_options",
    "read_config",
    "run",
]


def __getattr__(name: str) -> Any:
    """The public names of ``__all__``, imported lazily (PEP 562)."""
    try:
        module, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'assay' has no attribute {name!r}") from None
    value = getattr(import_module(module), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """Module attributes, the lazy ones included."""
    return sorted({*globals(), *_LAZY})
