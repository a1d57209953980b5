"""The mel scale from librosa: the same filterbank as the hand-written one it replaced."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from analysis.audio.mel import band_edges, hz_to_mel, mel_filterbank, mel_to_hz


def handwritten_filterbank(
    sample_rate: int, n_fft: int, n_mels: int, fmax: float, fmin: float = 0.0
) -> np.ndarray:
    """The filterbank Percept computed itself before librosa's: HTK mel, unit-peak triangles,
    an empty band (narrower than a bin) given its nearest bin."""
    mel = 2595.0 * np.log10(1.0 + np.array([fmin, fmax], dtype=np.float64) / 700.0)
    edges = 700.0 * (10.0 ** (np.linspace(mel[0], mel[1], n_mels + 2) / 2595.0) - 1.0)
    bins = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (bins - lower) / np.maximum(centre - lower, 1e-9)
    falling = (upper - bins) / np.maximum(upper - centre, 1e-9)
    weights = np.clip(np.minimum(rising, falling), 0.0, None)
    empty = weights.max(axis=1) == 0
    nearest = np.abs(bins[None, :] - centre).argmin(axis=1)
    weights[empty, nearest[empty]] = 1.0
    return weights.astype(np.float32)


@pytest.mark.parametrize(
    ("sample_rate", "n_fft", "n_mels", "fmin", "fmax"),
    [
        (16000, 2048, 128, 0.0, 8000.0),  # the page's defaults on a 16 kHz file
        (44100, 16384, 256, 0.0, 22050.0),  # the finest settings
        (44100, 256, 256, 0.0, 22050.0),  # coarse bins: the low bands are empty
        (22050, 2048, 64, 600.0, 1500.0),  # a zoomed band
        (8000, 512, 16, 0.0, 4000.0),
    ],
)
def test_librosas_filterbank_gives_the_same_weights_as_ours_did(
    sample_rate, n_fft, n_mels, fmin, fmax
):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the empty bands' warning is silenced, nothing else
        weights = mel_filterbank(sample_rate, n_fft, n_mels, fmax, fmin=fmin)
    expected = handwritten_filterbank(sample_rate, n_fft, n_mels, fmax, fmin=fmin)
    assert weights.dtype == np.float32 and weights.shape == (n_mels, n_fft // 2 + 1)
    np.testing.assert_array_equal(weights, expected)
    assert (weights.max(axis=1) > 0).all()  # every band has a bin, however narrow


def test_every_band_peaks_at_one_so_a_tone_keeps_its_level():
    weights = mel_filterbank(16000, 2048, 40, 8000.0)
    edges = band_edges(0.0, 8000.0, 40)
    # A triangle rising to 1 at its centre: the nearest bin, at most half a bin away, is
    # within half a bin's share of the narrower slope of the top.
    slope = np.minimum(edges[1:-1] - edges[:-2], edges[2:] - edges[1:-1])
    peaks = weights.max(axis=1)
    assert (peaks <= 1).all() and (peaks >= 1 - (16000 / 2048 / 2) / slope - 1e-6).all()


def test_band_edges_are_even_in_mel_and_reach_the_range():
    edges = band_edges(100.0, 4000.0, 30)
    assert (
        len(edges) == 32 and edges[0] == pytest.approx(100.0) and edges[-1] == pytest.approx(4000.0)
    )
    steps = np.diff(hz_to_mel(edges))
    assert np.allclose(steps, steps[0])


def test_the_htk_formula():
    hz = np.array([0.0, 100.0, 700.0, 1000.0, 8000.0])
    np.testing.assert_allclose(hz_to_mel(hz), 2595.0 * np.log10(1.0 + hz / 700.0))
    np.testing.assert_allclose(mel_to_hz(hz_to_mel(hz)), hz, atol=1e-9)
    assert hz_to_mel(700.0) == pytest.approx(2595.0 * np.log10(2.0))
