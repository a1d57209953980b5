"""The voiced-region logic: regions, and the pitch range adapted to a speaker, on known numbers."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.speech.voicing import adapted_range, clip_regions, inside, robust_range


def test_the_second_pass_range_is_three_quarters_of_q1_to_one_and_a_half_q3():
    f0 = np.linspace(100.0, 140.0, 101)  # Q1 = 110 Hz, Q3 = 130 Hz
    assert adapted_range(f0, 75.0, 600.0) == (82.0, 195.0)


def test_octave_jumps_in_the_first_pass_do_not_make_the_range():
    f0 = np.full(100, 110.0)
    f0[:8] = 440.0  # 8 % of frames an octave or two up, as Praat's first pass finds
    f0[8:12] = 55.0  # and a few an octave down
    floor, ceiling = adapted_range(f0, 75.0, 600.0)
    assert (floor, ceiling) == (82.0, 165.0)
    assert floor > 55.0 and ceiling < 220.0  # the errors fall outside the second pass


def test_too_few_voiced_frames_keep_the_first_pass_range():
    f0 = np.array([np.nan, 120.0, 130.0, np.nan])
    assert adapted_range(f0, 75.0, 600.0) == (75.0, 600.0)


def test_the_range_shown_is_the_5th_to_95th_percentile_of_the_voiced_frames():
    f0 = np.concatenate([np.arange(100.0, 200.0), [np.nan] * 50, [600.0]])
    low, high = robust_range(f0)
    assert low == pytest.approx(np.percentile(np.append(np.arange(100.0, 200.0), 600), 5))
    assert high < 200.0  # one 600 Hz octave error is not the top of the range
    assert robust_range(np.full(10, np.nan)) is None


def test_times_inside_regions():
    regions = np.array([[0.5, 1.0], [2.0, 3.0]])
    times = np.array([0.0, 0.5, 0.75, 1.0, 1.5, 2.5, 3.0, 3.5])
    expected = [False, True, True, True, False, True, True, False]
    np.testing.assert_array_equal(inside(times, regions), expected)
    assert not inside(times, np.empty((0, 2))).any()


def test_regions_are_clipped_to_a_range():
    regions = np.array([[0.5, 1.0], [2.0, 3.0], [4.0, 5.0]])
    np.testing.assert_array_equal(clip_regions(regions, 0.8, 2.5), [[0.8, 1.0], [2.0, 2.5]])
    assert clip_regions(regions, 1.2, 1.8).shape == (0, 2)
