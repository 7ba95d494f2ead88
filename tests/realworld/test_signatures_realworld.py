"""Version signatures on real upstream releases (Debian source packages).

Every release of ``tools/upstream.py``'s default set is walked; the release's own library must
be found at the tree's root with exactly the version of the download's manifest, and no other
library may claim that root. The manifest version is the ``.orig`` tarball's, with Debian's
``+dfsg``/``+ds`` repacking suffixes and ``really`` prefixes already removed by the tool, so it
compares with the header as it is. Two layouts differ from a vendored copy's: expat's tarball is
its git repository, with the library under ``expat/``.

No release here covers boringssl, libressl, polarssl, zlib-ng, libjpeg (IJG), uclibc,
uclibc-ng, linux or freertos (Debian ships no such source package, or it is too large); their
rows are tested on snippets only. openssh and u-boot are tested when given in EXTRA_SPECS.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
import upstream as upstream_tool  # type: ignore[import-not-found]  # tools/, via conftest

from assay.correlate.components.signatures import VersionEvidence, detect, wanted

pytestmark = pytest.mark.realworld

EXTRA_SPECS = ("openssh/bookworm", "u-boot/bookworm")
"""Releases beyond the default set, also checked (small enough to download)."""
LIBRARY_ROOT = {"expat": "expat"}
"""Where the library sits inside a release whose tarball is not the library's own tree."""


def _evidence(root: Path) -> list[VersionEvidence]:
    found: list[VersionEvidence] = []
    for directory, _, names in os.walk(root):
        for name in names:
            file = Path(directory, name)
            path = file.relative_to(root).as_posix()
            if wanted(path) and file.is_file() and not file.is_symlink():
                found.extend(detect(path, file.read_bytes()))
    return found


@pytest.mark.parametrize("spec", upstream_tool.DEFAULT_SPECS + EXTRA_SPECS)
def test_release_names_itself(spec: str, upstream: Callable[[str], upstream_tool.Release]) -> None:
    release = upstream(spec)
    root = LIBRARY_ROOT.get(release.name, "")
    at_root = [e for e in _evidence(release.path) if e.root == root]
    assert at_root, f"no version evidence at {root!r} of {release.name} {release.version}"
    assert {(e.library, e.version) for e in at_root} == {(release.name, release.version)}, at_root
