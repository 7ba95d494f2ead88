"""``sbom.cdx.json``: CycloneDX 1.6 through cyclonedx-python-lib, one component per copy.

Each copy found in the tree is one component (two copies of one version are two components:
each ships), with its purl, CPE where one exists, the copy kind and root as properties, and
its evidence as occurrences (paths relative to the evaluated root). The serial number and
timestamp are the only parts that change between runs.
"""

from __future__ import annotations

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
    return props


def to_cyclonedx(component: Component) -> CdxComponent:
    """One copy as a CycloneDX library component."""
    return CdxComponent(
        name=component.name,
        version=component.version,
        type=ComponentType.LIBRARY,
        bom_ref=component.key,
        purl=PackageURL("generic", name=component.name, version=component.version),
        cpe=component.cpe,
        properties=_properties(component),
        evidence=ComponentEvidence(occurrences=_occurrences(component)),
    )


_RATING = {
    "critical": VulnerabilitySeverity.CRITICAL, "high": VulnerabilitySeverity.HIGH,
    "important": VulnerabilitySeverity.HIGH, "moderate": VulnerabilitySeverity.MEDIUM,
    "medium": VulnerabilitySeverity.MEDIUM, "low": VulnerabilitySeverity.LOW,
}  # fmt: skip


def _vulnerabilities(evaluation: Evaluation) -> list[Vulnerability]:
    """One CycloneDX vulnerability per CVE, affecting every copy that carries it."""
    copies = evaluation.sections.get("vulnerabilities", {}).get("copies", {})
    by_id: dict[str, tuple[dict[str, Any], list[str]]] = {}
    for key in sorted(copies):
        for cve in copies[key]["cves"]:
            by_id.setdefault(cve["id"], (cve, []))[1].append(key)
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
                affects=[BomTarget(ref=k) for k in keys], properties=props,
            )
        )  # fmt: skip
    return found


def write(evaluation: Evaluation, streams: Streams, out: TextIO) -> None:
    """Write the SBOM of the copies found, with their known vulnerabilities."""
    bom = Bom()
    bom.metadata.properties.add(
        Property(name=f"{PROPERTY_PREFIX}input-sha256", value=evaluation.input.sha256)
    )
    for component in evaluation.components:
        bom.components.add(to_cyclonedx(component))
    for vulnerability in _vulnerabilities(evaluation):
        bom.vulnerabilities.add(vulnerability)
    out.write(JsonV1Dot6(bom).output_as_string(indent=2))
    out.write("\n")
