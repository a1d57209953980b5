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
import scipy.ndimage

from analysis.audio.stft import DEFAULT_STFT, STFTParams, scaled_window
from analysis.errors import InputError

ZERO_PAD = 4  # the FFT is this many times the window's: finer bins before the parabola
PEAK_WINDOW_S = 0.05  # the peaks' own window, whatever the picture's: ~20 Hz apart resolved


def peak_params(sample_rate: int) -> STFTParams:
    """The STFT settings :func:`spectral_peaks` is run with for a view: a Hann window of the
    power of two nearest :data:`PEAK_WINDOW_S` (256 to 8192 samples), so a change of the
    picture's FFT size costs no new peaks."""
    n_fft = 2 ** round(np.log2(PEAK_WINDOW_S * sample_rate))
    return STFTParams(n_fft=int(min(max(n_fft, 256), 8192)))


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
    db = 20.0 * np.log10(np.maximum(spectrum, np.float32(_AMIN)))  # float32: half the work
    # A peak is the loudest within 4 bins either side (Hann's side lobes lie 2.5 and 3.5 bins
    # out) and no more than range_db below its frame's loudest: all frames at once.
    height = np.maximum(floor_db, db.max(axis=1, keepdims=True) - range_db)
    around = scipy.ndimage.maximum_filter1d(db, size=8 * ZERO_PAD + 1, axis=1, mode="nearest")
    is_peak = (db == around) & (db >= height)
    is_peak[:, 1:] &= db[:, 1:] > db[:, :-1]  # not a flat run's later bins
    is_peak[:, [0, -1]] = False
    candidates = np.where(is_peak, db, -np.inf)
    k = min(max_peaks, db.shape[1])
    loudest = np.argpartition(-candidates, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(candidates, loudest, axis=1), axis=1)
    loudest = np.take_along_axis(loudest, order, axis=1)
    found = np.take_along_axis(is_peak, loudest, axis=1)
    bins, heights = _parabola(db, loudest)
    hz = np.full((len(centres), max_peaks), np.nan)
    levels = np.full((len(centres), max_peaks), np.nan)
    hz[:, :k] = np.where(found, bins * sample_rate / (ZERO_PAD * n_fft), np.nan)
    levels[:, :k] = np.where(found, heights, np.nan)
    return Peaks(times_s, hz, levels)


def _parabola(db: np.ndarray, bins: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fractional bin and height of the parabola through each peak (``bins``, per row of
    ``db``) and its neighbours."""
    inner = np.clip(bins, 1, db.shape[1] - 2)
    take = lambda offset: np.take_along_axis(db, inner + offset, axis=1)  # noqa: E731
    left, centre, right = take(-1), take(0), take(1)
    curve = left - 2 * centre + right
    with np.errstate(divide="ignore", invalid="ignore"):
        offset = np.where(curve < 0, 0.5 * (left - right) / curve, 0.0)
    return inner + offset, centre - 0.25 * (left - right) * offset
