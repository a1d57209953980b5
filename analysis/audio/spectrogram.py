"""Short-time Fourier transform at display resolution: frequency scales, dB, time pooling.

A 10-minute file has ~50 000 STFT frames but a screen shows ~1 200 columns, so frames are
max-pooled into columns while they are computed (transients survive, memory stays small),
and FFT bins are max-pooled (linear, log) or weighted (mel) into rows. When a long range
at a small hop would cost more FFT work than a picture is worth, only every n-th frame is
computed (``Spectrogram.frame_step``); :func:`stft_frames` gives every frame and every bin
of a range, for exports.

>>> spec = spectrogram(clip.mono(), clip.sample_rate, STFTParams(n_fft=4096), scale="log")
>>> db = to_db(spec.power, db_range=80)
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from itertools import pairwise

import numpy as np
import scipy.fft
import scipy.signal
import scipy.sparse

from analysis.audio.mel import band_edges, mel_filterbank
from analysis.cores import usable_cores
from analysis.errors import InputError

# Names shown to people -> scipy.signal.get_window names.
WINDOWS = {
    "hann": "hann",
    "hamming": "hamming",
    "blackman": "blackman",
    "blackman-harris": "blackmanharris",
    "bartlett": "bartlett",
    "flat-top": "flattop",
    "rectangular": "boxcar",
}
SCALES = ("linear", "log", "mel")
N_FFT_RANGE = (16, 65536)
# Lowest frequency of the log scale: the seed's specshow(y_axis="log") starts near here too.
LOG_FMIN_HZ = 20.0
# Samples per FFT batch: small enough to stay in the CPU cache (measured fastest), and it
# bounds working memory whatever the file length.
_BATCH_SAMPLES = 1 << 19
# FFT work (frames x FFT size, in samples) a picture may cost: ~0.15 s on two cores. Above
# it only every n-th frame is computed, so no setting on any file length freezes the page.
MAX_FFT_WORK = 1 << 27
_AMIN = 1e-12  # power floor (-120 dB) so silence never takes log(0)


class Cancelled(Exception):
    """A computation stopped early because its ``cancelled()`` callback returned True."""


@dataclass(frozen=True)
class STFTParams:
    """STFT settings, in samples.

    Attributes
    ----------
    n_fft : int
        FFT size (frequency resolution ``sample_rate / n_fft`` Hz).
    hop_length : int, optional
        Samples between frames; default ``win_length // 4``.
    win_length : int, optional
        Window length, at most ``n_fft`` (zero-padded to it); default ``n_fft``.
    window : str
        One of :data:`WINDOWS`.
    """

    n_fft: int = 2048
    hop_length: int | None = None
    win_length: int | None = None
    window: str = "hann"

    def resolved(self) -> STFTParams:
        """These parameters with the defaults filled in, validated (raises InputError)."""
        lo, hi = N_FFT_RANGE
        if not lo <= self.n_fft <= hi:
            raise InputError(f"The FFT size must be between {lo} and {hi} samples.")
        win_length = self.n_fft if self.win_length is None else self.win_length
        if not 1 <= win_length <= self.n_fft:
            raise InputError(
                f"The window length must be between 1 and the FFT size ({self.n_fft} samples)."
            )
        hop_length = max(1, win_length // 4) if self.hop_length is None else self.hop_length
        if hop_length < 1:
            raise InputError("The hop length must be at least 1 sample.")
        if self.window not in WINDOWS:
            raise InputError(f"Unknown window “{self.window}”: choose one of {', '.join(WINDOWS)}.")
        return replace(self, hop_length=hop_length, win_length=win_length)


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


@dataclass(frozen=True)
class STFTFrames:
    """Every frame and every FFT bin of a time range: the values behind an export.

    Attributes
    ----------
    power : np.ndarray
        float32, shape ``(frames, bins)``, scaled as :attr:`Spectrogram.power`.
    times : np.ndarray
        Centre of each frame, seconds from the start of the file, shape ``(frames,)``.
    freqs : np.ndarray
        Centre of each FFT bin, ``k * sample_rate / n_fft`` Hz, shape ``(bins,)``.
    params : STFTParams
        The resolved STFT settings.
    sample_rate : int
        Hz.
    """

    power: np.ndarray
    times: np.ndarray
    freqs: np.ndarray
    params: STFTParams
    sample_rate: int


def window_array(params: STFTParams) -> np.ndarray:
    """The analysis window, float32, centred and zero-padded to ``n_fft`` samples."""
    params = params.resolved()
    window = scipy.signal.get_window(WINDOWS[params.window], params.win_length, fftbins=True)
    padded = np.zeros(params.n_fft, dtype=np.float32)
    start = (params.n_fft - params.win_length) // 2
    padded[start : start + params.win_length] = window
    return padded


def frame_count(n_samples: int, hop_length: int) -> int:
    """Number of STFT frames of a centred STFT (as librosa's ``center=True``)."""
    return 1 + n_samples // hop_length


def fft_frequencies(sample_rate: int, n_fft: int) -> np.ndarray:
    """Centre frequency of each FFT bin, Hz, shape ``(n_fft // 2 + 1,)``."""
    return np.fft.rfftfreq(n_fft, 1.0 / sample_rate)


def scale_range(scale: str, sample_rate: int) -> tuple[float, float]:
    """The frequency range (Hz) a scale's rows cover: from 0 Hz (linear, mel) or 20 Hz (log;
    a quarter of Nyquist at very low rates) to Nyquist."""
    nyquist = sample_rate / 2
    return (min(LOG_FMIN_HZ, nyquist / 4) if scale == "log" else 0.0), nyquist


def _row_plan(
    scale: str,
    sample_rate: int,
    n_fft: int,
    max_rows: int,
    n_mels: int,
    band: tuple[float, float] | None = None,
) -> tuple[np.ndarray | None, scipy.sparse.csr_array | None, np.ndarray, float, float, np.ndarray]:
    """How FFT bins become rows, over the scale's whole range or over ``band`` (Hz, within it).

    Returns reduceat starts (linear, log) or sparse mel weights, the row centres (Hz), the range
    covered (Hz; linear: the centres of the outer rows) and which rows have no FFT bin of
    their own (log, mel: those whose only bin would be the 0 Hz one).
    """
    n_bins = n_fft // 2 + 1
    bin_hz = sample_rate / n_fft
    fmin, fmax = scale_range(scale, sample_rate) if band is None else band
    if scale == "mel":
        weights = mel_filterbank(sample_rate, n_fft, n_mels, fmax, fmin=fmin)
        centres = band_edges(fmin, fmax, n_mels)[1:-1]
        no_data = weights[:, 1:].max(axis=1, initial=0.0) == 0
        # Sparse: each band covers a few bins, and a dense BLAS product run from several
        # threads at once was measured 30x slower.
        return None, scipy.sparse.csr_array(weights), centres, fmin, fmax, no_data
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
    return starts, None, centres_hz, float(fmin), float(fmax), no_data


def _column_edges(n_frames: int, max_columns: int) -> np.ndarray:
    """Frame index where each display column starts, plus ``n_frames`` at the end."""
    columns = min(n_frames, max_columns)
    return np.linspace(0, n_frames, columns + 1).round().astype(np.int64)


def _sample_range(
    y: np.ndarray, sample_rate: int, start_s: float, end_s: float | None
) -> tuple[float, int, int]:
    """(start_s, first sample, sample count) of a validated time range of mono ``y``."""
    if y.ndim != 1:
        raise InputError("The spectrogram needs one channel: mix down or pick a channel first.")
    duration = len(y) / sample_rate
    end_s = duration if end_s is None else min(end_s, duration)
    start_s = max(0.0, start_s)
    if not end_s > start_s:
        raise InputError("The time range is empty: the end must come after the start.")
    first, last = round(start_s * sample_rate), round(end_s * sample_rate)
    if last <= first:
        raise InputError("The time range is shorter than one sample.")
    return start_s, first, last - first


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


def spectrogram(
    y: np.ndarray,
    sample_rate: int,
    params: STFTParams = STFTParams(),
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
    if scale not in SCALES:
        raise InputError(f"Unknown frequency scale “{scale}”: choose linear, log or mel.")
    band = _band(scale, sample_rate, fmin_hz, fmax_hz)
    if scale == "mel" and not 1 <= n_mels <= 1024:
        raise InputError("The number of mel bands must be between 1 and 1024.")
    if max_columns < 1 or max_rows < 1:
        raise InputError("The display grid needs at least one column and one row.")
    start_s, first, n_samples = _sample_range(y, sample_rate, start_s, end_s)

    n_fft, hop = params.n_fft, params.hop_length
    n_frames = frame_count(n_samples, hop)
    window = _scaled_window(params)
    starts, mel_weights, centres, fmin, fmax, no_data = _row_plan(
        scale, sample_rate, n_fft, max_rows, n_mels, band
    )
    column_edges = _column_edges(n_frames, max_columns)
    columns = len(column_edges) - 1
    # Frames 0, step, 2 step... when the work is over budget; never fewer than one a column.
    step = 1
    if max_fft_work is not None and n_frames * n_fft > max_fft_work:
        step = min(-(-n_frames * n_fft // max_fft_work), n_frames // columns)
    computed_edges = -(-column_edges // step)  # first computed frame of each column
    out = np.empty((columns, len(centres)), dtype=np.float32)

    # Batches of whole columns, so each column's max is taken within one batch. Frames are
    # pooled in time first (a cheap max over rows), then the few columns are mapped to rows.
    # A batch spans a bounded number of samples too, so it stays small at any hop.
    frames_per_batch = max(1, _BATCH_SAMPLES // max(n_fft, hop * step))
    batches = []
    column = 0
    while column < columns:
        target = computed_edges[column] + frames_per_batch
        stop = int(np.searchsorted(computed_edges, target, "right"))
        stop = min(max(stop - 1, column + 1), columns)
        batches.append((column, stop))
        column = stop

    def pool_batch(batch: tuple[int, int]) -> None:
        c0, c1 = batch
        f0, f1 = int(computed_edges[c0]), int(computed_edges[c1])
        magnitude = _frame_magnitude(y, first, f0, f1, hop * step, window)
        pooled = np.empty((c1 - c0, magnitude.shape[1]), dtype=np.float32)
        for j, (a, b) in enumerate(pairwise(computed_edges[c0 : c1 + 1] - f0)):
            np.max(magnitude[a:b], axis=0, out=pooled[j])  # faster than reduceat on axis 0
        power = np.square(pooled, out=pooled)
        if mel_weights is not None:
            out[c0:c1] = (mel_weights @ power.T).T
        else:
            out[c0:c1] = np.maximum.reduceat(power, starts, axis=1)

    _run_batches(pool_batch, batches, cancelled)
    out[:, no_data] = np.nan

    # Frame k is centred on sample k * hop; a column spans its frames' centres ± hop / 2.
    times = start_s + (column_edges * hop - hop / 2).clip(0, n_samples) / sample_rate
    times[0], times[-1] = start_s, start_s + n_samples / sample_rate
    return Spectrogram(
        power=np.ascontiguousarray(out.T),
        times=times,
        freqs=np.asarray(centres, dtype=np.float64),
        scale=scale,
        fmin=float(fmin),
        fmax=float(fmax),
        frames=n_frames,
        params=params,
        frame_step=step,
    )


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


def stft_frames(
    y: np.ndarray,
    sample_rate: int,
    params: STFTParams = STFTParams(),
    *,
    start_s: float = 0.0,
    end_s: float | None = None,
    max_values: int | None = None,
) -> STFTFrames:
    """Power of every STFT frame and every FFT bin of ``y`` between two times.

    Parameters
    ----------
    y : np.ndarray
        Mono signal, shape ``(samples,)``.
    sample_rate : int
        Hz.
    params : STFTParams
        FFT size, hop, window length and window type (samples).
    start_s, end_s : float
        Time range in seconds (``end_s=None``: to the end).
    max_values : int, optional
        Refuse (InputError) when frames x bins would exceed it; see :func:`export_limit_s`.

    Returns
    -------
    STFTFrames
    """
    params = params.resolved()
    start_s, first, n_samples = _sample_range(y, sample_rate, start_s, end_s)
    n_fft, hop = params.n_fft, params.hop_length
    n_frames, n_bins = frame_count(n_samples, hop), n_fft // 2 + 1
    if max_values is not None and n_frames * n_bins > max_values:
        limit = export_limit_s(params, sample_rate, max_values)
        raise InputError(f"Select at most {limit:g} s to export every frame at these settings.")
    window = _scaled_window(params)
    power = np.empty((n_frames, n_bins), dtype=np.float32)
    per_batch = max(1, _BATCH_SAMPLES // max(n_fft, hop))
    for f0 in range(0, n_frames, per_batch):
        f1 = min(f0 + per_batch, n_frames)
        np.square(_frame_magnitude(y, first, f0, f1, hop, window), out=power[f0:f1])
    return STFTFrames(
        power=power,
        times=(first + np.arange(n_frames) * hop) / sample_rate,
        freqs=fft_frequencies(sample_rate, n_fft),
        params=params,
        sample_rate=sample_rate,
    )


def export_limit_s(params: STFTParams, sample_rate: int, max_values: int) -> float:
    """Longest time range (s) whose every frame and bin fit in ``max_values`` values.

    Rounded down to 3 significant digits, so that a range of the stated length fits.
    """
    params = params.resolved()
    frames = max_values // (params.n_fft // 2 + 1)
    seconds = max(frames - 1, 0) * params.hop_length / sample_rate
    if seconds <= 0:
        return 0.0
    scale = 10.0 ** (2 - math.floor(math.log10(seconds)))
    return math.floor(seconds * scale * (1 + 1e-12)) / scale


def _scaled_window(params: STFTParams) -> np.ndarray:
    """The analysis window scaled so that a full-scale sine peaks at power 1.0 (0 dB)."""
    window = window_array(params)
    return window * np.float32(2.0 / window.sum())


def _frame_magnitude(
    y: np.ndarray, first: int, f0: int, f1: int, hop: int, window: np.ndarray
) -> np.ndarray:
    """|rfft| of windowed frames ``f0..f1-1``, frame k centred on sample ``first + k * hop``.

    Frames at the edges of a time range see the signal around it (no artificial onset);
    only beyond the ends of ``y`` are they zero-padded. float32, shape ``(frames, bins)``.
    """
    n_fft = len(window)
    lo = first + f0 * hop - n_fft // 2
    hi = first + (f1 - 1) * hop - n_fft // 2 + n_fft
    if lo >= 0 and hi <= len(y):
        chunk = y[lo:hi]
    else:  # the first and last frames reach past the signal: zero-pad a copy
        chunk = np.zeros(hi - lo, dtype=np.float32)
        src_lo, src_hi = max(lo, 0), min(hi, len(y))
        if src_hi > src_lo:
            chunk[src_lo - lo : src_hi - lo] = y[src_lo:src_hi]
    frames = np.lib.stride_tricks.sliding_window_view(chunk, n_fft)[::hop]
    spectrum = scipy.fft.rfft(frames * window, axis=1, overwrite_x=True)
    return np.abs(spectrum)


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


def grid_csv(spec: Spectrogram, values: np.ndarray) -> str:
    """The picture's grid of ``values`` (e.g. dB, shape ``(rows, columns)``) as CSV text.

    The header row holds each column's start time (s), the first column each row's centre
    frequency (Hz); row order is low to high frequency; rows without data hold ``nan``.
    """
    buffer = io.StringIO()
    buffer.write("frequency_hz," + ",".join(f"{t:.4f}" for t in spec.times[:-1]) + "\n")
    np.savetxt(buffer, np.column_stack([spec.freqs, values]), fmt="%.2f", delimiter=",")
    return buffer.getvalue()


def frames_csv(table: STFTFrames, db: np.ndarray) -> str:
    """Every frame as CSV: one row per frame, ``time_s`` then one column per bin (Hz header).

    ``db`` holds the values, shape ``(frames, bins)`` (e.g. ``to_db(table.power)``).
    """
    buffer = io.StringIO()
    buffer.write("time_s," + ",".join(f"{hz:.3f}" for hz in table.freqs) + "\n")
    fmt = ["%.6f"] + ["%.2f"] * db.shape[1]
    np.savetxt(buffer, np.column_stack([table.times, db]), fmt=fmt, delimiter=",")
    return buffer.getvalue()


def frames_npz(table: STFTFrames, db: np.ndarray, **settings: float | int | str) -> bytes:
    """Every frame as a NumPy ``.npz``: ``db`` (frames, bins), ``times_s``, ``freqs_hz``,
    the STFT settings and any other ``settings`` (e.g. the file name), loadable without pickle.
    """
    p = table.params
    buffer = io.BytesIO()
    np.savez(
        buffer,
        db=db.astype(np.float32, copy=False),
        times_s=table.times,
        freqs_hz=table.freqs,
        sample_rate=table.sample_rate,
        n_fft=p.n_fft,
        hop_length=p.hop_length,
        win_length=p.win_length,
        window=p.window,
        **{key: np.asarray(value) for key, value in settings.items()},
    )
    return buffer.getvalue()


def is_silent(power: np.ndarray) -> bool:
    """True when every value is at or below the dB floor of silence (-120 dB re full scale).

    NaN (no data) counts as silent.
    """
    return not np.any(power > _AMIN)
