"""The Video page in AppTest: a generated video, analysed in the background, and controls that
never run the network again, reopen the file or recompute what they do not change.

The analysis runs as a background job: a test waits for it (with a timeout, never a sleep)
and reruns the script, as the page's polling fragment does.
"""

from __future__ import annotations

import threading
from concurrent.futures import wait

import av
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import analysis.video.io
import analysis.video.pipeline
import analysis.video.tracking
import ui.jobs
import ui.sections.video_frames
import ui.sections.video_results
from tests.analysis.video.test_pipeline import FRAMES, SquareDetector, write_video
from tests.support.corpus import wav

PAGE = "../../app_pages/video.py"
TIMEOUT = 120


class GatedDetector(SquareDetector):
    """The square's detector; with ``gate`` set up, its call number ``wait_at`` waits for it
    (``waiting`` says when it does)."""

    def __init__(self) -> None:
        super().__init__()
        self.gate: threading.Event | None = None
        self.wait_at = 10
        self.waiting = threading.Event()

    def detect(self, rgb):
        found = super().detect(rgb)
        if self.gate is not None and self.calls == self.wait_at:
            self.waiting.set()
            assert self.gate.wait(TIMEOUT), "the test never opened the gate"
        return found


@pytest.fixture
def detector(monkeypatch) -> GatedDetector:
    """The page's detector, whatever model is chosen: one that finds the white square."""
    st.cache_data.clear()
    st.cache_resource.clear()
    square = GatedDetector()
    monkeypatch.setattr(analysis.video.pipeline, "load_detector", lambda name, threads=None: square)
    yield square
    if square.gate is not None:
        square.gate.set()  # never leave a job thread waiting
    st.cache_data.clear()
    st.cache_resource.clear()  # shuts the job board down: its threads end


@pytest.fixture(scope="module")
def square_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return write_video(tmp_path_factory.mktemp("page") / "square.mp4", tone_hz=440.0).read_bytes()


def counted(monkeypatch, module, name: str) -> list[tuple]:
    """The arguments of each call of ``module.name``, which still does its work."""
    calls: list[tuple] = []
    function = getattr(module, name)

    def counting(*args, **kwargs):
        calls.append(args)
        return function(*args, **kwargs)

    monkeypatch.setattr(module, name, counting)
    return calls


def video_jobs() -> list[ui.jobs.Job]:
    return ui.jobs.board().find(lambda key: key[0].startswith("video"))


def settle(at: AppTest) -> AppTest:
    """Wait for the video jobs and rerun, until a run shows no job under way."""
    for _ in range(5):
        running = [job for job in video_jobs() if job.running]
        if not running and not at.get("progress"):
            return at
        assert not wait([job.future for job in running], timeout=TIMEOUT).not_done
        at.run()
        assert not at.exception
    raise AssertionError("the page kept starting jobs")


def dropped(data: bytes, name: str = "square.mp4", mime: str = "video/mp4") -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT).run()
    assert not at.exception
    at.file_uploader[0].upload(name, data, mime).run()
    assert not at.exception
    return at


def held_at_frame_10(detector: GatedDetector, data: bytes) -> AppTest:
    """A page whose analysis waits in the detector's 10th call, until ``detector.gate``."""
    detector.gate = threading.Event()
    at = dropped(data)
    assert detector.waiting.wait(TIMEOUT)
    return at


def slider(at: AppTest, word: str):
    return next(s for s in at.slider if word in s.label)


def warnings(at: AppTest) -> list[str]:
    return [w.value for w in at.warning]


def test_a_dropped_video_is_tracked_counted_and_downloadable(detector, square_bytes) -> None:
    at = dropped(square_bytes)
    assert "160×120 px, 25.00 fps, 40 frames, 1.6 s" in at.text[0].value  # before the result
    at = settle(at)
    assert "160×120 px, 25.00 fps, 40 frames, 1.6 s" in at.text[0].value
    assert "with sound" in at.text[0].value
    assert [h.value for h in at.subheader][:2] == ["Frame by frame", "1 tracked object(s)"]
    tracks = at.dataframe[1].value
    assert list(tracks["label"]) == ["square"] and list(tracks["id"]) == [1]
    labels = [b.label for b in at.get("download_button")]
    assert "Annotated video (MP4)" in labels and "Subtitles (WebVTT)" in labels
    assert detector.calls == FRAMES


def test_controls_retrack_without_running_the_network(detector, square_bytes) -> None:
    at = settle(dropped(square_bytes))
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
    assert len(video_jobs()) == 1


def test_one_analysis_opens_the_video_once_and_tracks_once_per_setting(
    detector, square_bytes, monkeypatch
) -> None:
    """One analysis opens the upload exactly once (its facts, frames, and the sound for both
    the annotated MP4 and the timeline); showing a frame opens it once more, once per frame.
    Tracking runs once, in the pass; a tracking setting re-tracks once per setting."""
    opens = counted(monkeypatch, av, "open")
    frames = counted(monkeypatch, ui.sections.video_frames, "read_frame")
    trackers = counted(monkeypatch, analysis.video.tracking.Tracker, "__init__")
    retracks = counted(monkeypatch, ui.sections.video_results, "track_all")
    at = settle(dropped(square_bytes))
    reading = [args for args in opens if args[1:2] != ("w",)]
    assert len(frames) == 1 and len(reading) == 1 + len(frames)
    assert len(trackers) == 1 and retracks == []

    slider(at, "Frame").set_value(20).run()
    slider(at, "Frame").set_value(0).run()  # decoded before: cached
    at.run()
    assert len(frames) == 2 and len([a for a in opens if a[1:2] != ("w",)]) == 3
    slider(at, "Confidence").set_value(0.6).run()
    slider(at, "Frame").set_value(20).run()
    assert len(retracks) == 1 and len(trackers) == 2
    slider(at, "Confidence").set_value(0.4).run()  # the pass's own setting: no tracking
    slider(at, "Confidence").set_value(0.6).run()  # tracked a moment ago: kept
    assert len(retracks) == 1 and len(trackers) == 2
    assert detector.calls == FRAMES


def test_a_frame_move_recomputes_nothing_but_the_frame(detector, square_bytes, monkeypatch):
    at = settle(dropped(square_bytes))
    results = ui.sections.video_results
    calls = {
        name: counted(monkeypatch, results, name)
        for name in (
            "spectrogram",
            "render_spectrogram",
            "render_tag_timeline",
            "render_in_view",
            "to_vtt",
            "records_csv",
            "result_json",
            "frame_records",
            "track_all",
        )
    }
    slider(at, "Frame").set_value(12).run()
    slider(at, "Frame").set_value(30).run()
    assert at.text[1].value.startswith("1.20 s — frame 30")
    assert {name: len(made) for name, made in calls.items()} == dict.fromkeys(calls, 0)


def test_progress_then_stop_keeps_the_frames_analysed_so_far(detector, square_bytes) -> None:
    at = held_at_frame_10(detector, square_bytes)
    at.run()
    (bar,) = at.get("progress")
    assert bar.proto.text.startswith("Analysing… ") and bar.proto.text.endswith(" of 40 frames")
    assert at.metric[0].label == "Time left" and at.metric[0].value.startswith("about ")
    at.button(key="video_stop").click().run()
    detector.gate.set()
    at = settle(at)
    assert any(w.startswith("Stopped after 0.") for w in warnings(at))
    assert "1 tracked object(s)" in [h.value for h in at.subheader]
    assert detector.calls < FRAMES

    next(b for b in at.button if b.label == "Analyse the whole video").click().run()
    at = settle(at)
    assert not at.warning and detector.calls >= FRAMES + 10


def test_one_persons_stop_never_stops_anothers_analysis_of_the_same_video(
    detector, square_bytes
) -> None:
    first = held_at_frame_10(detector, square_bytes)
    second = dropped(square_bytes)  # another person, the same video and settings: joins
    assert second.get("progress")
    second.button(key="video_stop").click().run()
    assert "Stopped." in warnings(second)
    first.run()
    assert first.get("progress")  # the first person's analysis goes on
    detector.gate.set()
    first, second = settle(first), settle(second.run())  # the result came for both
    for at in (first, second):
        assert not warnings(at) and "1 tracked object(s)" in [h.value for h in at.subheader]
    assert detector.calls == FRAMES and len(video_jobs()) == 1  # computed once


def test_a_partial_result_is_only_for_whoever_stopped_it(detector, square_bytes) -> None:
    first = held_at_frame_10(detector, square_bytes)
    first.button(key="video_stop").click().run()
    detector.gate.set()
    first = settle(first)
    assert any(w.startswith("Stopped after") for w in warnings(first))
    second = settle(dropped(square_bytes))  # asks for the same work: gets the whole video
    assert not second.warning and detector.calls >= FRAMES + 10


def test_another_stride_during_the_analysis_stops_the_first_for_this_person(
    detector, square_bytes
) -> None:
    at = held_at_frame_10(detector, square_bytes)
    at.number_input(key="video_stride").set_value(2).run()
    detector.gate.set()
    at = settle(at)
    assert not at.warning and "Analysed 20 frame(s)" in " ".join(c.value for c in at.caption)
    first, second = sorted(video_jobs(), key=lambda job: job.key[3])
    assert first.result.analysis.stopped and not second.result.analysis.stopped
    assert detector.calls == 10 + FRAMES // 2


def test_drawing_again_with_new_settings_runs_no_inference(detector, square_bytes) -> None:
    at = settle(dropped(square_bytes))
    drawn = at.get("video")[0].proto.url
    slider(at, "Confidence").set_value(0.95).run()
    assert "The video above was drawn with earlier settings." in [c.value for c in at.caption]
    next(b for b in at.button if b.label.startswith("Draw the video again")).click().run()
    at = settle(at)
    assert "The video above was drawn with earlier settings." not in [c.value for c in at.caption]
    assert at.get("video")[0].proto.url != drawn
    assert detector.calls == FRAMES


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("tone.wav", wav(), "This is a sound file, not a video"),
        ("broken.mp4", b"\x00\x00\x00\x18ftypisom" + bytes(2000), "could not be read as a video"),
    ],
    ids=["sound", "broken"],
)
def test_bad_input_is_one_sentence(detector, name, data, message) -> None:
    at = dropped(data, name, "application/octet-stream")
    assert [e.value for e in at.error] and message in at.error[0].value
    assert not video_jobs()


def test_the_result_survives_moving_to_another_page_and_back(detector, square_bytes) -> None:
    at = AppTest.from_file("../../app.py", default_timeout=TIMEOUT).run()
    at.switch_page("app_pages/video.py").run()
    at.file_uploader[0].upload("square.mp4", square_bytes, "video/mp4").run()
    at = settle(at)
    assert "1 tracked object(s)" in [h.value for h in at.subheader]
    at.switch_page("app_pages/home.py").run()
    assert "1 tracked object(s)" not in [h.value for h in at.subheader]
    at.switch_page("app_pages/video.py").run()
    assert not at.exception and not at.get("progress")
    assert "1 tracked object(s)" in [h.value for h in at.subheader]
    assert detector.calls == FRAMES
