"""Every crash the fuzzing harness found, pinned with its exact bytes (fixed here, never
generated): each input now ends as a record, and the run goes on.

1. ``bench/fuzz.py --examples 15000 --seed 7 --target archives`` flipped bit 6 of the "version
   needed to extract" byte in a zip's central directory (2.0 -> 8.4): ``zipfile`` raised
   ``NotImplementedError``, which no reader caught, and the whole ingest of the directory
   failed. The same error comes from a member flagged "strong encryption" (flag bit 6) when
   it is opened; both are now ``corrupt-archive`` records.
2. ``bench/fuzz.py --examples 4000 --seed 11 --target archives`` cut a zip so that a central
   directory entry had an empty name: ``ZipInfo.is_dir()`` indexes the name's last character
   and raised ``IndexError``. An empty name is now a ``bad-name`` record, like in a tar.
"""

from __future__ import annotations

import pytest
from fuzz_targets import check_ingest

ZIP_VERSION_84 = bytes.fromhex(
    "504b03041400000000000000215062f6ae88070000000700000003000000612e63696e7420613b0a"
    "504b010214035400000000000000215062f6ae880700000007000000030000000000000000000000"
    "800100000000612e63504b0506000000000100010031000000280000000000"
)
"""One stored member ``a.c``; its central directory entry needs "version 8.4" to extract."""
ZIP_STRONG_ENCRYPTION = bytes.fromhex(
    "504b03041400000000000000215062f6ae88070000000700000003000000612e63696e7420613b0a"
    "504b010214031400400000000000215062f6ae880700000007000000030000000000000000000000"
    "800100000000612e63504b0506000000000100010031000000280000000000"
)
"""The same archive with the central directory's flag bit 6 (strong encryption) set."""
ZIP_EMPTY_NAME = bytes.fromhex(
    "504b0304140000000000000021509d6e599b07000000070000000100000078696e7420783b0a"
    "504b01021403140000000000000021509d6e599b0700000007000000000000000000000000000000"
    "800100000000504b050600000000010001002e000000260000000000"
)
"""One member whose local header names it ``x`` and whose central directory entry has no name."""


@pytest.mark.parametrize(
    ("data", "detail"),
    [
        (ZIP_VERSION_84, "cannot open zip archive: zip file version 8.4"),
        (ZIP_STRONG_ENCRYPTION, "at member 'a.c': strong encryption (flag bit 6); "),
    ],
    ids=["version-8.4", "strong-encryption"],
)
def test_zip_that_zipfile_does_not_implement_is_a_record(data: bytes, detail: str) -> None:
    # check_ingest puts the bytes in a directory, ingests it and checks nothing outside the
    # work area changed and the caps held.
    result = check_ingest("fw.zip", data)
    assert result is not None
    assert [f.path for f in result.files] == ["fw.zip"]
    (record,) = result.skipped
    assert (record.path, record.reason) == ("fw.zip", "corrupt-archive")
    assert record.detail.startswith(detail)


def test_the_crashing_zips_as_the_input() -> None:
    # An archive that cannot be opened at all is the input's one error line (IngestError);
    # one that opens but fails at a member is that member's record.
    assert check_ingest("fw.zip", ZIP_VERSION_84, as_input=True) is None
    result = check_ingest("fw.zip", ZIP_STRONG_ENCRYPTION, as_input=True)
    assert result is not None and result.files == ()
    assert [(s.path, s.reason) for s in result.skipped] == [("", "corrupt-archive")]


def test_zip_member_with_an_empty_name_is_a_record() -> None:
    result = check_ingest("fw.zip", ZIP_EMPTY_NAME)
    assert result is not None
    assert [f.path for f in result.files] == ["fw.zip"]
    assert [(r.path, r.reason, r.detail) for r in result.skipped] == [
        ("fw.zip!/", "bad-name", "empty member name")
    ]
