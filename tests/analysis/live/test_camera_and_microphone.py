"""Live analysis on generated frames and sounds: the frame callback, its settings and stats."""

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
import soundfile as sf

from analysis.audio.tagging import load_yamnet
from analysis.errors import InputError
from analysis.live.camera import (
    STATS_WINDOW_S,
    LiveAudio,
    LiveSettings,
    LiveVideo,
    rolling_spectrogram,
    tag_last_second,
)
from analysis.vision.detections import DetectionFilter, Detections
from analysis.vision.detectors import Detector, Timings, load_detector
from analysis.vision.image import sample_photo
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


# -- Microphone ------------------------------------------------------------------------------


def tone(seconds: float, rate: int = 48_000, hz: float = 1000.0, amplitude: float = 1.0):
    t = np.arange(round(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def webrtc_frames(samples: np.ndarray, rate: int = 48_000, chunk: int = 960):
    """Stereo s16 frames of 20 ms, as a browser's Opus stream decodes to."""
    pcm = np.round(np.clip(samples, -1, 1) * 32767).astype(np.int16)
    for start in range(0, len(pcm), chunk):
        part = pcm[start : start + chunk]
        frame = av.AudioFrame.from_ndarray(
            np.repeat(part, 2)[np.newaxis], format="s16", layout="stereo"
        )
        frame.sample_rate, frame.pts = rate, start
        yield frame


def test_microphone_frames_become_mono_samples_with_a_level():
    audio = LiveAudio()
    for frame in webrtc_frames(tone(1.0)):
        audio.frame_callback(frame)
    assert audio.sample_rate == 48_000
    assert audio.heard_s == pytest.approx(1.0, abs=0.03)
    level = audio.level()
    assert level.rms_db == pytest.approx(-3.0, abs=0.2)  # a full-scale sine
    assert level.peak_db == pytest.approx(0.0, abs=0.1)
    np.testing.assert_allclose(audio.last(0.5), tone(1.0)[-24_000:], atol=2e-4)


def test_silence_reads_as_the_floor_level():
    assert LiveAudio().level().rms_db == -120.0
    audio = LiveAudio()
    audio.add(np.zeros(4800), 48_000)
    assert audio.level().rms_db == audio.level().peak_db == -120.0


def test_only_the_last_minutes_are_kept():
    audio = LiveAudio(keep_s=2.0)
    for _ in range(5):
        audio.add(np.ones(16_000), 16_000)
    assert audio.heard_s == 5.0
    assert len(audio.last(60.0)) == 32_000
    with pytest.raises(InputError):
        LiveAudio(keep_s=0)


def test_the_rolling_spectrogram_shows_the_last_seconds_up_to_now():
    samples = np.concatenate([np.zeros(48_000, np.float32), tone(3.0, hz=1000.0, amplitude=0.5)])
    spec = rolling_spectrogram(samples, 48_000, window_s=10.0)
    assert spec.scale == "log"
    assert spec.times[0] == pytest.approx(-10.0) and spec.times[-1] == pytest.approx(0.0)
    loud_row = int(np.argmax(spec.power[:, -1]))
    assert spec.freqs[loud_row] == pytest.approx(1000.0, rel=0.05)
    # The padded past (no sound yet) and the second of silence are dark.
    assert spec.power[:, : spec.power.shape[1] // 2].max() < 1e-9
    with pytest.raises(InputError):
        rolling_spectrogram(samples, 0)


@pytest.fixture(scope="module")
def yamnet():
    require_model("yamnet")
    return load_yamnet()


def test_speech_in_the_last_second_is_tagged_speech(yamnet, speech_wav):
    samples, rate = sf.read(speech_wav, dtype="float32")
    tags = tag_last_second(samples[: rate * 2], rate, yamnet)
    assert len(tags) == 3
    assert tags[0].label == "Speech"
    assert tag_last_second(samples[: rate // 2], rate, yamnet) == []
