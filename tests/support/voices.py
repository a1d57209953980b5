"""Generated sounds with known answers for the voice measures: a voice-like syllable stream
(speech to the detector, with a known pitch) and a door chime (no voice, though periodic)."""

from __future__ import annotations

import numpy as np
import scipy.signal

RATE = 16_000
# Three vowels as a man says them, (formant Hz, bandwidth Hz): /a/, /i/, /o/-like.
VOWELS = (
    ((700, 80), (1220, 90), (2600, 120)),
    ((300, 60), (2300, 100), (3000, 120)),
    ((500, 70), (900, 80), (2500, 120)),
)


def seconds(duration: float, rate: int = RATE) -> np.ndarray:
    """Sample times (s) of ``duration`` seconds."""
    return np.arange(round(duration * rate)) / rate


def syllables(duration: float = 6.0, low_hz: float = 110.0, high_hz: float = 150.0) -> np.ndarray:
    """A source-filter voice saying "a-i-o-a-i-o…", four syllables a second, float32 at 16 kHz.

    Its pitch glides between ``low_hz`` and ``high_hz`` (0.7 Hz intonation): the median is
    their mean, the 5th and 95th percentiles lie just inside them. Silero VAD hears it as
    speech; glottal pulses through a -6 dB/octave tilt, then each syllable's formants.
    """
    t = seconds(duration)
    f0 = low_hz + (high_hz - low_hz) * (0.5 + 0.5 * np.sin(2 * np.pi * 0.7 * t))
    pulses = np.diff(np.floor(np.cumsum(f0) / RATE), prepend=0.0)  # one pulse per period
    source = scipy.signal.lfilter([1.0], [1.0, -0.97], pulses)
    out = np.zeros_like(source)
    length = RATE // 4
    for k, first in enumerate(range(0, len(source), length)):
        part = source[first : first + length]
        for frequency, bandwidth in VOWELS[k % len(VOWELS)]:
            r = np.exp(-np.pi * bandwidth / RATE)
            theta = 2 * np.pi * frequency / RATE
            part = scipy.signal.lfilter([1 - r], [1, -2 * r * np.cos(theta), r * r], part)
        out[first : first + length] = part * np.sin(np.pi * np.linspace(0, 1, len(part))) ** 2
    return (0.5 * out / np.abs(out).max()).astype(np.float32)


def door_chime() -> np.ndarray:
    """Three bells, C5 E5 G5 (523, 659, 784 Hz) half a second apart, with a bell's
    inharmonic partials (2, 3 and 4.2 times the strike note) decaying at different rates."""
    t = seconds(3.0)
    out = np.zeros_like(t)
    partials = ((1.0, 1.0, 1.5), (2.0, 0.6, 1.0), (3.0, 0.3, 0.6), (4.2, 0.2, 0.4))
    for k, note in enumerate((523.0, 659.0, 784.0)):
        struck = t >= 0.5 * k
        since = np.clip(t - 0.5 * k, 0.0, None)
        for ratio, level, decay_s in partials:
            bell = level * np.exp(-since / decay_s) * np.sin(2 * np.pi * note * ratio * since)
            out += struck * bell
    return (0.4 * out / np.abs(out).max()).astype(np.float32)


def buzz(duration: float = 6.0, hz: float = 150.0) -> np.ndarray:
    """A steady tone with five harmonics: periodic like a voice, but its pitch never moves."""
    t = seconds(duration)
    return sum(0.2 / k * np.sin(2 * np.pi * hz * k * t) for k in range(1, 6)).astype(np.float32)
