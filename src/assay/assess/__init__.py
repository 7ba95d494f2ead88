"""assay.assess."""
