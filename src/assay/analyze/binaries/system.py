"""The operating system of a firmware tree as its files state it: kernel, distribution or build
system, C library, BusyBox (their support status is assessed in :mod:`assay.assess.system`).

Pure functions of file names, release-file texts and paths.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

RELEASE_FILES = frozenset(
    {"os-release", "lsb-release", "openwrt_release", "openwrt_version", "build", "version"}
)
"""Base names of the files that name a distribution or build system (under ``etc/``)."""
_ETC_ONLY = frozenset({"build", "version"})
_MODULES = re.compile(r"(?:^|/)lib/modules/(?P<version>\d+\.\d+[^/]*)/")
_FIELD = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$", re.MULTILINE)
_DISTRO_IDS = {"poky": "yocto", "openwrt": "openwrt", "buildroot": "buildroot"}
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
