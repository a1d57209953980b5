"""The audio page's "What's in this sound" section, driven through AppTest."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from PIL import Image
from streamlit.testing.v1 import AppTest

import models.locate
from analysis.render import (
    ROW_PX,
    SPECTROGRAM_LAYOUT,
    TIMELINE_CLASSES,
    render_tag_timeline,
    short_name,
)
from analysis.tagging import FRAME_SAMPLES, HOP_SAMPLES, Tagging, YamNet, frame_times
from tests.conftest import drop_file, require_model, require_tool, screenshot


def section_script(path: str) -> None:
    """A stand-in for the audio page: decode a file, an STFT control, a range, the section."""
    import hashlib

    import streamlit as st

    from analysis.audio import load_audio
    from ui.audio_tags import show_tags

    data = open(path, "rb").read()  # noqa: SIM115 - a one-shot read in a test script
    clip = load_audio(data, name=path)
    st.select_slider("FFT size", options=[512, 1024, 2048], value=1024)
    end = round(clip.duration, 3)  # as the audio page's slider, which rounds to ms
    start_s, end_s = st.slider("Range (s)", 0.0, end, (0.0, end))
    show_tags(clip, start_s, end_s, hashlib.sha256(data).hexdigest())


@pytest.fixture(autouse=True)
def fresh_caches():
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def inference_calls(monkeypatch) -> list[int]:
    """Counts YamNet.score_frames calls (one per tagged recording)."""
    calls: list[int] = []
    score_frames = YamNet.score_frames

    def counting(self, frames, progress=None):
        calls.append(len(frames))
        return score_frames(self, frames, progress)

    monkeypatch.setattr(YamNet, "score_frames", counting)
    return calls


def run_section(path: Path) -> AppTest:
    return AppTest.from_function(section_script, args=(str(path),), default_timeout=60).run()


def shown_text(at: AppTest) -> str:
    return " ".join(m.value for m in at.markdown)


def test_speech_is_tagged_once_and_stft_or_range_changes_do_not_rerun_it(
    speech_wav, inference_calls
):
    require_model("yamnet")
    at = run_section(speech_wav)
    assert not at.exception
    assert at.subheader[0].value == "What's in this sound"
    assert "mostly **Speech** in the whole file" in shown_text(at)
    table = at.dataframe[0].value
    assert table["Sound"].iloc[0] == "Speech"
    assert table["Score"].is_monotonic_decreasing
    assert len(at.get("image")) == 1  # the timeline heatmap
    assert len(at.get("progress")) == 0  # the bar is gone once tagging is done
    assert len(inference_calls) == 1

    at.select_slider[0].set_value(2048).run()
    assert not at.exception
    assert "mostly **Speech**" in shown_text(at)
    at.slider[0].set_value((1.0, 2.5)).run()
    assert not at.exception
    assert "mostly **Speech** in 1.00 s to 2.50 s" in shown_text(at)
    assert "over 3 frames" in shown_text(at)  # centres 1.4475, 1.9275, 2.4075 s
    assert len(inference_calls) == 1


def test_a_new_session_with_the_same_file_reuses_the_tags(speech_wav, inference_calls):
    require_model("yamnet")
    run_section(speech_wav)
    at = run_section(speech_wav)
    assert not at.exception
    assert "mostly **Speech**" in shown_text(at)
    assert len(inference_calls) == 1


def test_a_tone_is_not_speech(tmp_path, inference_calls):
    require_model("yamnet")
    sox = require_tool("sox")
    tone = tmp_path / "tone.flac"
    subprocess.run(
        [sox, "-n", "-r", "44100", "-c", "2", str(tone), "synth", "3.0002", "sine", "1000"],
        check=True,
        capture_output=True,
    )
    at = run_section(tone)
    assert not at.exception
    assert at.dataframe[0].value["Sound"].iloc[0] != "Speech"
    assert "Speech" not in shown_text(at)
    # 3.0002 s shows as 3.0 on the rounded slider: still the whole file.
    assert "in the whole file" in shown_text(at)


def test_missing_model_is_one_message_and_the_page_goes_on(speech_wav, monkeypatch, tmp_path):
    monkeypatch.setattr(models.locate, "model_dirs", lambda: [tmp_path])
    at = run_section(speech_wav)
    assert not at.exception and not at.error
    assert len(at.info) == 1
    assert "yamnet.tflite" in at.info[0].value
    assert "python -m models fetch yamnet" in at.info[0].value
    assert len(at.slider) == 1  # what came before the section is still there


def test_missing_runtime_says_what_to_install(speech_wav, monkeypatch):
    require_model("yamnet")
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)  # import fails
    at = run_section(speech_wav)
    assert not at.exception and not at.error
    assert len(at.info) == 1
    assert "pip install ai-edge-litert" in at.info[0].value


def test_a_failure_inside_tagging_is_one_sentence(speech_wav, monkeypatch):
    require_model("yamnet")

    def broken(self, frames, progress=None):
        raise RuntimeError("interpreter exploded")

    monkeypatch.setattr(YamNet, "score_frames", broken)
    at = run_section(speech_wav)
    assert not at.exception
    assert [e.value for e in at.error] == [
        "Sound-event tagging failed on this file; the rest of the page still works."
    ]


# --- the timeline picture -------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "shown"),
    [
        ("Speech", "Speech"),
        ("Vehicle horn, car horn, honking", "Vehicle horn"),
        ("Light engine (high frequency)", "Light engine"),
        ("Electronic dance music", "Electronic dance…"),
    ],
)
def test_timeline_names_fit_the_right_margin(label, shown):
    assert short_name(label) == shown


def test_timeline_has_the_spectrograms_width_and_a_band_per_class():
    scores = np.random.default_rng(0).uniform(0, 1, (12, 521)).astype(np.float32)
    starts, ends = frame_times(11 * HOP_SAMPLES + FRAME_SAMPLES)
    tagging = Tagging(scores, starts, ends, tuple(f"class {i}" for i in range(521)))
    picture = Image.open(io.BytesIO(render_tag_timeline(tagging.between(1.0, 4.0), 1.0, 4.0)))
    assert picture.width == SPECTROGRAM_LAYOUT.width
    assert picture.height == 8 + ROW_PX * TIMELINE_CLASSES + 50


# --- on the audio page itself ---------------------------------------------------------


def test_audio_page_tags_uploaded_speech_once_whatever_the_controls(speech_wav, inference_calls):
    require_model("yamnet")
    at = AppTest.from_file("../pages/audio.py", default_timeout=60).run()
    at.file_uploader[0].upload("speech.wav", speech_wav.read_bytes(), "audio/wav").run()
    assert not at.exception and not at.error
    assert "What's in this sound" in [header.value for header in at.subheader]
    assert "mostly **Speech** in the whole file" in shown_text(at)
    assert at.dataframe[0].value["Sound"].iloc[0] == "Speech"

    fft_size = next(s for s in at.select_slider if "(FFT size)" in s.label)
    fft_size.set_value(4096).run()
    assert not at.exception
    time_range = next(s for s in at.slider if s.label == "Time range (s)")
    time_range.set_value((1.0, 2.5)).run()
    assert not at.exception
    assert "mostly **Speech** in 1.00 s to 2.50 s" in shown_text(at)
    assert len(inference_calls) == 1


@pytest.mark.browser
def test_dropped_speech_shows_its_tags_under_the_spectrogram(page, app_url, speech_wav):
    require_model("yamnet")
    page.goto(app_url)  # arrive as a person does, through the sidebar
    page.get_by_test_id("stSidebarNav").get_by_text("Audio", exact=True).click()
    drop_file(page, speech_wav, "audio/wav")
    summary = page.get_by_text("YAMNet hears mostly")
    summary.wait_for()
    assert "Speech" in summary.inner_text()
    section = page.get_by_role("heading", name="What's in this sound")
    images = page.get_by_test_id("stImage")
    images.nth(2).wait_for()  # spectrogram, waveform, tag timeline
    assert page.get_by_test_id("stException").count() == 0
    section.scroll_into_view_if_needed()
    screenshot(page, "audio-tags-speech")
