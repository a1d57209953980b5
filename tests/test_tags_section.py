"""The audio page's "What's in this sound" section, driven through AppTest."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import models.locate
from analysis.tagging import YamNet
from tests.conftest import require_model, require_tool


def section_script(path: str) -> None:
    """A stand-in for the audio page: decode a file, an STFT control, a range, the section."""
    import hashlib

    import streamlit as st

    from analysis.audio import load_audio
    from pages.audio_tags import show_tags

    data = open(path, "rb").read()  # noqa: SIM115 - a one-shot read in a test script
    clip = load_audio(data, name=path)
    st.select_slider("FFT size", options=[512, 1024, 2048], value=1024)
    start_s, end_s = st.slider("Range (s)", 0.0, clip.duration, (0.0, clip.duration))
    show_tags(clip, start_s, end_s, hashlib.sha256(data).hexdigest())


@pytest.fixture(autouse=True)
def fresh_caches():
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture(scope="module")
def speech_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    espeak = require_tool("espeak-ng")
    path = tmp_path_factory.mktemp("speech") / "speech.wav"
    text = "Good morning everyone. Today we are going to listen to a few sounds together."
    subprocess.run([espeak, "-w", str(path), text], check=True, capture_output=True)
    return path


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
        [sox, "-n", "-r", "44100", "-c", "2", str(tone), "synth", "3", "sine", "1000"],
        check=True,
        capture_output=True,
    )
    at = run_section(tone)
    assert not at.exception
    assert at.dataframe[0].value["Sound"].iloc[0] != "Speech"
    assert "Speech" not in shown_text(at)


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
