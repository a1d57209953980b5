"""Pitch, intensity, formants and voice report (Praat) on synthesized signals with known answers.

Tones and synthesized vowels are not speech, so these tests measure them with ``PRAAT``, the
settings that measure any sound over a fixed range; what is measured by default (speech
only, the speaker's range) is tested in test_voice_only.py."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal

from analysis.errors import InputError
from analysis.speech.voice import VoiceSettings, analyse_voice, frame_times, voice_report

RATE = 16_000
PRAAT = VoiceSettings(speech_only=False, adapt_range=False)  # Praat alone, on any sound


def tone(hz: float, seconds: float = 1.0, rate: int = RATE, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def vowel(f0_hz: float, formants: tuple[tuple[float, float], ...], seconds: float = 1.0):
    """Source-filter synthesis: a glottal pulse train through second-order resonators.

    ``formants`` is ((frequency Hz, bandwidth Hz), ...); a one-pole low-pass gives the source
    the -6 dB/octave tilt of a real glottis.
    """
    pulses = np.zeros(round(seconds * RATE))
    pulses[:: round(RATE / f0_hz)] = 1.0
    signal = scipy.signal.lfilter([1.0], [1.0, -0.97], pulses)
    for frequency, bandwidth in formants:
        r = np.exp(-np.pi * bandwidth / RATE)
        theta = 2 * np.pi * frequency / RATE
        signal = scipy.signal.lfilter([1 - r], [1, -2 * r * np.cos(theta), r * r], signal)
    return (0.5 * signal / np.abs(signal).max()).astype(np.float32)


# An /a/ as a man says it: F1-F3 as in Peterson & Barney (1952), F4-F5 typical values.
VOWEL_A = ((700, 80), (1220, 90), (2600, 120), (3300, 200), (4500, 250))


def test_a_220_hz_tone_reads_220_hz():
    voice = analyse_voice(tone(220.0, 2.0), RATE, PRAAT)
    summary = voice.summary()
    assert summary["median_hz"] == pytest.approx(220.0, abs=0.5)
    assert summary["min_hz"] == pytest.approx(220.0, abs=1.0)
    assert summary["voiced_fraction"] > 0.95


def test_a_parts_voice_shifted_counts_from_the_recordings_start():
    part = analyse_voice(tone(220.0, 1.0), RATE, PRAAT)  # a second 30 s into a recording
    whole = part.shifted(30.0)
    np.testing.assert_array_equal(whole.times, part.times + 30.0)
    np.testing.assert_array_equal(whole.f0_hz, part.f0_hz)
    assert whole.between(30.0, 31.0).summary() == part.summary()


def test_the_intensity_of_a_half_scale_sine_is_minus_9_db():
    voice = analyse_voice(tone(220.0, 1.0), RATE, PRAAT)
    # RMS 0.5 / sqrt(2): 20 log10(0.354) = -9.03 dB re full scale.
    assert np.nanmedian(voice.intensity_db) == pytest.approx(-9.03, abs=0.2)


def test_a_glide_is_followed_frame_by_frame():
    seconds, low, high = 2.0, 150.0, 300.0
    t = np.arange(round(seconds * RATE)) / RATE
    frequency = low + (high - low) * t / seconds
    glide = 0.5 * np.sin(2 * np.pi * np.cumsum(frequency) / RATE)
    voice = analyse_voice(glide, RATE, PRAAT)
    voiced = np.isfinite(voice.f0_hz)
    assert voiced.mean() > 0.9
    expected = low + (high - low) * voice.times[voiced] / seconds
    np.testing.assert_allclose(voice.f0_hz[voiced], expected, rtol=0.02)


def test_formants_of_a_synthesized_vowel_are_near_its_resonances():
    voice = analyse_voice(vowel(120.0, VOWEL_A), RATE, PRAAT)
    assert voice.summary()["median_hz"] == pytest.approx(120.0, rel=0.01)
    measured = np.nanmedian(voice.formants_hz, axis=0)
    np.testing.assert_allclose(measured, [700, 1220, 2600], rtol=0.05)


def test_formants_are_only_given_where_the_voice_is_voiced():
    signal = np.concatenate([vowel(120.0, VOWEL_A, 0.5), np.zeros(RATE // 2, np.float32)])
    voice = analyse_voice(signal, RATE, PRAAT)
    unvoiced = ~np.isfinite(voice.f0_hz)
    assert unvoiced.any()
    assert np.isnan(voice.formants_hz[unvoiced]).all()


def test_the_voice_report_of_a_perfectly_periodic_vowel_has_no_jitter():
    report = voice_report(vowel(120.0, VOWEL_A), RATE, PRAAT)
    assert report.median_f0_hz == pytest.approx(120.0, rel=0.01)
    assert report.jitter_percent < 0.1
    assert report.shimmer_percent < 0.5
    assert report.hnr_db > 30
    assert report.voiced_s > 0.9


def test_silence_has_no_pitch_and_an_empty_report():
    silence = np.zeros(RATE, np.float32)
    summary = analyse_voice(silence, RATE, PRAAT).summary()
    assert summary["median_hz"] is summary["p5_hz"] is summary["max_hz"] is None
    assert summary["voiced_fraction"] == 0.0
    assert np.isnan(voice_report(silence, RATE, PRAAT).jitter_percent)


def test_a_sound_shorter_than_the_pitch_window_is_refused_in_one_sentence():
    with pytest.raises(InputError, match="too short to measure its pitch"):
        analyse_voice(np.zeros(400, np.float32), RATE)


def test_frames_tile_the_recording_on_one_grid_across_blocks(monkeypatch):
    import analysis.speech.voice

    monkeypatch.setattr(analysis.speech.voice, "BLOCK_S", 0.7)  # several blocks in 2 s
    voice = analyse_voice(tone(220.0, 2.0), RATE, PRAAT)
    np.testing.assert_allclose(voice.times, frame_times(2.0, 0.01))
    assert np.nanmedian(voice.f0_hz) == pytest.approx(220.0, abs=0.5)
    assert np.isfinite(voice.f0_hz[5:-5]).all()  # no gap at the block edges


@pytest.mark.parametrize(("rate", "channels"), [(8_000, 1), (192_000, 8), (44_100, 2)])
def test_any_rate_and_channel_count_reads_the_same_pitch(rate, channels):
    samples = np.tile(tone(220.0, 1.0, rate), (channels, 1))
    assert analyse_voice(samples, rate, PRAAT).summary()["median_hz"] == pytest.approx(
        220.0, abs=1.0
    )


def test_settings_are_validated():
    with pytest.raises(InputError, match="pitch range"):
        VoiceSettings(pitch_floor_hz=500.0, pitch_ceiling_hz=100.0)
