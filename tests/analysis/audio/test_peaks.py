"""Spectral peaks: a tone pair's frequencies to a fraction of a cent, and no side lobes."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.audio.peaks import peak_params, spectral_peaks
from analysis.audio.stft import STFTParams
from analysis.errors import InputError


def pair(rate: int, seconds: float = 2.0, hz: tuple[float, ...] = (1000.0, 1500.0)) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    noise = 1e-4 * np.random.default_rng(0).standard_normal(t.size)
    return (sum(0.3 * np.sin(2 * np.pi * f * t) for f in hz) + noise).astype(np.float32)


@pytest.mark.parametrize(("rate", "n_fft"), [(44100, 2048), (16000, 512), (22050, 4096)])
def test_a_fifth_reads_702_cents_and_nothing_else(rate, n_fft):
    peaks = spectral_peaks(pair(rate), rate, np.array([0.5, 1.0, 1.5]), STFTParams(n_fft))
    for hz, db in zip(peaks.hz, peaks.db, strict=True):
        found = np.sort(hz[~np.isnan(hz)])
        assert found == pytest.approx([1000.0, 1500.0], abs=0.1)  # no side lobe is a peak
        assert 1200 * np.log2(found[1] / found[0]) == pytest.approx(701.955, abs=0.3)
        # Each tone at 0.3 of full scale: -10.5 dB re full scale.
        assert db[~np.isnan(db)] == pytest.approx([20 * np.log10(0.3)] * 2, abs=0.2)


def test_peaks_come_loudest_first_and_silence_has_none():
    rate = 16000
    t = np.arange(rate) / rate
    y = (0.5 * np.sin(2 * np.pi * 440 * t) + 0.05 * np.sin(2 * np.pi * 2000 * t)).astype(np.float32)
    peaks = spectral_peaks(y, rate, np.array([0.5]), max_peaks=1)
    assert peaks.hz.shape == (1, 1) and peaks.hz[0, 0] == pytest.approx(440.0, abs=0.1)
    quiet = spectral_peaks(np.zeros(rate, np.float32), rate, np.array([0.5]))
    assert np.isnan(quiet.hz).all()


def test_a_frame_past_the_end_is_zero_padded_and_bad_input_is_one_sentence():
    rate = 16000
    peaks = spectral_peaks(pair(rate, 0.5), rate, np.array([0.49, 3.0]))
    assert peaks.hz[0, 0] == pytest.approx(1000.0, abs=1) or peaks.hz[0, 0] == pytest.approx(
        1500.0, abs=1
    )
    assert np.isnan(peaks.hz[1]).all()  # beyond the end: nothing
    with pytest.raises(InputError):
        spectral_peaks(np.zeros((2, 100), np.float32), rate, np.array([0.0]))


@pytest.mark.parametrize(("rate", "n_fft"), [(8000, 512), (16000, 1024), (44100, 2048),
                                             (192000, 8192)])  # fmt: skip
def test_the_peaks_window_is_about_50_ms_whatever_the_picture(rate, n_fft):
    assert peak_params(rate).n_fft == n_fft
