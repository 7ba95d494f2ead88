"""assay rebuild: build the source twice in a sandbox and prove, or disprove, equivalence."""
