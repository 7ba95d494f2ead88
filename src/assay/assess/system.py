"""The support status of the operating system a firmware tree names: kernel, distribution or
build system, C library and BusyBox, under each product's support policy (branches with end
dates, newest release only, stopped project: :mod:`assay.assess.vulns.policy`).

The facts (which kernel, which distribution) come from :mod:`assay.analyze.binaries.system`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from assay.analyze.binaries.system import C_LIBRARIES, distribution
from assay.assess.vulns.db import VulnDB
from assay.assess.vulns.match import product_status
from assay.model import JSONValue
from assay.versions import key as version_key

_RELEASE = re.compile(r"^(\d+(?:\.\d+)+[a-z]?(?:p\d+)?)")
_NAMES = {"alpine-linux": "alpine", "poky": "yocto"}
"""Canonical product names where a release file's id differs."""


def _oldest_first(version: str) -> tuple[int, object, str]:
    """Release order of a kernel version (a text that holds none last, by its text)."""
    try:
        return 0, version_key("linux", version), version
    except ValueError:
        return 1, (), version


def end_of_life(name: str, version: str | None, known: VulnDB) -> JSONValue:
    """Support status of ``name`` ``version`` under the product's policy: status, cycle, the
    date it ended, the release that superseded it, why, and the policy's source."""
    match = _RELEASE.match(version or "")
    state = product_status(known, _NAMES.get(name, name), match.group(1) if match else None)
    return {
        "status": state.support.value,
        "cycle": state.cycle,
        "eol": state.since,
        "superseded_by": state.superseded_by,
        "reason": state.reason,
        "source": state.source,
    }


def describe(
    release_files: Mapping[str, Mapping[str, str]],
    module_versions: Iterable[str],
    components: Sequence[tuple[str, str | None, str]],
    known: VulnDB,
) -> dict[str, JSONValue]:
    """The ``os`` part of the section: kernel, distribution, C library and BusyBox.

    ``components`` are (library, version, path) found in binaries.
    """
    out: dict[str, JSONValue] = {}
    kernels = sorted({v for lib, v, _ in components if lib == "linux" and v}, key=_oldest_first)
    modules = sorted(set(module_versions), key=_oldest_first)
    if kernels or modules:
        version = (kernels or modules)[0]  # the oldest of two kernels (5.10.9 before 5.10.10)
        out["kernel"] = {"version": version, "banners": list(kernels), "module_dirs": modules,
                         "support": end_of_life("linux", version, known)}  # fmt: skip
    distro = distribution(release_files)
    if distro is not None:
        out["distribution"] = {
            **distro,
            "support": end_of_life(distro["name"], distro["version"], known),
        }
    for key, names in (("libc", C_LIBRARIES), ("busybox", ("busybox",))):
        found = sorted({(lib, v or "") for lib, v, _ in components if lib in names})
        if found:
            lib, version = found[-1]
            out[key] = {"name": lib, "version": version or None,
                        "all": [f"{n} {v}".strip() for n, v in found],
                        "support": end_of_life(lib, version, known)}  # fmt: skip
    return out
