"""assay: evaluate a vendor's software release the way a national evaluation centre does."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
