"""The spectrogram's numbers for download: every frame and bin of a range, and the picture's grid.

The picture pools frames into columns and bins into rows; an export gives what was pooled:
:func:`stft_frames` computes every frame and every FFT bin of a time range, and
:func:`frames_csv` / :func:`frames_npz` write them; :func:`grid_csv` writes the picture's own
grid.

>>> table = stft_frames(clip.mono(), clip.sample_rate, STFTParams(1024), start_s=1, end_s=2)
>>> csv_text = frames_csv(table, to_db(table.power, db_range=None)[0])
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np

from analysis.audio.spectrogram import Spectrogram
from analysis.audio.stft import (
    BATCH_SAMPLES,
    DEFAULT_STFT,
    STFTParams,
    fft_frequencies,
    frame_count,
    frame_magnitude,
    sample_range,
    scaled_window,
)
from analysis.errors import InputError


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


def stft_frames(
    y: np.ndarray,
    sample_rate: int,
    params: STFTParams = DEFAULT_STFT,
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
    start_s, first, n_samples = sample_range(y, sample_rate, start_s, end_s)
    n_fft, hop = params.n_fft, params.hop_length
    n_frames, n_bins = frame_count(n_samples, hop), n_fft // 2 + 1
    if max_values is not None and n_frames * n_bins > max_values:
        limit = export_limit_s(params, sample_rate, max_values)
        raise InputError(f"Select at most {limit:g} s to export every frame at these settings.")
    window = scaled_window(params)
    power = np.empty((n_frames, n_bins), dtype=np.float32)
    per_batch = max(1, BATCH_SAMPLES // max(n_fft, hop))
    for f0 in range(0, n_frames, per_batch):
        f1 = min(f0 + per_batch, n_frames)
        np.square(frame_magnitude(y, first, f0, f1, hop, window), out=power[f0:f1])
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
