"""Video in and out with PyAV (FFmpeg): the facts of a video, its frames, its sound, and MP4s.

Times are the frames' own timestamps (pts × time base, from the start of the file), so
variable frame rate videos and their soundtrack share one time axis.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from analysis.cores import usable_cores
from analysis.errors import InputError
from analysis.sniff import SNIFF_BYTES, file_kind
from analysis.vision.detectors import Detector, load_detector

Source = bytes | str | os.PathLike

MAX_AUDIO_RATE = 32_000  # Hz: enough for the spectrogram's speech and music range
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


def video_detector(name: str) -> Detector:
    """``load_detector(name)`` with inference on one core fewer than the picture default.

    In a video the other stages (decoding, tracking, drawing, encoding) run beside
    inference; left with every core, onnxruntime's threads and theirs slow each other down
    (on 2 cores the whole pass took 2.2x bare inference, against 1.4x this way).
    """
    return load_detector(name, threads=max(1, usable_cores() - 1))
