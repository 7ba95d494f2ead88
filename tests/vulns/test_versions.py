import itertools

import pytest

from assay.assess.vulns.model import Range
from assay.versions import affected, key

ORDERED = [
    ("openssl", ["1.0.2", "1.0.2a", "1.0.2j", "1.0.2z", "1.0.2za", "1.0.2zb", "1.1.0", "1.1.1"]),
    ("openssl", ["1.1.1", "1.1.1a", "1.1.1w", "1.1.1za", "3.0.0"]),
    ("openssl", ["0.9.7-beta3", "0.9.7", "0.9.7a"]),
    ("openssl", ["3.0.0-alpha1", "3.0.0-alpha17", "3.0.0-beta1", "3.0.0-beta2", "3.0.0", "3.0.1"]),
    ("curl", ["7.9", "7.10", "7.10.6", "7.69.0", "8.3.0", "8.4.0", "8.20.0"]),
    ("sqlite", ["3.8.7", "3.8.7.1", "3.8.10", "3.45.0"]),
]


@pytest.mark.parametrize(("library", "versions"), ORDERED)
def test_versions_sort_in_release_order(library: str, versions: list[str]) -> None:
    assert sorted(versions, key=lambda v: key(library, v)) == versions
    assert all(key(library, a) < key(library, b) for a, b in itertools.pairwise(versions))


@pytest.mark.parametrize(
    ("library", "left", "right"),
    [
        ("openssl", "1.0.2k-fips", "1.0.2k"),
        ("openssl", "1.1.1n-0+deb11u5", "1.1.1n"),
        ("openssl", "OpenSSL-1.1.1w", "1.1.1w"),
        ("openssl", "0.9.6-cvs", "0.9.6"),
        ("curl", "7.64.0-DEV", "7.64.0"),
        ("curl", "7.7", "7.7.0"),
        ("curl", "curl-7_88_1", "7.88.1"),
        ("zlib", "1:1.2.11.dfsg-2", "1.2.11"),
        ("expat", "v2.4.1", "2.4.1"),
    ],
)
def test_suffixes_and_prefixes_do_not_change_order(library: str, left: str, right: str) -> None:
    assert key(library, left) == key(library, right)


def test_text_without_a_number_is_rejected() -> None:
    with pytest.raises(ValueError):
        key("openssl", "fips")


def test_fixed_is_exclusive_and_introduced_inclusive() -> None:
    ranges = [Range(introduced="1.0.2", fixed="1.0.2k")]
    assert affected("openssl", "1.0.2", ranges)
    assert affected("openssl", "1.0.2j", ranges)
    assert not affected("openssl", "1.0.2k", ranges)
    assert not affected("openssl", "1.0.1u", ranges)


def test_last_affected_is_inclusive() -> None:
    ranges = [Range(introduced="7.69.0", last_affected="8.3.0")]
    assert affected("curl", "8.3.0", ranges)
    assert not affected("curl", "8.4.0", ranges)
    assert not affected("curl", "7.68.0", ranges)


def test_open_bounds_and_several_ranges() -> None:
    assert affected("zlib", "1.2.11", [Range(fixed="1.2.12")])
    assert not affected("zlib", "1.2.12", [Range(fixed="1.2.12")])
    assert affected("expat", "9.9", [Range(introduced="2.0")])
    ranges = [Range("1.1.0", "1.1.0d"), Range("1.0.2", "1.0.2k")]
    assert affected("openssl", "1.1.0c", ranges)
    assert not affected("openssl", "1.1.0d", ranges)
    assert not affected("openssl", "1.0.2za", ranges)
    assert not affected("openssl", "1.1.1", [])
