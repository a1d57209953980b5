"""The Video page in AppTest: a generated video, analysed in the background, and controls that
never run the network again, reopen the file or recompute what they do not change.

The analysis runs as a background job: a test waits for it (with a timeout, never a sleep)
and reruns the script, as the page's polling fragment does.
"""

from __future__ import annotations

import dataclasses
import io
import json
import threading
from concurrent.futures import wait
from fractions import Fraction
from itertools import pairwise
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile
import streamlit as st
from streamlit.testing.v1 import AppTest

import analysis.audio.tagging
import analysis.video.io
import analysis.video.pipeline
import analysis.video.tracking
import ui.jobs
import ui.sections.video_player
import ui.sections.video_results
import ui.sections.video_timeline
from analysis.speech.whisper import DEFAULT_MODEL
from analysis.video.regions import Line, Zone
from analysis.vision.detections import DEFAULT_CONFIDENCE
from tests.analysis.video.test_pipeline import FRAMES, SquareDetector, write_video
from tests.conftest import require_model
from tests.support.corpus import wav
from tests.support.defaults import started_elsewhere
from ui.video_view import Shapes

PAGE = "../../app_pages/video.py"
TIMEOUT = 120
HARVARD = Path("/usr/share/codec2/raw/speech_orig_16k.wav")  # codec2-examples: 4 sentences
HARVARD_WORDS = ("birch canoe", "dark blue background")


def speech_video(path: Path, recording: Path = HARVARD, size: tuple[int, int] = (320, 240)) -> Path:
    """An MP4 (H.264 + AAC) of ``recording`` with a white square crossing the frame from
    left to right over its length (25 fps): a real voice under a known object."""
    samples, rate = soundfile.read(recording, dtype="float32", always_2d=True)
    frames = round(len(samples) / rate * 25)
    width, height = size
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=25)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        sound = container.add_stream("aac", rate=rate, layout="mono")
        for index in range(frames):
            rgb = np.zeros((height, width, 3), np.uint8)
            x = round(10 + (width - 50) * index / max(frames - 1, 1))
            rgb[height // 2 - 15 : height // 2 + 15, x : x + 30] = 255
            container.mux(video.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        container.mux(video.encode(None))
        mono = np.ascontiguousarray(samples.mean(axis=1))
        for start in range(0, len(mono), 1024):
            chunk = av.AudioFrame.from_ndarray(
                mono[np.newaxis, start : start + 1024], format="fltp", layout="mono"
            )
            chunk.sample_rate, chunk.pts, chunk.time_base = rate, start, Fraction(1, rate)
            container.mux(sound.encode(chunk))
        container.mux(sound.encode(None))
    return path


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
    monkeypatch.setattr(analysis.video.pipeline, "load_detector", lambda name, **options: square)
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
    """Wait for the jobs (the video's, and the speech section's on its soundtrack) and rerun,
    until a run shows no job under way."""
    for _ in range(8):
        running = [job for job in ui.jobs.board().find(lambda key: True) if job.running]
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


def held(detector: GatedDetector, data: bytes) -> AppTest:
    """A page whose analysis waits in the detector's call number ``detector.wait_at`` (10
    unless set), until ``detector.gate``."""
    detector.gate = threading.Event()
    at = dropped(data)
    assert detector.waiting.wait(TIMEOUT)
    return at


def slider(at: AppTest, word: str):
    return next(s for s in at.slider if word in s.label)


def warnings(at: AppTest) -> list[str]:
    return [w.value for w in at.warning]


def table(at: AppTest, column: str):
    """The first table with ``column``."""
    return next(df.value for df in at.dataframe if column in df.value.columns)


def player(at: AppTest) -> dict:
    """What the page sent to the video player (ui/video_view), as the browser receives it."""
    (component,) = [c for c in at.get("bidi_component") if "video_view" in c.proto.id]
    return json.loads(component.proto.json)


def draw(at: AppTest, shapes: Shapes) -> AppTest:
    """Lines and zones as the player's drawing leaves them in the session, then a run."""
    (job,) = video_jobs()
    at.session_state[f"video_shapes_{job.key[1]}"] = shapes
    return at.run()


def test_a_dropped_video_is_tracked_counted_and_downloadable(detector, square_bytes) -> None:
    at = dropped(square_bytes)
    assert "160×120 px, 25.00 fps, 40 frames, 1.6 s" in at.text[0].value  # before the result
    at = settle(at)
    assert "160×120 px, 25.00 fps, 40 frames, 1.6 s" in at.text[0].value
    assert "with sound" in at.text[0].value
    assert at.subheader[0].value == "1 tracked object(s)"
    tracks = table(at, "first seen (s)")
    assert list(tracks["label"]) == ["square"] and list(tracks["id"]) == [1]
    sent = player(at)
    assert sent["frame"] == [160, 120] and sent["duration_s"] == pytest.approx(1.6)
    assert [lane["label"] for lane in sent["lanes"]["in_view"]] == ["square"]
    assert sent["lanes"]["spectrogram"] and [s["label"] for s in sent["subtitles"]] == [
        "Detections"
    ]
    labels = [b.label for b in at.get("download_button")]
    assert "Annotated video (MP4)" in labels and "Subtitles (WebVTT)" in labels
    assert detector.calls == FRAMES


def test_the_paused_frames_detections_read_in_whole_pixels(detector, square_bytes) -> None:
    at = settle(dropped(square_bytes))
    at.session_state["_video_paused_s"] = (video_jobs()[0].key[1], 0.81)  # as a pause sends
    at.run()
    assert "**Detections at 0.80 s**" in " ".join(m.value for m in at.markdown)
    rows = table(at, "box (x1, y1, x2, y2)").to_dict("records")
    x = 10 + 3 * 20  # the square's left edge in frame 20
    assert rows == [
        {
            "track": "1",
            "label": "square",
            "score": 0.9,
            "box (x1, y1, x2, y2)": f"{x}, 50, {x + 20}, 70",
        }
    ]


def test_a_frame_without_tracked_objects_says_so_instead_of_an_empty_table(
    detector, square_bytes
) -> None:
    at = settle(dropped(square_bytes))  # not paused: the first frame, before any track
    first_s = table(at, "first seen (s)")["first seen (s)"].min()
    assert first_s > 0  # a track starts on a later frame than the first sighting
    words = " ".join(c.value for c in at.caption)
    assert f"the first tracks begin at {first_s:.2f} s" in words
    assert not [frame for frame in at.dataframe if "box (x1, y1, x2, y2)" in frame.value]


def test_lines_and_zones_count_from_the_stored_tracks(detector, square_bytes) -> None:
    at = settle(dropped(square_bytes))
    across = Line(80, 0, 80, 120, "Door")  # the square moves right: its "in" side
    back = Line(90, 120, 90, 0, "Back")  # the same, the other way round
    zone = Zone(((60, 0), (120, 0), (120, 120), (60, 120)), "Middle")
    at = draw(at, Shapes((across, back), (zone,)))
    crossings = table(at, "line").to_dict("records")
    assert crossings == [
        {"line": "Door", "label": "square", "in": 1, "out": 0},
        {"line": "Back", "label": "square", "in": 0, "out": 1},
    ]
    (stay,) = table(at, "zone").to_dict("records")
    # Its bottom centre is inside for x from 60 to 120: left edge 50..110, 20 frames at 25 fps.
    assert stay["entered"] == 1 and stay["mean stay (s)"] == pytest.approx(0.8, abs=0.05)
    sent = player(at)
    assert sent["notes"] == {"Door": "in 1 · out 0", "Back": "in 0 · out 1", "Middle": "1 entered"}
    assert [(c["line"], c["dir"]) for c in sent["lanes"]["crossings"]] == [
        ("Door", "in"),
        ("Back", "out"),
    ]
    slider(at, "Confidence").set_value(0.95).run()
    assert "0 tracked object(s)" in [h.value for h in at.subheader]
    assert player(at)["notes"]["Door"] == "in 0 · out 0"
    assert not at.exception and detector.calls == FRAMES  # one pass, whatever moved since
    assert len(video_jobs()) == 1


def test_objects_the_detector_was_unsure_of_are_marked(detector, square_bytes) -> None:
    found = detector.detect

    def doubtful(rgb):  # the square at 0.5 all along: above the threshold, yet unsure
        raw, timings = found(rgb)
        return dataclasses.replace(raw, scores=np.full(len(raw.scores), 0.5)), timings

    detector.detect = doubtful
    at = settle(dropped(square_bytes))
    assert at.subheader[0].value == "1 tracked object(s)"
    (warning,) = warnings(at)
    assert warning.startswith("Unsure of 1 object(s) (marked ?)")
    assert list(table(at, "mean score")["label"]) == ["square ?"]


def test_one_analysis_opens_the_video_once_and_tracks_once_per_setting(
    detector, square_bytes, monkeypatch
) -> None:
    """One analysis opens the upload exactly once (its facts, frames, and the sound for both
    the annotated MP4 and the timeline). Tracking runs once, in the pass, at the floor score:
    a confidence change keeps or drops whole tracks (track_all replays the pass's tracking,
    once per setting); a pause or a drawing tracks nothing."""
    opens = counted(monkeypatch, av, "open")
    trackers = counted(monkeypatch, analysis.video.tracking.Tracker, "__init__")
    retracks = counted(monkeypatch, ui.sections.video_results, "track_all")
    at = settle(dropped(square_bytes))
    assert len([args for args in opens if args[1:2] != ("w",)]) == 1
    assert len(trackers) == 1 and retracks == []
    slider(at, "Confidence").set_value(0.6).run()
    assert len(retracks) == 1 and len(trackers) == 1  # no new ByteTrack
    slider(at, "Confidence").set_value(DEFAULT_CONFIDENCE).run()  # the pass's own setting
    slider(at, "Confidence").set_value(0.6).run()  # replayed a moment ago: kept
    draw(at, Shapes((Line(80, 0, 80, 120, "Door"),)))
    assert at.multiselect[0].options == ["square"]  # the labels of the objects counted
    at.multiselect[0].select("square").run()  # filters objects: nothing is tracked again
    assert len(retracks) == 1 and len(trackers) == 1
    assert len([args for args in opens if args[1:2] != ("w",)]) == 1
    assert detector.calls == FRAMES


def test_a_pause_recomputes_nothing_but_the_table(detector, square_bytes, monkeypatch):
    at = settle(dropped(square_bytes))
    at = draw(at, Shapes((Line(80, 0, 80, 120, "Door"),)))
    names = (
        "spectrogram",
        "tag_audio",
        "to_vtt",
        "records_csv",
        "result_json",
        "frame_records",
        "track_all",
        "count_regions",
    )
    modules = (
        ui.sections.video_results,
        ui.sections.video_timeline,
        ui.sections.video_player,
        analysis.audio.tagging,
    )
    calls = {
        f"{module.__name__}.{name}": counted(monkeypatch, module, name)
        for module in modules
        for name in names
        if hasattr(module, name)
    }
    for t in (0.5, 1.2):
        at.session_state["_video_paused_s"] = (video_jobs()[0].key[1], t)
        at.run()
    assert "**Detections at 1.20 s**" in " ".join(m.value for m in at.markdown)
    assert {name: len(made) for name, made in calls.items()} == dict.fromkeys(calls, 0)


def test_progress_then_stop_keeps_the_frames_analysed_so_far(detector, square_bytes) -> None:
    detector.wait_at = 20  # 0.8 s: the square is an object (seen for 0.5 s)
    at = held(detector, square_bytes)
    at.run()
    (bar,) = at.get("progress")
    assert bar.proto.text.startswith("Analysing… ") and bar.proto.text.endswith(" of 40 frames")
    assert [m.label for m in at.metric] == ["Frames per second", "Time left"]
    assert at.metric[1].value.startswith("about ")
    (latest,) = at.get("image")  # the latest frame drawn, with what is confirmed so far
    assert latest.captions[0].startswith("At 0.")
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
    first = held(detector, square_bytes)
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
    first = held(detector, square_bytes)
    first.button(key="video_stop").click().run()
    detector.gate.set()
    first = settle(first)
    assert any(w.startswith("Stopped after") for w in warnings(first))
    second = settle(dropped(square_bytes))  # asks for the same work: gets the whole video
    assert not second.warning and detector.calls >= FRAMES + 10


def test_another_stride_during_the_analysis_stops_the_first_for_this_person(
    detector, square_bytes
) -> None:
    at = held(detector, square_bytes)
    at.number_input(key="video_stride").set_value(2).run()
    detector.gate.set()
    at = settle(at)
    assert not at.warning and "Analysed 20 frame(s)" in " ".join(c.value for c in at.caption)
    first, second = sorted(video_jobs(), key=lambda job: job.key[3])
    assert first.result.analysis.stopped and not second.result.analysis.stopped
    assert detector.calls == 10 + FRAMES // 2


def test_the_mp4_download_is_drawn_again_with_the_lines_and_zones(detector, square_bytes):
    at = settle(dropped(square_bytes))
    mp4 = next(b for b in at.get("download_button") if b.label == "Annotated video (MP4)")
    assert not mp4.proto.disabled and mp4.proto.url  # the pass's own
    at = draw(at, Shapes((Line(80, 0, 80, 120, "Door"),)))
    mp4 = next(b for b in at.get("download_button") if b.label == "Annotated video (MP4)")
    assert mp4.proto.disabled  # it would lack the line
    next(b for b in at.button if b.label.startswith("Draw the annotated MP4")).click().run()
    at = settle(at)
    mp4 = next(b for b in at.get("download_button") if b.label == "Annotated video (MP4)")
    assert not mp4.proto.disabled
    (drawing,) = [job for job in video_jobs() if job.key[0] == "video drawing"]
    with av.open(io.BytesIO(drawing.result)) as drawn:
        assert drawn.streams.video[0].frames == FRAMES
    assert detector.calls == FRAMES  # drawn again: decoded and encoded, no inference


@pytest.mark.slow
def test_a_video_with_speech_gets_a_transcript_subtitles_and_a_speech_lane(
    detector, tmp_path
) -> None:
    require_model(DEFAULT_MODEL)
    data = speech_video(tmp_path / "harvard.mp4").read_bytes()
    at = settle(dropped(data, "harvard.mp4"))
    assert "What is said" in [h.value for h in at.subheader]
    said = table(at, "Said")
    assert any("birch canoe" in text.lower() for text in said["Said"])
    sent = player(at)
    assert [s["label"] for s in sent["subtitles"]] == ["Speech", "Detections"]
    assert sent["subtitles"][0]["on"] and sent["subtitles"][0]["lang"] == "en"
    words = [w for segment in sent["lanes"]["transcript"] for w in segment["words"]]
    spoken = " ".join(w["word"].strip().lower() for w in words)
    assert all(phrase in spoken for phrase in HARVARD_WORDS)
    canoe = next(w for w in words if "canoe" in w["word"].lower())
    assert 0.5 < canoe["start"] < 2.0  # "The birch canoe slid…" opens the recording
    assert all(a["start"] <= b["start"] for a, b in pairwise(words))


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


def test_every_control_starts_at_its_own_default(detector, square_bytes) -> None:
    # A browser that draws a control before it hears the remembered value shows the
    # control's own default: it must be the one the page starts at (not the slider's minimum).
    at = settle(dropped(square_bytes))
    assert started_elsewhere(at) == []
