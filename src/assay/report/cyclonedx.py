"""``sbom.cdx.json``: CycloneDX 1.6 through cyclonedx-python-lib, one component per copy and
one per (name, version) found in shipped binaries.

Each copy found in the tree is one component (two copies of one version are two components:
each ships), with its purl, CPE where one exists, the copy kind and root as properties
(``assay:found-in`` ``source``; ``assay:files-match-version`` when the release its files
match best is not the version it states), and its evidence as occurrences (paths relative to
the evaluated root). The libraries, programs,
kernel and distribution the ``binaries`` section names are added as
:mod:`assay.report.cyclonedx_binaries` describes (a binary version equal to a source copy's
joins that copy's component). Each known CVE is one vulnerability affecting every component
that carries it, from the ``vulnerabilities`` section's copies and the ``binaries`` section's
assessment. The serial number and timestamp are the only parts that change between runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from cyclonedx.model import Property
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component as CdxComponent
from cyclonedx.model.component import ComponentType
from cyclonedx.model.component_evidence import ComponentEvidence, Occurrence
from cyclonedx.model.vulnerability import (
    BomTarget,
    Vulnerability,
    VulnerabilityRating,
    VulnerabilitySeverity,
)
from cyclonedx.output.json import JsonV1Dot6
from packageurl import PackageURL

from assay.model import Component, Evaluation
from assay.report import cyclonedx_binaries as binaries
from assay.report.cyclonedx_binaries import BinaryEntry
from assay.report.interface import Streams

PROPERTY_PREFIX = "assay:"


def _occurrences(component: Component) -> list[Occurrence]:
    """The copy root, then each piece of version evidence. Each occurrence gets a bom-ref of
    its component's key and its index: cyclonedx-python-lib orders occurrences by bom-ref and
    would otherwise draw a random one per occurrence, so their order changed from run to run."""

    def ref() -> str:
        return f"{component.key}#evidence-{len(found):04d}"

    found: list[Occurrence] = []
    found.append(Occurrence(bom_ref=ref(), location=component.root or ".",
                            additional_context="copy root"))  # fmt: skip
    for item in component.evidence:
        path, _, line = item.rpartition(":")
        if path and line.isdigit():
            found.append(Occurrence(bom_ref=ref(), location=path, line=int(line),
                                    additional_context="version"))  # fmt: skip
        else:
            found.append(Occurrence(bom_ref=ref(), location=item,
                                    additional_context="release file"))  # fmt: skip
    return found


def _properties(component: Component) -> list[Property]:
    props = [
        Property(name=f"{PROPERTY_PREFIX}copy-kind", value=component.kind.value),
        Property(name=f"{PROPERTY_PREFIX}root", value=component.root or "."),
    ]
    props += [Property(name=f"{PROPERTY_PREFIX}qualifier", value=q) for q in component.qualifiers]
    props += [Property(name=f"{PROPERTY_PREFIX}candidate-version", value=v)
              for v in component.candidates]  # fmt: skip
    props += [Property(name=f"{PROPERTY_PREFIX}files-{k}", value=str(v))
              for k, v in sorted(component.files.items())]  # fmt: skip
    if component.files_version:
        props.append(Property(name=f"{PROPERTY_PREFIX}files-match-version",
                              value=component.files_version))  # fmt: skip
    return props


_TYPES = {
    "library": ComponentType.LIBRARY, "application": ComponentType.APPLICATION,
    "operating-system": ComponentType.OPERATING_SYSTEM, "firmware": ComponentType.FIRMWARE,
}  # fmt: skip


def _purl(name: str, version: str | None) -> PackageURL:
    """``pkg:generic/<name>@<version>``, as :attr:`assay.model.Component.purl` spells it."""
    return PackageURL("generic", name=name, version=version)


def to_cyclonedx(component: Component, joined: Sequence[BinaryEntry] = ()) -> CdxComponent:
    """One copy as a CycloneDX component, with the occurrences and properties of the binary
    entries of its exact version (``joined``)."""
    props = _properties(component)
    occurrences = _occurrences(component)
    props.append(Property(name=f"{PROPERTY_PREFIX}found-in", value="source"))
    part = binaries.os_part(component.name)
    if part is not None and not joined:
        props.append(Property(name=f"{PROPERTY_PREFIX}os-part", value=part))
    for entry in joined:
        props += _binary_properties(entry)
        occurrences += _binary_occurrences(component.key, entry)
    return CdxComponent(
        name=component.name,
        version=component.version,
        type=_TYPES[binaries.component_type(component.name)],
        bom_ref=component.key,
        purl=_purl(component.name, component.version),
        cpe=component.cpe,
        properties=props,
        evidence=ComponentEvidence(occurrences=occurrences),
    )


def binary_component(entry: BinaryEntry) -> CdxComponent:
    """A (name, version) found only in binaries as a CycloneDX component."""
    return CdxComponent(
        name=entry.name,
        version=entry.version,
        type=_TYPES[entry.kind],
        bom_ref=entry.ref,
        purl=_purl(entry.name, entry.version),
        cpe=entry.cpe,
        properties=_binary_properties(entry),
        evidence=ComponentEvidence(occurrences=_binary_occurrences(entry.ref, entry))
        if entry.paths
        else None,
    )


def _binary_properties(entry: BinaryEntry) -> list[Property]:
    return [Property(name=n, value=v) for n, v in entry.property_pairs()]


def _binary_occurrences(ref: str, entry: BinaryEntry) -> list[Occurrence]:
    """The binary paths, with bom-refs ``<ref>#binary-<version>-<index>`` (stable, and
    distinct from the source evidence's and other versions')."""
    tag = entry.version or "unknown"
    return [Occurrence(bom_ref=f"{ref}#binary-{tag}-{i:04d}", location=path,
                       additional_context=f"binary: {entry.evidence}")
            for i, path in enumerate(entry.paths)]  # fmt: skip


_RATING = {
    "critical": VulnerabilitySeverity.CRITICAL, "high": VulnerabilitySeverity.HIGH,
    "important": VulnerabilitySeverity.HIGH, "moderate": VulnerabilitySeverity.MEDIUM,
    "medium": VulnerabilitySeverity.MEDIUM, "low": VulnerabilitySeverity.LOW,
}  # fmt: skip


def _cve_carriers(
    evaluation: Evaluation, refs: Mapping[str, str]
) -> dict[str, tuple[dict[str, Any], list[str]]]:
    """CVE id -> (its record, the bom-refs of the components that carry it), from the source
    copies and the binary entries (``refs``: assessment key -> bom-ref)."""
    copies = evaluation.sections.get("vulnerabilities", {}).get("copies", {})
    carried = [(key, copies[key]["cves"]) for key in sorted(copies)]
    assessed = binaries.vulnerable(evaluation)
    carried += [(refs[key], cves) for key, cves in assessed.items() if key in refs]
    by_id: dict[str, tuple[dict[str, Any], list[str]]] = {}
    for ref, cves in carried:
        for cve in cves:
            keys = by_id.setdefault(cve["id"], (cve, []))[1]
            if ref not in keys:
                keys.append(ref)
    return by_id


def _vulnerabilities(evaluation: Evaluation, refs: Mapping[str, str]) -> list[Vulnerability]:
    """One CycloneDX vulnerability per CVE, affecting every component that carries it."""
    by_id = _cve_carriers(evaluation, refs)
    found = []
    for cve_id in sorted(by_id):
        cve, keys = by_id[cve_id]
        severity = _RATING.get((cve.get("severity") or "").lower(), VulnerabilitySeverity.UNKNOWN)
        props = [Property(name=f"{PROPERTY_PREFIX}data-source", value=cve["source"])]
        if cve.get("exploited"):
            props.append(Property(name=f"{PROPERTY_PREFIX}known-exploited", value="true"))
        found.append(
            Vulnerability(
                bom_ref=f"vuln:{cve_id}", id=cve_id,
                ratings=[VulnerabilityRating(severity=severity)],
                recommendation=f"upgrade to {cve['fixed_in']}" if cve.get("fixed_in") else None,
                affects=[BomTarget(ref=k) for k in sorted(keys)], properties=props,
            )
        )  # fmt: skip
    return found


def _components(evaluation: Evaluation) -> tuple[list[CdxComponent], dict[str, str]]:
    """The source copies (with the binary entries that join them), then the binary-only
    entries; and assessment key -> bom-ref of every binary entry."""
    entries = binaries.entries(evaluation)
    joined = binaries.merge_targets(entries, evaluation.components)
    refs: dict[str, str] = {}
    for key, items in joined.items():
        refs.update((binaries.assessment_key(e), key) for e in items)
    out = [to_cyclonedx(c, joined.get(c.key, ())) for c in evaluation.components]
    merged = {e.ref for items in joined.values() for e in items}
    for entry in entries:
        if entry.ref not in merged:
            out.append(binary_component(entry))
            if not entry.distribution:
                refs.setdefault(binaries.assessment_key(entry), entry.ref)
    return out, refs


def write(evaluation: Evaluation, streams: Streams, out: TextIO) -> None:
    """Write the SBOM of the copies and binary components found, with their known
    vulnerabilities."""
    bom = Bom()
    bom.metadata.properties.add(
        Property(name=f"{PROPERTY_PREFIX}input-sha256", value=evaluation.input.sha256)
    )
    snapshot = evaluation.sections.get("vulnerabilities", {}).get("snapshot")
    if isinstance(snapshot, str):
        bom.metadata.properties.add(
            Property(name=f"{PROPERTY_PREFIX}vulnerability-data-snapshot", value=snapshot)
        )
    components, refs = _components(evaluation)
    for component in components:
        bom.components.add(component)
    for vulnerability in _vulnerabilities(evaluation, refs):
        bom.vulnerabilities.add(vulnerability)
    out.write(JsonV1Dot6(bom).output_as_string(indent=2))
    out.write("\n")
