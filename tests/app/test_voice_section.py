"""The speech section's voice measures through AppTest: numbers only for voiced speech.

A door chime gets one sentence and no voice report (none is even started); a voice gets its
pitch range as percentiles with the range Praat searched; a range of silence after speech
says there is no voice there, and whispered speech that it has no voiced sound.
Transcription is turned off (no model directory), so these tests need no model.
"""

from __future__ import annotations

import subprocess
from concurrent.futures import wait
from pathlib import Path

import numpy as np
import pytest
import soundfile
from streamlit.testing.v1 import AppTest

import models.locate
import ui.jobs
from tests.conftest import require_tool
from tests.support.voices import RATE, door_chime, syllables

TIMEOUT = 120

pytestmark = pytest.mark.usefixtures("fresh_caches")


def section_script(path: str, start_s: float) -> None:
    """The audio page's part that matters here: a decoded file, a range, the section."""
    import hashlib

    import streamlit as st

    from analysis.audio.decode import load_audio
    from ui.sections.speech import show_speech

    data = open(path, "rb").read()  # noqa: SIM115 - a one-shot read in a test script
    clip = load_audio(data, name=path)
    end = round(clip.duration, 3)
    start_s, end_s = st.slider("Range (s)", 0.0, end, (start_s, end), key="range")
    show_speech(clip, start_s, end_s, hashlib.sha256(data).hexdigest(), range_key="range")


@pytest.fixture(autouse=True)
def no_whisper(monkeypatch, tmp_path):
    monkeypatch.setattr(models.locate, "model_dirs", lambda: [tmp_path / "no-models"])


def written(tmp_path: Path, samples: np.ndarray) -> Path:
    path = tmp_path / "sound.wav"
    soundfile.write(path, samples, RATE)
    return path


def settled(path: Path, start_s: float = 0.0) -> AppTest:
    """The section once its Praat jobs are done."""
    at = AppTest.from_function(section_script, args=(str(path), start_s), default_timeout=TIMEOUT)
    at.run()
    for _ in range(4):
        running = [job for job in jobs() if job.running]
        if not running:
            break
        assert not wait([job.future for job in running], timeout=TIMEOUT).not_done
        at.run()
    assert not at.exception and not at.error
    return at


def jobs() -> list:
    return ui.jobs.board().find(lambda key: True)


def measures(at: AppTest) -> dict[str, str]:
    (table,) = at.dataframe
    return dict(zip(table.value["Measure"], table.value["Value"], strict=True))


def captions(at: AppTest) -> str:
    return " ".join(caption.value for caption in at.caption)


def test_a_door_chime_gets_one_sentence_and_no_voice_report(tmp_path):
    at = settled(written(tmp_path, door_chime()))
    assert "No voice found: pitch, formants and the voice report are measured on speech" in (
        captions(at)
    )
    assert not at.dataframe  # no number at all
    assert [job.key[1] for job in jobs()] == ["voice"]  # no report was started


def test_a_voice_shows_its_pitch_range_as_percentiles_and_the_searched_range(tmp_path):
    at = settled(written(tmp_path, syllables(4.0, low_hz=110.0, high_hz=150.0)))
    shown = measures(at)
    assert 127 <= int(shown["Median pitch"][:-3]) <= 133  # the glide's middle, 130 Hz
    low, high = (int(hz) for hz in shown["Pitch range (5th–95th percentile)"][:-3].split("–"))
    assert 108 <= low <= 113 and 147 <= high <= 152
    assert {"Jitter (local)", "Shimmer (local)", "Harmonics-to-noise"} <= set(shown)
    assert shown["Jitter (local)"] != "–"
    text = captions(at)
    assert "of speech in the range only" in text
    assert "searched between 8" in text and "first pass over 75–600 Hz" in text


def test_a_range_of_silence_after_speech_has_no_voice(tmp_path):
    samples = np.concatenate([syllables(3.0), np.zeros(3 * RATE, np.float32)])
    at = settled(written(tmp_path, samples), start_s=4.0)
    assert "No voice found" in captions(at)
    assert not at.dataframe
    assert "report" not in [job.key[1] for job in jobs()]


def test_whispered_speech_is_speech_without_a_voice(tmp_path):
    espeak = require_tool("espeak-ng")
    path = tmp_path / "whisper.wav"
    text = "The quick brown fox jumps over the lazy dog, and then it runs away."
    subprocess.run([espeak, "-v", "en+whisper", "-w", str(path), text], check=True)
    at = settled(path)
    assert "No voiced speech here (whispered or too short)" in captions(at)
    assert not at.dataframe
