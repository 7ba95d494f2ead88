"""The support status of the operating system a firmware tree names: kernel, distribution or
build system, C library and BusyBox, from the knowledge base's release cycles.

The facts (which kernel, which distribution) come from :mod:`assay.analyze.binaries.system`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from assay.analyze.binaries.system import C_LIBRARIES, distribution
from assay.assess.vulns.match import support
from assay.assess.vulns.model import Cycle
from assay.model import Component, JSONValue

_RELEASE = re.compile(r"^(\d+(?:\.\d+)+)")
_KB_NAMES = {"linux": "linux-kernel"}
"""Names under which the knowledge base files release cycles, where they differ."""


def end_of_life(name: str, version: str | None, cycles: Sequence[Cycle], today: str) -> JSONValue:
    """Support status of ``name`` ``version`` from the cycles: status, cycle and date."""
    library = _KB_NAMES.get(name, name)
    match = _RELEASE.match(version or "")
    probe = Component(library, match.group(1) if match else None, "")
    status, cycle = support(probe, cycles, today)
    return {
        "status": status.value,
        "cycle": cycle.cycle if cycle else None,
        "eol": cycle.eol if cycle else None,
    }


def describe(
    release_files: Mapping[str, Mapping[str, str]],
    module_versions: Iterable[str],
    components: Sequence[tuple[str, str | None, str]],
    cycles: Sequence[Cycle],
    today: str,
) -> dict[str, JSONValue]:
    """The ``os`` part of the section: kernel, distribution, C library and BusyBox.

    ``components`` are (library, version, path) found in binaries.
    """
    out: dict[str, JSONValue] = {}
    kernels = sorted({v for lib, v, _ in components if lib == "linux" and v})
    modules = sorted(set(module_versions))
    if kernels or modules:
        version = (kernels or modules)[0]
        out["kernel"] = {"version": version, "banners": list(kernels), "module_dirs": modules,
                         "support": end_of_life("linux", version, cycles, today)}  # fmt: skip
    distro = distribution(release_files)
    if distro is not None:
        out["distribution"] = {
            **distro,
            "support": end_of_life(distro["name"], distro["version"], cycles, today),
        }
    for key, names in (("libc", C_LIBRARIES), ("busybox", ("busybox",))):
        found = sorted({(lib, v or "") for lib, v, _ in components if lib in names})
        if found:
            lib, version = found[-1]
            out[key] = {"name": lib, "version": version or None,
                        "all": [f"{n} {v}".strip() for n, v in found],
                        "support": end_of_life(lib, version, cycles, today)}  # fmt: skip
    return out
