"""Harmonic/percussive separation (librosa's median-filtering HPSS), in blocks.

Sustained tones are horizontal lines in a spectrogram and drum hits vertical ones:
median filters along time and along frequency tell them apart (Fitzgerald 2010). The
median filter is the cost (about 4 s a minute of sound here), so the signal is separated in
blocks of about 30 s, each with enough frames of context that the result matches one pass
over the whole, and a caller can show progress and stop between blocks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from analysis.audio.resample import mono_at

RATE = 22_050  # Hz: the parts are played back at this rate
HOP, FFT = 512, 2048
KERNEL = 31  # librosa's default median length, frames and bins
_BLOCK_FRAMES = 1300  # about 30 s
_CONTEXT = KERNEL  # frames of context each side of a block


@dataclass(frozen=True)
class Separation:
    """The two parts of a sound, mono at :data:`RATE`; they add up to the original."""

    harmonic: np.ndarray
    percussive: np.ndarray
    sample_rate: int = RATE


def separate(
    samples: np.ndarray,
    sample_rate: int,
    progress: Callable[[float, float], None] | None = None,
) -> Separation:
    """Split a sound into its harmonic (sustained) and percussive (transient) parts.

    Parameters
    ----------
    samples : np.ndarray
        Audio in [-1, 1], 1-D or ``(channels, frames)``; channels are mixed.
    sample_rate : int
        Hz.
    progress : callable, optional
        ``progress(done, total)`` in blocks; it may raise to stop between blocks.

    Returns
    -------
    Separation
        Float32 mono parts at :data:`RATE`, each as long as the mixed input.
    """
    import librosa

    y = mono_at(samples, sample_rate, RATE, what="separate")
    spectrum = librosa.stft(y, n_fft=FFT, hop_length=HOP)
    frames = spectrum.shape[1]
    blocks = max(1, -(-frames // _BLOCK_FRAMES))
    harmonic = np.empty_like(spectrum)
    for index in range(blocks):
        low, high = index * _BLOCK_FRAMES, min(frames, (index + 1) * _BLOCK_FRAMES)
        lead, tail = max(0, low - _CONTEXT), min(frames, high + _CONTEXT)
        part, _ = librosa.decompose.hpss(spectrum[:, lead:tail], kernel_size=KERNEL)
        harmonic[:, low:high] = part[:, low - lead : high - lead]
        if progress is not None:
            progress(index + 1, blocks)
    percussive = spectrum - harmonic
    parts = [
        librosa.istft(part, hop_length=HOP, n_fft=FFT, length=len(y)).astype(np.float32)
        for part in (harmonic, percussive)
    ]
    return Separation(*parts)
