"""How the product uses key material: which product files refer to it, and whether it sits in a
device's file system (the ``secrets`` step's grading by use, ``assay.assess.samples``): a member
of a file-system image (squashfs, cramfs, ext, cpio...), or a file below ``etc/``, ``usr/``,
``lib/``... of a directory that holds ``etc/`` and an ELF file below ``bin/``, ``sbin/``,
``lib/`` or ``usr/`` (an unpacked root file system, or the image itself as the input).

A reference counts when it comes from a file outside every third-party copy (vendor code,
build and configuration files; documentation and files byte-identical to a known release
aside), or from a C/C++ file of another copy that differs from its release (a vendor's
modification). A copy's own files referring to its own samples (OpenSSL's ``s_server.c``
naming ``server.pem``) are the upstream's use, not the product's. A reference with
directories (``/etc/ssl/server.pem``) names the material whose path ends with them; a bare
name (``server.pem``) only material of the referring file's own copy or vendor code.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping, Sequence

from assay.analyze.secrets.refs import SYMBOL
from assay.correlate.components.kb import FileRef, KnowledgeBase
from assay.ingest.classify import archive_format
from assay.ingest.interface import SourceFile
from assay.ingest.magic import ArchiveFormat
from assay.model import SOURCE_KINDS, Component, FileKind

IMAGES = frozenset(
    {
        ArchiveFormat.SQUASHFS, ArchiveFormat.CRAMFS, ArchiveFormat.EXT, ArchiveFormat.CPIO,
        ArchiveFormat.JFFS2, ArchiveFormat.UBI, ArchiveFormat.ROMFS,
    }
)  # fmt: skip
"""Containers that are a device's file system: material inside them is shipped."""
_HEAD = 8192
_BINARY_DIRECTORIES = frozenset({"bin", "sbin", "lib", "lib64", "usr"})
_SYSTEM_DIRECTORIES = frozenset(
    {"etc", "usr", "lib", "lib64", "bin", "sbin", "root", "home", "opt", "var", "www", "srv",
     "data", "mnt", "overlay", "rom", "share", "tmp"}
)  # fmt: skip
"""Top directories of a root file system whose files ship on the device."""
_DOCUMENTATION = re.compile(
    r"(?i)(?:^|/)(?:docs?|man|manual)/|\.(?:md|txt|pod|html?|rst|[1-9]|man|tex|xml)$|"
    r"(?:^|/)(?:readme|changes|changelog|news|faq|install|authors)[^/]*$"
)


class Uses:
    """The references and containers of one release, with the knowledge base to tell a
    product file from an upstream one."""

    def __init__(
        self,
        kb: KnowledgeBase,
        files: Mapping[str, SourceFile],
        components: Sequence[Component],
        refs: Mapping[str, list[list[str]]],
    ) -> None:
        self.kb = kb
        self.files = files
        self.copies = {c.key: c for c in components}
        self.refs = refs
        self._counts: dict[tuple[str, str], bool] = {}
        self._roots: list[str] | None = None
        self._upstream: dict[str, list[FileRef]] = {}

    def upstream(self, sha256: str) -> list[FileRef]:
        """The release files with this content (``KnowledgeBase.upstream_of``, looked up once
        per content)."""
        if sha256 not in self._upstream:
            self._upstream[sha256] = self.kb.upstream_of(sha256)
        return self._upstream[sha256]

    def of_file(self, path: str, scope: str) -> list[str]:
        """Product files whose references name the material at ``path``."""
        base = posixpath.basename(path)
        users: set[str] = set()
        for ref, referrers in self.refs.items():
            if ref.startswith(SYMBOL) or posixpath.basename(ref) != base:
                continue
            bare = "/" not in ref
            if not bare and not (path == ref or path.endswith("/" + ref)):
                continue
            for referrer, referrer_scope in referrers:
                if referrer == path or (bare and referrer_scope != scope):
                    continue
                if self.counts(referrer, referrer_scope, scope):
                    users.add(referrer)
        return sorted(users)

    def of_symbols(self, prefix: str, scope: str) -> list[str]:
        """Product files that use a symbol of a test-material table."""
        if not prefix:
            return []
        users = {
            referrer
            for ref, referrers in self.refs.items()
            if ref.startswith(SYMBOL + prefix)
            for referrer, referrer_scope in referrers
            if self.counts(referrer, referrer_scope, scope)
        }
        return sorted(users)

    def counts(self, referrer: str, referrer_scope: str, scope: str) -> bool:
        """Is ``referrer`` product code or a build file (not a copy's own upstream file)?"""
        key = (referrer, scope)
        if key not in self._counts:
            self._counts[key] = self._product_file(referrer, referrer_scope, scope)
        return self._counts[key]

    def _product_file(self, referrer: str, referrer_scope: str, scope: str) -> bool:
        file = self.files.get(referrer)
        if file is None or _DOCUMENTATION.search(referrer) or self.upstream(file.sha256):
            return False
        copy = self.copies.get(referrer_scope)
        if copy is None:
            return True
        if referrer_scope == scope or file.kind not in SOURCE_KINDS or copy.version is None:
            return False
        below = referrer[len(copy.root) + 1 :] if copy.root else referrer
        return below in self.kb.release_files(copy.name, copy.version)

    def image_of(self, path: str) -> str | None:
        """The file-system image ``path`` is inside, or the root file system it belongs to
        (``rootfs/`` holding ``etc/`` beside ``bin/`` with an ELF file; ``.`` for the tree
        itself, as when the evaluated input is the image), if any."""
        if self._roots is None:
            self._roots = _root_file_systems(self.files.values())
        for root in self._roots:
            below = path[len(root) :].split("/", 1)
            if path.startswith(root) and len(below) == 2 and below[0] in _SYSTEM_DIRECTORIES:
                return root.rstrip("/") or "."
        parts = path.split("!/")
        for end in range(1, len(parts)):
            container = self.files.get("!/".join(parts[:end]))
            if container is None:
                continue
            with open(container.disk_path, "rb") as stream:
                head = stream.read(_HEAD)
            if archive_format(head) in IMAGES:
                return container.path
        return None


def _root_file_systems(files: Iterable[SourceFile]) -> list[str]:
    """Prefixes (``""`` or ``dir/``) of the root file systems in the tree: a directory holding
    ``etc/`` and an ELF file below its ``bin/``, ``sbin/``, ``lib/`` or ``usr/``."""
    candidates: set[str] = set()
    tops: set[str] = set()
    for file in files:
        parts = file.path.split("/")
        for index in range(len(parts) - 1):
            prefix = "/".join(parts[:index]) + ("/" if index else "")
            if parts[index] == "etc":
                tops.add(prefix)
            elif file.kind is FileKind.ELF and parts[index] in _BINARY_DIRECTORIES:
                candidates.add(prefix)
    return sorted(candidates & tops, key=len, reverse=True)
