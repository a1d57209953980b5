"""Stage timings: medians of warm runs, person by person for poses, and the warm-run budget."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.vision.timings import PoseTimings, Timings, median_timings, timed_run


def test_median_timings_are_taken_stage_by_stage():
    runs = [Timings(1, 10, 100), Timings(3, 30, 300), Timings(2, 20, 900)]
    assert median_timings(runs) == Timings(2, 20, 300)


def test_pose_medians_are_taken_person_by_person():
    runs = [
        PoseTimings(Timings(1, 1, 1), (Timings(5, 5, 5), Timings(7, 7, 7)), 0.1),
        PoseTimings(Timings(3, 3, 3), (Timings(9, 9, 9), Timings(1, 1, 1)), 0.3),
        PoseTimings(Timings(2, 2, 2), (Timings(6, 6, 6), Timings(2, 2, 2)), 0.2),
    ]
    median = median_timings(runs)
    assert median.detector == Timings(2, 2, 2)
    assert median.landmarks == (Timings(6, 6, 6), Timings(2, 2, 2))
    assert median.filtering == pytest.approx(0.2)
    assert median.as_dict()["postprocess"] == pytest.approx(2 + 6 + 2 + 0.2)


def test_a_timed_run_repeats_a_quick_analysis_and_keeps_the_first_runs_result():
    calls = []

    def analyse(rgb):
        calls.append(rgb)
        return f"result {len(calls)}", Timings(len(calls), 0, 0)

    run = timed_run(analyse, np.zeros((2, 2, 3), np.uint8))
    assert len(calls) == 4 and run.warm_runs == 3
    assert run.raw == "result 1" and run.first == Timings(1, 0, 0)
    assert run.warm == Timings(3, 0, 0)  # the median of runs 2, 3 and 4


def test_a_slow_analysis_is_not_repeated(monkeypatch):
    clock = iter(range(0, 100_000, 2))  # every reading two seconds after the last
    monkeypatch.setattr("time.perf_counter", lambda: next(clock))
    calls = []
    run = timed_run(lambda rgb: calls.append(1) or (None, Timings(9, 9, 9)), None)
    assert len(calls) == 1 and run.warm_runs == 0 and run.warm == run.first
