"""The audio page's "What's in this sound" section, driven through AppTest."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

import models.locate
from analysis.audio.tag_plot import (
    TIMELINE_CLASSES,
    fit_name,
    render_tag_timeline,
    short_names,
    text_width,
)
from analysis.audio.tagging import (
    FRAME_SAMPLES,
    HOP_SAMPLES,
    Tagging,
    YamNet,
    frame_times,
    read_class_map,
)
from analysis.figures import PHONE_SPECTROGRAM_LAYOUT, SPECTROGRAM_LAYOUT
from tests.conftest import drop_file, require_model, require_tool, screenshot


def section_script(path: str) -> None:
    """A stand-in for the audio page: decode a file, an STFT control, a range, the section."""
    import hashlib

    import streamlit as st

    from analysis.audio.decode import load_audio
    from ui.sections.tags import show_tags

    data = open(path, "rb").read()  # noqa: SIM115 - a one-shot read in a test script
    clip = load_audio(data, name=path)
    st.select_slider("FFT size", options=[512, 1024, 2048], value=1024)
    end = round(clip.duration, 3)  # as the audio page's slider, which rounds to ms
    start_s, end_s = st.slider("Range (s)", 0.0, end, (0.0, end))
    show_tags(clip, start_s, end_s, hashlib.sha256(data).hexdigest())


pytestmark = pytest.mark.usefixtures("fresh_caches")


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
        ("Electronic dance music", "Electronic dance music"),  # no longer cut
        ("Inside, small room", "Inside, small room"),
        ("Inside, large room or hall", "Inside, large room"),  # was "Inside" for both
        ("Outside, rural or natural", "Outside, rural"),
        ("Whimper (dog)", "Whimper (dog)"),  # "Whimper" is another class
        ("Jingle (music)", "Jingle (music)"),
        ("Jingle, tinkle", "Jingle, tinkle"),
    ],
)
def test_timeline_names_are_short_and_say_which_class(label, shown):
    labels = (
        "Speech",
        "Inside, small room",
        "Inside, large room or hall",
        "Inside, public space",
        "Outside, urban or manmade",
        "Outside, rural or natural",
        "Whimper",
        "Whimper (dog)",
        "Jingle (music)",
        "Jingle, tinkle",
        "Vehicle horn, car horn, honking",
        "Light engine (high frequency)",
        "Electronic dance music",
    )
    names = dict(zip(labels, short_names(labels), strict=True))
    assert names[label] == shown


def test_names_shared_even_when_qualified_fall_back_to_the_full_label():
    labels = ("Door", "Door, wood or metal", "Door, wood or glass")
    assert short_names(labels) == labels


def yamnet_names() -> tuple[str, ...]:
    return read_class_map(require_model("yamnet")["class_map"])


def test_every_yamnet_class_gets_a_distinct_name():
    labels = yamnet_names()
    assert len(labels) == 521
    names = short_names(labels)
    assert len(set(names)) == len(names)


@pytest.mark.parametrize("layout", [SPECTROGRAM_LAYOUT, PHONE_SPECTROGRAM_LAYOUT])
def test_every_yamnet_name_fits_the_label_column_uncut(layout):
    column_px = layout.right - 3.5 * 100 / 72  # less matplotlib's tick-label gap
    for name in short_names(yamnet_names()):
        shown = fit_name(name, column_px, layout.name_pt)
        assert shown.replace("-\n", "-").replace("\n", " ") == name  # whole, maybe wrapped
        lines = shown.split("\n")
        assert len(lines) <= 2
        assert all(text_width(line, layout.name_pt) <= column_px for line in lines), shown


def test_a_name_too_long_for_two_lines_is_cut_to_fit():
    shown = fit_name("Supercalifragilisticexpialidocious", 100, 10)
    assert shown.endswith("…") and text_width(shown, 10) <= 100


def timeline_of(labels: tuple[str, ...], layout=SPECTROGRAM_LAYOUT) -> Image.Image:
    scores = np.zeros((12, len(labels)), np.float32)
    scores[:, :TIMELINE_CLASSES] = np.linspace(0.9, 0.2, TIMELINE_CLASSES)
    starts, ends = frame_times(11 * HOP_SAMPLES + FRAME_SAMPLES)
    tagging = Tagging(scores, starts, ends, labels)
    return Image.open(io.BytesIO(render_tag_timeline(tagging.between(1.0, 4.0), 1.0, 4.0, layout)))


def test_timeline_has_the_spectrograms_width_and_a_band_per_class():
    labels = tuple(f"class {i}" for i in range(521))
    picture = timeline_of(labels)
    assert picture.width == SPECTROGRAM_LAYOUT.width
    one_line_px = round(10 * 100 / 72 * 1.7)  # 10 pt names, one line each
    assert picture.height == 8 + one_line_px * TIMELINE_CLASSES + SPECTROGRAM_LAYOUT.bottom - 8


@pytest.mark.parametrize("layout", [SPECTROGRAM_LAYOUT, PHONE_SPECTROGRAM_LAYOUT])
def test_the_longest_names_are_drawn_inside_the_picture(layout):
    widest = (
        "Whimper (dog)",
        "Environmental noise",
        "Plucked string instrument",
        "Single-lens reflex camera",
        "Middle Eastern music",
        "Inside, large room or hall",
        "Speech synthesizer",
        "Reverberation",
        "Whimper",
    )
    picture = np.asarray(timeline_of(widest, layout).convert("L"))
    assert picture.shape[1] == layout.width
    names = picture[:, layout.width - layout.right :]
    assert (names < 128).any()  # the names are drawn...
    assert (picture[:, -2:] > 250).all()  # ...and none runs off the right edge


# --- on the audio page itself ---------------------------------------------------------


def test_audio_page_tags_uploaded_speech_once_whatever_the_controls(speech_wav, inference_calls):
    require_model("yamnet")
    at = AppTest.from_file("../../app_pages/audio.py", default_timeout=60).run()
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
    images.nth(0).wait_for()  # the tag timeline (the spectrogram and its lanes are a component)
    assert page.get_by_test_id("stException").count() == 0
    section.scroll_into_view_if_needed()
    screenshot(page, "audio-tags-speech")
