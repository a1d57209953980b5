"""Video in and out with PyAV (FFmpeg), and the analysis of a whole video in one streaming pass.

Frames are decoded one at a time and never held together: what stays after the pass is each
analysed frame's raw candidates (a few kilobytes), so the confidence, IoU and class controls
re-filter and re-track without running the network again. Decoding, inference and
drawing + encoding run on three threads joined by short queues, so decoding and encoding
overlap with inference instead of adding to it.

Times are the frames' own timestamps (pts × time base, from the start of the file), so
variable frame rate videos and their soundtrack share one time axis.
"""

from __future__ import annotations

import io
import os
import queue
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from analysis.cores import usable_cores
from analysis.errors import InputError
from analysis.sniff import SNIFF_BYTES, file_kind
from analysis.video.tracking import FrameAnnotator, Line, Tracker, Tracking, scaled
from analysis.vision.detections import DetectionFilter, Detections, filter_detections
from analysis.vision.detectors import Detector, load_detector

Source = bytes | str | os.PathLike
Progress = Callable[[int, int], None]
"""Called as ``progress(frames_done, frames_expected)`` during the analysis."""

MAX_AUDIO_RATE = 32_000  # Hz: enough for the spectrogram's speech and music range
_QUEUE_FRAMES = 4  # frames waiting between two threads: bounds memory, keeps both busy
_CLOCK = Fraction(1, 90_000)  # s per tick of the encoded timestamps (MPEG's 90 kHz)
_FFMPEG_ERRORS = (av.FFmpegError, EOFError, ValueError)


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about a video; sizes are of the upright picture."""

    width: int  # pixels
    height: int  # pixels
    fps: float  # average frames per second
    frames: int  # frame count (the container's, else duration × fps)
    duration_s: float
    codec: str
    has_audio: bool
    rotation: int  # degrees counter-clockwise the decoded picture is turned to be upright

    def as_dict(self) -> dict[str, object]:
        return {
            "width": self.width,
            "height": self.height,
            "fps": round(self.fps, 3),
            "frames": self.frames,
            "duration_s": round(self.duration_s, 3),
        }


def _open(source: Source) -> av.container.InputContainer:
    """Open ``source`` for reading, naming a sound or a picture as such."""
    if isinstance(source, bytes):
        head, target = source[:SNIFF_BYTES], io.BytesIO(source)
    else:
        try:
            with open(source, "rb") as file:
                head = file.read(SNIFF_BYTES)
        except OSError as error:
            raise InputError(f"Could not read {Path(source).name}: {error.strerror}.") from None
        target = str(source)
    if not head:
        raise InputError("The file is empty: there is no video in it.")
    kind = file_kind(head)
    if kind == "sound":
        raise InputError("This is a sound file, not a video: the Audio page analyses sounds.")
    if kind == "picture":
        raise InputError("This is a picture, not a video: the Vision page analyses pictures.")
    try:
        container = av.open(target, "r")
    except _FFMPEG_ERRORS:
        raise InputError(
            "This file could not be read as a video: it is damaged or not a video."
        ) from None
    if not container.streams.video:
        has_audio = bool(container.streams.audio)
        container.close()
        if has_audio:
            raise InputError("This file holds only sound: the Audio page analyses sounds.")
        raise InputError("This file has no video stream.")
    return container


def _origin_s(container: av.container.InputContainer) -> float:
    """The file's start time in seconds: frame times count from it."""
    return (container.start_time or 0) / av.time_base


def probe(source: Source) -> VideoInfo:
    """The facts of a video (size, frame rate, duration, codec, sound) without decoding it all.

    Decodes the first frame for its rotation. Raises InputError for anything but a readable
    video.
    """
    with _open(source) as container:
        stream = container.streams.video[0]
        rotation = 0
        try:
            first = next(container.decode(stream), None)
        except _FFMPEG_ERRORS:
            first = None
        if first is None:
            raise InputError("This video has no frame that could be decoded.")
        rotation = _rotation(first)
        fps = float(stream.average_rate or stream.guessed_rate or 0) or 25.0
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        else:
            duration = (container.duration or 0) / av.time_base
        frames = stream.frames or max(1, round(duration * fps))
        width, height = first.width, first.height
        if rotation % 180:
            width, height = height, width
        return VideoInfo(
            width,
            height,
            fps,
            frames,
            duration if duration > 0 else frames / fps,
            stream.codec_context.codec.long_name or stream.codec_context.name,
            bool(container.streams.audio),
            rotation,
        )


def _rotation(frame: av.VideoFrame) -> int:
    """The frame's display rotation, counter-clockwise degrees, a multiple of 90."""
    return round((frame.rotation or 0) / 90) * 90 % 360


def upright(rgb: np.ndarray, rotation: int) -> np.ndarray:
    """``rgb`` turned ``rotation`` degrees counter-clockwise (phone videos stand up)."""
    turns = rotation // 90 % 4
    return np.ascontiguousarray(np.rot90(rgb, turns)) if turns else rgb


@dataclass(frozen=True)
class Frame:
    index: int  # position in the stream, 0-based
    time_s: float  # timestamp from the start of the file
    rgb: np.ndarray  # upright, (height, width, 3) uint8


class FrameReader:
    """Decoded frames of a video, one at a time; ``stride`` keeps every Nth.

    After iterating, ``decoded`` is the number of frames decoded and ``damaged`` says whether
    decoding stopped on an error (a corrupt file): the frames before it were still given.
    """

    def __init__(self, source: Source, stride: int = 1) -> None:
        if stride < 1:
            raise InputError(f"The stride must be at least 1, not {stride}.")
        self.source, self.stride = source, stride
        self.damaged = False
        self.decoded = 0

    def __iter__(self) -> Iterator[Frame]:
        with _open(self.source) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"  # frame threads: decoding keeps pace with inference
            origin = _origin_s(container)
            fps = float(stream.average_rate or 25)
            decoded = container.decode(stream)
            index = 0
            while True:
                try:
                    frame = next(decoded)
                except StopIteration:
                    return
                except _FFMPEG_ERRORS:
                    self.damaged = True
                    return
                if index % self.stride == 0:
                    t = frame.time - origin if frame.time is not None else index / fps
                    rgb = upright(frame.to_ndarray(format="rgb24"), _rotation(frame))
                    yield Frame(index, t, rgb)
                index += 1
                self.decoded = index


def read_frame(source: Source, time_s: float) -> np.ndarray:
    """The upright frame shown at ``time_s`` s (the last one starting at or before it)."""
    with _open(source) as container:
        stream = container.streams.video[0]
        origin = _origin_s(container)
        target = time_s + origin
        if stream.time_base is not None:
            container.seek(int(target / stream.time_base), stream=stream, backward=True)
        shown = None
        try:
            for frame in container.decode(stream):
                if shown is not None and frame.time is not None and frame.time > target + 1e-6:
                    break
                shown = frame
        except _FFMPEG_ERRORS:
            pass
        if shown is None:
            raise InputError(f"No frame could be decoded at {time_s:.2f} s.")
        return upright(shown.to_ndarray(format="rgb24"), _rotation(shown))


def decode_audio(source: Source) -> tuple[np.ndarray, int] | None:
    """The soundtrack mixed to mono, float32 (1, frames) in [-1, 1], and its rate (Hz).

    None when the video has no sound. Mono: the spectrogram and the sound tags use one
    channel, and it halves the memory of a long stereo soundtrack. The rate is the
    stream's, at most :data:`MAX_AUDIO_RATE`. A damaged stream gives what decoded.
    """
    with _open(source) as container:
        if not container.streams.audio:
            return None
        stream = container.streams.audio[0]
        rate = min(stream.rate or MAX_AUDIO_RATE, MAX_AUDIO_RATE)
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        chunks = []
        # Sound that starts after the file does is placed at its time on the shared axis.
        if stream.start_time is not None and stream.time_base is not None:
            lead = float(stream.start_time * stream.time_base) - _origin_s(container)
            if lead > 0:
                chunks.append(np.zeros(round(lead * rate), dtype=np.float32))
        try:
            for frame in container.decode(stream):
                chunks += [out.to_ndarray().reshape(-1) for out in resampler.resample(frame)]
        except _FFMPEG_ERRORS:
            pass
        chunks += [out.to_ndarray().reshape(-1) for out in resampler.resample(None)]
    if not chunks:
        return None
    samples = np.concatenate(chunks).astype(np.float32, copy=False)
    return (samples[np.newaxis] if samples.size else None), rate


class Mp4Writer:
    """H.264 (yuv420p) in MP4, which every browser and ``st.video`` play.

    Frames carry their own timestamps, so a variable frame rate survives. Odd sizes are
    padded by one pixel (yuv420p needs even ones).

    Parameters
    ----------
    target : str, Path or binary file
        Where the MP4 goes (an ``io.BytesIO`` keeps it in memory).
    size : (width, height)
        Frame size in pixels.
    fps : float
        Nominal frame rate, for players that show one.
    crf : int
        x264 quality, 18 (near lossless) to 28 (small).
    soundtrack : bytes or path, optional
        A video whose sound is copied in (as AAC) up to the last frame written, on the same
        time axis; nothing is added when it has no sound.
    """

    def __init__(
        self,
        target: str | Path | io.BytesIO,
        size: tuple[int, int],
        fps: float,
        crf: int = 23,
        soundtrack: Source | None = None,
    ) -> None:
        width, height = size
        self.size = (width + width % 2, height + height % 2)
        # "+faststart" moves the index to the front by rewriting the file by its name, so an
        # in-memory target is first written to a private temporary file.
        self.memory = target if isinstance(target, io.BytesIO) else None
        if self.memory is not None:
            handle, target = tempfile.mkstemp(prefix="percept-", suffix=".mp4")
            os.close(handle)
        self.path = str(target)
        try:
            self.container = av.open(
                self.path,
                "w",
                format="mp4",
                options={"movflags": "+faststart"},  # playback starts before it all loads
            )
        except (av.FFmpegError, OSError) as error:
            self.discard()
            raise InputError(f"Could not write the video: {error}.") from None
        rate = Fraction(fps).limit_denominator(1001) if fps > 0 else Fraction(25)
        self.stream = self.container.add_stream("libx264", rate=rate)
        self.stream.width, self.stream.height = self.size
        self.stream.pix_fmt = "yuv420p"
        # The encoder's clock too: by default it ticks at 1/fps and would round the times.
        self.stream.time_base = self.stream.codec_context.time_base = _CLOCK
        # veryfast: a third of "medium"'s time for a slightly larger file; one thread,
        # the cores are busy with inference.
        self.stream.options = {"crf": str(crf), "preset": "veryfast", "threads": "1"}
        self.stream.codec_context.thread_count = 1
        self._last_pts = -1
        self.soundtrack, self.sound = soundtrack, None
        if soundtrack is not None:
            with _open(soundtrack) as source:
                if source.streams.audio:
                    heard = source.streams.audio[0]
                    layout = "mono" if heard.channels == 1 else "stereo"
                    self.sound = self.container.add_stream("aac", rate=heard.rate or 48_000)
                    self.sound.layout = layout

    def write(self, rgb: np.ndarray, time_s: float) -> None:
        pad_h, pad_w = self.size[1] - rgb.shape[0], self.size[0] - rgb.shape[1]
        if pad_h or pad_w:
            rgb = np.pad(rgb, ((0, pad_h), (0, pad_w), (0, 0)), mode="edge")
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
        pts = max(round(time_s / _CLOCK), self._last_pts + 1)  # strictly increasing
        frame.pts, frame.time_base = pts, _CLOCK  # the muxer may change the stream's
        self._last_pts = pts
        self.container.mux(self.stream.encode(frame))

    def close(self) -> None:
        """Flush the encoder and finish the file (into ``target`` when it is in memory)."""
        try:
            self.container.mux(self.stream.encode(None))
            if self.sound is not None:
                self._copy_sound(end_s=(self._last_pts + 1) * _CLOCK)
            self.container.close()
            if self.memory is not None:
                self.memory.write(Path(self.path).read_bytes())
        finally:
            self.discard()

    def _copy_sound(self, end_s: float) -> None:
        """Encode the soundtrack's sound up to ``end_s``; a damaged stream gives what decodes."""
        rate = self.sound.rate
        resampler = av.AudioResampler(format="fltp", layout=self.sound.layout, rate=rate)
        with _open(self.soundtrack) as source:
            heard = source.streams.audio[0]
            written = None  # samples from the video's start; set by the first frame's time
            try:
                for frame in source.decode(heard):
                    start_s = (frame.time or 0.0) - _origin_s(source)
                    if start_s >= end_s:
                        break
                    if written is None:
                        written = max(0, round(start_s * rate))
                    for out in resampler.resample(frame):
                        out.pts, out.time_base = written, Fraction(1, rate)
                        written += out.samples
                        self.container.mux(self.sound.encode(out))
            except _FFMPEG_ERRORS:
                pass
        self.container.mux(self.sound.encode(None))

    def discard(self) -> None:
        """Remove the temporary file of an in-memory target (after closing, or on failure)."""
        if self.memory is not None:
            Path(self.path).unlink(missing_ok=True)


# -- The analysis ----------------------------------------------------------------------------


def video_detector(name: str) -> Detector:
    """``load_detector(name)`` with inference on one core fewer than the picture default.

    In a video the other stages (decoding, tracking, drawing, encoding) run beside
    inference; left with every core, onnxruntime's threads and theirs slow each other down
    (on 2 cores the whole pass took 2.2x bare inference, against 1.4x this way).
    """
    return load_detector(name, threads=max(1, usable_cores() - 1))


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
