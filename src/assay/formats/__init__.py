"""assay.formats."""
