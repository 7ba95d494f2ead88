"""The whole sequence after an evaluation, once: baseline, rate, trend, write, record.

``run`` evaluates a release (``Options``) or takes the evaluation another producer makes
(``assay rebuild``), then applies the baseline, rates it (the only place the rating is computed
for a written evaluation), attaches the product's trend from the history, writes the four
outputs and records the evaluation in the history. Every command and the tests go through it;
its inputs and its result are frozen values, never command-line objects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from assay import analyze, engine
from assay.assess import baseline as baselines
from assay.assess.rating import assess_store
from assay.config import Options
from assay.errors import StorageError
from assay.model import Evaluation, Severity
from assay.progress import Progress
from assay.report import write_all_then
from assay.storage import outdir
from assay.storage.findings import FindingStore, store_path
from assay.storage.history import History, default_path

Producer = Callable[[], Evaluation]
"""Makes an evaluation whose findings are in the finding store of the output directory given
to ``run`` (``assay.rebuild.engine.rebuild`` bound to its options, say)."""


@dataclass(frozen=True, slots=True)
class Recording:
    """Whether and where an evaluation is recorded in the history database (which also gives
    the report its product's trend)."""

    db: Path | None = None
    """History database; ``None``: the user's (``assay.storage.history.default_path``)."""
    product: str | None = None
    """Product name; ``None``: the input's name."""
    release: str | None = None
    """Release label; ``None``: the input's SHA-256, first 12 digits."""
    enabled: bool = True
    """Whether to use the history at all (no trend and no record when not)."""

    @property
    def explicit(self) -> bool:
        """Whether the database was named: failing to use it is then an error, while the
        user's default database failing (a read-only home, say) is a warning."""
        return self.db is not None

    @property
    def path(self) -> Path:
        """The database used."""
        return self.db or default_path()


@dataclass(frozen=True, slots=True)
class Result:
    """What ``run`` did."""

    evaluation: Evaluation
    """The evaluation as written: baseline applied, rating and trend attached."""
    written: tuple[Path, ...]
    """The outputs written (evaluation.json, results.sarif, report.html, sbom.cdx.json)."""
    history_id: int | None
    """Its id in the history database, ``None`` when not recorded."""
    warnings: tuple[str, ...] = ()
    """What did not stop the run but was not done (the default history unusable)."""

    @property
    def max_severity(self) -> Severity | None:
        """Highest severity among the findings the baseline does not suppress."""
        top = self.evaluation.rating.get("max_severity")
        return Severity.parse(top) if isinstance(top, str) else None

    def fails(self, fail_on: Severity | None) -> bool:
        """Whether a finding at or above ``fail_on`` remains (``--fail-on``)."""
        top = self.max_severity
        return fail_on is not None and top is not None and top >= fail_on


@dataclass(frozen=True, slots=True)
class Recorded:
    """What recording an evaluation gave: its history id, or why the default database was
    not used (a warning)."""

    ident: int | None
    warning: str | None = None


@dataclass(frozen=True, slots=True)
class Recorder:
    """Records an evaluation in the history; a picklable task, so the reporters' child can run
    it while the parent writes its reports (``write_all_then``). Everything it depends on is
    resolved when it is made (a child process may have started with another environment)."""

    db: Path
    product: str | None
    release: str | None
    output_dir: Path
    explicit: bool = True
    """Whether ``db`` was named: failing to use it is an error, not a warning."""
    disabled: bool = False

    @classmethod
    def of(cls, recording: Recording, output_dir: Path) -> Recorder:
        """The recorder ``recording`` asks for; ``output_dir`` holds the finding store."""
        return cls(recording.path.resolve(), recording.product, recording.release,
                   output_dir.resolve(), recording.explicit, not recording.enabled)  # fmt: skip

    def __call__(self, evaluation: Evaluation) -> Recorded:
        """Record ``evaluation`` (unless disabled)."""
        if self.disabled:
            return Recorded(None)
        product = self.product or evaluation.input.name
        release = self.release or evaluation.input.sha256[:12]
        try:
            with History(self.db) as history:
                return Recorded(history.record(evaluation, product=product, release=release,
                                               output_dir=self.output_dir))  # fmt: skip
        except StorageError as exc:
            if self.explicit:
                raise
            return Recorded(None, f"evaluation not recorded in the history: {exc}")


_OFF = Recording(enabled=False)


def run(
    source: Options | Producer,
    output_dir: Path | None = None,
    *,
    baseline: Path | None = None,
    recording: Recording = _OFF,
    progress: Progress | None = None,
) -> Result:
    """Evaluate ``source`` (``Options``: with ``assay.engine.evaluate``; a ``Producer``: by
    calling it), apply the ``baseline`` file, rate, attach the trend, write the four outputs
    into ``output_dir`` (``Options.output_dir`` for options; required for a producer) and
    record the evaluation as ``recording`` says (default: not at all).

    Raises ``AssayError`` for whatever stops the run; an unusable default history database
    is one of ``Result.warnings`` instead. Before anything in the output directory is
    touched, an input that is the output directory or inside it is refused, the analyzers'
    settings are checked, and the output directory's lock is taken (``assay.storage.outdir``);
    the lock is held until the outputs are written and recorded, so a second run on the same
    directory fails at once.
    """
    if isinstance(source, Options):
        out = source.output_dir
        outdir.check_apart(source.input, out)
        # the analyzers' settings are checked before the output directory is touched
        analyze.select(analyze.build(source.settings), source.categories)
    elif output_dir is None:
        raise TypeError("run: a producer needs the output_dir it writes its findings to")
    else:
        out = output_dir
    with outdir.hold(out):
        if isinstance(source, Options):
            evaluation = engine.evaluate(source, progress, preload=PRELOAD)
        else:
            evaluation = source()
        return _finish(evaluation, out, baseline, recording)


PRELOAD = (write_all_then.__module__,)
"""What the fork server imports for ``run``'s own child processes (the reporters)."""


def _finish(
    evaluation: Evaluation, out: Path, baseline: Path | None, recording: Recording
) -> Result:
    """Baseline, rating, trend, the four outputs and the record of ``evaluation``."""
    warnings: list[str] = []
    store = FindingStore(store_path(out))
    try:
        if baseline is not None:
            evaluation = baselines.apply(evaluation, baselines.load(baseline), store.findings())
        evaluation = replace(evaluation, rating=assess_store(evaluation, store).to_json())
        evaluation = _with_trend(evaluation, recording, warnings)
        # recorded by the reporters' child while this process writes
        written, recorded = write_all_then(evaluation, store, out, Recorder.of(recording, out))
    finally:
        store.close()
    ident = None
    if recorded is not None:
        ident = recorded.ident
        if recorded.warning is not None:
            warnings.append(recorded.warning)
    return Result(evaluation, tuple(written), ident, tuple(warnings))


def _with_trend(evaluation: Evaluation, recording: Recording, warnings: list[str]) -> Evaluation:
    """The product's earlier evaluations attached; an unusable default database is a
    warning."""
    if not recording.enabled:
        return evaluation
    try:
        with History(recording.path) as history:
            product = recording.product or evaluation.input.name
            return replace(evaluation, trend=history.trend(product))
    except StorageError as exc:
        if recording.explicit:
            raise
        warnings.append(f"history not used: {exc}")
        return evaluation
