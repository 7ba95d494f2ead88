"""The ``secrets`` step: keys, certificates and credentials labelled by their upstream origin.

The ``secrets`` aggregator leaves its product findings of key material (``MATERIAL_RULES``) in
its section (``PENDING``) with the references product files make to key files
(``REFERENCES``). This step looks each finding's file up in the knowledge base
(``KnowledgeBase.upstream_of``: byte-identical to a file of a known release, C/C++ or sample
material such as OpenSSL's ``apps/server.pem``) and:

- a file of no known release: the finding is emitted unchanged, but for a configuration file's
  credential in a third-party copy's tree (``origin: "in-copy"``, info while nothing uses it:
  most likely that project's example configuration, of a release the knowledge base does not
  hold, edited, or in a knowledge base built before configuration files were recorded);
- a literal password compare (``secrets/literal-auth-compare``) in an upstream file: labelled
  ``origin: "upstream"`` with the release and path, severity kept (accepting a fixed password
  is a backdoor whoever published it);
- a known test-material file (``[[test_material]]`` of ``rules/secrets.toml``, Mbed TLS
  ``library/certs.c``): its findings become one ``secrets/certificate-with-key`` finding per
  copy, naming the build options that compile it in and whether the copy's configuration
  enables them; critical when a product file uses the table's symbols, info otherwise;
- any other upstream file: the finding keeps its rule, is labelled ``origin:
  "upstream-sample"`` with the release and path it comes from, and is graded by use: critical
  when the file sits in a firmware file-system image or a product file or build file refers to
  it (a published key protects nothing), info while nothing does; a credential preset in an
  example configuration file (``secrets.config``) is medium where a key would be critical (the
  file is shipped unchanged, and a service may or may not read that entry: OpenSSL's
  ``openssl.cnf`` presets a demo CA's password in a section used only on request).

Which product files refer to the material, and whether it sits in a file-system image, is
``assay.assess.sample_use``. When the file is identical in several releases, the release of a
copy in the tree is named first (the copy it came from), then the newest; ``also_in`` lists
the others.

Longer than 300 lines: each way a finding is judged (no known release, upstream code, sample,
test material, in a copy's tree) reads the same look-ups and grades by the same use.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assay import versions
from assay.analyze.secrets.index import PENDING, REFERENCES
from assay.analyze.secrets.refs import test_material
from assay.assess.sample_use import Uses
from assay.correlate.components.kb import FileRef
from assay.correlate.components.step import knowledge_base
from assay.correlate.step import Corpus, StepResult
from assay.model import Component, JSONValue, RawFinding, Rule, RuleId, Severity

ID = "secrets"
MAX_CONFIG_BYTES = 4 * 1024**2
"""Largest library configuration header read for a build option."""
_TEST_RULE = RuleId("secrets/certificate-with-key")
"""The rule of a test-material table's one finding (the table holds certificates and keys)."""
_ACCEPTED_ANYWAY = frozenset({"secrets/literal-auth-compare"})
"""Rules whose findings keep their severity in an upstream file (labelled ``origin:
"upstream"``): code that accepts a fixed password is a backdoor whoever published it."""


@dataclass(frozen=True, slots=True)
class SamplesStep:
    """Labels and grades the ``secrets`` analyzer's key material by its upstream origin."""

    kb: Path | None = None
    """The knowledge base to use instead of the default ones."""

    @property
    def id(self) -> str:
        """The ``secrets`` category (the step completes its section)."""
        return ID

    def rules(self) -> tuple[Rule, ...]:
        """None of its own: it reports under the ``secrets`` analyzer's rules."""
        return ()

    def run(self, corpus: Corpus) -> StepResult:
        """The pending findings labelled and graded; the section's counts completed."""
        section = corpus.sections.get(ID)
        if section is None or PENDING not in section:
            return StepResult()
        pending: list[dict[str, Any]] = list(section[PENDING])
        refs: Mapping[str, list[list[str]]] = section.get(REFERENCES, {})
        with knowledge_base(self.kb) as kb:
            files = {f.path: f for f in corpus.files}
            judge = _Judge(Uses(kb, files, corpus.components, refs), corpus.components)
            found = judge.all(pending)
        summary = _completed(section, found)
        return StepResult(sections={ID: summary}, findings=tuple((p, raw) for p, _, raw in found))


Judged = tuple[str, dict[str, Any], RawFinding]
"""(path, the pending entry it came from, the finding to store)."""


class _Judge:
    """The knowledge-base look-ups and reference tables of one release."""

    def __init__(self, uses: Uses, components: Sequence[Component]) -> None:
        self.uses = uses
        self.files = uses.files
        self.present = {(c.name, c.version) for c in components}

    def all(self, pending: Iterable[dict[str, Any]]) -> list[Judged]:
        """Every pending finding judged; a test-material file's findings become one."""
        out: list[Judged] = []
        grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
        rows: dict[str, tuple[FileRef, Mapping[str, Any]]] = {}
        for item in pending:
            origin = self.origin(item["path"], item["scope"])
            row = _material_row(origin) if origin is not None else None
            if origin is None and _in_copy(item):
                out.append((item["path"], item, self.in_copy(item)))
            elif origin is None:
                out.append((item["path"], item, _raw(item)))
            elif item["rule_id"] in _ACCEPTED_ANYWAY:
                props = {**item["properties"], "origin": "upstream", "upstream": _named(origin)}
                out.append((item["path"], item, _raw(item, properties=props)))
            elif row is not None:
                grouped[item["path"]].append(item)
                rows[item["path"]] = (origin, row)
            else:
                out.append((item["path"], item, self.sample(item, origin)))
        for path, items in sorted(grouped.items()):
            origin, row = rows[path]
            out.append((path, items[0], self.test_material(path, items, origin, row)))
        return sorted(out, key=lambda f: (f[0], f[2].start_line, f[2].rule_id))

    def origin(self, path: str, scope: str) -> FileRef | None:
        """The release file ``path`` is byte-identical to: the copy's own release first, then
        a release of a copy in the tree, then the newest."""
        ranked = self.origins(path, scope)
        return ranked[0] if ranked else None

    def origins(self, path: str, scope: str) -> list[FileRef]:
        """Every release file ``path`` is byte-identical to, best first (see ``origin``)."""
        file = self.files.get(path)
        if file is None:
            return []
        own = tuple(scope.partition(":")[0].split("@", 1)) if "@" in scope else ()
        newest = sorted(
            self.uses.upstream(file.sha256), key=lambda r: versions.key(r.name, r.version)
        )
        return sorted(
            reversed(newest),
            key=lambda r: ((r.name, r.version) != own, (r.name, r.version) not in self.present),
        )

    def use(self, item: dict[str, Any]) -> tuple[list[str], str | None, list[str]]:
        """The product files referring to the finding's file, the file-system image it sits
        in (or ``None``), and the reasons these make it severe (none: unused)."""
        users = self.uses.of_file(item["path"], item["scope"])
        image = self.uses.image_of(item["path"])
        why = []
        if image:
            why.append(f"it is shipped in the file-system image {image}")
        if users:
            why.append(f"product files refer to it ({', '.join(users[:5])})")
        return users, image, why

    def sample(self, item: dict[str, Any], origin: FileRef) -> RawFinding:
        """An upstream sample's finding, graded by use."""
        path = item["path"]
        users, image, why = self.use(item)
        example = bool(item["properties"].get("config"))  # a credential, not a key
        severity = (Severity.MEDIUM if example else Severity.CRITICAL) if why else Severity.INFO
        release = f"{origin.name} {origin.version} {origin.path}"
        others = [f"{r.name} {r.version} {r.path}" for r in self.origins(path, item["scope"])[1:]]
        if why and example:
            verdict = (
                f"{' and '.join(why)}: the example configuration is shipped unchanged, its "
                "credential is published with the release; where a service on the device "
                "reads this entry, set one per device or remove it"
            )
        elif why:
            verdict = (
                f"{' and '.join(why)}: a key published with the release protects nothing, "
                "whoever has the release can impersonate the device; generate the key on each "
                "device"
            )
        else:
            verdict = "nothing in the product refers to it; remove it from the release"
        message = f"upstream sample material ({release}, published with the release): {verdict}"
        props = {
            **item["properties"], "origin": "upstream-sample",
            "upstream": _named(origin), "referenced_by": users, "shipped_in": image,
            "also_in": others,
        }  # fmt: skip
        return _raw(item, severity=severity, message=message, properties=props)

    def in_copy(self, item: dict[str, Any]) -> RawFinding:
        """A credential preset in a configuration file of a third-party copy's tree that no
        file of a known release confirms (the knowledge base records releases' configuration
        files that preset a credential, but not of every release, nor an edited copy): most
        likely the project's example configuration (OpenSSL's ``apps/openssl.cnf`` presets
        ``secret = pass:insta`` for a public demo CA). Graded info while nothing uses it; its
        own severity when it sits in a file-system image or a product file refers to it."""
        scope = item["scope"]
        users, image, why = self.use(item)
        copy = scope.partition(":")[0]
        where = (
            f"in the tree of the {copy} copy, likely that project's example configuration "
            "(no file of a release the knowledge base holds is identical to it)"
        )
        verdict = " and ".join(why) if why else "nothing in the product refers to it"
        props = {
            **item["properties"], "origin": "in-copy", "copy": scope, "referenced_by": users,
            "shipped_in": image,
        }  # fmt: skip
        return _raw(
            item,
            severity=item["severity"] if why else Severity.INFO,
            message=f"{item['message']}; {where}: {verdict}",
            properties=props,
        )

    def test_material(
        self, path: str, items: list[dict[str, Any]], origin: FileRef, row: Mapping[str, Any]
    ) -> RawFinding:
        """One finding for a copy's compiled-in test-material table."""
        scope = items[0]["scope"]
        users = self.uses.of_symbols(str(row.get("symbols", "")), scope)
        options = [str(o) for o in row.get("options", ())]
        enabled = self.enabled(path, origin, row, options)
        rules = Counter(i["rule_id"].removeprefix("secrets/") for i in items)
        held = ", ".join(f"{n} {rule}" for rule, n in sorted(rules.items()))
        state = {True: "enabled", False: "disabled", None: "state unknown"}[enabled]
        severity = Severity.CRITICAL if users else Severity.INFO
        use = (
            f"product code uses it ({', '.join(users[:5])}): published test keys authenticate "
            "nothing; use the product's own CA and per-device keys"
            if users
            else "nothing outside the library's own release uses it; disable the option in "
            "production builds"
        )
        message = (
            f"test material of {origin.name} {origin.version} ({origin.path}: {held}), compiled "
            f"in by {' / '.join(options)} ({state} in this copy): {use}"
        )
        props: dict[str, JSONValue] = {
            "context": "product", "origin": "upstream-test-material",
            "upstream": _named(origin), "options": list(options), "enabled": enabled,
            "held": dict(sorted(rules.items())), "referenced_by": list(users),
        }  # fmt: skip
        first = min(items, key=lambda i: i["start_line"])
        evidence = f"{origin.path}: {held}"
        return RawFinding(_TEST_RULE, first["start_line"], first["start_line"], message,
                          evidence, severity, props)  # fmt: skip

    def enabled(
        self, path: str, origin: FileRef, row: Mapping[str, Any], options: list[str]
    ) -> bool | None:
        """Does the copy's configuration header define one of ``options``?"""
        root = path[: len(path) - len(origin.path)] if path.endswith(origin.path) else None
        if root is None:
            return None
        for config in row.get("config", ()):
            file = self.files.get(root + str(config))
            if file is None or file.size > MAX_CONFIG_BYTES:
                continue
            text = file.read_bytes()
            return any(
                re.search(rb"^[ \t]*#[ \t]*define[ \t]+" + o.encode() + rb"\b", text, re.M)
                for o in options
            )
        return None


def _named(origin: FileRef) -> dict[str, JSONValue]:
    return {"name": origin.name, "version": origin.version, "path": origin.path}


def _material_row(origin: FileRef) -> Mapping[str, Any] | None:
    for row in test_material():
        if row.get("library") == origin.name and row.get("path") == origin.path:
            return row
    return None


def _in_copy(item: Mapping[str, Any]) -> bool:
    """A configuration file's credential (``secrets.config``) in a third-party copy's tree."""
    return bool(item["properties"].get("config")) and "@" in item["scope"]


def _raw(item: Mapping[str, Any], **changes: Any) -> RawFinding:
    """The finding of a pending entry, with ``changes`` (severity, message, properties)."""
    label = changes.get("severity", item["severity"])
    severity = label if isinstance(label, Severity) or label is None else Severity[label.upper()]
    return RawFinding(
        RuleId(item["rule_id"]), item["start_line"], item["end_line"],
        changes.get("message", item["message"]), item["evidence"], severity,
        changes.get("properties", item["properties"]),
    )  # fmt: skip


def _completed(section: Mapping[str, JSONValue], found: list[Judged]) -> dict[str, JSONValue]:
    """The section without the pending data, its counts including the judged findings."""
    summary: dict[str, Any] = {k: v for k, v in section.items() if k not in (PENDING, REFERENCES)}
    tables = {k: {r: dict(c) for r, c in summary[k].items()}
              for k in ("by_rule", "by_directory", "by_component")}  # fmt: skip
    origins: Counter[str] = Counter()
    for _, item, raw in found:
        for table, key in (("by_rule", raw.rule_id), ("by_directory", item["directory"]),
                           ("by_component", item["scope"])):  # fmt: skip
            row = tables[table].setdefault(key, {"product": 0, "test": 0})
            row["product"] += 1
        if (origin := raw.properties.get("origin")) is not None and raw.severity is not None:
            origins[f"{origin}:{raw.severity.label}"] += 1
    for table, rows in tables.items():
        summary[table] = dict(sorted(rows.items()))
    findings = dict(summary["findings"])
    findings["product"] += len(found)
    summary["findings"] = findings
    lines = summary["lines_scanned"]["product"]
    summary["product_per_100k_lines"] = (
        round(1e5 * findings["product"] / lines, 3) if lines else 0.0
    )
    if origins:
        summary["upstream_material"] = dict(sorted(origins.items()))
    return summary
