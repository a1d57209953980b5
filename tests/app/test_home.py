"""Home: a picture of each page at work and "Try it" buttons, on a clone with no model files."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.support.webrtc_apptest import webrtc_without_server
from ui.sections.home import SPEECH, STREET_VIDEO

pytestmark = pytest.mark.usefixtures("fresh_caches")


@pytest.fixture
def no_model_files(tmp_path, monkeypatch) -> None:
    """Every model directory empty: only the models built into OpenCV are there."""
    monkeypatch.setattr("models.locate.PROJECT_MODELS_DIR", tmp_path / "project")
    monkeypatch.setattr("models.locate.SHARED_MODELS_DIR", tmp_path / "shared")
    monkeypatch.delenv("PERCEPT_MODELS_DIR", raising=False)


def captions(at: AppTest) -> list[str]:
    return [image.caption for element in at.get("image") for image in element.proto.imgs]


def app() -> AppTest:
    at = AppTest.from_file("../../app.py", default_timeout=120).run()
    assert not at.exception
    return at


def test_every_page_has_a_picture_made_by_the_app_without_model_files(no_model_files):
    at = AppTest.from_file("../../app_pages/home.py", default_timeout=120).run()
    assert not at.exception and not at.error
    shown = captions(at)
    assert len(shown) == (5 if STREET_VIDEO.is_file() else 4)
    # Built-in detectors on the sample photos: the astronaut's and the cameraman's faces.
    assert "Haar cascade faces (built into OpenCV): 1 found in a sample photo." in shown
    # Only the astronaut is a face: a helmet and a cat's ear, boxed at 0.25, are not shown.
    assert "Three photos through Haar cascade faces (built into OpenCV): 1, 0, 0 found." in shown
    if STREET_VIDEO.is_file():  # HOG's boxes there would be wrong: the frame, without them
        assert "OpenCV's street video at 0:20." in shown
    more = [c.value for c in at.caption]
    assert (
        "Shows more with YOLOX-Nano (COCO objects): run `python -m models fetch yolox-nano`."
        in more
    )
    assert any("YAMNet" in m and "`python -m models fetch yamnet`" in m for m in more)


def test_try_it_opens_vision_with_the_sample_photo_analysed(no_model_files):
    at = app()
    at.button(key="home_try_vision").click().run()
    assert not at.exception and at.title[0].value == "Vision"
    assert at.radio(key="vision_source").value == "Sample photo"
    assert at.slider(key="vision_confidence").value == pytest.approx(0.6)  # as its picture
    assert at.subheader[0].value == "1 detection(s)"  # the astronaut's face, by Haar
    assert list(at.dataframe[0].value["label"]) == ["face"]


def test_try_it_opens_audio_with_a_speech_clip(no_model_files):
    at = app()
    at.button(key="home_try_audio").click().run()
    assert not at.exception and at.title[0].value == "Audio"
    if SPEECH.is_file():
        assert at.radio(key="audio_source").value == "Upload a file"
        assert SPEECH.name in [t.value for t in at.text]
        # Without Whisper's files the page says transcription is off, and how to get it.
        assert any("Transcription is off" in i.value for i in at.info)
    else:
        assert at.radio(key="audio_source").value == "Try a sample"
    assert at.metric[0].value.endswith("s")  # the clip's duration: it was decoded


def test_try_it_opens_live_where_the_camera_starts(no_model_files, monkeypatch):
    webrtc_without_server(monkeypatch)
    at = app()
    at.button(key="home_try_live").click().run()
    assert not at.exception and at.title[0].value == "Live"


@pytest.mark.slow
@pytest.mark.skipif(not STREET_VIDEO.is_file(), reason="needs Debian's opencv-doc (vtest.avi)")
def test_try_it_opens_video_with_the_street_sample(no_model_files):
    at = app()
    at.button(key="home_try_video").click().run()
    assert not at.exception and at.title[0].value == "Video"
    assert at.toggle(key="video_sample").value is True
    assert not any(i.value == "Drop a video to start." for i in at.info)
