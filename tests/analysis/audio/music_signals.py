"""Generated music with known answers: a click track, a chord progression, a sung A4."""

from __future__ import annotations

import numpy as np

RATE = 22_050  # Hz
CHORDS = {  # MIDI notes: the root an octave down, then the triad
    "C": (48, 60, 64, 67),
    "F": (53, 60, 65, 69),
    "G": (55, 62, 67, 71),
    "Am": (45, 57, 60, 64),
    "Dm": (50, 62, 65, 69),
    "E": (52, 64, 68, 71),
}


def midi_hz(note: float) -> float:
    return 440.0 * 2 ** ((note - 69) / 12)


def click_track(bpm: float = 120.0, seconds: float = 30.0, first_s: float = 0.5) -> np.ndarray:
    """10 ms clicks (a decaying 1 kHz burst) every beat from ``first_s``; float32 mono."""
    out = np.zeros(round(seconds * RATE), dtype=np.float32)
    t = np.arange(round(0.01 * RATE)) / RATE
    click = (0.8 * np.sin(2 * np.pi * 1000 * t) * np.exp(-t * 300)).astype(np.float32)
    for at in click_times(bpm, seconds, first_s):
        start = round(at * RATE)
        out[start : start + len(click)] += click[: len(out) - start]
    return out


def click_times(bpm: float = 120.0, seconds: float = 30.0, first_s: float = 0.5) -> np.ndarray:
    return np.arange(first_s, seconds - 0.05, 60.0 / bpm)


def harmonic_tone(hz: float, seconds: float, harmonics: int = 5) -> np.ndarray:
    """A tone with harmonics at 1/k amplitude, 20 ms attack, gentle decay; float64."""
    t = np.arange(round(seconds * RATE)) / RATE
    envelope = np.minimum(t / 0.02, 1.0) * np.exp(-t * 0.7)
    return envelope * sum(np.sin(2 * np.pi * hz * k * t) / k for k in range(1, harmonics + 1))


def chord_progression(
    names: tuple[str, ...] = ("C", "F", "G", "C"), seconds_each: float = 2.0
) -> np.ndarray:
    """Triads (with the root an octave down) one after another, each ``seconds_each`` long."""
    parts = [
        sum(harmonic_tone(midi_hz(note), seconds_each) for note in CHORDS[name]) for name in names
    ]
    signal = np.concatenate(parts)
    return (0.8 * signal / np.abs(signal).max()).astype(np.float32)


def vibrato_tone(hz: float = 440.0, seconds: float = 3.0, depth_cents: float = 50.0):
    """A sung-like tone: 5.5 Hz vibrato of ±``depth_cents``, harmonics, a breathy noise."""
    t = np.arange(round(seconds * RATE)) / RATE
    cents = depth_cents * np.sin(2 * np.pi * 5.5 * t)
    phase = 2 * np.pi * np.cumsum(hz * 2 ** (cents / 1200)) / RATE
    voice = sum(0.5 / k**1.5 * np.sin(k * phase) for k in range(1, 8))
    noise = 0.01 * np.random.default_rng(0).standard_normal(len(t))
    envelope = np.minimum(1.0, np.minimum(t, seconds - t) / 0.1)
    return ((voice + noise) * envelope).astype(np.float32)


def song(seconds: float = 600.0, bpm: float = 120.0, seed: int = 0) -> np.ndarray:
    """A music-like signal: the chords C–F–G–C a bar each, a kick on every beat, a melody
    of eighth notes in C major, and a little noise; float32 mono."""
    rng = np.random.default_rng(seed)
    beat = 60.0 / bpm
    out = np.zeros(round(seconds * RATE))
    bar_chords = [CHORDS[name] for name in ("C", "F", "G", "C")]
    bar = round(4 * beat * RATE)
    pads = [sum(harmonic_tone(midi_hz(n), 4 * beat, 3) for n in notes) for notes in bar_chords]
    kick_t = np.arange(round(0.08 * RATE)) / RATE
    kick = np.sin(2 * np.pi * 60 * kick_t) * np.exp(-kick_t * 40)
    scale = np.array([72, 74, 76, 77, 79, 81, 83, 84])
    eighth = round(beat / 2 * RATE)
    melody = [harmonic_tone(midi_hz(n), beat / 2, 4) for n in scale]
    for index, start in enumerate(range(0, len(out) - bar, bar)):
        out[start : start + bar] += 0.15 * pads[index % 4][:bar]
        for b in range(4):
            at = start + round(b * beat * RATE)
            out[at : at + len(kick)] += 0.6 * kick
        for e in range(8):
            at = start + e * eighth
            out[at : at + eighth] += 0.2 * melody[rng.integers(len(scale))][:eighth]
    out += 0.005 * rng.standard_normal(len(out))
    return (0.9 * out / np.abs(out).max()).astype(np.float32)
