"""The SBOM's binary components: what the ``binaries`` section names inside shipped binaries.

One entry per (name, version) of the section's ``components`` (every library, daemon, C
library and kernel a binary signature found, with or without a version), plus the kernel
known only from ``lib/modules/<version>/`` and the distribution a release file names (both
from the section's ``os``). Each has the purl of the source copies (``pkg:generic/<name>@
<version>``, :attr:`assay.model.Component.purl`), the CPE of the source signatures' mapping
where the library has one, and as evidence occurrences the binary paths it was found in:
the section keeps the first 20 paths, so those are listed, and ``assay:binary-count`` gives
the total. Type: ``operating-system`` for the kernel and the distribution, ``application``
for the programs of :data:`APPLICATIONS` (BusyBox, Dropbear, dnsmasq, hostapd ...), ``library``
otherwise.
The operating system is described by its parts: the kernel, the C library
(:data:`C_LIBRARIES`) and the distribution or build system are ``operating-system``
components, the boot loader (:data:`FIRMWARE`) a ``firmware`` one, each with
``assay:os-part`` saying which part it is.

A (name, version) also found as a source copy of the same exact version is not a second
entry: its binary occurrences and properties join that copy's component (the first by key,
if the source holds several copies of that version), because it is one piece of software
that the release ships both as source and built; keeping the source copy's entry keeps its
bom-ref, copy kind and root stable whether or not binaries ship too. A different version
(or a source copy whose version is not exact) stays a separate entry. Only a copy that binaries
joined says ``assay:found-in`` both ``source`` and ``binary``; a source-only copy says
``source``, a binary-only entry ``binary``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from assay.correlate.components import signatures
from assay.model import Component, Evaluation

PREFIX = "assay:"
OPERATING_SYSTEMS = frozenset({"linux"})
"""Names that are an operating system kernel (the distribution is one too)."""
C_LIBRARIES = frozenset({"glibc", "uclibc", "uclibc-ng", "musl"})
"""C libraries: the user-space half of the operating system."""
FIRMWARE = frozenset({"u-boot"})
"""Boot loaders: firmware below the operating system."""
APPLICATIONS = frozenset({
    "busybox", "dropbear", "openssh", "toybox", "bash", "coreutils", "sudo", "iproute2",
    "dnsmasq", "hostapd", "wpa_supplicant", "lighttpd", "nginx", "mini_httpd", "thttpd", "boa",
    "uhttpd", "miniupnpd", "ppp", "ntp", "ntpsec", "chrony", "mosquitto", "vsftpd", "proftpd",
    "samba", "quagga", "frr", "unbound", "dhcpcd", "isc-dhcp", "radvd", "openvpn", "strongswan",
    "openswan", "libreswan", "socat", "rsync", "tcpdump", "keepalived", "haproxy", "squid",
    "wireguard-tools", "xl2tpd", "igmpproxy", "lldpd", "iw", "ethtool", "ebtables",
    "conntrack-tools", "ipset", "wget", "netifd", "odhcpd", "odhcp6c",
})  # fmt: skip
"""Names that are programs (tools and daemons) rather than libraries: the products of
``rules/binary_signatures.toml`` that ship as a program, not as a library others link."""


@dataclass(frozen=True, slots=True)
class BinaryEntry:
    """One (name, version) found in binaries, ready to become (or join) an SBOM component."""

    name: str
    """Library, program or kernel name (``linux``), or the distribution's id."""
    version: str | None
    """Version, or ``None`` when the evidence names none."""
    kind: str
    """CycloneDX component type: ``library``, ``application`` or ``operating-system``."""
    paths: tuple[str, ...]
    """The paths it was found in (the first 20 in path order, as the section keeps them)."""
    count: int
    """How many paths hold it in total."""
    evidence: str
    """The matched text (version string or file name) or what names it."""
    distribution: bool = False
    """Whether it is the distribution a release file names (not a signature's find)."""

    @property
    def ref(self) -> str:
        """The bom-ref of a component of its own: ``binary:name@version`` (the distribution:
        ``binary:distribution:name@version``)."""
        role = "distribution:" if self.distribution else ""
        return f"binary:{role}{self.name}@{self.version or '?'}"

    @property
    def cpe(self) -> str | None:
        """The CPE 2.3 name from the source signatures, where the library has one (version
        ``*`` when unknown, as for a source copy)."""
        return signatures.cpe(self.name, self.version)

    def property_pairs(self) -> list[tuple[str, str]]:
        """``assay:found-in``, the evidence and its kind, and the path count."""
        kind = "release-file" if self.distribution else "binary-signature"
        if self.name == "linux" and self.evidence.startswith("lib/modules/"):
            kind = "module-directory"
        pairs = [
            (f"{PREFIX}found-in", "binary"),
            (f"{PREFIX}binary-evidence", self.evidence),
            (f"{PREFIX}binary-evidence-kind", kind),
            (f"{PREFIX}binary-count", str(self.count)),
        ]
        part = os_part(self.name, self.distribution)
        if part is not None:
            pairs.append((f"{PREFIX}os-part", part))
        return pairs


def component_type(name: str) -> str:
    """The CycloneDX type of a name found in binaries or source."""
    if name in OPERATING_SYSTEMS or name in C_LIBRARIES:
        return "operating-system"
    if name in FIRMWARE:
        return "firmware"
    return "application" if name in APPLICATIONS else "library"


def os_part(name: str, distribution: bool = False) -> str | None:
    """Which part of the operating system ``name`` is (``kernel``, ``c-library``,
    ``distribution``, ``bootloader``), or ``None``."""
    if distribution:
        return "distribution"
    if name in OPERATING_SYSTEMS:
        return "kernel"
    if name in C_LIBRARIES:
        return "c-library"
    return "bootloader" if name in FIRMWARE else None


def _section(evaluation: Evaluation) -> Mapping[str, Any]:
    return evaluation.sections.get("binaries", {})


def entries(evaluation: Evaluation) -> list[BinaryEntry]:
    """Every binary entry of the evaluation, ordered by (name, version)."""
    section = _section(evaluation)
    found = [_from_item(item) for item in section.get("components", [])]
    os_part = section.get("os", {})
    kernel = _module_kernel(os_part.get("kernel"), section.get("module_kernels", {}), found)
    if kernel is not None:
        found.append(kernel)
    distro = os_part.get("distribution")
    if distro:
        found.append(_distribution(distro))
    return sorted(found, key=lambda e: (e.name, e.version or ""))


def _from_item(item: Mapping[str, Any]) -> BinaryEntry:
    name, version = str(item["name"]), item["version"]
    return BinaryEntry(name, version, component_type(name), tuple(item["paths"]),
                       int(item["count"]), str(item["evidence"]))  # fmt: skip


def _module_kernel(
    kernel: Mapping[str, Any] | None, modules: Mapping[str, str], found: Sequence[BinaryEntry]
) -> BinaryEntry | None:
    """The kernel named only by a ``lib/modules/<version>/`` directory (no banner, no
    module's vermagic of that version among the components)."""
    if not kernel or not kernel.get("version"):
        return None
    version = str(kernel["version"])
    if any(e.name == "linux" and e.version == version for e in found):
        return None
    paths = tuple(p for v, p in sorted(modules.items()) if v == version)
    return BinaryEntry("linux", version, "operating-system", paths, len(paths),
                       f"lib/modules/{version}/")  # fmt: skip


def _distribution(distro: Mapping[str, Any]) -> BinaryEntry:
    """The distribution or build system a release file names."""
    name, version = str(distro["name"]), distro.get("version") or None
    path = distro.get("evidence")
    paths = (str(path),) if path else ()
    return BinaryEntry(name, version, "operating-system", paths, len(paths), str(path or ""),
                       distribution=True)  # fmt: skip


def merge_targets(
    found: Sequence[BinaryEntry], copies: Sequence[Component]
) -> dict[str, list[BinaryEntry]]:
    """Source copy key -> the binary entries of its exact (name, version) that join it (the
    distribution never joins: it is not a copy of anything)."""
    by_version: dict[tuple[str, str], str] = {}
    for copy in sorted(copies, key=lambda c: c.key):
        if copy.version:
            by_version.setdefault((copy.name, copy.version), copy.key)
    joined: dict[str, list[BinaryEntry]] = {}
    for entry in found:
        key = by_version.get((entry.name, entry.version or ""))
        if key is not None and not entry.distribution:
            joined.setdefault(key, []).append(entry)
    return joined


def vulnerable(evaluation: Evaluation) -> dict[str, list[dict[str, Any]]]:
    """``name@version`` -> its CVE records from the section's ``assessment``."""
    assessment = _section(evaluation).get("assessment", {})
    return {key: list(verdict.get("cves", [])) for key, verdict in sorted(assessment.items())}


def assessment_key(entry: BinaryEntry) -> str:
    """The key of ``entry`` in the section's ``assessment``."""
    return f"{entry.name}@{entry.version or '?'}"
