"""The analysis of a whole video in one streaming pass, and drawing it again with new settings.

Frames are decoded one at a time and never held together: what stays after the pass is each
analysed frame's raw candidates (a few kilobytes), so the confidence (which picks whole
tracks), IoU and class controls apply again without running the network. Decoding, inference
and tracking + drawing + encoding run on three threads joined by short queues, so decoding and
encoding overlap with inference instead of adding to it. The file is opened once: the same
pass gives the facts, the frames and the sound (for the page and for the annotated MP4).

A frame is drawn ``min_track_s`` (and a frame or two) after it is tracked, so whether each of
its tracks is an object is known: the annotated video shows the confirmed objects from their
first frame, under the label their detections agree on so far, as the tracks table does.
"""

from __future__ import annotations

import io
import queue
import threading
import time
from collections import Counter, deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
import supervision as sv

from analysis.errors import InputError
from analysis.video.cuts import Candidates, is_cut, thumbnail
from analysis.video.io import Frame, Mp4Writer, SoundSink, Soundtrack, Source, VideoFile
from analysis.video.overlay import RegionArtist
from analysis.video.regions import Line, RegionCounter, Zone
from analysis.video.results import (
    DEFAULT_RENDER,
    PREVIEW_EVERY_S,
    PassStatus,
    Preview,
    Progress,
    RenderSettings,
    VideoAnalysis,
    output_size,
)
from analysis.video.tracking import (
    DEFAULT_RULES,
    Tracker,
    Tracking,
    TrackRules,
    floor_filter,
    remember_tracks,
)
from analysis.vision.annotate import Annotator
from analysis.vision.detections import (
    CLASS_NAME,
    DetectionFilter,
    Detections,
    filter_detections,
    rescaled,
)
from analysis.vision.detectors import Detector, load_detector

STAGES = ("decode", "inference", "tracking", "annotate", "encode")
_QUEUE_FRAMES = 4  # frames waiting between two threads: bounds memory, keeps both busy


def video_detector(name: str) -> Detector:
    """``load_detector(name)`` with inference threads that sleep, not spin, between frames.

    In a video the other stages (decoding, tracking, drawing, encoding) run beside
    inference. Spinning, onnxruntime's idle threads kept the cores from them (on 2 cores
    the pass took 2.2x bare inference; a 795-frame pass used 26 s of CPU against 16 s
    sleeping); sleeping, inference may have every core and the rest fills the gaps.
    """
    return load_detector(name, spin=False)


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
        regions: tuple[Sequence[Line], Sequence[Zone]],
        rules: TrackRules,
        writer: Mp4Writer | None,
        render: RenderSettings,
        stop: threading.Event,
    ) -> None:
        self.video, self.detector, self.params, self.stride = video, detector, params, stride
        self.writer, self.stop = writer, stop
        self.size, self.scale = output_size(video.info, render.max_side)
        rate = video.info.fps / stride
        self.tracker = Tracker(rate, rules, params.confidence)
        self.floor = floor_filter(params)  # tracked at this score; confidence per track
        # Frames are drawn this much video time after they are tracked: by then, whether
        # their tracks are objects (they lasted min_track_s) is known.
        self.lookahead_s = rules.min_track_s + 1.5 / rate
        self.annotator = Annotator(self.size, frame_rate=rate if writer is not None else None)
        self.counter = RegionCounter(regions[0], regions[1], period_s=1.0 / rate)
        self.artist = RegionArtist(self.size, regions[0], regions[1], self.scale)
        self.preview: Preview | None = None
        self.started = time.perf_counter()
        self.previewed = 0.0
        self.expected = 1
        self.ending = threading.Event()  # the pass is over: the threads finish what they hold
        self.decoded: queue.Queue[Frame | None] = queue.Queue(_QUEUE_FRAMES)
        self.detected: queue.Queue = queue.Queue(_QUEUE_FRAMES)
        self.spent = dict.fromkeys(STAGES, 0.0)
        self.failures: list[BaseException] = []
        self.indices: list[int] = []
        self.times: list[float] = []
        self.candidates: list[Detections] = []
        self.cuts: list[int] = []  # analysed frames that start a new shot
        self.last_thumbnail: np.ndarray | None = None

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
        """Thread: track each analysed frame and, :attr:`lookahead_s` later, draw and encode
        it (with a writer) and show it (to the preview, about once a second)."""
        try:
            waiting: deque[tuple[Frame, sv.Detections]] = deque()
            while (item := self.detected.get()) is not None:
                frame, raw, cut = item
                with self.timed("tracking"):
                    tracked = self.tracker.update(
                        frame.time_s, filter_detections(raw, self.floor), record=True, cut=cut
                    )
                waiting.append((frame, tracked))
                while waiting and waiting[0][0].time_s <= frame.time_s - self.lookahead_s:
                    self.show(*waiting.popleft())
            while waiting:
                self.show(*waiting.popleft())
            if self.writer is not None:
                with self.timed("encode"):
                    self.writer.close()
        except BaseException as error:
            self.failures.append(error)
            if self.writer is not None:
                self.writer.discard()

    def show(self, frame: Frame, tracked: sv.Detections) -> None:
        """Draw one tracked frame's objects, lines and zones; encode it and preview it."""
        with self.timed("tracking"):
            shown = self.tracker.shown(tracked)
            self.counter.update(frame.time_s, shown.tracker_id, shown.data[CLASS_NAME], shown.xyxy)
        now = time.perf_counter()
        preview = self.preview is not None and now - self.previewed >= PREVIEW_EVERY_S
        if self.writer is None and not preview:
            return
        with self.timed("annotate"):
            rgb = frame.rgb
            if self.scale != 1.0:
                rgb = cv2.resize(rgb, self.size, interpolation=cv2.INTER_AREA)
            drawn = self.annotator.draw(rgb, rescaled(shown, self.scale))
            self.artist.draw(drawn, self.counter)
        if self.writer is not None:
            with self.timed("encode"):
                self.writer.write(drawn, frame.time_s)
        if preview:
            self.previewed = now
            done = len(self.indices)
            fps = done / max(now - self.started, 1e-6)
            expected = max(self.expected, done)
            self.preview(
                PassStatus(
                    done,
                    expected,
                    fps,
                    (expected - done) / max(fps, 1e-6),
                    frame.time_s,
                    drawn,
                    _counts(self.tracker),
                )
            )

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
                small = thumbnail(frame.rgb)
            cut = is_cut(self.last_thumbnail, small)
            self.last_thumbnail = small
            self.put(self.detected, (frame, raw, cut))  # a frame the pass ended on is left out
            if cut:
                self.cuts.append(len(self.indices))
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

    def result(
        self, model: str, wall_s: float, heard: Soundtrack | None, stopped: bool
    ) -> VideoAnalysis:
        """What the pass found, after :meth:`run`."""
        if not self.indices:
            raise InputError("Not one frame of this video could be decoded.")
        timings = {name: round(seconds * 1000, 1) for name, seconds in self.spent.items()}
        timings["total"] = round(wall_s * 1000, 1)
        samples = heard.samples() if heard is not None else None
        tracks = self.tracker.all_tracks()
        tracking = tracks.at(self.params.confidence)
        kept = len(tracking.times)
        candidates = Candidates(self.candidates[:kept], tuple(c for c in self.cuts if c < kept))
        remember_tracks(tracks, candidates, self.params)  # a confidence change re-filters them
        return VideoAnalysis(
            self.video.info,
            model,
            self.stride,
            np.asarray(self.indices[:kept], dtype=np.int64),
            tracking.times,
            candidates,
            timings,
            tracking,
            self.params,
            tuple(self.counter.lines),
            tuple(self.counter.zones),
            self.tracker.rules,
            _note(self.video, float(tracking.times[-1]), stopped),
            stopped,
            (samples, heard.rate) if samples is not None else None,
        )


def _counts(tracker: Tracker) -> dict[str, int]:
    return dict(Counter(track.label for track in tracker.tracks()).most_common())


def analyse_video(
    source: Source | VideoFile,
    detector: Detector,
    model: str,
    params: DetectionFilter,
    *,
    stride: int = 1,
    lines: Sequence[Line] = (),
    zones: Sequence[Zone] = (),
    rules: TrackRules = DEFAULT_RULES,
    output: str | Path | io.BytesIO | None = None,
    render: RenderSettings = DEFAULT_RENDER,
    soundtrack: bool = False,
    progress: Progress | None = None,
    preview: Preview | None = None,
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
    lines, zones : sequences of Line and Zone
        Drawn on the annotated video and the previews, with their counts so far.
    rules : TrackRules
        When detections are one object (see :mod:`analysis.video.tracking`).
    output : path or io.BytesIO, optional
        Write the annotated video there (H.264 MP4, with the sound as AAC).
    render : RenderSettings
        Output (and preview) size and quality.
    soundtrack : bool
        Keep the sound (mono) in the result, for its spectrogram and tags.
    progress : callable, optional
        ``progress(frames_done, frames_expected)`` after each analysed frame.
    preview : callable, optional
        ``preview(status)`` with a :class:`PassStatus` about every :data:`PREVIEW_EVERY_S`,
        from another thread (keep it short: store the status, draw it elsewhere).
    stop : threading.Event, optional
        Set it to end the pass early; the result holds the frames done so far (tracked, and
        drawn into ``output``, which stays a playable video).

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
            size, _ = output_size(info, render.max_side)
            writer = Mp4Writer(output, size, info.fps, render.crf, sound=info.sound)
        heard = Soundtrack(info.sound) if soundtrack and info.sound else None
        sound = [sink.hear for sink in (heard, writer) if sink is not None and info.sound]
        work = _Pass(
            video,
            detector,
            params,
            stride,
            (lines, zones),
            rules,
            writer,
            render,
            stop or threading.Event(),
        )
        work.preview = preview
        work.expected = max(1, -(-info.frames // stride))
        stopped = work.run(sound, progress, expected=work.expected)
    return work.result(model, time.perf_counter() - wall, heard, stopped)


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
    lines: Sequence[Line] = (),
    zones: Sequence[Zone] = (),
    render: RenderSettings = DEFAULT_RENDER,
    progress: Progress | None = None,
) -> None:
    """Draw ``tracking`` (e.g. from :func:`~analysis.video.tracking.track_all` with new
    settings), ``lines`` and ``zones`` with their counts on the analysed frames again, and
    encode them: decoding and encoding, no inference."""
    size, scale = output_size(analysis.info, render.max_side)
    annotator = Annotator(size, frame_rate=analysis.frame_rate)
    counter = RegionCounter(lines, zones, period_s=tracking.period_s)
    artist = RegionArtist(size, lines, zones, scale)
    with VideoFile(source) as video:
        sound = video.info.sound
        writer = Mp4Writer(output, size, analysis.info.fps, render.crf, sound=sound)
        try:
            frames = video.frames(analysis.stride, [writer.hear] if sound else [])
            for done, (frame, tracked) in enumerate(
                zip(frames, tracking.frames, strict=False), start=1
            ):
                counter.update(
                    frame.time_s, tracked.tracker_id, tracked.data[CLASS_NAME], tracked.xyxy
                )
                rgb = frame.rgb
                if scale != 1.0:
                    rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
                drawn = annotator.draw(rgb, rescaled(tracked, scale))
                writer.write(artist.draw(drawn, counter), frame.time_s)
                if progress is not None:
                    progress(done, len(tracking.frames))
            writer.close()
        except BaseException:
            writer.discard()
            raise
