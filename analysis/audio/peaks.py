"""Spectral peaks at chosen moments, at a finer frequency than the FFT's bins: what the
spectrum slice names and what the measure tool snaps to.

Each moment's frame is windowed, zero-padded to four times the FFT size and its peaks are
refined by a parabola through the log magnitude at the peak bin and its two neighbours
(a tone's frequency to within a few hundredths of a bin, a cent or less above ~300 Hz at
the default settings).

>>> peaks = spectral_peaks(y, 44100, times_s=np.array([0.5, 1.0]), n_fft=2048)
>>> peaks.hz[0]  # the strongest peaks of the frame at 0.5 s, loudest first
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.fft
import scipy.signal

from analysis.audio.stft import DEFAULT_STFT, STFTParams, scaled_window
from analysis.errors import InputError

ZERO_PAD = 4  # the FFT is this many times the window's: finer bins before the parabola
_AMIN = 1e-12


@dataclass(frozen=True)
class Peaks:
    """The strongest spectral peaks of some frames.

    Attributes
    ----------
    times_s : np.ndarray
        float64 ``(frames,)``: frame centres, s.
    hz : np.ndarray
        float64 ``(frames, max_peaks)``: peak frequencies, loudest first, NaN-padded.
    db : np.ndarray
        float64 ``(frames, max_peaks)``: their levels, dB re full scale, NaN-padded.
    """

    times_s: np.ndarray
    hz: np.ndarray
    db: np.ndarray


def spectral_peaks(
    y: np.ndarray,
    sample_rate: int,
    times_s: np.ndarray,
    params: STFTParams = DEFAULT_STFT,
    *,
    max_peaks: int = 6,
    floor_db: float = -100.0,
    range_db: float = 40.0,
) -> Peaks:
    """The ``max_peaks`` loudest peaks of the frames centred on ``times_s``.

    Parameters
    ----------
    y : np.ndarray
        Mono signal, shape ``(samples,)``.
    sample_rate : int
        Hz.
    times_s : np.ndarray
        Frame centres, s (frames reaching past the signal are zero-padded).
    params : STFTParams
        FFT size, window length and shape (the hop is not used).
    max_peaks : int
        Peaks kept per frame.
    floor_db : float
        Peaks quieter than this (dB re full scale) are ignored.
    range_db : float
        So are peaks more than this below the frame's loudest (the window's side lobes).

    Returns
    -------
    Peaks
    """
    if y.ndim != 1:
        raise InputError("Spectral peaks need one channel: mix down or pick a channel first.")
    if max_peaks < 1:
        raise InputError("Ask for at least one peak.")
    params = params.resolved()
    window = scaled_window(params)
    n_fft = params.n_fft
    times_s = np.asarray(times_s, dtype=np.float64)
    centres = np.rint(times_s * sample_rate).astype(np.int64)
    frames = np.zeros((len(centres), n_fft), dtype=np.float32)
    for i, centre in enumerate(centres):
        lo = centre - n_fft // 2
        src_lo, src_hi = max(lo, 0), min(lo + n_fft, len(y))
        if src_hi > src_lo:
            frames[i, src_lo - lo : src_hi - lo] = y[src_lo:src_hi]
    spectrum = np.abs(scipy.fft.rfft(frames * window, n=ZERO_PAD * n_fft, axis=1))
    db = 20.0 * np.log10(np.maximum(spectrum, _AMIN))
    hz = np.full((len(centres), max_peaks), np.nan)
    levels = np.full((len(centres), max_peaks), np.nan)
    bin_hz = sample_rate / (ZERO_PAD * n_fft)
    for i, row in enumerate(db):
        # Peaks closer than 4 bins to a louder one are its side lobes (Hann: 2.5, 3.5 bins).
        height = max(floor_db, float(row.max()) - range_db)
        found, props = scipy.signal.find_peaks(row, height=height, distance=4 * ZERO_PAD)
        loudest = found[np.argsort(props["peak_heights"])[::-1][:max_peaks]]
        refined, heights = _parabola(row, loudest)
        hz[i, : len(loudest)] = refined * bin_hz
        levels[i, : len(loudest)] = heights
    return Peaks(times_s, hz, levels)


def _parabola(db: np.ndarray, bins: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fractional bin and height of the parabola through each peak and its neighbours."""
    inner = np.clip(bins, 1, len(db) - 2)
    left, centre, right = db[inner - 1], db[inner], db[inner + 1]
    curve = left - 2 * centre + right
    with np.errstate(divide="ignore", invalid="ignore"):
        offset = np.where(curve < 0, 0.5 * (left - right) / curve, 0.0)
    return inner + offset, centre - 0.25 * (left - right) * offset
