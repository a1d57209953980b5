"""The live camera, one frame at a time as the stream arrives: detect, filter, (track), draw.

Streamlit-free: :class:`LiveVideo` holds one browser session's camera. The page's script
thread writes the settings and reads the statistics; the WebRTC worker thread feeds frames.
A lock guards what both threads touch, and the heavy work (inference, drawing) happens
outside it so the page never waits on a frame. Frames are drawn in the one style of
:mod:`analysis.vision.annotate`, tracked or not (the microphone is
:mod:`analysis.live.microphone`'s).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import av
import cv2
import numpy as np
import supervision as sv

from analysis.video.io import Mp4Writer
from analysis.video.tracking import Tracker, TrackRules
from analysis.vision.annotate import Annotator
from analysis.vision.detections import DetectionFilter, Detections, to_supervision
from analysis.vision.detectors import Detector, filter_candidates
from analysis.vision.timings import Timings

log = logging.getLogger(__name__)

STATS_WINDOW_S = 2.0
"""Frames of the last this many seconds make the frame rate and the per-frame time."""

TRACK_RATE = 15.0
"""Frame rate ByteTrack and the trails are tuned for (frames per second): the stream's target."""

LIVE_RULES = TrackRules(min_track_s=0.0)
"""Ids and trails as soon as ByteTrack follows an object: a stream has no later to wait for."""


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
        self._annotator: Annotator | None = None
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
        if restarted or not settings.track:
            self._stop_tracking()  # a later "track" starts afresh
        raw, timings = settings.detector.detect(rgb)
        shown, timings = filter_candidates(raw, timings, settings.params)
        if settings.track:
            detections = self._tracked(shown, settings, start)
        else:
            detections = to_supervision(shown)
        annotated = self._annotator_for(rgb).draw(rgb, detections)
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

    # Only the stream's thread touches the tracker and the annotator.

    def _stop_tracking(self) -> None:
        if self._tracker is not None:
            self._tracker = None
            self._annotator = None  # the trails of the old ids end with them

    def _tracked(self, shown: Detections, settings: LiveSettings, start: float) -> sv.Detections:
        # Ids from one model or filter mean nothing to another: a change starts new tracks.
        key = (settings.model, settings.params)
        if self._tracker is None or self._tracked_with != key:
            self._stop_tracking()
            self._tracker, self._tracked_with = Tracker(TRACK_RATE, LIVE_RULES), key
        return self._tracker.update(start - self._started, shown)

    def _annotator_for(self, rgb: np.ndarray) -> Annotator:
        size = (rgb.shape[1], rgb.shape[0])
        if self._annotator is None or self._annotator.size != size:
            self._annotator = Annotator(size, TRACK_RATE)
        return self._annotator

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
