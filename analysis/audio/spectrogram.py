"""Short-time Fourier transform at display resolution: frequency scales, dB, time pooling.

A 10-minute file has ~50 000 STFT frames but a screen shows ~1 200 columns, so frames are
max-pooled into columns while they are computed (transients survive, memory stays small),
and FFT bins are max-pooled (linear, log) or weighted (mel) into rows. When a long range
at a small hop would cost more FFT work than a picture is worth, only every n-th frame is
computed (``Spectrogram.frame_step``); :func:`analysis.audio.exports.stft_frames` gives every
frame and every bin of a range, for exports.

>>> spec = spectrogram(clip.mono(), clip.sample_rate, STFTParams(n_fft=4096), scale="log")
>>> db = to_db(spec.power, db_range=80)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import scipy.sparse

from analysis.audio.mel import band_edges, mel_filterbank
from analysis.audio.stft import (
    BATCH_SAMPLES,
    DEFAULT_STFT,
    STFTParams,
    frame_count,
    frame_magnitude,
    sample_range,
    scaled_window,
)
from analysis.cores import usable_cores
from analysis.errors import InputError

SCALES = ("linear", "log", "mel")
# Lowest frequency of the log scale: the seed's specshow(y_axis="log") starts near here too.
LOG_FMIN_HZ = 20.0
# FFT work (frames x FFT size, in samples) a picture may cost: ~0.15 s on two cores. Above
# it only every n-th frame is computed, so no setting on any file length freezes the page.
MAX_FFT_WORK = 1 << 27
_AMIN = 1e-12  # power floor (-120 dB) so silence never takes log(0)


class Cancelled(Exception):
    """A computation stopped early because its ``cancelled()`` callback returned True."""


@dataclass(frozen=True)
class Spectrogram:
    """Power on a display grid.

    Attributes
    ----------
    power : np.ndarray
        float32, shape ``(rows, columns)``; row 0 is the lowest frequency. Power is scaled
        so that a full-scale sine peaks at 1.0 (0 dB re full scale). Rows of the log and mel
        scales below half the first FFT bin have no bin of their own: they are NaN.
    times : np.ndarray
        Column edges in seconds from the start of the file, shape ``(columns + 1,)``.
    freqs : np.ndarray
        Row centre frequencies in Hz, shape ``(rows,)``.
    scale : str
        ``"linear"``, ``"log"`` or ``"mel"``: rows are evenly spaced in Hz, log Hz or mel.
    fmin, fmax : float
        Frequency range covered, Hz (linear: the centres of the lowest and highest rows).
    frames : int
        STFT frames in the time range at these settings (before pooling into columns).
    params : STFTParams
        The resolved STFT settings.
    frame_step : int
        1 when every frame was computed; n when only every n-th frame was (a long range at
        settings costing more than ``max_fft_work``).
    """

    power: np.ndarray
    times: np.ndarray
    freqs: np.ndarray
    scale: str
    fmin: float
    fmax: float
    frames: int
    params: STFTParams
    frame_step: int = 1


def scale_range(scale: str, sample_rate: int) -> tuple[float, float]:
    """The frequency range (Hz) a scale's rows cover: from 0 Hz (linear, mel) or 20 Hz (log;
    a quarter of Nyquist at very low rates) to Nyquist."""
    nyquist = sample_rate / 2
    return (min(LOG_FMIN_HZ, nyquist / 4) if scale == "log" else 0.0), nyquist


@dataclass(frozen=True)
class _Rows:
    """How FFT bins become the picture's rows: max-pooled (linear, log) or weighted (mel)."""

    centres: np.ndarray  # of the rows, Hz
    fmin: float  # the range covered, Hz (linear: the centres of the outer rows)
    fmax: float
    no_data: np.ndarray  # rows without an FFT bin of their own (log, mel: only the 0 Hz one)
    starts: np.ndarray | None = None  # linear, log: each row's first bin, for reduceat
    weights: scipy.sparse.csr_array | None = None  # mel: the filterbank

    def pool(self, power: np.ndarray) -> np.ndarray:
        """Power of shape ``(columns, bins)`` on the rows: shape ``(columns, rows)``."""
        if self.weights is not None:
            return (self.weights @ power.T).T
        return np.maximum.reduceat(power, self.starts, axis=1)


def _rows(
    scale: str,
    sample_rate: int,
    n_fft: int,
    max_rows: int,
    n_mels: int,
    band: tuple[float, float] | None = None,
) -> _Rows:
    """The rows over the scale's whole range, or over ``band`` (Hz, within it)."""
    fmin, fmax = scale_range(scale, sample_rate) if band is None else band
    if scale == "mel":
        weights = mel_filterbank(sample_rate, n_fft, n_mels, fmax, fmin=fmin)
        centres = band_edges(fmin, fmax, n_mels)[1:-1]
        no_data = weights[:, 1:].max(axis=1, initial=0.0) == 0
        # Sparse: each band covers a few bins, and a dense BLAS product run from several
        # threads at once was measured 30x slower.
        return _Rows(centres, fmin, fmax, no_data, weights=scipy.sparse.csr_array(weights))
    return _bin_rows(scale, sample_rate, n_fft, max_rows, band)


def _bin_rows(
    scale: str, sample_rate: int, n_fft: int, max_rows: int, band: tuple[float, float] | None
) -> _Rows:
    """Rows of the linear and log scales, each the maximum of the FFT bins it spans."""
    n_bins = n_fft // 2 + 1
    bin_hz = sample_rate / n_fft
    fmin, fmax = scale_range(scale, sample_rate) if band is None else band
    if scale == "linear" and band is None:  # a row per bin, centred on it, up to max_rows
        edges = np.linspace(-bin_hz / 2, fmax + bin_hz / 2, min(n_bins, max_rows) + 1)
    elif scale == "linear":  # rows about a bin wide that span exactly the band
        rows = min(max_rows, max(2, round((fmax - fmin) / bin_hz)))
        edges = np.linspace(fmin, fmax, rows + 1)
    else:
        edges = np.geomspace(fmin, fmax, max_rows + 1)
    centres_hz = (
        (edges[:-1] + edges[1:]) / 2 if scale == "linear" else np.sqrt(edges[:-1] * edges[1:])
    )
    if scale == "linear" and band is not None:
        fmin, fmax = centres_hz[0], centres_hz[-1]
    # First bin at or above each row's lower edge; a row with no bin of its own takes the
    # nearest one (np.maximum.reduceat returns a[start] when the next start is not larger).
    starts = np.clip(np.ceil(edges[:-1] / bin_hz - 1e-9).astype(np.int64), 0, n_bins - 1)
    narrow = np.ceil(edges[1:] / bin_hz - 1e-9) <= starts
    starts[narrow] = np.clip(np.rint(centres_hz[narrow] / bin_hz), 0, n_bins - 1).astype(np.int64)
    # On a log axis the 0 Hz bin would paint the rows below half a bin as loud low sound.
    no_data = starts == 0 if scale == "log" else np.zeros(len(starts), dtype=bool)
    return _Rows(centres_hz, float(fmin), float(fmax), no_data, starts=starts)


def _column_edges(n_frames: int, max_columns: int) -> np.ndarray:
    """Frame index where each display column starts, plus ``n_frames`` at the end."""
    columns = min(n_frames, max_columns)
    return np.linspace(0, n_frames, columns + 1).round().astype(np.int64)


def _frame_step(n_frames: int, n_fft: int, columns: int, max_fft_work: int | None) -> int:
    """1, or n when only frames 0, n, 2n... fit in ``max_fft_work`` (frames x FFT size); never
    fewer than one frame a column."""
    if max_fft_work is None or n_frames * n_fft <= max_fft_work:
        return 1
    return min(-(-n_frames * n_fft // max_fft_work), n_frames // columns)


def _batches(computed_edges: np.ndarray, frames_per_batch: int) -> list[tuple[int, int]]:
    """(first, end) columns of each batch: whole columns, so each column's maximum is taken
    within one batch, of about ``frames_per_batch`` computed frames (at least one column)."""
    columns = len(computed_edges) - 1
    batches = []
    column = 0
    while column < columns:
        target = computed_edges[column] + frames_per_batch
        stop = int(np.searchsorted(computed_edges, target, "right"))
        stop = min(max(stop - 1, column + 1), columns)
        batches.append((column, stop))
        column = stop
    return batches


def _run_batches(
    work: Callable[[tuple[int, int]], None],
    batches: list[tuple[int, int]],
    cancelled: Callable[[], bool] | None,
) -> None:
    """``work`` on every batch, on a thread per core; ``cancelled()`` is asked between batches.

    It is asked on this thread (a callback may read thread-local state, as Streamlit's does).
    """

    def check() -> None:
        if cancelled is not None and cancelled():
            raise Cancelled

    threads = usable_cores()
    if threads < 2 or len(batches) < 2:
        for batch in batches:
            check()
            work(batch)
        return
    # numpy and scipy.fft release the GIL: on small batches a thread per batch scales better
    # than scipy.fft's own workers.
    with ThreadPoolExecutor(threads) as pool:
        futures = [pool.submit(work, batch) for batch in batches]
        try:
            for future in futures:
                check()
                future.result()
        finally:  # stopped or failed: drop the batches not started
            for future in futures:
                future.cancel()


def _pooled_power(
    y: np.ndarray,
    first: int,
    column_edges: np.ndarray,
    step: int,
    hop: int,
    window: np.ndarray,
    rows: _Rows,
    cancelled: Callable[[], bool] | None,
) -> np.ndarray:
    """Power on the display grid, shape ``(columns, rows)``: frames ``column_edges[i]`` to
    ``column_edges[i + 1]`` (every ``step``-th of them) pooled into column ``i``.

    Frames are pooled in time first (a cheap max over rows), then the few columns are mapped
    to rows. A batch spans a bounded number of samples too, so it stays small at any hop.
    """
    computed_edges = -(-column_edges // step)  # first computed frame of each column
    out = np.empty((len(column_edges) - 1, len(rows.centres)), dtype=np.float32)

    def pool_batch(batch: tuple[int, int]) -> None:
        c0, c1 = batch
        f0, f1 = int(computed_edges[c0]), int(computed_edges[c1])
        magnitude = frame_magnitude(y, first, f0, f1, hop * step, window)
        pooled = np.empty((c1 - c0, magnitude.shape[1]), dtype=np.float32)
        for j, (a, b) in enumerate(pairwise(computed_edges[c0 : c1 + 1] - f0)):
            np.max(magnitude[a:b], axis=0, out=pooled[j])  # faster than reduceat on axis 0
        out[c0:c1] = rows.pool(np.square(pooled, out=pooled))

    frames_per_batch = max(1, BATCH_SAMPLES // max(len(window), hop * step))
    _run_batches(pool_batch, _batches(computed_edges, frames_per_batch), cancelled)
    out[:, rows.no_data] = np.nan
    return out


def _column_times(
    column_edges: np.ndarray, hop: int, start_s: float, n_samples: int, sample_rate: int
) -> np.ndarray:
    """Column edges in seconds from the start of the file, shape ``(columns + 1,)``."""
    # Frame k is centred on sample k * hop; a column spans its frames' centres ± hop / 2.
    times = start_s + (column_edges * hop - hop / 2).clip(0, n_samples) / sample_rate
    times[0], times[-1] = start_s, start_s + n_samples / sample_rate
    return times


def spectrogram(
    y: np.ndarray,
    sample_rate: int,
    params: STFTParams = DEFAULT_STFT,
    *,
    scale: str = "log",
    n_mels: int = 128,
    start_s: float = 0.0,
    end_s: float | None = None,
    max_columns: int = 1200,
    max_rows: int = 512,
    max_fft_work: int | None = MAX_FFT_WORK,
    cancelled: Callable[[], bool] | None = None,
    fmin_hz: float | None = None,
    fmax_hz: float | None = None,
) -> Spectrogram:
    """Power spectrogram of ``y`` between two times, pooled to at most the display grid.

    Parameters
    ----------
    y : np.ndarray
        Mono signal, shape ``(samples,)``.
    sample_rate : int
        Hz.
    params : STFTParams
        FFT size, hop, window length and window type (samples).
    scale : {"linear", "log", "mel"}
        Frequency axis of the rows.
    n_mels : int
        Number of mel bands (``scale="mel"``).
    start_s, end_s : float
        Time range in seconds (``end_s=None``: to the end).
    max_columns, max_rows : int
        Display grid: frames are max-pooled into at most ``max_columns`` columns, FFT bins
        into at most ``max_rows`` rows (linear, log).
    max_fft_work : int or None
        Most frames x FFT size (samples) to transform: above it only every n-th frame is
        computed, at least one per column (see ``Spectrogram.frame_step``). None: every frame.
    cancelled : callable, optional
        Asked between batches of frames; when it returns True the computation stops and
        raises :class:`Cancelled` (a newer request made this one useless).
    fmin_hz, fmax_hz : float, optional
        A frequency band to show, Hz, within :func:`scale_range` (a band reaching past it is
        cut to it): its rows are computed at the FFT's own resolution, not enlarged from the
        whole range's. Default: the scale's whole range.

    Returns
    -------
    Spectrogram
    """
    params = params.resolved()
    band = _checked_band(scale, sample_rate, n_mels, max_columns, max_rows, fmin_hz, fmax_hz)
    start_s, first, n_samples = sample_range(y, sample_rate, start_s, end_s)
    hop = params.hop_length
    n_frames = frame_count(n_samples, hop)
    rows = _rows(scale, sample_rate, params.n_fft, max_rows, n_mels, band)
    column_edges = _column_edges(n_frames, max_columns)
    step = _frame_step(n_frames, params.n_fft, len(column_edges) - 1, max_fft_work)
    window = scaled_window(params)
    power = _pooled_power(y, first, column_edges, step, hop, window, rows, cancelled)
    return Spectrogram(
        power=np.ascontiguousarray(power.T),
        times=_column_times(column_edges, hop, start_s, n_samples, sample_rate),
        freqs=np.asarray(rows.centres, dtype=np.float64),
        scale=scale,
        fmin=float(rows.fmin),
        fmax=float(rows.fmax),
        frames=n_frames,
        params=params,
        frame_step=step,
    )


def _checked_band(
    scale: str,
    sample_rate: int,
    n_mels: int,
    max_columns: int,
    max_rows: int,
    fmin_hz: float | None,
    fmax_hz: float | None,
) -> tuple[float, float] | None:
    """The band to show (Hz; None: the scale's whole range) once the settings are checked."""
    if scale not in SCALES:
        raise InputError(f"Unknown frequency scale “{scale}”: choose linear, log or mel.")
    band = _band(scale, sample_rate, fmin_hz, fmax_hz)
    if scale == "mel" and not 1 <= n_mels <= 1024:
        raise InputError("The number of mel bands must be between 1 and 1024.")
    if max_columns < 1 or max_rows < 1:
        raise InputError("The display grid needs at least one column and one row.")
    return band


def _band(
    scale: str, sample_rate: int, fmin_hz: float | None, fmax_hz: float | None
) -> tuple[float, float] | None:
    """The validated band (Hz) within the scale's range, or None for the whole range."""
    if fmin_hz is None and fmax_hz is None:
        return None
    lowest, highest = scale_range(scale, sample_rate)
    low = lowest if fmin_hz is None else float(fmin_hz)
    high = highest if fmax_hz is None else float(fmax_hz)
    if not (math.isfinite(low) and math.isfinite(high) and high > low):
        raise InputError("The frequency band must have a top above its bottom, in Hz.")
    low, high = max(low, lowest), min(high, highest)
    if not high > low:
        raise InputError(
            f"The frequency band lies outside what the {scale} scale shows "
            f"({lowest:g} to {highest:g} Hz)."
        )
    return low, high


def to_db(
    power: np.ndarray, *, db_range: float | None = 80.0, ref: float | str = 1.0
) -> tuple[np.ndarray, float]:
    """Power to decibels, floored at ``db_range`` below the peak.

    Parameters
    ----------
    power : np.ndarray
        Power values (≥ 0); NaN (no data) stays NaN and is ignored for the peak.
    db_range : float or None
        dB below the peak where values are floored (the colour scale's span), > 0. None:
        no floor but -120 dB re full scale.
    ref : float or "peak"
        Power that maps to 0 dB: 1.0 is full scale; ``"peak"`` puts the loudest value at 0 dB.

    Returns
    -------
    db : np.ndarray
        float32 dB values.
    peak_db : float
        The peak in dB (the top of the colour scale).
    """
    if db_range is not None and not db_range > 0:
        raise InputError("The dB range must be a positive number of decibels.")
    peak = float(np.nanmax(power, initial=0.0)) if power.size else 0.0
    if ref == "peak":
        ref_power = max(peak, _AMIN)
    elif isinstance(ref, int | float) and ref > 0:
        ref_power = float(ref)
    else:
        raise InputError("The dB reference must be a positive power or “peak”.")
    db = 10.0 * np.log10(np.maximum(power, _AMIN, dtype=np.float32))
    db -= np.float32(10.0 * np.log10(ref_power))
    peak_db = 10.0 * np.log10(max(peak, _AMIN) / ref_power)
    if db_range is not None:
        np.maximum(db, np.float32(peak_db - db_range), out=db)
    return db, float(peak_db)


def is_silent(power: np.ndarray) -> bool:
    """True when every value is at or below the dB floor of silence (-120 dB re full scale).

    NaN (no data) counts as silent.
    """
    return not np.any(power > _AMIN)
