"""The analysis of a whole video in one streaming pass, and drawing it again with new settings.

Frames are decoded one at a time and never held together: what stays after the pass is each
analysed frame's raw candidates (a few kilobytes), so the confidence, IoU and class controls
re-filter and re-track without running the network again. Decoding, inference and
tracking + drawing + encoding run on three threads joined by short queues, so decoding and
encoding overlap with inference instead of adding to it. The file is opened once: the same
pass gives the facts, the frames and the sound (for the page and for the annotated MP4).
"""

from __future__ import annotations

import io
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import supervision as sv

from analysis.cores import usable_cores
from analysis.errors import InputError
from analysis.video.io import Frame, Mp4Writer, SoundSink, Soundtrack, Source, VideoFile, VideoInfo
from analysis.video.tracking import Line, Tracker, Tracking, drawn_line
from analysis.vision.annotate import Annotator
from analysis.vision.detections import (
    DetectionFilter,
    Detections,
    filter_detections,
    rescaled,
)
from analysis.vision.detectors import Detector, load_detector

Progress = Callable[[int, int], None]
"""Called as ``progress(frames_done, frames_expected)`` during the analysis."""

STAGES = ("decode", "inference", "tracking", "annotate", "encode")
_QUEUE_FRAMES = 4  # frames waiting between two threads: bounds memory, keeps both busy


@dataclass(frozen=True)
class VideoAnalysis:
    """One pass of a detector over a video: each analysed frame's raw candidates and times.

    Attributes
    ----------
    info : VideoInfo
    model : str
        Catalog name of the detector.
    stride : int
        Every ``stride``-th frame was analysed.
    frame_indices : np.ndarray
        (K,) int, stream positions of the analysed frames.
    times : np.ndarray
        (K,) float64 s, their timestamps.
    candidates : list of Detections
        Raw candidates of each analysed frame (filter with the controls' settings).
    timings_ms : dict
        Time in each stage, ms, summed over frames ("decode", "inference", "tracking",
        "annotate", "encode") and the wall-clock "total" (stages overlap).
    tracking : Tracking
        Tracks for the settings the pass ran with, ``params`` and ``line``.
    params : DetectionFilter
    line : Line or None
    note : str or None
        Why fewer frames than expected were analysed (damaged file, stopped), if so.
    stopped : bool
        Whether the pass was stopped before the end of the video.
    soundtrack : (samples, rate) or None
        The sound heard during the pass, mono float32 (1, n) at ``rate`` Hz, when asked for
        and the video has sound.
    """

    info: VideoInfo
    model: str
    stride: int
    frame_indices: np.ndarray
    times: np.ndarray
    candidates: list[Detections]
    timings_ms: dict[str, float]
    tracking: Tracking
    params: DetectionFilter
    line: Line | None = None
    note: str | None = None
    stopped: bool = False
    soundtrack: tuple[np.ndarray, int] | None = None

    @property
    def frame_rate(self) -> float:
        """Analysed frames per second."""
        return self.info.fps / self.stride

    @property
    def end_s(self) -> float:
        """End of the analysed part, s."""
        if not len(self.times):
            return 0.0
        return max(float(self.times[-1]) + 1.0 / self.info.fps, self.info.duration_s)


@dataclass(frozen=True)
class RenderSettings:
    """How the annotated video is drawn and encoded."""

    max_side: int | None = None  # longest side of the output, px (None: the video's size)
    crf: int = 26


def _output_size(info: VideoInfo, max_side: int | None) -> tuple[tuple[int, int], float]:
    scale = 1.0 if not max_side else min(1.0, max_side / max(info.width, info.height))
    return (max(2, round(info.width * scale)), max(2, round(info.height * scale))), scale


def video_detector(name: str) -> Detector:
    """``load_detector(name)`` with inference on one core fewer than the picture default.

    In a video the other stages (decoding, tracking, drawing, encoding) run beside
    inference; left with every core, onnxruntime's threads and theirs slow each other down
    (on 2 cores the whole pass took 2.2x bare inference, against 1.4x this way).
    """
    return load_detector(name, threads=max(1, usable_cores() - 1))


class _Stop(Exception):
    """Raised inside the pipeline when the pass ends early (stopped, or a thread failed)."""


class _Pass:
    """One analysis under way: decoding, inference (the caller's thread) and tracking +
    drawing + encoding, joined by two short queues; what they find gathers here."""

    def __init__(
        self,
        video: VideoFile,
        detector: Detector,
        params: DetectionFilter,
        stride: int,
        line: Line | None,
        writer: Mp4Writer | None,
        render: RenderSettings,
        stop: threading.Event,
    ) -> None:
        self.video, self.detector, self.params, self.stride = video, detector, params, stride
        self.writer, self.stop = writer, stop
        self.size, self.scale = _output_size(video.info, render.max_side)
        rate = video.info.fps / stride
        self.annotator = Annotator(self.size, frame_rate=rate) if writer is not None else None
        self.tracker = Tracker(rate, line)
        self.ending = threading.Event()  # the pass is over: the threads finish what they hold
        self.decoded: queue.Queue[Frame | None] = queue.Queue(_QUEUE_FRAMES)
        self.detected: queue.Queue = queue.Queue(_QUEUE_FRAMES)
        self.spent = dict.fromkeys(STAGES, 0.0)
        self.failures: list[BaseException] = []
        self.indices: list[int] = []
        self.times: list[float] = []
        self.candidates: list[Detections] = []
        self.tracked: list[sv.Detections] = []

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        self.spent[stage] += time.perf_counter() - start

    def over(self) -> bool:
        return self.stop.is_set() or self.ending.is_set() or bool(self.failures)

    def put(self, target: queue.Queue, item: object) -> None:
        while not self.over():
            try:
                target.put(item, timeout=0.1)
                return
            except queue.Full:
                continue
        raise _Stop

    def decode(self, sound: Sequence[SoundSink]) -> None:
        """Thread: the frames into ``decoded`` (None after the last); the sound to ``sound``."""
        try:
            frames = self.video.frames(self.stride, sound)
            while True:
                with self.timed("decode"):
                    frame = next(frames, None)
                self.put(self.decoded, frame)
                if frame is None:
                    return
        except _Stop:
            return
        except BaseException as error:  # re-raised in the caller's thread
            self.failures.append(error)

    def draw_and_encode(self) -> None:
        """Thread: track each analysed frame and, with a writer, draw and encode it."""
        try:
            while (item := self.detected.get()) is not None:
                frame, raw = item
                with self.timed("tracking"):
                    tracked = self.tracker.update(frame.time_s, filter_detections(raw, self.params))
                    self.tracked.append(tracked)
                if self.writer is None:
                    continue
                with self.timed("annotate"):
                    rgb = frame.rgb
                    if self.scale != 1.0:
                        rgb = cv2.resize(rgb, self.size, interpolation=cv2.INTER_AREA)
                    zone = self.tracker.zone
                    line = None if zone is None else drawn_line(zone, self.scale)
                    drawn = self.annotator.draw(rgb, rescaled(tracked, self.scale), line=line)
                with self.timed("encode"):
                    self.writer.write(drawn, frame.time_s)
            if self.writer is not None:
                with self.timed("encode"):
                    self.writer.close()
        except BaseException as error:
            self.failures.append(error)
            if self.writer is not None:
                self.writer.discard()

    def infer(self, progress: Progress | None, expected: int) -> None:
        """The caller's thread: run the detector on each decoded frame, until the last one or
        a stop."""
        while not self.failures:
            try:
                frame = self.decoded.get(timeout=0.1)
            except queue.Empty:
                if self.over():
                    return
                continue
            if frame is None or self.over():
                return
            with self.timed("inference"):
                raw, _ = self.detector.detect(frame.rgb)
            self.put(self.detected, (frame, raw))  # a frame the pass ended on is left out
            self.indices.append(frame.index)
            self.times.append(frame.time_s)
            self.candidates.append(raw)
            if progress is not None:
                progress(len(self.indices), max(expected, len(self.indices)))

    def run(self, sound: Sequence[SoundSink], progress: Progress | None, expected: int) -> bool:
        """Run the pass to its end; True if it was stopped."""
        decoder = threading.Thread(target=self.decode, args=(sound,), daemon=True)
        drawer = threading.Thread(target=self.draw_and_encode, daemon=True)
        decoder.start()
        drawer.start()
        try:
            self.infer(progress, expected)
        except _Stop:
            pass
        finally:
            stopped = self.stop.is_set() and not self.failures
            self.ending.set()  # ends the decoder if it is still going
            decoder.join()
            while drawer.is_alive():  # it finishes what it holds, then the file
                try:
                    self.detected.put(None, timeout=0.1)
                    break
                except queue.Full:
                    continue
            drawer.join()
        if self.failures:
            raise self.failures[0]
        return stopped

    def tracking(self) -> Tracking:
        times = np.asarray(self.times, dtype=np.float64)
        return Tracking(times, self.tracked, self.tracker.tracks(), self.tracker.crossings())


def analyse_video(
    source: Source | VideoFile,
    detector: Detector,
    model: str,
    params: DetectionFilter,
    *,
    stride: int = 1,
    line: Line | None = None,
    output: str | Path | io.BytesIO | None = None,
    render: RenderSettings = RenderSettings(),
    soundtrack: bool = False,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
) -> VideoAnalysis:
    """Detect, track and (with ``output``) draw and encode every ``stride``-th frame.

    Parameters
    ----------
    source : bytes, path or VideoFile
        The video file, or one just opened (read to its end here, and closed).
    detector : Detector
        A loaded adapter; its raw candidates are kept per frame.
    model : str
        The detector's catalog name, for the result.
    params : DetectionFilter
        Confidence, IoU and classes for the tracks and the drawn video.
    stride : int
        Analyse every Nth frame (tracks stay consistent: ByteTrack's clock runs at fps / N).
    line : Line, optional
        Count crossings of this line.
    output : path or io.BytesIO, optional
        Write the annotated video there (H.264 MP4, with the sound as AAC).
    render : RenderSettings
        Output size and quality.
    soundtrack : bool
        Keep the sound (mono) in the result, for its spectrogram and tags.
    progress : callable, optional
        ``progress(frames_done, frames_expected)`` after each analysed frame.
    stop : threading.Event, optional
        Set it to end the pass early; the result holds the frames done so far.

    Raises
    ------
    InputError
        Not a readable video, or not one frame could be decoded.
    """
    wall = time.perf_counter()
    video = source if isinstance(source, VideoFile) else VideoFile(source)
    with video:
        info = video.info
        writer = None
        if output is not None:
            size, _ = _output_size(info, render.max_side)
            writer = Mp4Writer(output, size, info.fps, render.crf, sound=info.sound)
        heard = Soundtrack(info.sound) if soundtrack and info.sound else None
        sound = [sink.hear for sink in (heard, writer) if sink is not None and info.sound]
        work = _Pass(
            video, detector, params, stride, line, writer, render, stop or threading.Event()
        )
        stopped = work.run(sound, progress, expected=max(1, -(-info.frames // stride)))
    if not work.indices:
        raise InputError("Not one frame of this video could be decoded.")
    timings = {name: round(seconds * 1000, 1) for name, seconds in work.spent.items()}
    timings["total"] = round((time.perf_counter() - wall) * 1000, 1)
    samples = heard.samples() if heard is not None else None
    return VideoAnalysis(
        info,
        model,
        stride,
        np.asarray(work.indices, dtype=np.int64),
        np.asarray(work.times, dtype=np.float64),
        work.candidates,
        timings,
        work.tracking(),
        params,
        line,
        _note(video, work.times[-1], stopped),
        stopped,
        (samples, heard.rate) if samples is not None else None,
    )


def _note(video: VideoFile, last_s: float, stopped: bool) -> str | None:
    """Why the analysis ends at ``last_s`` s before the end of the video, if it does."""
    info = video.info
    if stopped:
        return f"Stopped after {last_s:.1f} s of {info.duration_s:.1f} s."
    # A truncated file often just ends: fewer frames than the container announced.
    if video.damaged or video.decoded < info.frames - max(2, info.frames // 50):
        return (
            f"The video is damaged or truncated: only its first {last_s:.1f} s "
            "could be decoded, shown here."
        )
    return None


def render_video(
    source: Source,
    analysis: VideoAnalysis,
    tracking: Tracking,
    output: str | Path | io.BytesIO,
    *,
    line: Line | None = None,
    render: RenderSettings = RenderSettings(),
    progress: Progress | None = None,
) -> None:
    """Draw ``tracking`` (e.g. from :func:`~analysis.video.tracking.track_all` with new settings)
    on the analysed frames again and encode them: decoding and encoding, no inference."""
    size, scale = _output_size(analysis.info, render.max_side)
    annotator = Annotator(size, frame_rate=analysis.frame_rate)
    zone = line.zone() if line else None
    with VideoFile(source) as video:
        sound = video.info.sound
        writer = Mp4Writer(output, size, analysis.info.fps, render.crf, sound=sound)
        try:
            frames = video.frames(analysis.stride, [writer.hear] if sound else [])
            for done, (frame, tracked) in enumerate(
                zip(frames, tracking.frames, strict=False), start=1
            ):
                if zone is not None:
                    zone.trigger(tracked)
                rgb = frame.rgb
                if scale != 1.0:
                    rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
                shown = None if zone is None else drawn_line(zone, scale)
                drawn = annotator.draw(rgb, rescaled(tracked, scale), line=shown)
                writer.write(drawn, frame.time_s)
                if progress is not None:
                    progress(done, len(tracking.frames))
            writer.close()
        except BaseException:
            writer.discard()
            raise
