"""A short, fixed fuzzing budget (derandomized: the same examples on every run, no time
deadline): mutated real archives, images, ELF files and sources through ingest, the ELF reader
and the analyzers. ``bench/fuzz.py --examples N`` runs the same targets longer.

Every crash the harness found is fixed and pinned with its exact bytes in
``test_fuzz_regressions.py``.
"""

from __future__ import annotations

from fuzz_targets import (
    MUTATIONS,
    Mutation,
    check_analyzers,
    check_elf,
    check_ingest,
    mutate,
    seeds,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FAST = settings(
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@settings(FAST, max_examples=500)
@given(pick=st.integers(0, 1 << 16), edits=MUTATIONS, as_input=st.booleans())
def test_fuzz_ingest_archives(pick: int, edits: list[Mutation], as_input: bool) -> None:
    name, data = seeds().archives[pick % len(seeds().archives)]
    check_ingest(name, mutate(data, edits), as_input=as_input)


@settings(FAST, max_examples=100)
@given(pick=st.integers(0, 1 << 16), edits=MUTATIONS)
def test_fuzz_ingest_images(pick: int, edits: list[Mutation]) -> None:
    name, data = seeds().images[pick % len(seeds().images)]
    check_ingest(name, mutate(data, edits))


@settings(FAST, max_examples=1000)
@given(pick=st.integers(0, 1 << 16), edits=MUTATIONS)
def test_fuzz_elf_reader(pick: int, edits: list[Mutation]) -> None:
    check_elf(mutate(seeds().elves[pick % len(seeds().elves)], edits))


@settings(FAST, max_examples=500)
@given(pick=st.integers(0, 1 << 16), edits=MUTATIONS)
def test_fuzz_analyzers(pick: int, edits: list[Mutation]) -> None:
    name, data, kind = seeds().sources[pick % len(seeds().sources)]
    check_analyzers(name, mutate(data, edits), kind)


def test_the_seeds_are_read_in_full() -> None:
    """The harness itself: every unmutated seed is read whole (a target that refused every
    seed would pass every mutation without reading anything)."""
    for name, data in seeds().archives:
        result = check_ingest(name, data)
        assert result is not None
        if name == "c.gz":
            assert [f.path for f in result.files] == ["c.gz", "c.gz!/c"]
            continue
        prefix = f"{name}!/"
        assert [f.path for f in result.files if f.path.startswith(prefix)] == [
            f"{prefix}README",
            f"{prefix}src/copy.c",
            f"{prefix}src/copy.o",
        ], name
        assert [(s.path, s.reason) for s in result.skipped] == [(f"{prefix}link.c", "link")]
    for name, data in seeds().images:
        result = check_ingest(name, data)
        assert result is not None
        paths = [f.path.removeprefix(f"{name}!/") for f in result.files]
        assert [p for p in paths if p in ("README", "src/copy.c", "src/copy.o")] == [
            "README",
            "src/copy.c",
            "src/copy.o",
        ], name
    for data in seeds().elves:
        check_elf(data)
    for name, data, kind in seeds().sources:
        check_analyzers(name, data, kind)
    assert len(seeds().archives) == 7 and len(seeds().images) == 3 and len(seeds().elves) == 2


def test_mutations_edit_where_they_say() -> None:
    data = bytes(range(10))
    assert Mutation("flip", 12, 0, 1).apply(data) == bytes([0, 1, 3, 3, 4, 5, 6, 7, 8, 9])
    assert Mutation("truncate", 4, 0, 1).apply(data) == bytes(range(4))
    assert Mutation("delete", 1, 0, 3).apply(data) == bytes([0, 4, 5, 6, 7, 8, 9])
    assert Mutation("insert", 0, 7, 2).apply(data) == bytes([7, 7, *range(10)])
    assert Mutation("repeat", 8, 1, 2).apply(data) == bytes([*range(10), 8, 9, 8, 9])
    assert Mutation("boundary", 0, 4, 2).apply(data) == bytes([0xFF, 0xFF, *range(2, 10)])
