"""Vulnerability and end-of-life knowledge: parsers of public data into one record type.

Not yet wired into the engine (issue 4): the parsers turn each publisher's format into
``Advisory`` and ``Cycle`` records, which a builder will pin into package data.
"""
