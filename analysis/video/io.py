"""Video in and out with PyAV (FFmpeg): a video opened once for its facts, frames and sound,
and H.264 MP4s written with their sound.

One pass over a file gives everything: :class:`VideoFile` reads it once, its pictures to the
caller and its sound to whoever listens (the page's :class:`Soundtrack`, an
:class:`Mp4Writer`'s copy), so an analysis never opens the file twice.

Times are the frames' own timestamps (pts × time base, from the start of the file), so
variable frame rate videos and their soundtrack share one time axis.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from analysis.errors import InputError
from analysis.sniff import SNIFF_BYTES, file_kind

Source = bytes | str | os.PathLike
SoundSink = Callable[[float, av.AudioFrame], None]
"""Called as ``sink(start_s, frame)`` with each piece of sound decoded, in order."""

MAX_AUDIO_RATE = 32_000  # Hz: enough for the spectrogram's speech and music range
_CLOCK = Fraction(1, 90_000)  # s per tick of the encoded timestamps (MPEG's 90 kHz)
_FFMPEG_ERRORS = (av.FFmpegError, EOFError, ValueError)


@dataclass(frozen=True)
class SoundFormat:
    """A soundtrack's sampling, which its MP4 copy keeps."""

    rate: int  # Hz
    channels: int


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about a video; sizes are of the upright picture."""

    width: int  # pixels
    height: int  # pixels
    fps: float  # average frames per second
    frames: int  # frame count (the container's, else duration × fps)
    duration_s: float
    codec: str
    sound: SoundFormat | None  # None: the video has no sound
    rotation: int  # degrees counter-clockwise the decoded picture is turned to be upright

    @property
    def has_audio(self) -> bool:
        return self.sound is not None

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


class VideoFile:
    """A video opened once: its facts at once, then its frames and its sound in one pass.

    Opening reads up to the first picture (for its size and rotation) and gives
    :attr:`info`. :meth:`frames` then reads the rest of the file once: it gives the
    pictures, and hands the sound decoded on the way to its sinks. After the pass,
    ``decoded`` is the number of frames decoded and ``damaged`` says whether reading stopped
    on an error (a corrupt file): the frames before it were still given. Close it, or use it
    in a ``with`` block.

    Raises InputError for anything but a readable video.
    """

    def __init__(self, source: Source) -> None:
        self.container = _open(source)
        self.origin_s = _origin_s(self.container)
        self.damaged = False
        self.decoded = 0
        try:
            self._video = self.container.streams.video[0]
            self._video.thread_type = "AUTO"  # frame threads: decoding keeps pace with inference
            audio = self.container.streams.audio[:1]
            self._audio = audio[0] if audio else None
            self._packets = self.container.demux(self._video, *audio)
            self._pictures: list[av.VideoFrame] = []  # decoded, not given yet
            self._early_sound: list[av.Packet] | None = []  # read before the first picture
            while not self._pictures and self._read(()):
                pass
            if not self._pictures:
                raise InputError("This video has no frame that could be decoded.")
            self.info = self._facts(self._pictures[0])
        except BaseException:
            self.container.close()
            raise

    def __enter__(self) -> VideoFile:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self.container.close()

    def _facts(self, first: av.VideoFrame) -> VideoInfo:
        stream, rotation = self._video, _rotation(first)
        fps = float(stream.average_rate or stream.guessed_rate or 0) or 25.0
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        else:
            duration = (self.container.duration or 0) / av.time_base
        frames = stream.frames or max(1, round(duration * fps))
        width, height = first.width, first.height
        if rotation % 180:
            width, height = height, width
        sound = None
        if self._audio is not None:
            sound = SoundFormat(self._audio.rate or 48_000, self._audio.channels or 1)
        return VideoInfo(
            width,
            height,
            fps,
            frames,
            duration if duration > 0 else frames / fps,
            stream.codec_context.codec.long_name or stream.codec_context.name,
            sound,
            rotation,
        )

    def _read(self, sound: Sequence[SoundSink]) -> bool:
        """Read one packet: its pictures join ``_pictures``, its sound goes to ``sound`` (or
        waits, while opening). False at the end of the file or on damage."""
        try:
            packet = next(self._packets, None)
            if packet is None:
                return False
            if packet.stream is self._video:
                self._pictures += self._video.decode(packet)
            elif self._early_sound is not None:
                self._early_sound.append(packet)
            elif sound:
                self._hear(packet, sound)
            return True
        except _FFMPEG_ERRORS:
            self.damaged = True
            return False

    def _hear(self, packet: av.Packet, sound: Sequence[SoundSink]) -> None:
        try:
            pieces = self._audio.decode(packet)
        except _FFMPEG_ERRORS:
            return  # a damaged piece of sound: the pictures go on
        for piece in pieces:
            start_s = (piece.time or 0.0) - self.origin_s
            for sink in sound:
                sink(start_s, piece)

    def frames(self, stride: int = 1, sound: Sequence[SoundSink] = ()) -> Iterator[Frame]:
        """Every ``stride``-th frame, upright, in order, once per file; the sound decoded on
        the way goes to each of ``sound`` (without a sink it is not decoded at all)."""
        if stride < 1:
            raise InputError(f"The stride must be at least 1, not {stride}.")
        early, self._early_sound = self._early_sound or [], None
        for packet in early if sound else ():
            self._hear(packet, sound)
        while self._pictures or self._read(sound):
            pictures, self._pictures = self._pictures, []
            for picture in pictures:
                index = self.decoded
                self.decoded += 1
                if index % stride:
                    continue
                if picture.time is None:
                    time_s = index / self.info.fps
                else:
                    time_s = picture.time - self.origin_s
                rgb = upright(picture.to_ndarray(format="rgb24"), _rotation(picture))
                yield Frame(index, time_s, rgb)


def probe(source: Source) -> VideoInfo:
    """The facts of a video (size, frame rate, duration, codec, sound) without decoding it all.

    Decodes the first frame for its rotation. Raises InputError for anything but a readable
    video.
    """
    with VideoFile(source) as video:
        return video.info


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


class Soundtrack:
    """A pass's sound mixed to mono, float32 in [-1, 1], for the spectrogram and the sound tags.

    Mono: they use one channel, and it halves the memory of a long stereo soundtrack. The
    rate is the stream's, at most :data:`MAX_AUDIO_RATE`. Give :meth:`hear` to
    :meth:`VideoFile.frames` as a sink; a damaged stream gives what decoded.
    """

    def __init__(self, sound: SoundFormat) -> None:
        self.rate = min(sound.rate, MAX_AUDIO_RATE)
        self._resampler = av.AudioResampler(format="flt", layout="mono", rate=self.rate)
        self._chunks: list[np.ndarray] = []

    def hear(self, start_s: float, piece: av.AudioFrame) -> None:
        # Sound that starts after the file does is placed at its time on the shared axis.
        if not self._chunks and start_s > 0:
            self._chunks.append(np.zeros(round(start_s * self.rate), dtype=np.float32))
        self._chunks += [out.to_ndarray().reshape(-1) for out in self._resampler.resample(piece)]

    def samples(self) -> np.ndarray | None:
        """What was heard, shape (1, n); None if nothing was. Call it once, after the pass."""
        self._chunks += [out.to_ndarray().reshape(-1) for out in self._resampler.resample(None)]
        if not self._chunks:
            return None
        samples = np.concatenate(self._chunks).astype(np.float32, copy=False)
        return samples[np.newaxis] if samples.size else None


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
    sound : SoundFormat, optional
        Add a soundtrack in this format, as AAC: give :meth:`hear` to
        :meth:`VideoFile.frames` as a sink (from any thread). What starts before the last
        frame written is kept, on the same time axis.
    """

    def __init__(
        self,
        target: str | Path | io.BytesIO,
        size: tuple[int, int],
        fps: float,
        crf: int = 23,
        sound: SoundFormat | None = None,
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
        # superfast: two thirds of veryfast's time (on vtest.avi: 11 against 19 ms a frame)
        # for a file about 1.8x larger; one thread, the cores are busy with inference.
        self.stream.options = {"crf": str(crf), "preset": "superfast", "threads": "1"}
        self.stream.codec_context.thread_count = 1
        self._last_pts = -1
        self.sound = None
        if sound is not None:
            layout = "mono" if sound.channels == 1 else "stereo"
            self.sound = self.container.add_stream("aac", rate=sound.rate, layout=layout)
            self._resampler = av.AudioResampler(format="fltp", layout=layout, rate=sound.rate)
            self._heard: deque[tuple[float, av.AudioFrame]] = deque()  # not encoded yet
            self._written: int | None = None  # samples from the video's start, once begun

    def write(self, rgb: np.ndarray, time_s: float) -> None:
        pad_h, pad_w = self.size[1] - rgb.shape[0], self.size[0] - rgb.shape[1]
        if pad_h or pad_w:
            rgb = np.pad(rgb, ((0, pad_h), (0, pad_w), (0, 0)), mode="edge")
        # OpenCV converts to the encoder's YUV 4:2:0 (BT.601, limited range, as FFmpeg's
        # default) in a seventh of swscale's time.
        yuv = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2YUV_I420)
        frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
        pts = max(round(time_s / _CLOCK), self._last_pts + 1)  # strictly increasing
        frame.pts, frame.time_base = pts, _CLOCK  # the muxer may change the stream's
        self._last_pts = pts
        self._encode_sound(before_s=time_s)
        self.container.mux(self.stream.encode(frame))

    def hear(self, start_s: float, piece: av.AudioFrame) -> None:
        """Take a piece of the source's sound that starts at ``start_s`` s."""
        self._heard.append((start_s, piece))  # a deque is thread-safe: decoding runs apart

    def close(self) -> None:
        """Flush the encoders and finish the file (into ``target`` when it is in memory)."""
        try:
            self.container.mux(self.stream.encode(None))
            if self.sound is not None:
                self._encode_sound(before_s=(self._last_pts + 1) * _CLOCK)
                self.container.mux(self.sound.encode(None))
            self.container.close()
            if self.memory is not None:
                self.memory.write(Path(self.path).read_bytes())
        finally:
            self.discard()

    def _encode_sound(self, before_s: float) -> None:
        """Encode the sound heard that starts before ``before_s``, without gaps from the
        first piece's time."""
        if self.sound is None:
            return
        rate = self.sound.rate
        while self._heard and self._heard[0][0] < before_s:
            start_s, piece = self._heard.popleft()
            if self._written is None:
                self._written = max(0, round(start_s * rate))
            for out in self._resampler.resample(piece):
                out.pts, out.time_base = self._written, Fraction(1, rate)
                self._written += out.samples
                self.container.mux(self.sound.encode(out))

    def discard(self) -> None:
        """Remove the temporary file of an in-memory target (after closing, or on failure)."""
        if self.memory is not None:
            Path(self.path).unlink(missing_ok=True)
