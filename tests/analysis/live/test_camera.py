"""The live camera on generated frames: the frame callback, its settings, stats, tracking and
recording, drawn in the one style."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction

import av
import cv2
import numpy as np
import pytest

from analysis.live.camera import STATS_WINDOW_S, LiveSettings, LiveVideo
from analysis.vision.detections import DetectionFilter, Detections
from analysis.vision.detectors import Detector, Timings, load_detector
from analysis.vision.image import sample_photo
from analysis.vision.palette import class_colour
from tests.conftest import require_model

WIDTH, HEIGHT = 640, 480


class SquareDetector(Detector):
    """Finds the bright square of :func:`square_frame`; its score is the square's brightness."""

    def __init__(self, name: str = "square") -> None:
        self.names = (name,)

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.names

    def detect(self, rgb: np.ndarray) -> tuple[Detections, Timings]:
        ys, xs = np.nonzero(rgb[..., 0] > 20)
        if not len(xs):
            return Detections.empty(self.names), Timings(0, 0, 0)
        box = [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
        score = float(rgb[ys[0], xs[0], 0]) / 255
        return Detections([box], [score], [0], self.names), Timings(0.1, 0.2, 0.0)


def square_frame(x: int = 100, brightness: int = 204) -> np.ndarray:
    """A 640×480 black frame with a 120-px square of ``brightness`` at ``x``."""
    rgb = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    rgb[180:300, x : x + 120] = brightness
    return rgb


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_drawn_square_is_detected_and_drawn_with_its_label():
    video = LiveVideo(LiveSettings("square", SquareDetector(), DetectionFilter(0.5)))
    frame = square_frame()
    annotated = video.process(frame)
    snapshot = video.snapshot()
    assert snapshot.detections.counts() == {"square": 1}
    np.testing.assert_allclose(snapshot.detections.boxes[0], [100, 180, 220, 300])
    assert annotated.shape == frame.shape and annotated is not frame
    # The box outline is drawn in the class colour around the square, on the black.
    assert annotated[178:183, 60:260].any() and not frame[178, 60:260].any()
    assert '"label": "square"' in snapshot.to_json()


def test_the_built_in_face_detector_finds_the_astronaut_in_a_camera_sized_frame():
    frame = cv2.resize(sample_photo("astronaut"), (WIDTH, HEIGHT))
    video = LiveVideo(LiveSettings("haar-faces", load_detector("haar-faces")))
    video.process(frame)
    assert video.stats().counts == {"face": 1}


def test_yolox_finds_the_person_in_a_camera_sized_frame():
    require_model("yolox-nano")
    frame = cv2.resize(sample_photo("astronaut"), (WIDTH, HEIGHT))
    video = LiveVideo(LiveSettings("yolox-nano", load_detector("yolox-nano")))
    video.process(frame)
    assert video.stats().counts.get("person") == 1
    assert video.stats().model == "yolox-nano"


def test_a_new_threshold_acts_on_the_very_next_frame():
    detector = SquareDetector()
    video = LiveVideo(LiveSettings("square", detector, DetectionFilter(0.5)))
    frame = square_frame(brightness=204)  # score 0.8
    video.process(frame)
    assert len(video.snapshot().detections) == 1
    video.configure(LiveSettings("square", detector, DetectionFilter(0.9)))
    video.process(frame)
    assert len(video.snapshot().detections) == 0
    video.configure(LiveSettings("square", detector, DetectionFilter(0.5, classes=("other",))))
    video.process(frame)
    assert len(video.snapshot().detections) == 0
    video.configure(LiveSettings("other model", SquareDetector("cube"), DetectionFilter(0.5)))
    video.process(frame)
    assert video.stats().counts == {"cube": 1} and video.stats().model == "other model"


def test_stats_give_the_frame_rate_and_time_of_the_last_frames():
    clock = FakeClock()

    class SlowDetector(SquareDetector):
        def detect(self, rgb):
            clock.now += 0.040  # 40 ms of "inference"
            return super().detect(rgb)

    video = LiveVideo(LiveSettings("square", SlowDetector()), clock=clock)
    assert video.stats().fps == 0 and video.stats().frames == 0
    for _ in range(11):
        video.process(square_frame())
        clock.now += 0.060  # the next frame arrives 100 ms after the last one started
    stats = video.stats()
    assert stats.fps == pytest.approx(10.0)
    assert stats.frame_ms == pytest.approx(40.0)
    assert stats.frames == 11 and stats.counts == {"square": 1}
    for _ in range(6):  # slower now: 2 fps, over a whole window
        video.process(square_frame())
        clock.now += 0.460
    assert video.stats().fps == pytest.approx(2.0)
    clock.now += STATS_WINDOW_S + 0.1  # the stream stopped: nothing recent
    assert video.stats().fps == 0 and video.stats().frames == 17
    video.restart()
    assert video.stats().frames == 0


def test_the_frame_callback_returns_an_annotated_frame_with_the_same_timestamp():
    video = LiveVideo(LiveSettings("square", SquareDetector()))
    frame = av.VideoFrame.from_ndarray(square_frame(), format="rgb24").reformat(format="yuv420p")
    frame.pts, frame.time_base = 123_456, Fraction(1, 90_000)
    out = video.frame_callback(frame)
    assert (out.width, out.height, out.pts, out.time_base) == (
        WIDTH,
        HEIGHT,
        123_456,
        Fraction(1, 90_000),
    )
    assert video.stats().frames == 1


def test_a_frame_that_fails_passes_through_and_the_stream_goes_on(caplog):
    class BrokenDetector(SquareDetector):
        def detect(self, rgb):
            raise RuntimeError("onnxruntime fell over")

    video = LiveVideo(LiveSettings("broken", BrokenDetector()))
    frame = av.VideoFrame.from_ndarray(square_frame(), format="rgb24")
    assert video.frame_callback(frame) is frame
    assert "could not be analysed" in caplog.text
    video.configure(LiveSettings("square", SquareDetector()))
    assert video.frame_callback(frame) is not frame
    assert video.stats().counts == {"square": 1}


def test_a_slow_server_drops_camera_frames_instead_of_queueing_them():
    # The page's callback behind streamlit-webrtc's async processing (async_processing=True),
    # pulled at a 30 fps camera's pace while each frame takes 100 ms.
    from aiortc import MediaStreamTrack
    from streamlit_webrtc.models import CallbackAttachableProcessor
    from streamlit_webrtc.process import AsyncVideoProcessTrack

    class Camera(MediaStreamTrack):
        kind = "video"
        sent = 0

        async def recv(self) -> av.VideoFrame:
            await asyncio.sleep(1 / 30)
            frame = av.VideoFrame.from_ndarray(square_frame(), format="rgb24")
            frame.pts, frame.time_base = self.sent * 3000, Fraction(1, 90_000)
            self.sent += 1
            return frame

    class SlowDetector(SquareDetector):
        def detect(self, rgb):
            time.sleep(0.1)
            return super().detect(rgb)

    video = LiveVideo(LiveSettings("slow", SlowDetector()))
    camera = Camera()
    processor = CallbackAttachableProcessor(video.frame_callback, None, None)
    track = AsyncVideoProcessTrack(camera, processor)

    async def send(frames: int) -> float:
        start = time.perf_counter()
        for _ in range(frames):
            await track.recv()
        return time.perf_counter() - start

    # On a thread of its own: Playwright's sync API (the browser tests) keeps an event loop
    # running on the main thread for the whole test run.
    with ThreadPoolExecutor(1) as thread:
        elapsed = thread.submit(asyncio.run, send(60)).result()
    track.stop()
    assert camera.sent == 60
    # Two seconds of camera went out in about two seconds: nothing waited behind slow frames,
    # and about one frame in three was analysed, the others dropped.
    assert elapsed < 3.0
    assert 5 <= video.stats().frames <= 30


def test_tracking_gives_the_moving_square_one_id():
    video = LiveVideo(LiveSettings("square", SquareDetector(), track=True))
    for i in range(6):
        video.process(square_frame(x=100 + 10 * i))
    tracker = video._tracker
    assert [track.id for track in tracker.tracks()] == [1]
    # Switching tracking off and on starts new tracks.
    video.configure(LiveSettings("square", SquareDetector(), track=False))
    video.process(square_frame())
    assert video._tracker is None


def test_tracked_or_not_frames_are_drawn_in_one_style():
    plain = LiveVideo(LiveSettings("square", SquareDetector())).process(square_frame())
    video = LiveVideo(LiveSettings("square", SquareDetector(), track=True))
    for _ in range(4):  # the track is confirmed after its first frames
        tracked = video.process(square_frame())
    assert video.snapshot().detections.counts() == {"square": 1}
    colour = class_colour(0)
    for frame in (plain, tracked):
        assert (frame[185:295, 100] == colour).all()  # the box's left edge
        assert tuple(frame[178, 102]) == colour  # the tag's band above it
    assert (plain[181:, :90] == tracked[181:, :90]).all()  # the same box, left of the square


def test_sessions_streaming_at_once_keep_their_own_settings():
    detector = SquareDetector()
    strict = LiveVideo(LiveSettings("square", detector, DetectionFilter(0.9)))
    loose = LiveVideo(LiveSettings("square", detector, DetectionFilter(0.5)))

    def stream(video: LiveVideo) -> None:
        for _ in range(30):
            video.process(square_frame())

    threads = [threading.Thread(target=stream, args=(v,)) for v in (strict, loose) * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert strict.stats().frames == loose.stats().frames == 60
    assert strict.stats().counts == {} and loose.stats().counts == {"square": 1}


def test_a_recording_of_the_annotated_stream_plays_back(tmp_path):
    video = LiveVideo(LiveSettings("square", SquareDetector()))
    video.process(square_frame())  # before recording: not in the file
    video.start_recording(tmp_path / "live.mp4")
    assert video.recording
    for i in range(8):
        video.process(square_frame(x=100 + 5 * i))
    path = video.stop_recording()
    assert path == tmp_path / "live.mp4" and not video.recording
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert (stream.width, stream.height) == (WIDTH, HEIGHT)
        assert sum(1 for _ in container.decode(stream)) == 8


def test_recordings_stopped_while_frames_stream_are_whole(tmp_path):
    video = LiveVideo(LiveSettings("square", SquareDetector()))
    streaming = threading.Event()
    streaming.set()

    def stream() -> None:
        while streaming.is_set():
            video.process(square_frame())

    thread = threading.Thread(target=stream)
    thread.start()
    try:
        paths = []
        for i in range(3):
            video.start_recording(tmp_path / f"take{i}.mp4")
            started = video.stats().frames
            while video.stats().frames < started + 5:  # let a few frames in
                time.sleep(0.01)
            paths.append(video.stop_recording())
    finally:
        streaming.clear()
        thread.join()
    for path in paths:
        with av.open(str(path)) as container:
            assert sum(1 for _ in container.decode(video=0)) >= 1


def test_a_recording_without_frames_leaves_no_file(tmp_path):
    video = LiveVideo(LiveSettings("square", SquareDetector()))
    (tmp_path / "empty.mp4").touch()
    video.start_recording(tmp_path / "empty.mp4")
    assert video.stop_recording() is None
    assert not (tmp_path / "empty.mp4").exists()
