"""Voice measures only on voice: Praat's numbers come from speech, with the speaker's range.

A tone, a door chime, synthesized music, noise and silence get no pitch, no formants and an
empty voice report; real read speech (codec2-examples' and alsa-utils' recordings, Asterisk's
French prompts) and espeak-ng's get plausible numbers, and a man's pitch range no longer
reaches the octave errors of a fixed 75–600 Hz search.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import soundfile

from analysis.speech.voice import VoiceSettings, analyse_voice, voice_report
from tests.conftest import skip_or_fail
from tests.support.voices import buzz, door_chime, seconds, syllables

RATE = 16_000
CODEC2 = Path("/usr/share/codec2/wav")  # codec2-examples: read English speech, 8 kHz
ALSA = Path("/usr/share/sounds/alsa")  # alsa-utils: "Front center" … read by a woman
ASTERISK_FR = Path("/usr/share/asterisk/sounds/fr")  # asterisk-core-sounds-fr-wav
GAME_MUSIC = Path("/usr/share/games/asc/music")  # asc-music: a strategy game's soundtrack


def tone() -> np.ndarray:
    return 0.5 * np.sin(2 * np.pi * 220.0 * seconds(2.0))


def melody(vibrato: bool) -> np.ndarray:
    """A sawtooth-like synthesizer playing a scale, with or without a singer's 5.5 Hz vibrato."""
    notes = []
    for note in (220, 247, 262, 294, 330, 294, 262, 247):
        t = seconds(0.4)
        hz = note * (1 + (0.01 * np.sin(2 * np.pi * 5.5 * t) if vibrato else 0))
        phase = 2 * np.pi * np.cumsum(hz) / RATE
        envelope = np.minimum(1, np.minimum(t / 0.02, (0.4 - t) / 0.05))
        notes.append(envelope * sum(np.sin(k * phase) / k for k in range(1, 15)))
    out = np.concatenate(notes)
    return 0.4 * out / np.abs(out).max()


def chords() -> np.ndarray:
    """Four plucked major triads with harmonics."""
    out = []
    for root in (262, 220, 175, 196):
        t = seconds(0.8)
        chord = sum(
            np.sin(2 * np.pi * root * interval * k * t) / k**1.5
            for interval in (1.0, 1.26, 1.5)
            for k in range(1, 8)
        )
        out.append(chord * np.exp(-t / 0.6))
    out = np.concatenate(out)
    return 0.4 * out / np.abs(out).max()


def white_noise() -> np.ndarray:
    return 0.2 * np.random.default_rng(0).standard_normal(2 * RATE)


NOT_VOICE = {
    "tone": tone,
    "door chime": door_chime,
    "steady buzz with harmonics": buzz,
    "melody": lambda: melody(vibrato=False),
    "melody with vibrato": lambda: melody(vibrato=True),
    "chords": chords,
    "white noise": white_noise,
    "silence": lambda: np.zeros(2 * RATE),
}


def recording(path: Path) -> tuple[np.ndarray, int]:
    """A real recording installed by a Debian package; skips (fails in CI) when absent."""
    if not path.is_file():
        skip_or_fail(f"{path} is not installed", "PERCEPT_REQUIRE_TOOLS")
    samples, rate = soundfile.read(path, dtype="float32")
    return samples, rate


@pytest.mark.parametrize("make", NOT_VOICE.values(), ids=NOT_VOICE.keys())
def test_sounds_that_are_not_speech_get_no_voice_measures(make):
    samples = make()
    voice = analyse_voice(samples, RATE)
    summary = voice.summary()
    assert not voice.has_speech
    assert summary["voiced_fraction"] == 0.0 and summary["median_hz"] is None
    assert np.isnan(voice.f0_hz).all() and np.isnan(voice.formants_hz).all()
    report = voice_report(samples, RATE)
    assert report.voiced_s == 0.0 and math.isnan(report.hnr_db)


def test_praat_alone_calls_the_chime_voiced_which_is_why_speech_is_detected_first():
    praat_alone = VoiceSettings(speech_only=False, adapt_range=False)
    assert analyse_voice(door_chime(), RATE, praat_alone).summary()["voiced_fraction"] > 0.9


def test_a_synthesized_voice_reads_its_pitch_and_range():
    voice = analyse_voice(syllables(low_hz=110.0, high_hz=150.0), RATE)
    summary = voice.summary()
    assert voice.has_speech and summary["voiced_fraction"] > 0.6
    assert summary["median_hz"] == pytest.approx(130.0, abs=3.0)
    assert 110.0 <= summary["p5_hz"] <= 113.0 and 147.0 <= summary["p95_hz"] <= 150.0
    assert summary["floor_hz"] < 110.0 and summary["ceiling_hz"] > 150.0


# Men reading English: (file, median F0 in Hz as Praat measures it by hand, ±10 %).
MEN = [("hts1a.wav", 94.0), ("morig.wav", 114.0), ("cross.wav", 110.0), ("mmt1.wav", 106.0)]


@pytest.mark.parametrize(("name", "median_hz"), MEN, ids=[name for name, _ in MEN])
def test_a_mans_pitch_range_excludes_octave_errors(name, median_hz):
    samples, rate = recording(CODEC2 / name)
    summary = analyse_voice(samples, rate).summary()
    assert summary["median_hz"] == pytest.approx(median_hz, rel=0.1)
    assert summary["p5_hz"] >= 70.0 and summary["p95_hz"] <= 160.0
    assert summary["ceiling_hz"] <= 250.0  # the second pass searched a man's range


def test_a_fixed_wide_range_would_have_shown_octave_errors():
    samples, rate = recording(CODEC2 / "hts1a.wav")
    fixed = analyse_voice(samples, rate, VoiceSettings(adapt_range=False)).summary()
    adapted = analyse_voice(samples, rate).summary()
    assert fixed["max_hz"] > 300.0  # the "75–508 Hz" on male speech
    assert adapted["max_hz"] < 130.0


@pytest.mark.parametrize("name", ["Front_Center.wav", "Rear_Left.wav"])
def test_a_womans_voice_reads_as_a_womans(name):
    samples, rate = recording(ALSA / name)
    summary = analyse_voice(samples, rate).summary()
    assert 170.0 <= summary["median_hz"] <= 220.0
    assert summary["p5_hz"] >= 140.0 and summary["p95_hz"] <= 300.0


def test_french_prompts_are_voice():
    samples, rate = recording(ASTERISK_FR / "agent-newlocation.wav")
    voice = analyse_voice(samples, rate)
    summary = voice.summary()
    assert summary["speech_s"] > 5.0 and summary["voiced_fraction"] > 0.5
    assert 150.0 <= summary["median_hz"] <= 230.0


@pytest.mark.parametrize("name", ["minutes.wav", "hours.wav"])
def test_a_single_short_word_is_voice(name):
    samples, rate = recording(ASTERISK_FR / name)  # "minutes", "heures": 0.7 s each
    summary = analyse_voice(samples, rate).summary()
    assert summary["voiced_fraction"] > 0.2 and 150.0 <= summary["median_hz"] <= 250.0


# Asterisk's own non-speech: a beep, two jingles, screeching monkeys.
NOT_SPEECH_PROMPTS = ["beep.wav", "confbridge-join.wav", "ascending-2tone.wav", "tt-monkeys.wav"]


@pytest.mark.parametrize("name", NOT_SPEECH_PROMPTS)
def test_real_beeps_jingles_and_animals_are_not_voice(name):
    samples, rate = recording(ASTERISK_FR / name)
    assert not analyse_voice(samples, rate).has_speech


@pytest.mark.parametrize("name", ["frontiers.mp3", "machine_wars.mp3"])
def test_real_instrumental_music_is_not_voice(name):
    from analysis.audio.decode import load_audio

    path = GAME_MUSIC / name
    if not path.is_file():
        skip_or_fail(f"{path} is not installed", "PERCEPT_REQUIRE_TOOLS")
    clip = load_audio(path)
    minute = clip.samples[:, : 60 * clip.sample_rate]
    assert not analyse_voice(minute, clip.sample_rate).has_speech


def test_the_voice_report_of_real_speech_is_in_the_range_of_healthy_voices():
    samples, rate = recording(CODEC2 / "morig.wav")
    report = voice_report(samples, rate)
    assert report.median_f0_hz == pytest.approx(114.0, rel=0.1)
    assert 0.2 < report.jitter_percent < 5.0  # telephone-band speech: above the 1 % of a lab
    assert 2.0 < report.shimmer_percent < 20.0
    assert 5.0 < report.hnr_db < 25.0
    assert report.voiced_s > 0.8


def test_speech_then_a_chime_is_measured_on_the_speech_only(speech_wav):
    speech, rate = soundfile.read(speech_wav, dtype="float32")
    speech = np.interp(np.arange(0, len(speech), rate / RATE), np.arange(len(speech)), speech)
    samples = np.concatenate([speech, np.zeros(RATE // 2), door_chime()])
    voice = analyse_voice(samples, RATE)
    spoken_s = len(speech) / RATE
    assert voice.has_speech and voice.speech_s[-1, 1] < spoken_s + 0.3
    voiced = voice.times[np.isfinite(voice.f0_hz)]
    assert len(voiced) > 50 and voiced.max() < spoken_s + 0.3
    assert 80.0 <= voice.summary()["median_hz"] <= 160.0  # espeak-ng's default male voice


def test_a_ranges_summary_and_the_whole_voice_agree(speech_wav):
    samples, rate = soundfile.read(speech_wav, dtype="float32")
    voice = analyse_voice(samples, rate)
    part = voice.between(0.0, voice.times[-1] / 2)
    assert part.pitch_floor_hz == voice.pitch_floor_hz
    assert part.speech_s[-1, 1] <= voice.times[-1] / 2
    later = voice.shifted(10.0)
    np.testing.assert_allclose(later.speech_s, voice.speech_s + 10.0)


def test_progress_counts_both_passes_to_the_end(monkeypatch):
    import analysis.speech.voice

    monkeypatch.setattr(analysis.speech.voice, "BLOCK_S", 1.0)  # three blocks a pass
    calls: list[tuple[float, float]] = []
    analyse_voice(syllables(3.0), RATE, progress=lambda done, total: calls.append((done, total)))
    done = [d for d, _ in calls]
    assert len(calls) == 6 and done == sorted(done)  # two passes of three blocks, never back
    assert calls[-1] == pytest.approx((3.0, 3.0))
    assert done[2] == pytest.approx(0.25 * 3.0)  # the first pass, pitch only, is a quarter


def test_speech_over_a_music_bed_reads_the_voice_not_the_music(speech_wav):
    speech, rate = soundfile.read(speech_wav, dtype="float32")
    speech = np.interp(np.arange(0, len(speech), rate / RATE), np.arange(len(speech)), speech)
    bed = np.resize(chords(), len(speech))
    bed *= 10 ** (-10 / 20) * speech.std() / bed.std()  # music 10 dB under the voice
    clean = analyse_voice(speech, RATE).summary()
    mixed = analyse_voice(speech + bed, RATE).summary()
    assert mixed["median_hz"] == pytest.approx(clean["median_hz"], rel=0.03)
    assert mixed["p95_hz"] == pytest.approx(clean["p95_hz"], rel=0.05)


def test_the_detector_reads_a_long_recording_in_parts_with_the_same_result(monkeypatch):
    import analysis.speech.voicing

    samples = syllables(6.0)
    whole = analyse_voice(samples, RATE)
    monkeypatch.setattr(analysis.speech.voicing, "VAD_PART_S", 2.0)  # three parts
    parts = analyse_voice(samples, RATE)
    assert len(parts.speech_s) >= 3 and parts.speech_s[-1, 1] == pytest.approx(6.0)
    assert np.all(np.diff(parts.speech_s.ravel()) >= 0)  # sorted, never overlapping
    assert parts.summary()["median_hz"] == pytest.approx(whole.summary()["median_hz"], rel=0.01)
