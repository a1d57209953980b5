"""Tempo, beats, key, chords and pitch on generated music with known answers, and on real music."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from analysis.audio.music import (
    MusicSettings,
    analyse_music,
    beat_clarity,
    tempo_from_beats,
)
from analysis.audio.pitch_track import PitchSettings, note_names, track_pitch
from analysis.errors import InputError
from tests.analysis.audio.music_signals import (
    RATE,
    chord_progression,
    click_times,
    click_track,
    song,
    vibrato_tone,
)

# Debian's asc-music (games: the music of Advanced Strategic Command), three MP3 songs.
ASC_MUSIC = Path("/usr/share/games/asc/music")
NO_PITCH = MusicSettings(pitch=None)


@pytest.fixture(scope="module")
def clicks():
    return analyse_music(click_track(120.0), RATE, NO_PITCH)


@pytest.fixture(scope="module")
def progression():
    return analyse_music(chord_progression(), RATE, NO_PITCH)


def test_a_click_track_at_120_bpm_reads_120_bpm_with_every_beat_on_a_click(clicks):
    assert clicks.tempo_bpm == pytest.approx(120.0, rel=0.02)
    assert clicks.tempo_sure and clicks.beat_clarity > 0.8
    expected = click_times(120.0)
    errors = np.abs(clicks.beats_s[:, None] - expected[None]).min(axis=1)
    assert errors.max() < 0.020
    assert len(clicks.beats_s) >= len(expected) - 3  # the tracker may skip the first or last
    onsets = np.abs(clicks.onsets_s[:, None] - expected[None]).min(axis=1)
    assert len(clicks.onsets_s) == len(expected) and onsets.max() < 0.025


@pytest.mark.parametrize("bpm", [90.0, 150.0])
def test_other_tempi_read_within_two_percent(bpm):
    music = analyse_music(click_track(bpm, seconds=20.0), RATE, NO_PITCH)
    assert music.tempo_bpm == pytest.approx(bpm, rel=0.02)
    assert music.tempo_sure


def test_a_c_major_progression_reads_c_major_and_its_chords(progression):
    assert progression.key.name == "C major"
    assert progression.key.sure
    assert progression.key.relative == "A minor"
    named = [chord.name for chord in progression.chords if chord.name != "N"]
    assert named == ["C", "F", "G", "C"]
    changes = [chord.start_s for chord in progression.chords[1:]]
    assert changes == pytest.approx([2.0, 4.0, 6.0], abs=0.3)


def test_a_minor_progression_reads_a_minor():
    music = analyse_music(chord_progression(("Am", "Dm", "E", "Am"), 1.5), RATE, NO_PITCH)
    assert music.key.name == "A minor"
    assert [chord.name for chord in music.chords if chord.name != "N"][:2] == ["Am", "Dm"]


def test_noise_has_no_clear_beat_no_sure_key_and_no_chords():
    noise = 0.1 * np.random.default_rng(1).standard_normal(15 * RATE).astype(np.float32)
    music = analyse_music(noise, RATE)
    assert not music.tempo_sure
    assert not music.key.sure
    assert {chord.name for chord in music.chords} == {"N"}
    assert np.mean([note is not None for note in music.pitch.notes]) < 0.1


def test_a_sung_vibrato_a4_reads_a4():
    track = track_pitch(vibrato_tone(440.0), RATE)
    notes = [note for note in track.notes if note is not None]
    assert len(notes) > 0.8 * len(track.notes)
    assert Counter(notes).most_common(1)[0][0] == "A4"
    assert Counter(notes)["A4"] > 0.9 * len(notes)  # ±50 cents of vibrato stays A4
    assert np.nanmedian(track.f0_hz) == pytest.approx(440.0, rel=0.01)


def test_pitch_blocks_join_without_a_seam():
    """40 s crosses block boundaries (every 10 s): the frames stay evenly spaced and voiced."""
    track = track_pitch(vibrato_tone(220.0, seconds=40.0, depth_cents=0.0), RATE)
    assert np.allclose(np.diff(track.times_s), 256 / 11_025)
    assert track.times_s[-1] == pytest.approx(40.0, abs=0.03)
    middle = track.f0_hz[(track.times_s > 1) & (track.times_s < 39)]
    assert np.all(np.abs(1200 * np.log2(middle / 220.0)) < 20)


def test_note_names():
    assert note_names(np.array([440.0, 261.63, 466.16, np.nan, 0.0, 27.5])) == [
        "A4",
        "C4",
        "A#4",
        None,
        None,
        "A0",
    ]


def test_a_range_is_reported_in_the_files_time(progression):
    moved = progression.shifted(10.0)
    assert moved.start_s == 10.0 and moved.end_s == pytest.approx(18.0)
    assert moved.chords[0].start_s == pytest.approx(10.0)
    assert moved.chroma_times_s[0] == pytest.approx(progression.chroma_times_s[0] + 10.0)


def test_to_dict_is_the_commands_json(progression):
    music = analyse_music(chord_progression(), RATE)
    data = json.loads(json.dumps(music.to_dict()))
    for field in ("duration_s", "tempo_bpm", "beats_s", "onsets_s", "key", "key_confidence"):
        assert field in data
    assert data["key"] == "C major" and data["duration_s"] == pytest.approx(8.0)
    assert data["chords"][0] == {"start_s": 0.0, "end_s": pytest.approx(2.0, abs=0.3), "chord": "C"}
    pitch = data["pitch"]
    assert len(pitch["times_s"]) == len(pitch["f0_hz"]) == len(pitch["notes"])
    assert set(data["timings_ms"]) >= {"beats", "harmony", "pitch", "total"}


def test_tempo_from_beats_ignores_a_skipped_beat():
    beats = np.array([0.0, 0.5, 1.0, 1.5, 2.5, 3.0, 3.5, 4.0, 4.5])
    assert tempo_from_beats(beats) == pytest.approx(120.0)
    assert np.isnan(tempo_from_beats(np.array([1.0])))


def test_beat_clarity_of_a_pulse_and_of_nothing():
    pulse = np.zeros(1000)
    pulse[::43] = 1.0
    assert beat_clarity(pulse, 43.0) > 0.9
    assert beat_clarity(np.zeros(1000), 43.0) == 0.0
    assert beat_clarity(pulse, 500.0) == 0.0  # a period longer than a third of the envelope


def test_progress_counts_every_step_and_can_stop():
    seen = []

    class Stop(Exception):
        pass

    def progress(done, total):
        seen.append((done, total))
        if done == 2:
            raise Stop

    with pytest.raises(Stop):
        analyse_music(chord_progression(("C", "F")), RATE, progress=progress)
    assert seen == [(0, 3), (1, 3), (2, 3)]


@pytest.mark.parametrize("bad", [np.zeros(0, np.float32), np.zeros((2, 0), np.float32)])
def test_empty_audio_is_one_sentence(bad):
    with pytest.raises(InputError, match="empty"):
        analyse_music(bad, RATE)


def test_stereo_at_another_rate_is_mixed_and_resampled():
    stereo = np.stack([click_track(120.0, 10.0)] * 2)
    music = analyse_music(stereo, RATE, NO_PITCH)
    at_44k = analyse_music(np.repeat(stereo, 2, axis=1), 2 * RATE, NO_PITCH)
    assert music.tempo_bpm == pytest.approx(at_44k.tempo_bpm, rel=0.01)


def test_a_bad_pitch_range_is_refused():
    with pytest.raises(ValueError, match="pitch range"):
        track_pitch(vibrato_tone(), RATE, PitchSettings(floor_hz=500.0, ceiling_hz=100.0))


@pytest.mark.slow
def test_a_music_like_minute_reads_its_tempo_key_and_chords():
    music = analyse_music(song(60.0), RATE)
    assert music.tempo_bpm == pytest.approx(120.0, rel=0.02) and music.tempo_sure
    assert music.key.name == "C major"
    # The melody often doubles a pad's root or fifth over its third: a power chord ("C5")
    # of the right root is a fair reading of such a beat, a minor chord is not.
    counts = Counter(chord.name.removesuffix("5") for chord in music.chords)
    assert {"C", "F", "G"} <= {name for name, _ in counts.most_common(4)}


@pytest.mark.slow
@pytest.mark.parametrize("name", ["frontiers.mp3", "machine_wars.mp3", "time_to_strike.mp3"])
def test_real_music_runs_sensibly(name):
    """Real songs (Debian's asc-music): no known answers, but the numbers must be sane."""
    from analysis.audio.decode import load_audio

    path = ASC_MUSIC / name
    if not path.exists():
        pytest.skip("asc-music is not installed (apt-get install asc-music)")
    clip = load_audio(path)
    music = analyse_music(clip.samples[:, : 90 * clip.sample_rate], clip.sample_rate)
    assert music.duration_s == pytest.approx(90.0, abs=0.1)
    assert 60 <= music.tempo_bpm <= 200
    assert music.tempo_sure  # game music with drums has a clear beat
    intervals = np.diff(music.beats_s)
    assert np.median(np.abs(intervals - 60 / music.tempo_bpm)) < 0.03  # a steady grid
    assert len(music.onsets_s) >= len(music.beats_s) / 2
    assert sum(chord.name != "N" for chord in music.chords) >= 5
    assert music.pitch is not None and np.isfinite(music.pitch.f0_hz).any()
    assert music.timings_ms["total"] > 0
