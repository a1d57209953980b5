"""MFCC and spectral features per frame, as a table for a spreadsheet (librosa, lazily).

The frame is 2048 samples every 512 at 22 050 Hz (93 ms every 23.2 ms), librosa's defaults,
so the numbers compare with those of other librosa-based work.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import numpy as np

from analysis.audio.resample import mono_at

RATE = 22_050  # Hz
HOP, FFT = 512, 2048
N_MFCC = 13


@dataclass(frozen=True)
class Timbre:
    """Features per frame.

    Attributes
    ----------
    times_s : np.ndarray
        float64 frame centres, s.
    names : tuple of str
        Column names, with units: ``mfcc_1`` … ``mfcc_13``, ``centroid_hz``,
        ``bandwidth_hz``, ``rolloff_hz`` (85 % of the energy below), ``flatness`` (0 tonal
        – 1 noise), ``zero_crossing_rate`` (per sample), ``rms`` (full scale 1).
    values : np.ndarray
        float32, shape ``(frames, len(names))``.
    """

    times_s: np.ndarray
    names: tuple[str, ...]
    values: np.ndarray

    def shifted(self, offset_s: float) -> Timbre:
        return Timbre(self.times_s + offset_s, self.names, self.values)

    def to_csv(self) -> str:
        """``time_s`` and every feature, one row per frame."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(("time_s", *self.names))
        for time, row in zip(self.times_s.tolist(), self.values.tolist(), strict=True):
            writer.writerow((f"{time:.3f}", *(f"{value:.5g}" for value in row)))
        return out.getvalue()


def timbre_features(samples: np.ndarray, sample_rate: int) -> Timbre:
    """MFCC and spectral features of a sound.

    Parameters
    ----------
    samples : np.ndarray
        Audio in [-1, 1], 1-D or ``(channels, frames)``; channels are mixed.
    sample_rate : int
        Hz.

    Returns
    -------
    Timbre
        Times from the start of ``samples``.
    """
    import librosa

    y = mono_at(samples, sample_rate, RATE, what="analyse")
    magnitude = np.abs(librosa.stft(y, n_fft=FFT, hop_length=HOP))
    power = magnitude**2
    mel = librosa.feature.melspectrogram(S=power, sr=RATE)
    columns = [
        librosa.feature.mfcc(S=librosa.power_to_db(mel), n_mfcc=N_MFCC),
        librosa.feature.spectral_centroid(S=magnitude, sr=RATE, n_fft=FFT),
        librosa.feature.spectral_bandwidth(S=magnitude, sr=RATE, n_fft=FFT),
        librosa.feature.spectral_rolloff(S=magnitude, sr=RATE, n_fft=FFT),
        librosa.feature.spectral_flatness(S=magnitude),
        librosa.feature.zero_crossing_rate(y, frame_length=FFT, hop_length=HOP),
        librosa.feature.rms(y=y, frame_length=FFT, hop_length=HOP),  # of the samples: exact
    ]
    frames = min(column.shape[1] for column in columns)
    values = np.concatenate([column[:, :frames] for column in columns]).T.astype(np.float32)
    names = (
        *(f"mfcc_{i + 1}" for i in range(N_MFCC)),
        "centroid_hz",
        "bandwidth_hz",
        "rolloff_hz",
        "flatness",
        "zero_crossing_rate",
        "rms",
    )
    times = librosa.frames_to_time(np.arange(frames), sr=RATE, hop_length=HOP)
    return Timbre(times, names, values)
