"""Voice measures only on voice: detection on real and generated sounds, the male pitch
range, and the cost of the speech detector and the second pass.

Run by hand from the project root: ``python bench/bench_voice.py``. Reads the installed
recordings of ``codec2-examples`` (English read speech, 8 kHz), ``alsa-utils`` (a woman
naming the channels) and ``asterisk-core-sounds-fr-wav`` (359 French telephone prompts), and
generates the sounds that are not voice (tests/support/voices.py and test_voice_only.py).

Prints: the share of speech files with a voice found (target 100 %) and of other sounds with
none (target 100 %); for each man's recording, the pitch range shown now (5th–95th
percentile, adapted range) beside the min–max of a fixed 75–600 Hz search (what the page
showed before); the time of the default measure against Praat alone (one pass, any sound)
on the longest recording, as a ratio measured in one run.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import soundfile

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.speech.voice import VoiceSettings, analyse_voice
from tests.analysis.speech.test_voice_only import NOT_VOICE
from tests.support.voices import RATE

CODEC2 = Path("/usr/share/codec2/wav")
NOT_SPEECH = {"david4.wav", "vk2tpm_004.wav"}  # digital radio modem signals (1–2 kHz)
MEN = ("hts1a.wav", "morig.wav", "cross.wav", "mmt1.wav", "big_dog.wav", "all.wav", "ve9qrp.wav")
SPEECH_FILES = [
    *(p for p in sorted(CODEC2.glob("*.wav")) if p.name not in NOT_SPEECH),
    *(p for p in sorted(Path("/usr/share/sounds/alsa").glob("*.wav")) if p.stem != "Noise"),
    *sorted(Path("/usr/share/asterisk/sounds/fr").glob("*.wav")),
]
PRAAT_ALONE = VoiceSettings(speech_only=False, adapt_range=False)


def read(path: Path) -> tuple[np.ndarray, int]:
    samples, rate = soundfile.read(path, dtype="float32", always_2d=True)
    return samples.T, rate


def detection() -> None:
    missed = [p for p in SPEECH_FILES if not analyse_voice(*read(p)).has_speech]
    print(f"speech files with a voice found: {len(SPEECH_FILES) - len(missed)}/{len(SPEECH_FILES)}")
    for path in missed:
        print(f"  missed: {path}")
    heard = [name for name, make in NOT_VOICE.items() if analyse_voice(make(), RATE).has_speech]
    noise = Path("/usr/share/sounds/alsa/Noise.wav")
    others = len(NOT_VOICE) + len(NOT_SPEECH) + 1
    heard += [
        p.name
        for p in (*(CODEC2 / n for n in NOT_SPEECH), noise)
        if analyse_voice(*read(p)).has_speech
    ]
    print(f"other sounds with no voice: {others - len(heard)}/{others} {heard or ''}")


def male_ranges() -> None:
    print("man's recording: now p5–p95 (searched) | before: fixed 75–600 Hz min–max")
    for name in MEN:
        samples, rate = read(CODEC2 / name)
        now = analyse_voice(samples, rate).summary()
        before = analyse_voice(samples, rate, PRAAT_ALONE).summary()
        print(
            f"  {name:12s} {now['p5_hz']:4.0f}–{now['p95_hz']:3.0f} Hz "
            f"({now['floor_hz']:.0f}–{now['ceiling_hz']:.0f}) | "
            f"{before['min_hz']:4.0f}–{before['max_hz']:3.0f} Hz"
        )


def speed() -> None:
    samples, rate = read(CODEC2 / "ve9qrp.wav")
    timings = {}
    for label, settings in (("Praat alone", PRAAT_ALONE), ("voice only", VoiceSettings())):
        began = time.perf_counter()
        analyse_voice(samples, rate, settings)
        timings[label] = time.perf_counter() - began
    seconds = samples.shape[-1] / rate
    print(
        f"{seconds:.0f} s recording: Praat alone {timings['Praat alone']:.2f} s, voice only "
        f"{timings['voice only']:.2f} s ({timings['voice only'] / timings['Praat alone']:.2f}×)"
    )


if __name__ == "__main__":
    detection()
    male_ranges()
    speed()
