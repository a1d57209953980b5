"""Harmonic/percussive separation and the MFCC/spectral features table, on known signals."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from analysis.audio.harmony import chord_probabilities, estimate_key, label_chords
from analysis.audio.separation import separate
from analysis.audio.timbre import timbre_features
from analysis.errors import InputError
from tests.analysis.audio.music_signals import RATE, click_track, harmonic_tone


def energy(x: np.ndarray) -> float:
    return float(np.sum(np.square(x, dtype=np.float64)))


def test_a_tone_is_harmonic_and_clicks_are_percussive():
    tone = (0.2 * harmonic_tone(440.0, 40.0)).astype(np.float32)  # crosses a 30 s block
    clicks = 0.5 * click_track(120.0, 40.0)  # together under full scale, which clips
    parts = separate(tone + clicks, RATE)
    assert parts.harmonic.shape == parts.percussive.shape == tone.shape
    assert np.allclose(parts.harmonic + parts.percussive, tone + clicks, atol=1e-3)
    # Each part is mostly the sound it should hold.
    assert energy(parts.harmonic - tone) < 0.1 * energy(tone)
    assert energy(parts.percussive - clicks) < 0.3 * energy(clicks)


def test_separating_nothing_is_one_sentence():
    with pytest.raises(InputError, match="nothing to separate"):
        separate(np.zeros(0, np.float32), RATE)


def test_features_table_of_a_tone():
    t = np.arange(3 * RATE) / RATE
    tone = (0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    table = timbre_features(tone, RATE)
    assert table.values.shape == (len(table.times_s), 19)
    column = dict(zip(table.names, table.values[len(table.times_s) // 2], strict=True))
    assert column["centroid_hz"] == pytest.approx(1000, rel=0.05)
    assert column["rms"] == pytest.approx(0.5 / np.sqrt(2), rel=0.05)
    assert column["flatness"] < 0.01  # a pure tone is as far from noise as can be
    rows = list(csv.reader(io.StringIO(table.shifted(10.0).to_csv())))
    assert rows[0] == ["time_s", *table.names]
    assert float(rows[1][0]) == pytest.approx(10.0)


def test_key_and_chords_from_chroma_alone():
    c_major = np.zeros((12, 1))
    c_major[[0, 2, 4, 5, 7, 9, 11]] = 1.0
    c_major[[0, 7]] = 2.0  # tonic and dominant heard most
    assert estimate_key(c_major).name == "C major"
    a_minor = np.roll(np.array([[3.0, 0, 1, 1, 0, 1, 0, 2, 1, 0, 1, 0]]).T, 9, axis=0)
    assert estimate_key(a_minor).name == "A minor"
    flat = np.ones((12, 4))
    assert not estimate_key(flat).sure
    triads = np.zeros((12, 3))
    triads[[0, 4, 7], 0] = 1.0  # C
    triads[[9, 0, 4], 1] = 1.0  # Am
    probabilities = chord_probabilities(np.hstack([triads[:, :2], flat[:, :1]]))
    assert np.allclose(probabilities.sum(axis=0), 1.0)
    assert label_chords(triads[:, :2], stay=0.0) == ["C", "Am"]
    assert label_chords(flat) == ["N"] * 4
    assert label_chords(np.zeros((12, 2))) == ["N", "N"]  # silence
