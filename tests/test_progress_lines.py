"""Progress without a terminal: plain lines on stderr, only on long runs (clock injected)."""

from __future__ import annotations

import io

from assay.cli.progress import DELAY_SECONDS, LINE_SECONDS, RichProgress


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_short_run_prints_nothing() -> None:
    stream, clock = io.StringIO(), Clock()
    progress = RichProgress(stream=stream, clock=clock)
    progress.stage("ingest")
    progress.advance(40)
    clock.now += DELAY_SECONDS / 2
    progress.stage("analyze", total=40)
    progress.advance(40)
    progress.done()
    assert stream.getvalue() == ""


def test_a_long_run_prints_a_line_per_stage_and_interval_then_its_end() -> None:
    stream, clock = io.StringIO(), Clock()
    progress = RichProgress(stream=stream, clock=clock)
    progress.stage("ingest")
    progress.advance(10)  # too early: nothing
    clock.now += DELAY_SECONDS
    progress.advance(5)  # first line of the run
    clock.now += 1
    progress.advance(5)  # within the interval: nothing
    clock.now += LINE_SECONDS
    progress.advance(80)
    progress.stage("analyze", total=300)  # a new stage is said at once
    clock.now += 1
    progress.advance(100)  # within the interval
    clock.now += LINE_SECONDS
    progress.advance(50)
    progress.done()
    assert stream.getvalue().splitlines() == [
        "assay: ingest 15 files, 2 s",
        "assay: ingest 100 files, 18 s",
        "assay: analyze 0/300 files, 18 s",
        "assay: analyze 150/300 files, 34 s",
        "assay: done in 34 s",
    ]


def test_quiet_prints_nothing_and_a_closed_stream_stops_the_lines() -> None:
    stream, clock = io.StringIO(), Clock()
    quiet = RichProgress(enabled=False, stream=stream, clock=clock)
    clock.now += 60
    quiet.stage("analyze", total=3)
    quiet.advance(3)
    quiet.done()
    assert stream.getvalue() == ""
    closed = io.StringIO()
    progress = RichProgress(stream=closed, clock=clock)
    closed.close()
    clock.now += 60
    progress.stage("analyze", total=3)  # ValueError on a closed stream: swallowed, lines stop
    progress.advance(3)
    progress.done()
