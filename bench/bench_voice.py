"""Voice measures only on voice: detection on real and generated sounds, the male pitch
range, and the cost of the speech detector and the second pass.

Run by hand from the project root: ``python bench/bench_voice.py``. Reads the installed
recordings of ``codec2-examples`` (English read speech, 8 kHz), ``alsa-utils`` (a woman
naming the channels) and ``asterisk-core-sounds-fr-wav`` (French telephone prompts, 352 of
them spoken), and generates the sounds that are not voice (test_voice_only.py).

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
ASTERISK_FR = Path("/usr/share/asterisk/sounds/fr")
# Not speech: codec2's digital radio modem signals (1–2 kHz), ALSA's noise, and the prompts
# that core-sounds-fr.txt lists as tones, beeps and "[Son de singes qui crient]".
NOT_SPEECH = [
    CODEC2 / "david4.wav",
    CODEC2 / "vk2tpm_004.wav",
    Path("/usr/share/sounds/alsa/Noise.wav"),
    *(
        ASTERISK_FR / f"{name}.wav"
        for name in (
            "ascending-2tone",
            "descending-2tone",
            "beep",
            "beeperr",
            "confbridge-join",
            "confbridge-leave",
            "tt-monkeys",
        )
    ),
]
MEN = ("hts1a.wav", "morig.wav", "cross.wav", "mmt1.wav", "big_dog.wav", "all.wav", "ve9qrp.wav")
SPEECH_FILES = [
    path
    for folder in (CODEC2, Path("/usr/share/sounds/alsa"), ASTERISK_FR)
    for path in sorted(folder.glob("*.wav"))
    if path not in NOT_SPEECH
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
    heard += [path.name for path in NOT_SPEECH if analyse_voice(*read(path)).has_speech]
    others = len(NOT_VOICE) + len(NOT_SPEECH)
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
