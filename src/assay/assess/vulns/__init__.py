"""Vulnerability and end-of-life knowledge, and the assessment of each copy against it.

The parsers (``openssl``, ``curl``, ``mbedtls``, ``mbedtls_branches``, ``changelogs``,
``sqlite``, ``curated``, ``endoflife``, ``kev``) turn each publisher's format into the
``Advisory`` and ``Cycle`` records of ``model``; ``scripts/build_vulndb.py`` pins them into
``data/vulndb.json.gz``, which ``db`` reads back with the user's overlay (``osv`` imports OSV
records into it). ``match`` assesses each copy found by ``assay.correlate.components``, and
``findings`` turns the result into the ``vulnerabilities`` section and its findings.
"""
