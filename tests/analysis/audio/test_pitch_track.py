"""pYIN shared with a second process: the same track as one process, and stopped with it."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from analysis.audio import pitch_track
from analysis.audio.pitch_track import start_pitch, track_pitch
from tests.analysis.audio.music_signals import RATE, song

pytestmark = pytest.mark.slow  # a second Python process takes about 3.5 s to start

SECONDS = 65.0  # 7 blocks: shared from 6 in these tests (from 30, five minutes, in use)


@pytest.fixture(scope="module")
def melody():
    return song(SECONDS)


@pytest.fixture(scope="module")
def alone(melody):
    """The track from this process alone."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pitch_track, "usable_cores", lambda: 1)
        return track_pitch(melody, RATE)


@pytest.fixture
def two_cores(monkeypatch):
    monkeypatch.setattr(pitch_track, "usable_cores", lambda: 2)
    monkeypatch.setattr(pitch_track, "_SHARED_FROM_BLOCKS", 6)


def test_under_five_minutes_no_second_process_is_started(monkeypatch, melody):
    monkeypatch.setattr(pitch_track, "usable_cores", lambda: 2)
    with start_pitch(melody, RATE) as pending:
        assert pending.blocks == 7 and pending._helper is None


def _same(track, expected):
    np.testing.assert_array_equal(track.times_s, expected.times_s)
    np.testing.assert_array_equal(track.f0_hz, expected.f0_hz)  # NaN where both are unvoiced
    np.testing.assert_array_equal(track.voiced_probability, expected.voiced_probability)


def test_the_melody_is_voiced_over_the_whole_minute(alone):
    assert alone.times_s[-1] == pytest.approx(SECONDS, abs=0.03)
    voiced = np.isfinite(alone.f0_hz)
    assert voiced[: len(voiced) // 2].mean() > 0.5 and voiced[len(voiced) // 2 :].mean() > 0.5


def test_a_second_process_gives_the_same_track_and_counts_every_block(two_cores, melody, alone):
    seen = []
    with start_pitch(melody, RATE) as pending:
        assert pending._helper is not None and pending.blocks == 7
        track = pending.finish(lambda done, total: seen.append((done, total)))
    _same(track, alone)
    assert seen[-1] == (7, 7)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


def test_stopping_stops_the_second_process(two_cores, melody):
    class Stop(Exception):
        pass

    def progress(done, total):
        raise Stop

    pending = start_pitch(melody, RATE)
    with pytest.raises(Stop):
        pending.finish(progress)
    assert pending._helper._process.returncode is not None


def test_a_second_process_that_fails_leaves_the_work_to_this_one(
    two_cores, monkeypatch, melody, alone
):
    monkeypatch.setattr(sys, "executable", "/bin/false")
    _same(track_pitch(melody, RATE), alone)
