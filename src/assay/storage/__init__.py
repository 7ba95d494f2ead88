"""Storage stage: the finding store of one evaluation (``findings``) and the history of a
product's evaluations across releases (``history``)."""
