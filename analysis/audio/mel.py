"""The mel scale of the spectrogram's mel rows and axis: HTK mel and unit-peak triangular
filters, from librosa.

librosa is imported on first use, not with this module: its filterbank loads numba and LLVM
(about a second and 200 MB of memory, once per process), which pictures on the linear and log
scales never need.

>>> weights = mel_filterbank(16000, n_fft=2048, n_mels=128, fmax=8000.0)
>>> float(hz_to_mel(1000.0))  # about 1000 mel
"""

from __future__ import annotations

import threading
import warnings

import numpy as np

# warnings.catch_warnings swaps a process-wide list: one thread at a time may do it here.
_WARNINGS_LOCK = threading.Lock()


def hz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    """Hz to mel (HTK formula: 2595 log10(1 + f / 700)), float64."""
    import librosa

    return librosa.hz_to_mel(np.asarray(hz, dtype=np.float64), htk=True)


def mel_to_hz(mel: np.ndarray | float) -> np.ndarray:
    """Mel (HTK) to Hz, float64."""
    import librosa

    return librosa.mel_to_hz(np.asarray(mel, dtype=np.float64), htk=True)


def band_edges(fmin: float, fmax: float, n_mels: int) -> np.ndarray:
    """``n_mels + 2`` frequencies (Hz) evenly spaced in mel from ``fmin`` to ``fmax``: band
    ``i`` rises from edge ``i`` to its centre, edge ``i + 1``, and falls to edge ``i + 2``."""
    import librosa

    return librosa.mel_frequencies(n_mels + 2, fmin=fmin, fmax=fmax, htk=True)


def mel_filterbank(
    sample_rate: int, n_fft: int, n_mels: int, fmax: float, fmin: float = 0.0
) -> np.ndarray:
    """Triangular mel filters with unit peak, float32, shape ``(n_mels, n_fft // 2 + 1)``,
    spread evenly in mel from ``fmin`` to ``fmax`` Hz (the outer edges of the first and last).

    Unit-peak triangles (``norm=None``, not area-normalised) keep a pure tone's level in dB re
    full scale. A band narrower than an FFT bin would be empty: it gets its nearest bin.
    """
    import librosa.filters

    with _WARNINGS_LOCK, warnings.catch_warnings():
        # librosa warns of the empty bands, which get their nearest bin below.
        warnings.filterwarnings("ignore", "Empty filters detected", UserWarning)
        weights = librosa.filters.mel(
            sr=sample_rate, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax, htk=True, norm=None
        )
    empty = np.flatnonzero(weights.max(axis=1) == 0)
    if len(empty):
        centres = band_edges(fmin, fmax, n_mels)[1:-1]
        bins = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
        weights[empty, np.abs(bins[None, :] - centres[empty, None]).argmin(axis=1)] = 1.0
    return weights
