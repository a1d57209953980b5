"""Live camera and microphone analysis, one frame at a time as the streams arrive.

Streamlit-free: :class:`LiveVideo` and :class:`LiveAudio` hold one browser session's state.
The page's script thread writes the settings and reads the statistics; the WebRTC worker
thread feeds frames. Each holder guards what both threads touch with its own lock, and does
the heavy work (inference, drawing, resampling) outside it so the page never waits on a frame.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import av
import cv2
import numpy as np

from analysis.audio.resample import mono_at
from analysis.audio.spectrogram import Spectrogram, STFTParams, spectrogram
from analysis.audio.tagging import FRAME_SAMPLES, SAMPLE_RATE, Tag, Tagging, YamNet
from analysis.errors import InputError
from analysis.video.io import Mp4Writer
from analysis.video.tracking import FrameAnnotator, Tracker
from analysis.vision.annotate import annotate
from analysis.vision.detections import DetectionFilter, Detections
from analysis.vision.detectors import Detector, Timings, filter_candidates

log = logging.getLogger(__name__)

STATS_WINDOW_S = 2.0
"""Frames of the last this many seconds make the frame rate and the per-frame time."""

TRACK_RATE = 15.0
"""Frame rate ByteTrack is tuned for (frames per second): the stream's target rate."""


# -- Camera ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveSettings:
    """What the page asks of the next frame.

    Attributes
    ----------
    model : str
        Catalog name of ``detector`` (shown and written to snapshots).
    detector : Detector
        The loaded adapter; a new one takes effect on the next frame.
    params : DetectionFilter
        Confidence, IoU and classes applied to each frame's raw candidates.
    track : bool
        Give detections ids that follow them from frame to frame (ByteTrack).
    """

    model: str
    detector: Detector
    params: DetectionFilter = field(default_factory=DetectionFilter)
    track: bool = False


@dataclass(frozen=True)
class LiveStats:
    """What the last frames looked like.

    Attributes
    ----------
    fps : float
        Frames processed per second over the last :data:`STATS_WINDOW_S` s (0 when idle).
    frame_ms : float
        Median processing time of those frames, ms (detection, filtering, drawing).
    counts : dict of str to int
        Detections per label in the last frame, most first.
    frames : int
        Frames processed since the stream started (:meth:`LiveVideo.restart`).
    model : str
        Model that processed the last frame.
    """

    fps: float = 0.0
    frame_ms: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    frames: int = 0
    model: str = ""


@dataclass(frozen=True)
class Snapshot:
    """One annotated frame with its detections, for keeping and downloading."""

    rgb: np.ndarray  # the annotated frame, RGB uint8
    detections: Detections
    timings: Timings
    model: str

    def to_json(self) -> str:
        """The detections as the Vision page's JSON (model, image size, boxes, timings)."""
        height, width = self.rgb.shape[:2]
        return json.dumps(
            {
                "model": self.model,
                "image": {"width": width, "height": height},
                "detections": self.detections.to_records(),
                "timings_ms": self.timings.as_dict(),
            },
            indent=2,
        )


class LiveVideo:
    """One session's camera analysis: settings in, annotated frames and statistics out.

    Parameters
    ----------
    settings : LiveSettings
        The first frame's settings.
    clock : callable
        Seconds, monotonic (a test can pass a fake one).
    """

    def __init__(
        self, settings: LiveSettings, clock: Callable[[], float] = time.perf_counter
    ) -> None:
        self._lock = threading.Lock()
        self._settings = settings
        self._clock = clock
        self._done: deque[tuple[float, float]] = deque()  # (end time s, processing ms)
        self._frames = 0
        self._first = 0.0  # when the stream's first frame was done, s
        self._last: Snapshot | None = None
        self._tracker: Tracker | None = None
        self._tracked_with: tuple[str, DetectionFilter] | None = None
        self._annotator: FrameAnnotator | None = None
        self._annotator_size = (0, 0)
        self._record_lock = threading.Lock()
        self._recorder: Mp4Writer | None = None
        self._recording: Path | None = None
        self._record_start = 0.0
        self._restarted = False
        self._started = clock()

    # The page's side --------------------------------------------------------------------

    def configure(self, settings: LiveSettings) -> None:
        """Use ``settings`` from the next frame on (the stream goes on)."""
        with self._lock:
            self._settings = settings

    @property
    def settings(self) -> LiveSettings:
        with self._lock:
            return self._settings

    def stats(self) -> LiveStats:
        """Frame rate, per-frame time and labels of the last frames."""
        now = self._clock()
        with self._lock:
            while self._done and now - self._done[0][0] > STATS_WINDOW_S:
                self._done.popleft()
            done = list(self._done)
            frames, last, first = self._frames, self._last, self._first
        if not done:
            return LiveStats(frames=frames)
        if now - first >= STATS_WINDOW_S:  # a full window: slow streams count right too
            fps = len(done) / STATS_WINDOW_S
        else:  # the first seconds: the frames' own spacing
            fps = (len(done) - 1) / max(done[-1][0] - done[0][0], 1e-6)
        return LiveStats(
            fps=fps,
            frame_ms=float(np.median([ms for _, ms in done])),
            counts=last.detections.counts() if last else {},
            frames=frames,
            model=last.model if last else "",
        )

    def restart(self) -> None:
        """A new stream began: forget the last one's statistics and tracks."""
        with self._lock:
            self._done.clear()
            self._frames = 0
            self._restarted = True

    def snapshot(self) -> Snapshot | None:
        """The last annotated frame and its detections (None before the first frame)."""
        with self._lock:
            return self._last

    def start_recording(self, path: Path) -> None:
        """Write the annotated frames from now on to the MP4 file ``path`` (H.264)."""
        with self._record_lock:
            self._recording = Path(path)

    def stop_recording(self) -> Path | None:
        """Finish the recording; returns its path, or None when no frame was written."""
        with self._record_lock:  # waits for a frame being written
            recorder, path = self._recorder, self._recording
            self._recorder = self._recording = None
            if recorder is None:
                if path is not None:
                    path.unlink(missing_ok=True)
                return None
            recorder.close()
        return path

    @property
    def recording(self) -> bool:
        with self._record_lock:
            return self._recording is not None

    # The stream's side ------------------------------------------------------------------

    def process(self, rgb: np.ndarray) -> np.ndarray:
        """Detect, filter, (track) and draw one RGB frame; returns the annotated copy."""
        start = self._clock()
        with self._lock:
            settings, restarted, self._restarted = self._settings, self._restarted, False
        if restarted:
            self._tracker = None  # only this thread touches the tracker
        raw, timings = settings.detector.detect(rgb)
        shown, timings = filter_candidates(raw, timings, settings.params)
        if settings.track:
            annotated = self._draw_tracked(rgb, shown, settings, start)
        else:
            self._tracker = None  # a later "track" starts afresh
            annotated = annotate(rgb, shown)
        self._record(annotated, start)
        end = self._clock()
        with self._lock:
            if not self._frames:
                self._first = end
            self._done.append((end, (end - start) * 1000.0))
            self._frames += 1
            self._last = Snapshot(annotated, shown, timings, settings.model)
        return annotated

    def frame_callback(self, frame: av.VideoFrame) -> av.VideoFrame:
        """streamlit-webrtc's ``video_frame_callback``: the annotated frame, same timestamp.

        A frame that fails is passed through unannotated (and logged): an exception here
        would end the stream.
        """
        try:
            rgb = self.process(frame.to_ndarray(format="rgb24"))
        except Exception:
            log.exception("a live frame could not be analysed")
            return frame
        out = av.VideoFrame.from_ndarray(rgb, format="rgb24")
        out.pts = frame.pts
        if frame.time_base is not None:
            out.time_base = frame.time_base
        return out

    def _draw_tracked(
        self, rgb: np.ndarray, shown: Detections, settings: LiveSettings, start: float
    ) -> np.ndarray:
        # Ids from one model or filter mean nothing to another: a change starts new tracks.
        key = (settings.model, settings.params)
        if self._tracker is None or self._tracked_with != key:
            self._tracker, self._tracked_with = Tracker(TRACK_RATE), key
            self._annotator = None
        size = (rgb.shape[1], rgb.shape[0])
        if self._annotator is None or self._annotator_size != size:
            self._annotator, self._annotator_size = FrameAnnotator(size, TRACK_RATE), size
        tracked = self._tracker.update(start - self._started, shown)
        return self._annotator.draw(rgb, tracked)

    def _record(self, annotated: np.ndarray, start: float) -> None:
        # A lock of its own: writing a frame must not hold up the page's statistics.
        with self._record_lock:
            if self._recording is None:
                return
            if self._recorder is None:
                size = (annotated.shape[1], annotated.shape[0])
                self._recorder = Mp4Writer(self._recording, size, TRACK_RATE)
                self._record_start = start
            if (annotated.shape[1], annotated.shape[0]) != self._recorder.size:
                # The browser lowers the resolution when the network or the CPU is short.
                size = self._recorder.size
                annotated = cv2.resize(annotated, size, interpolation=cv2.INTER_AREA)
            self._recorder.write(annotated, start - self._record_start)


# -- Microphone ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Level:
    """Loudness of the last moment of sound, dB re full scale (a full-scale sine's RMS is -3)."""

    rms_db: float
    peak_db: float


SILENCE_DB = -120.0


def _db(amplitude: float) -> float:
    return max(SILENCE_DB, 20.0 * float(np.log10(max(amplitude, 1e-6))))


class LiveAudio:
    """One session's microphone: the last minutes of sound, mono, at the stream's rate.

    Parameters
    ----------
    keep_s : float
        Seconds kept (the recording offered for download; older sound is forgotten).
    """

    def __init__(self, keep_s: float = 120.0) -> None:
        if keep_s <= 0:
            raise InputError("The microphone must keep a positive number of seconds.")
        self._lock = threading.Lock()
        self._keep_s = keep_s
        self._chunks: deque[np.ndarray] = deque()
        self._kept = 0  # samples in _chunks
        self._heard = 0  # samples since the start
        self.sample_rate = 0
        self._resampler: av.AudioResampler | None = None

    def clear(self) -> None:
        """A new stream began: forget what was heard before."""
        with self._lock:
            self._chunks.clear()
            self._kept = self._heard = 0

    def add(self, mono: np.ndarray, sample_rate: int) -> None:
        """Append mono float samples in [-1, 1] at ``sample_rate`` Hz."""
        mono = np.asarray(mono, dtype=np.float32).reshape(-1)
        with self._lock:
            if sample_rate != self.sample_rate:  # a new stream: start over
                self._chunks.clear()
                self._kept = self._heard = 0
                self.sample_rate = sample_rate
            self._chunks.append(mono)
            self._kept += len(mono)
            self._heard += len(mono)
            limit = round(self._keep_s * sample_rate)
            while self._kept - len(self._chunks[0]) >= limit:
                self._kept -= len(self._chunks.popleft())

    def add_frames(self, frames: list[av.AudioFrame]) -> None:
        """Mix WebRTC audio frames (any layout and sample format) to mono and append them."""
        for frame in frames:
            if self._resampler is None or self._resampler.rate != frame.sample_rate:
                # Planar float, channels kept: FFmpeg's own downmix would add the channels
                # at -3 dB each, lifting a stereo copy of one signal 3 dB above it.
                self._resampler = av.AudioResampler(format="fltp", rate=frame.sample_rate)
            for planar in self._resampler.resample(frame):
                self.add(planar.to_ndarray().mean(axis=0), planar.sample_rate)

    def frame_callback(self, frame: av.AudioFrame) -> None:
        """streamlit-webrtc's audio sink callback: every frame, in order, none dropped."""
        self.add_frames([frame])

    def last(self, seconds: float) -> np.ndarray:
        """The last ``seconds`` of sound (fewer at the start), float32 mono."""
        with self._lock:
            chunks, rate = list(self._chunks), self.sample_rate
        if not chunks:
            return np.zeros(0, np.float32)
        return np.concatenate(chunks)[-max(1, round(seconds * rate)) :]

    @property
    def heard_s(self) -> float:
        """Seconds of sound received since the stream started."""
        with self._lock:
            return self._heard / self.sample_rate if self.sample_rate else 0.0

    def level(self, seconds: float = 0.1) -> Level:
        """RMS and peak level of the last ``seconds``."""
        samples = self.last(seconds)
        if not samples.size:
            return Level(SILENCE_DB, SILENCE_DB)
        rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
        return Level(_db(rms), _db(float(np.abs(samples).max())))


def rolling_spectrogram(
    samples: np.ndarray, sample_rate: int, window_s: float = 10.0
) -> Spectrogram:
    """Log-frequency spectrogram of the last ``window_s`` s, times in s before now (≤ 0).

    Shorter input is padded with silence at the start, so the picture does not stretch
    while the first seconds arrive. FFT of about 43 ms, hop of 10 ms.
    """
    if sample_rate <= 0:
        raise InputError(f"The sample rate must be positive, not {sample_rate} Hz.")
    length = round(window_s * sample_rate)
    samples = np.asarray(samples, dtype=np.float32)[-length:]
    padded = np.zeros(length, np.float32)
    padded[length - len(samples) :] = samples
    n_fft = 1 << round(np.log2(sample_rate * 0.043))
    params = STFTParams(n_fft=n_fft, hop_length=max(1, sample_rate // 100))
    spec = spectrogram(padded, sample_rate, params, scale="log", max_columns=600, max_rows=256)
    return replace(spec, times=spec.times - window_s)


def tag_last_second(samples: np.ndarray, sample_rate: int, yamnet: YamNet, k: int = 3) -> list[Tag]:
    """YAMNet's ``k`` best sound-event tags for the last 0.975 s of ``samples``.

    Returns no tags when less than that has been heard yet.
    """
    waveform = mono_at(samples[-round(sample_rate * 1.0) :], sample_rate, SAMPLE_RATE, what="tag")
    if len(waveform) < FRAME_SAMPLES:
        return []
    scores = yamnet.score_frames(waveform[-FRAME_SAMPLES:][np.newaxis])
    end = FRAME_SAMPLES / SAMPLE_RATE
    tagging = Tagging(scores, np.zeros(1), np.full(1, end), yamnet.class_names)
    return tagging.top(k)
