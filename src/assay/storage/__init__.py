"""Storage stage: the on-disk finding store of one evaluation (history comes later)."""
