"""The analysis of a whole video in one streaming pass, and drawing it again with new settings.

Frames are decoded one at a time and never held together: what stays after the pass is each
analysed frame's raw candidates (a few kilobytes), so the confidence, IoU and class controls
re-filter and re-track without running the network again. Decoding, inference and
drawing + encoding run on three threads joined by short queues, so decoding and encoding
overlap with inference instead of adding to it.
"""

from __future__ import annotations

import io
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from analysis.errors import InputError
from analysis.video.io import FrameReader, Mp4Writer, Source, VideoInfo, probe
from analysis.video.tracking import FrameAnnotator, Line, Tracker, Tracking, scaled
from analysis.vision.detections import DetectionFilter, Detections, filter_detections
from analysis.vision.detectors import Detector

Progress = Callable[[int, int], None]
"""Called as ``progress(frames_done, frames_expected)`` during the analysis."""

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
        Tracks for the settings the pass ran with.
    note : str or None
        Why fewer frames than expected were analysed (damaged file, stopped), if so.
    """

    info: VideoInfo
    model: str
    stride: int
    frame_indices: np.ndarray
    times: np.ndarray
    candidates: list[Detections]
    timings_ms: dict[str, float]
    tracking: Tracking
    note: str | None = None

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


class _Stop(Exception):
    """Raised inside the pipeline when the person stops it."""


def analyse_video(
    source: Source,
    detector: Detector,
    model: str,
    params: DetectionFilter,
    *,
    stride: int = 1,
    line: Line | None = None,
    output: str | Path | io.BytesIO | None = None,
    render: RenderSettings = RenderSettings(),
    progress: Progress | None = None,
    stop: threading.Event | None = None,
) -> VideoAnalysis:
    """Detect, track and (with ``output``) draw and encode every ``stride``-th frame.

    Parameters
    ----------
    source : bytes or path
        The video file.
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
        Write the annotated video there (H.264 MP4).
    render : RenderSettings
        Output size and quality.
    progress : callable, optional
        ``progress(frames_done, frames_expected)`` after each analysed frame.
    stop : threading.Event, optional
        Set it to end the pass early; the result holds the frames done so far.

    Raises
    ------
    InputError
        Not a readable video, or not one frame could be decoded.
    """
    info = probe(source)
    reader = FrameReader(source, stride)
    expected = max(1, -(-info.frames // stride))
    stop = stop or threading.Event()
    decoded: queue.Queue = queue.Queue(_QUEUE_FRAMES)
    detected: queue.Queue = queue.Queue(_QUEUE_FRAMES)
    spent = dict.fromkeys(("decode", "inference", "tracking", "annotate", "encode"), 0.0)
    failures: list[BaseException] = []
    tracker = Tracker(info.fps / stride, line)
    tracked_frames = []

    def put(target: queue.Queue, item: object) -> None:
        while not stop.is_set() and not failures:
            try:
                target.put(item, timeout=0.1)
                return
            except queue.Full:
                continue
        raise _Stop

    def decode() -> None:
        try:
            frames = iter(reader)
            while True:
                start = time.perf_counter()
                frame = next(frames, None)
                spent["decode"] += time.perf_counter() - start
                put(decoded, frame)
                if frame is None:
                    return
        except _Stop:
            return
        except BaseException as error:  # re-raised in the caller's thread
            failures.append(error)

    def draw_and_encode() -> None:
        writer = annotator = None
        size, scale = _output_size(info, render.max_side)
        try:
            if output is not None:
                writer = Mp4Writer(output, size, info.fps, render.crf, soundtrack=source)
                annotator = FrameAnnotator(size, info.fps / stride, line)
            while (item := detected.get()) is not None:
                frame, raw = item
                start = time.perf_counter()
                tracked = tracker.update(frame.time_s, filter_detections(raw, params))
                tracked_frames.append(tracked)
                spent["tracking"] += time.perf_counter() - start
                if writer is None:
                    continue
                start = time.perf_counter()
                rgb = frame.rgb
                if scale != 1.0:
                    rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
                drawn = annotator.draw(rgb, scaled(tracked, scale), tracker.zone)
                spent["annotate"] += time.perf_counter() - start
                start = time.perf_counter()
                writer.write(drawn, frame.time_s)
                spent["encode"] += time.perf_counter() - start
            if writer is not None:
                start = time.perf_counter()
                writer.close()
                spent["encode"] += time.perf_counter() - start
        except BaseException as error:
            failures.append(error)
            stop.set()
            if writer is not None:
                writer.discard()

    wall = time.perf_counter()
    threads = [threading.Thread(target=f, daemon=True) for f in (decode, draw_and_encode)]
    for thread in threads:
        thread.start()
    indices, times, candidates = [], [], []
    try:
        while not failures:
            try:
                frame = decoded.get(timeout=0.1)
            except queue.Empty:
                if stop.is_set():
                    break
                continue
            if frame is None or stop.is_set():
                break
            start = time.perf_counter()
            raw, _ = detector.detect(frame.rgb)
            spent["inference"] += time.perf_counter() - start
            indices.append(frame.index)
            times.append(frame.time_s)
            candidates.append(raw)
            put(detected, (frame, raw))
            if progress is not None:
                progress(len(indices), max(expected, len(indices)))
    except _Stop:
        pass
    finally:
        stopped = stop.is_set() and not failures
        stop.set()  # ends the decoder if it is still going
        decoder, drawer = threads
        decoder.join()
        while drawer.is_alive():  # it finishes what it holds, then the file
            try:
                detected.put(None, timeout=0.1)
                break
            except queue.Full:
                continue
        drawer.join()
    if failures:
        raise failures[0]
    if not indices:
        raise InputError("Not one frame of this video could be decoded.")

    timings = {name: round(seconds * 1000, 1) for name, seconds in spent.items()}
    timings["total"] = round((time.perf_counter() - wall) * 1000, 1)
    note = None
    if stopped:
        note = f"Stopped after {times[-1]:.1f} s of {info.duration_s:.1f} s."
    # A truncated file often just ends: fewer frames than the container announced.
    elif reader.damaged or reader.decoded < info.frames - max(2, info.frames // 50):
        note = (
            f"The video is damaged or truncated: only its first {times[-1]:.1f} s "
            "could be decoded, shown here."
        )
    return VideoAnalysis(
        info,
        model,
        stride,
        np.asarray(indices, dtype=np.int64),
        np.asarray(times, dtype=np.float64),
        candidates,
        timings,
        Tracking(
            np.asarray(times, dtype=np.float64),
            tracked_frames,
            tracker.tracks(),
            tracker.crossings(),
        ),
        note,
    )


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
    annotator = FrameAnnotator(size, analysis.frame_rate, line)
    zone = line.zone() if line else None
    writer = Mp4Writer(output, size, analysis.info.fps, render.crf, soundtrack=source)
    try:
        pairs = zip(FrameReader(source, analysis.stride), tracking.frames, strict=False)
        for done, (frame, tracked) in enumerate(pairs, start=1):
            if zone is not None:
                zone.trigger(tracked)
            rgb = frame.rgb
            if scale != 1.0:
                rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
            writer.write(annotator.draw(rgb, scaled(tracked, scale), zone), frame.time_s)
            if progress is not None:
                progress(done, len(tracking.frames))
        writer.close()
    except BaseException:
        writer.discard()
        raise
