"""The Video page in AppTest: a generated video, controls that never re-run the network."""

from __future__ import annotations

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import analysis.video.io
from tests.analysis.video.test_pipeline import FRAMES, SquareDetector, write_video
from tests.support.corpus import wav

PAGE = "../../app_pages/video.py"


@pytest.fixture
def detector(monkeypatch) -> SquareDetector:
    """The page's detector, whatever model is chosen: one that finds the white square."""
    st.cache_resource.clear()
    square = SquareDetector()
    monkeypatch.setattr(analysis.video.io, "load_detector", lambda name, threads=None: square)
    yield square
    st.cache_resource.clear()


@pytest.fixture(scope="module")
def square_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return write_video(tmp_path_factory.mktemp("page") / "square.mp4", tone_hz=440.0).read_bytes()


def dropped(data: bytes, name: str = "square.mp4", mime: str = "video/mp4") -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception
    at.file_uploader[0].upload(name, data, mime).run()
    assert not at.exception
    return at


def slider(at: AppTest, word: str):
    return next(s for s in at.slider if word in s.label)


def test_a_dropped_video_is_tracked_counted_and_downloadable(detector, square_bytes) -> None:
    at = dropped(square_bytes)
    assert "160×120 px, 25.00 fps, 40 frames, 1.6 s" in at.text[0].value
    assert "with sound" in at.text[0].value
    assert [h.value for h in at.subheader][:2] == ["Frame by frame", "1 tracked object(s)"]
    tracks = at.dataframe[1].value
    assert list(tracks["label"]) == ["square"] and list(tracks["id"]) == [1]
    labels = [b.label for b in at.get("download_button")]
    assert "Annotated video (MP4)" in labels and "Subtitles (WebVTT)" in labels
    assert detector.calls == FRAMES


def test_controls_retrack_without_running_the_network(detector, square_bytes) -> None:
    at = dropped(square_bytes)
    slider(at, "Confidence").set_value(0.95).run()
    assert "0 tracked object(s)" in [h.value for h in at.subheader]
    slider(at, "Confidence").set_value(0.5).run()
    at.toggle[-1].set_value(True).run()  # count crossings of the default, horizontal line
    at.number_input(key="video_x1").set_value(80).run()
    at.number_input(key="video_y1").set_value(0).run()
    at.number_input(key="video_x2").set_value(80).run()
    at.number_input(key="video_y2").set_value(120).run()
    crossings = at.dataframe[-1].value
    assert crossings.to_dict("records") == [{"label": "square", "in": 1, "out": 0}]
    slider(at, "Frame").set_value(20).run()
    assert at.text[1].value.startswith("0.80 s — frame 20")
    assert not at.exception
    assert detector.calls == FRAMES  # one pass, whatever moved since


def test_stop_keeps_the_frames_analysed_so_far(detector, square_bytes, monkeypatch) -> None:
    import ui.internals

    # A click on Stop (or any control) during the pass shows up as a newer run waiting.
    monkeypatch.setattr(ui.internals, "newer_run_waiting", lambda: detector.calls >= 10)
    at = dropped(square_bytes)
    assert not at.exception
    assert any(w.value.startswith("Stopped after 0.") for w in at.warning)
    assert "1 tracked object(s)" in [h.value for h in at.subheader]
    assert detector.calls < FRAMES
    monkeypatch.setattr(ui.internals, "newer_run_waiting", lambda: False)
    next(b for b in at.button if b.label == "Analyse the whole video").click().run()
    assert not at.warning and detector.calls >= FRAMES + 10


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("tone.wav", wav(), "This is a sound file, not a video"),
        ("broken.mp4", b"\x00\x00\x00\x18ftypisom" + bytes(2000), "could not be read as a video"),
    ],
)
def test_bad_input_is_one_sentence(detector, name, data, message) -> None:
    at = dropped(data, name, "application/octet-stream")
    assert [e.value for e in at.error] and message in at.error[0].value
