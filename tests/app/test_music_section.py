"""The audio page's "Music" section, driven through AppTest.

The features run in a background job: a test waits for it (with a timeout, never a sleep)
and reruns the script, as the section's polling fragment does.
"""

from __future__ import annotations

import json
from concurrent.futures import wait
from pathlib import Path

import numpy as np
import pytest
import soundfile
from streamlit.testing.v1 import AppTest

import ui.device
import ui.jobs
import ui.sections.music
from tests.analysis.audio.music_signals import RATE, chord_progression, click_track

TIMEOUT = 180

pytestmark = [pytest.mark.usefixtures("fresh_caches"), pytest.mark.slow]


def section_script(path: str) -> None:
    """A stand-in for the audio page: decode a file, a range, the section."""
    import hashlib

    import streamlit as st

    from analysis.audio.decode import load_audio
    from ui.sections.music import finished_music, show_music

    data = open(path, "rb").read()  # noqa: SIM115 - a one-shot read in a test script
    clip = load_audio(data, name=path)
    end = round(clip.duration, 3)
    start_s, end_s = st.slider("Range (s)", 0.0, end, (0.0, end), key="range")
    file_key = hashlib.sha256(data).hexdigest()
    show_music(clip, start_s, end_s, file_key)
    found = finished_music(file_key, start_s, end_s)
    st.text(f"finished: {'none' if found is None else len(found.beats_s)}")


def run_section(path: Path) -> AppTest:
    return AppTest.from_function(section_script, args=(str(path),), default_timeout=60).run()


def settle(at: AppTest) -> AppTest:
    """Wait for the background jobs and rerun, until a run shows no job under way."""
    for _ in range(5):
        jobs = [job for job in ui.jobs.board().find(lambda key: True) if job.running]
        if not jobs and not at.get("progress"):
            return at
        assert not wait([job.future for job in jobs], timeout=TIMEOUT).not_done
        at.run()
        assert not at.exception
    raise AssertionError("the section kept starting jobs")


def shown(at: AppTest) -> str:
    return " ".join(
        [m.value for m in at.markdown]
        + [t.value for t in at.text]
        + [c.value for c in at.caption]
        + [f"{m.label}: {m.value}" for m in at.metric]
    )


@pytest.fixture
def progression_wav(tmp_path) -> Path:
    path = tmp_path / "progression.wav"
    soundfile.write(path, chord_progression(), RATE)
    return path


def test_a_short_song_is_analysed_when_opened_and_reads_as_music(progression_wav):
    at = run_section(progression_wav)
    assert not at.exception and not at.error
    assert any(bar.proto.text.startswith("Finding beats") for bar in at.get("progress"))
    assert "finished: none" in shown(at)  # finished_music starts nothing and waits for nothing
    at = settle(at)
    text = shown(at)
    assert "Key: C major" in text
    assert "Chords: C → F → G → C" in text
    assert "finished: none" not in text
    labels = [button.proto.label for button in at.get("download_button")]
    assert labels == ["MFCC and spectral features (CSV)", "Beats, key, chords and pitch (JSON)"]
    assert at.button(key="music_hpss").label == "Separate harmonic and percussive parts"

    at.button(key="music_hpss").click().run()
    at = settle(at)
    assert len(at.get("audio")) == 2  # a player for each part
    assert not at.error


def test_a_range_inside_the_analysed_clip_needs_no_new_work(progression_wav):
    at = settle(run_section(progression_wav))
    at = settle(at.slider[0].set_value((1.0, 5.0)).run())
    assert not at.exception
    assert len(ui.jobs.board().find(lambda key: key[1] == "music")) == 1


def test_no_clear_beat_and_an_unsure_key_are_said(tmp_path):
    path = tmp_path / "noise.wav"
    noise = 0.1 * np.random.default_rng(0).standard_normal(8 * RATE).astype(np.float32)
    soundfile.write(path, noise, RATE)
    at = settle(run_section(path))
    text = shown(at)
    assert "Tempo: No clear beat" in text
    assert "Key: Unsure" in text
    assert "BPM" not in text


def test_on_a_phone_tempo_and_key_are_one_line_not_two_tiles(progression_wav, monkeypatch):
    monkeypatch.setattr(ui.device, "is_phone", lambda: True)
    at = settle(run_section(progression_wav))
    assert not at.metric  # two tiles would stack and push the chords a screen down
    (line,) = [m.value for m in at.markdown if m.value.startswith("**Tempo:**")]
    assert line.endswith(" · **Key:** C major")


def test_a_long_file_waits_for_a_click_and_analyses_the_range(tmp_path, monkeypatch):
    monkeypatch.setattr(ui.sections.music, "AUTO_S", 5.0)
    path = tmp_path / "clicks.wav"
    soundfile.write(path, click_track(seconds=12.0), RATE)
    at = run_section(path)
    assert not at.get("progress")
    at.slider[0].set_value((2.0, 10.0)).run()
    at.button(key="music_start").click().run()
    at = settle(at)
    assert "Tempo: 120 BPM" in shown(at)
    keys = [job.key for job in ui.jobs.board().find(lambda key: key[1] == "music")]
    assert [key[-2:] for key in keys] == [(2.0, 10.0)]
    music = json.loads(json.dumps(ui.sections.music.finished_music(keys[0][0], 3.0, 9.0).to_dict()))
    assert music["beats_s"][0] >= 2.0  # times are the file's, not the range's
