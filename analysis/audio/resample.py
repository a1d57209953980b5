"""One channel at a model's sample rate: what YAMNet, Whisper, Silero VAD and Praat read."""

from __future__ import annotations

import math

import numpy as np

from analysis.errors import InputError

_MIX_BLOCK_FRAMES = 1 << 20  # input frames mixed to mono and resampled at a time


def mono_at(
    samples: np.ndarray, sample_rate: int, rate: int, *, what: str = "analyse"
) -> np.ndarray:
    """Mix to mono and resample to ``rate``, block by block.

    Parameters
    ----------
    samples : np.ndarray
        Audio in [-1, 1], 1-D (frames,) or 2-D (channels, frames).
    sample_rate : int
        Sampling rate of ``samples`` in Hz.
    rate : int
        Sampling rate wanted, Hz.
    what : str
        The verb for the error of an empty input: "there is nothing to {what}".

    Returns
    -------
    np.ndarray
        float32 1-D at ``rate``, clipped to [-1, 1].

    Raises
    ------
    InputError
        For an empty input, a non-positive rate or an array of another shape.
    """
    import soxr  # librosa's resampler; imported here so numpy-only users skip it

    samples = np.asarray(samples)
    if samples.ndim not in (1, 2):
        raise InputError(f"Audio must be 1-D or (channels, frames), not {samples.ndim}-D.")
    if sample_rate <= 0:
        raise InputError(f"The sample rate must be positive, not {sample_rate} Hz.")
    if samples.size == 0:
        raise InputError(f"The audio is empty: there is nothing to {what}.")
    channels = samples.reshape(-1, samples.shape[-1])
    frames = channels.shape[1]
    # Mix and resample block by block: a whole-file mono copy of a 30-minute recording at
    # 44.1 kHz would cost 300 MB more at the peak. The stream's output equals soxr.resample's.
    stream = soxr.ResampleStream(sample_rate, rate, 1, dtype="float32", quality="HQ")
    waveform = np.empty(math.ceil(frames * rate / sample_rate) + 1, dtype=np.float32)
    filled = 0
    for start in range(0, frames, _MIX_BLOCK_FRAMES):
        mono = channels[:, start : start + _MIX_BLOCK_FRAMES].mean(axis=0, dtype=np.float32)
        last = start + _MIX_BLOCK_FRAMES >= frames
        block = mono if sample_rate == rate else stream.resample_chunk(mono, last)
        waveform[filled : filled + len(block)] = block
        filled += len(block)
    # Resampling can overshoot full scale by a hair; the models expect [-1, 1].
    return np.clip(waveform[:filled], -1.0, 1.0, out=waveform[:filled])
