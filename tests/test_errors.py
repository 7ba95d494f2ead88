"""Every exception assay raises on purpose sits under ``AssayError`` and survives pickling
(failures cross process boundaries as data)."""

from __future__ import annotations

import pickle

import pytest

from assay.analyze import binaries
from assay.analyze.interface import AnalyzerFailure, Content
from assay.errors import AssayError, FormatError, Unreadable
from assay.formats.ar import BadArchive, TooManyMembers
from assay.formats.elf import BadElf
from assay.ingest.archive import ArchiveUnreadable
from assay.ingest.cpio import CpioError, TrailingData
from assay.ingest.cramfs import CramfsError
from assay.ingest.images import ImageUnreadable
from assay.model import FileKind


@pytest.mark.parametrize("kind", [AnalyzerFailure, ArchiveUnreadable, ImageUnreadable])
def test_reason_and_detail_errors_are_one_class(kind: type[Unreadable]) -> None:
    error = kind("corrupt-archive", "cannot open tar archive")
    assert isinstance(error, Unreadable) and isinstance(error, AssayError)
    assert str(error) == "corrupt-archive: cannot open tar archive"
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is kind
    assert (copy.reason, copy.detail, str(copy)) == (error.reason, error.detail, str(error))
    assert str(kind("unsupported-kind")) == "unsupported-kind"


@pytest.mark.parametrize("kind", [BadElf, BadArchive, TooManyMembers, CpioError, CramfsError])
def test_format_errors_are_under_the_tree(kind: type[FormatError]) -> None:
    copy = pickle.loads(pickle.dumps(kind("bad header at 8")))
    assert type(copy) is kind and str(copy) == "bad header at 8"
    assert isinstance(copy, FormatError) and isinstance(copy, AssayError)


def test_trailing_data_keeps_its_fields_through_pickle() -> None:
    copy = pickle.loads(pickle.dumps(TrailingData(512, b"\x1f\x8b")))
    assert isinstance(copy, FormatError)
    assert (copy.offset, copy.head, str(copy)) == (512, b"\x1f\x8b", "2 bytes at 512")


def test_a_real_analyzer_failure_survives_pickle() -> None:
    analyzer = binaries.configure({})
    with pytest.raises(AnalyzerFailure) as failure:
        analyzer.analyze_content(Content(b"\x7fELF\x02\x01\x01" + b"\xff" * 40, FileKind.ELF, "x"))
    copy = pickle.loads(pickle.dumps(failure.value))
    assert (copy.reason, copy.detail) == ("bad-elf", failure.value.detail)
    assert copy.detail
