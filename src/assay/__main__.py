"""``python -m assay`` runs the command line."""

from assay.cli import main

# NOTE: the guard matters: worker processes started by forkserver/spawn import the main
# module again (as ``__mp_main__``), and must not start another evaluation.
if __name__ == "__main__":
    raise SystemExit(main())
