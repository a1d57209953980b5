"""The short-time Fourier transform's settings and frames, shared by the picture
(:mod:`analysis.audio.spectrogram`) and the every-frame exports (:mod:`analysis.audio.exports`).

Frame ``k`` of a time range is centred on its sample ``k * hop`` (librosa's ``center=True``),
windowed so that a full-scale sine peaks at power 1.0 (0 dB re full scale).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import scipy.fft
import scipy.signal

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
N_FFT_RANGE = (16, 65536)
# Samples per FFT batch: small enough to stay in the CPU cache (measured fastest), and it
# bounds working memory whatever the file length.
BATCH_SAMPLES = 1 << 19


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


DEFAULT_STFT = STFTParams()  # FFT 2048, hop 512, hann window


def window_array(params: STFTParams) -> np.ndarray:
    """The analysis window, float32, centred and zero-padded to ``n_fft`` samples."""
    params = params.resolved()
    window = scipy.signal.get_window(WINDOWS[params.window], params.win_length, fftbins=True)
    padded = np.zeros(params.n_fft, dtype=np.float32)
    start = (params.n_fft - params.win_length) // 2
    padded[start : start + params.win_length] = window
    return padded


def scaled_window(params: STFTParams) -> np.ndarray:
    """The analysis window scaled so that a full-scale sine peaks at power 1.0 (0 dB)."""
    window = window_array(params)
    return window * np.float32(2.0 / window.sum())


def frame_count(n_samples: int, hop_length: int) -> int:
    """Number of STFT frames of a centred STFT (as librosa's ``center=True``)."""
    return 1 + n_samples // hop_length


def view_hop(win_length: int, n_samples: int, columns: int) -> int:
    """The hop (samples) that gives each of ``columns`` pixel columns a frame of its own over
    ``n_samples``: half the window on long views, where many frames pool into a column (Hann
    windows at 50 % overlap sum to a constant, so no sample is left out, at half the FFTs of
    the usual quarter), less on zoomed ones, down to one sample (the signal's own
    resolution)."""
    return max(1, min(win_length // 2, n_samples // max(columns, 1)))


def fft_frequencies(sample_rate: int, n_fft: int) -> np.ndarray:
    """Centre frequency of each FFT bin, Hz, shape ``(n_fft // 2 + 1,)``."""
    return np.fft.rfftfreq(n_fft, 1.0 / sample_rate)


def sample_range(
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


def frame_magnitude(
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
