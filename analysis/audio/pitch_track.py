"""pYIN pitch of singing and instruments, with note names (librosa, imported on first use).

Praat's settings stay for speech (``analysis.speech.voice``); this is the musical one: a
range of C2–C6 by default, a 23 ms step, and each voiced frame named as the nearest note
of equal temperament at A4 = 440 Hz.

pYIN's cost is mostly its Viterbi pass over pitch states, so the signal is analysed at
11 025 Hz (enough for an F0 up to C6 and its first harmonics) on a 25-cent grid of states,
in blocks, which also lets a caller show progress and stop between them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from analysis.audio.resample import mono_at

PITCH_RATE = 11_025  # Hz: pYIN's input rate
PITCH_HOP = 256  # samples at PITCH_RATE: a frame every 23.2 ms
_FRAME = 1024  # samples at PITCH_RATE: 93 ms, two periods of C2
_BLOCK_FRAMES = 430  # frames at a time (10 s): its Viterbi pass holds the GIL throughout


@dataclass(frozen=True)
class PitchSettings:
    """The range searched and the resolution of pYIN's states.

    Attributes
    ----------
    floor_hz, ceiling_hz : float
        Lowest and highest F0 searched, Hz (C2 and C6: bass voice to soprano).
    resolution : float
        Spacing of pYIN's pitch states, in semitones (0.25: a quarter tone).
    """

    floor_hz: float = 65.406
    ceiling_hz: float = 1046.5
    resolution: float = 0.25


@dataclass(frozen=True)
class PitchTrack:
    """F0 over time.

    Attributes
    ----------
    times_s : np.ndarray
        float64, frame centres in seconds.
    f0_hz : np.ndarray
        float64, Hz; NaN where no pitch is heard (unvoiced, silence, noise).
    voiced_probability : np.ndarray
        float32 in [0, 1], pYIN's probability that the frame has a pitch.
    """

    times_s: np.ndarray
    f0_hz: np.ndarray
    voiced_probability: np.ndarray

    @cached_property  # computed once: the page reads it on every run
    def notes(self) -> list[str | None]:
        """The nearest note of each frame (e.g. ``"A4"``), None where unvoiced."""
        return note_names(self.f0_hz)

    def shifted(self, offset_s: float) -> PitchTrack:
        """The same track with ``offset_s`` added to its times."""
        return PitchTrack(self.times_s + offset_s, self.f0_hz, self.voiced_probability)


def note_names(f0_hz: np.ndarray) -> list[str | None]:
    """Nearest equal-tempered note name (A4 = 440 Hz, sharps as ``#``) of each frequency;
    None for NaN or non-positive values."""
    f0 = np.asarray(f0_hz, dtype=np.float64)
    valid = np.isfinite(f0) & (f0 > 0)
    midi = np.zeros(f0.shape, dtype=int)
    midi[valid] = np.round(69 + 12 * np.log2(f0[valid] / 440.0)).astype(int)
    names = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
    return [
        f"{names[m % 12]}{m // 12 - 1}" if ok else None
        for m, ok in zip(midi.tolist(), valid.tolist(), strict=True)
    ]


def track_pitch(
    mono: np.ndarray,
    sample_rate: int,
    settings: PitchSettings = PitchSettings(),
    progress: Callable[[float, float], None] | None = None,
) -> PitchTrack:
    """pYIN F0 of a mono signal.

    Parameters
    ----------
    mono : np.ndarray
        1-D float samples in [-1, 1].
    sample_rate : int
        Hz.
    settings : PitchSettings
        Range and resolution.
    progress : callable, optional
        ``progress(done, total)`` in blocks after each block; it may raise to stop.

    Returns
    -------
    PitchTrack
        A frame every :data:`PITCH_HOP` / :data:`PITCH_RATE` s from 0.
    """
    import librosa

    if not 0 < settings.floor_hz < settings.ceiling_hz <= PITCH_RATE / 4:
        raise ValueError(f"bad pitch range {settings.floor_hz}–{settings.ceiling_hz} Hz")
    signal = mono_at(np.asarray(mono, dtype=np.float32), sample_rate, PITCH_RATE)
    frames = 1 + len(signal) // PITCH_HOP
    block = _BLOCK_FRAMES * PITCH_HOP
    blocks = max(1, -(-len(signal) // block))
    f0_parts, prob_parts = [], []
    for index in range(blocks):
        part = signal[index * block : (index + 1) * block]
        f0, _, probability = librosa.pyin(
            part,
            fmin=settings.floor_hz,
            fmax=settings.ceiling_hz,
            sr=PITCH_RATE,
            frame_length=_FRAME,
            hop_length=PITCH_HOP,
            resolution=settings.resolution,
        )
        # Each block's last frame (centred on its edge) is the next block's first.
        keep = len(f0) if index == blocks - 1 else _BLOCK_FRAMES
        f0_parts.append(f0[:keep])
        prob_parts.append(probability[:keep])
        if progress is not None:
            progress(index + 1, blocks)
    f0 = np.concatenate(f0_parts)[:frames]
    probability = np.concatenate(prob_parts)[:frames].astype(np.float32)
    times = np.arange(len(f0)) * (PITCH_HOP / PITCH_RATE)
    return PitchTrack(times, f0.astype(np.float64), probability)
