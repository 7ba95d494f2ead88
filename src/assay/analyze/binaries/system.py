"""The operating system of a firmware tree: kernel, distribution or build system, C library,
BusyBox, each with its end of life from the knowledge base's release cycles.

Pure functions of file names, release-file texts, paths and the components found in binaries.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from assay.assess.vulns.match import support
from assay.assess.vulns.model import Cycle
from assay.model import Component, JSONValue

RELEASE_FILES = frozenset(
    {"os-release", "lsb-release", "openwrt_release", "openwrt_version", "build", "version"}
)
"""Base names of the files that name a distribution or build system (under ``etc/``)."""
_ETC_ONLY = frozenset({"build", "version"})
_MODULES = re.compile(r"(?:^|/)lib/modules/(?P<version>\d+\.\d+[^/]*)/")
_FIELD = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$", re.MULTILINE)
_RELEASE = re.compile(r"^(\d+(?:\.\d+)+)")
_DISTRO_IDS = {"poky": "yocto", "openwrt": "openwrt", "buildroot": "buildroot"}
_KB_NAMES = {"linux": "linux-kernel"}
"""Names under which the knowledge base files release cycles, where they differ."""
C_LIBRARIES = ("glibc", "uclibc", "uclibc-ng", "musl")
"""Components that are the C library."""


def is_release_file(path: str) -> bool:
    """Whether ``path`` is one of the files that name the distribution."""
    directory, _, name = path.rpartition("/")
    if name not in RELEASE_FILES:
        return False
    parent = directory.rpartition("/")[2]
    if name in _ETC_ONLY:
        return parent == "etc"
    return parent == "etc" or directory.endswith("usr/lib")


def is_module_path(path: str) -> bool:
    """Whether ``path`` lies below ``lib/modules/<kernel version>/``."""
    return _MODULES.search(path) is not None


def module_kernel(path: str) -> str | None:
    """The kernel version a ``lib/modules/<version>/`` path names."""
    match = _MODULES.search(path)
    return match.group("version") if match else None


def release_fields(name: str, text: str) -> dict[str, str]:
    """``KEY=value`` (or ``KEY = value``) lines of a release file, unquoted; at most 64."""
    fields: dict[str, str] = {}
    for key, value in _FIELD.findall(text[:65536]):
        fields.setdefault(key.upper(), value.strip("'\""))
        if len(fields) >= 64:
            break
    if name == "openwrt_version" and not fields and text.strip():
        fields["OPENWRT_VERSION"] = text.strip().splitlines()[0][:80]
    return fields


def distribution(files: Mapping[str, Mapping[str, str]]) -> dict[str, str] | None:
    """The distribution or build system named by the release files (path -> fields)."""
    for path in sorted(files):
        fields = files[path]
        name = path.rpartition("/")[2]
        if name == "openwrt_release" and fields.get("DISTRIB_RELEASE"):
            return {"name": "openwrt", "version": fields["DISTRIB_RELEASE"], "evidence": path}
        if name == "build" and fields.get("DISTRO_VERSION"):
            distro = fields.get("DISTRO", "poky")
            return {"name": _DISTRO_IDS.get(distro, distro), "version": fields["DISTRO_VERSION"],
                    "evidence": path}  # fmt: skip
    for path in sorted(files):
        fields = files[path]
        if "ID" in fields:
            ident = fields["ID"].lower()
            version = fields.get("VERSION_ID") or fields.get("VERSION", "")
            return {"name": _DISTRO_IDS.get(ident, ident), "version": version, "evidence": path}
    return None


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
