"""Facts about a shipped Debian binary: its suite and compiler, and Debian's patches.

A Debian binary is stripped of ``.comment``, so its compiler is read from its provenance: the
suite named in ``changelog.Debian.gz`` and that suite's default compiler (Debian's gcc-defaults
package; ``SUITE_COMPILERS``). Patches come from ``debian/patches/series`` of the source
package; a patch touching a file whose object file the rebuild produced is marked as compiled
into the artefact.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterable
from pathlib import Path

#: Default C compiler of each Debian suite (gcc-defaults in that release).
SUITE_COMPILERS = {
    "stretch": "GCC 6.3.0", "buster": "GCC 8.3.0", "bullseye": "GCC 10.2.1",
    "bookworm": "GCC 12.2.0", "trixie": "GCC 14.2.0",
}  # fmt: skip
_ENTRY = re.compile(r"^(\S+) \(([^)]+)\) ([a-z][a-z0-9-]*)[^;]*;")
_SOURCES = (".c", ".cc", ".cpp", ".cxx", ".S", ".s")
_MAX_CHANGELOG = 1 << 20


def provenance(shipped: Path) -> str | None:
    """``Debian bullseye-security: zlib 1:1.2.11... ; default compiler GCC 10.2.1``, or None."""
    for changelog in sorted(shipped.glob("usr/share/doc/*/changelog.Debian.gz")):
        try:
            with gzip.open(changelog, "rb") as handle:
                first = handle.read(_MAX_CHANGELOG).decode("utf-8", "replace").partition("\n")[0]
        except (OSError, EOFError):
            continue
        match = _ENTRY.match(first)
        if match:
            package, version, dist = match.groups()
            suite = dist.split("-")[0]
            compiler = SUITE_COMPILERS.get(suite, "unknown")
            return (f"built for Debian {dist} as {package} {version} "
                    f"({changelog.relative_to(shipped)}); {suite}'s default compiler is "
                    f"{compiler} (gcc-defaults)")  # fmt: skip
    return None


def patches(debian: Path, build_root: Path | None) -> tuple[str, ...]:
    """Each patch of ``debian/patches/series`` with the files it touches.

    Files whose object file (``.o``/``.lo``) exists in ``build_root`` are marked as compiled.
    """
    base = debian / "patches" if (debian / "patches").is_dir() else debian / "debian" / "patches"
    series = base / "series"
    if not series.is_file():
        return ()
    compiled = _compiled(build_root) if build_root else set()
    out = []
    for name in _series(series.read_text("utf-8", "replace")):
        touched = sorted(set(_touched(base / name)))
        into = [t for t in touched if t in compiled]
        note = f"; compiled into the artefact: {', '.join(into)}" if into else ""
        out.append(f"Debian patch {name} touches {', '.join(touched) or 'nothing'}{note}")
    return tuple(out)


def _series(text: str) -> Iterable[str]:
    """Patch names of a quilt series file (comments and options dropped, no ``..``)."""
    for line in text.splitlines():
        name = line.split("#", 1)[0].strip().split(" ")[0]
        if name and ".." not in name.split("/") and not name.startswith("/"):
            yield name


def _touched(patch: Path) -> Iterable[str]:
    """Paths after ``+++`` without their first component (``b/``, ``zlib-1.2.7/``)."""
    try:
        text = patch.read_text("utf-8", "replace")
    except OSError:
        return
    for line in text.splitlines():
        if line.startswith("+++ "):
            path = line[4:].split("\t")[0].strip()
            if path != "/dev/null":
                yield path.partition("/")[2] or path


def _compiled(root: Path) -> set[str]:
    """Source files (relative to ``root``) next to an object file of the same stem."""
    found = set()
    for obj in root.rglob("*"):
        if obj.suffix in (".o", ".lo") and obj.is_file() and not obj.is_symlink():
            for suffix in _SOURCES:
                source = obj.with_suffix(suffix)
                if source.is_file():
                    found.add(source.relative_to(root).as_posix())
    return found
