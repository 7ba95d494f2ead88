"""assay.correlate."""
