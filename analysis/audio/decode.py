"""Decoding audio files into float32 sample arrays at their native sample rate.

>>> clip = load_audio("speech.flac")
>>> clip.sample_rate, clip.channels, clip.duration
(48000, 2, 3.5)
"""

from __future__ import annotations

import io
import mmap
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from analysis.audio.truncation import Bytes, is_cut_short
from analysis.errors import InputError
from analysis.sniff import SNIFF_BYTES, file_kind

# Blocks keep peak memory near the size of the decoded array itself (no transposed copy).
_BLOCK_FRAMES = 1 << 18
_SMALL_BLOCK_FRAMES = 1 << 12
# libsndfile reports an unknown length as a huge count (SF_COUNT_MAX).
_UNKNOWN_FRAMES = 1 << 40
# Compressed containers whose header gives the exact length (Ogg's last granule position,
# FLAC's STREAMINFO): a first part can say, truly, how long the whole is. (An MP3's length is
# an estimate until it is decoded; WAV and AIFF decode by copying.)
_READ_AHEAD = {"OGG", "FLAC"}

READABLE_FORMATS = "WAV, FLAC, OGG (Vorbis or Opus), MP3 or AIFF"

VIDEO_MESSAGE = "{label} is a video, not a sound: open it on the Video page."
"""What a video dropped on the Audio page is told; ``label`` is the quoted file name."""


@dataclass(frozen=True)
class AudioClip:
    """Decoded audio.

    Attributes
    ----------
    samples : np.ndarray
        float32, shape ``(channels, frames)``, values nominally in [-1, 1].
    sample_rate : int
        Hz, the file's native rate (never resampled).
    format : str
        Container, e.g. ``"WAV"``, ``"FLAC"``, ``"OGG"``, ``"MP3"``, ``"AIFF"``.
    subtype : str
        Encoding, e.g. ``"PCM_16"``, ``"PCM_24"``, ``"FLOAT"``, ``"VORBIS"``, ``"OPUS"``.
    warnings : tuple of str
        One-sentence notes for the user (e.g. non-finite samples replaced by 0).
    from_video : bool
        The soundtrack of a video (:func:`analysis.audio.soundtrack.load_soundtrack`).
    """

    samples: np.ndarray
    sample_rate: int
    format: str
    subtype: str
    warnings: tuple[str, ...] = ()
    from_video: bool = False

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.samples.shape[1] / self.sample_rate

    @property
    def channels(self) -> int:
        """Number of channels."""
        return self.samples.shape[0]

    def mono(self) -> np.ndarray:
        """Mean of the channels, float32, shape ``(frames,)``."""
        if self.channels == 1:
            return self.samples[0]
        return self.samples.mean(axis=0, dtype=np.float32)

    def channel(self, index: int) -> np.ndarray:
        """One channel, float32, shape ``(frames,)``; ``index`` counts from 0."""
        if not 0 <= index < self.channels:
            raise InputError(
                f"Channel {index + 1} does not exist: this audio has {self.channels} channel(s)."
            )
        return self.samples[index]


def _head(source: str | os.PathLike | bytes) -> bytes:
    """The first bytes of a file given by path or content."""
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source[:SNIFF_BYTES])
    with open(source, "rb") as file:
        return file.read(SNIFF_BYTES)


@contextmanager
def _content(source: str | os.PathLike | bytes) -> Iterator[Bytes]:
    """A file's whole content: the bytes given, or the file mapped (not read) into memory."""
    if isinstance(source, bytes | bytearray | memoryview):
        yield source
        return
    with open(source, "rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
        yield data


def load_audio(
    source: str | os.PathLike | bytes,
    *,
    name: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> AudioClip:
    """Decode an audio file (path or bytes) without resampling.

    Parameters
    ----------
    source : str, os.PathLike or bytes
        A file path, or the file's content.
    name : str, optional
        The file's name, used in messages (defaults to the path's name, or "the file").
    progress : callable, optional
        Called with (frames decoded, frames in all) after each block (0 in all: unknown).

    Returns
    -------
    AudioClip

    Raises
    ------
    InputError
        When the file is missing, empty, not audio (a picture or a video names itself as
        such), or has no samples.
    """
    if isinstance(source, bytes | bytearray | memoryview):
        label = f"“{name}”" if name else "The file"
        if len(source) == 0:
            raise InputError(f"{label} is empty.")
        handle = io.BytesIO(source)
    else:
        path = Path(source)
        label = f"“{name or path.name}”"
        if not path.is_file():
            raise InputError(f"{label} does not exist.")
        if path.stat().st_size == 0:
            raise InputError(f"{label} is empty.")
        handle = path
    kind = file_kind(_head(source))
    if kind == "video":  # before decoding: whatever a decoder makes of it, it is a video
        raise InputError(VIDEO_MESSAGE.format(label=label))
    try:
        with sf.SoundFile(handle) as audio:
            samples, nonfinite, stopped = _read_blocks(audio, progress)
            sample_rate, container, subtype = audio.samplerate, audio.format, audio.subtype
            counted = audio.frames if audio.frames < _UNKNOWN_FRAMES else 0
    except (sf.LibsndfileError, RuntimeError, TypeError) as error:
        if kind == "picture":
            raise InputError(
                f"{label} is a picture, not a sound: open it on the Vision page."
            ) from error
        raise InputError(
            f"{label} could not be read as audio: it may be damaged, or not a "
            f"{READABLE_FORMATS} file."
        ) from error
    with _content(source) as data:
        truncated = stopped or is_cut_short(data, container, samples.shape[1], counted)
    if samples.shape[1] == 0:
        if truncated:
            raise InputError(f"{label} seems damaged or truncated: no audio could be read from it.")
        raise InputError(f"{label} contains no audio samples.")
    warnings = []
    if truncated:
        decoded_s = samples.shape[1] / sample_rate
        warnings.append(
            f"The file seems damaged or truncated: only its first {decoded_s:.2f} s could be read."
        )
    if nonfinite:
        warnings.append(f"{nonfinite} invalid samples (NaN or infinity) were replaced by silence.")
    samples.flags.writeable = False  # clips are shared between caches and sessions
    return AudioClip(samples, int(sample_rate), container, subtype, tuple(warnings))


def load_audio_head(
    data: bytes, seconds: float, *, longer_than: float = 0.0
) -> tuple[AudioClip, float] | None:
    """The first ``seconds`` of a long Ogg or FLAC file's content, and the whole file's
    duration (s) by its header: a first picture of a long file while the rest decodes.

    None when there is no need, or no sure length: the header says the file lasts at most
    ``longer_than`` s (or does not say), or it is not an Ogg or FLAC file (WAV and AIFF
    decode in a second or two; an MP3's header only estimates its length). Raises what
    libsndfile raises on a file it cannot read (no sentence: :func:`load_audio` then says
    what is wrong).
    """
    with sf.SoundFile(io.BytesIO(data)) as audio:
        rate, frames = audio.samplerate, audio.frames
        if (
            frames >= _UNKNOWN_FRAMES
            or frames <= longer_than * rate
            or audio.format not in _READ_AHEAD
        ):
            return None
        block = audio.read(frames=max(1, round(seconds * rate)), dtype="float32", always_2d=True)
        container, subtype = audio.format, audio.subtype
    samples = np.ascontiguousarray(block.T)
    samples[~np.isfinite(samples)] = 0.0
    samples.flags.writeable = False
    return AudioClip(samples, int(rate), container, subtype), frames / rate


def _read_blocks(
    audio: sf.SoundFile, progress: Callable[[int, int], None] | None = None
) -> tuple[np.ndarray, int, bool]:
    """Read every frame into a ``(channels, frames)`` array.

    Returns the samples, the count of non-finite samples (replaced by 0) and whether decoding
    stopped early on a damaged or truncated stream (an error, not the end of the stream).
    """
    expected = audio.frames if 0 < audio.frames < _UNKNOWN_FRAMES else 0
    out = np.empty((audio.channels, expected or _BLOCK_FRAMES), dtype=np.float32)
    block = np.empty((_BLOCK_FRAMES, audio.channels), dtype=np.float32)
    position = nonfinite = 0
    block_frames = _BLOCK_FRAMES
    damaged = False
    while True:
        try:
            count = audio.read(out=block[:block_frames], dtype="float32", always_2d=True).shape[0]
        except sf.LibsndfileError:
            # A damaged stream fails a whole block: retry in small steps to keep what decodes.
            if block_frames > _SMALL_BLOCK_FRAMES and audio.seekable():
                audio.seek(position)
                block_frames = _SMALL_BLOCK_FRAMES
                continue
            if position == 0:
                raise
            damaged = True
            break
        if count == 0:
            break
        if position + count > out.shape[1]:  # the header undercounted: grow
            grown = np.empty((out.shape[0], 2 * out.shape[1] + count), dtype=np.float32)
            grown[:, :position] = out[:, :position]
            out = grown
        chunk = block[:count]
        bad = ~np.isfinite(chunk)
        if bad.any():
            nonfinite += int(bad.sum())
            chunk[bad] = 0.0
        out[:, position : position + count] = chunk.T
        position += count
        if progress is not None:
            progress(position, expected)
    if position < out.shape[1]:  # truncated or overallocated: don't keep a large unused tail
        out = out[:, :position].copy() if position < out.shape[1] // 2 else out[:, :position]
    return out, nonfinite, damaged


def demo_clip(sample_rate: int = 22050, duration: float = 8.0, *, seed: int = 0) -> AudioClip:
    """A synthesized signal that shows what a spectrogram reveals, for trying the app offline.

    A logarithmic chirp (100 Hz → 8 kHz), a 220 Hz tone with decaying harmonics that steps
    up a fifth half-way, three short noise bursts and a faint noise floor; mono, float32.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(int(sample_rate * duration)) / sample_rate
    f0, f1 = 100.0, min(8000.0, sample_rate * 0.45)
    rate = np.log(f1 / f0) / duration
    chirp = 0.25 * np.sin(2 * np.pi * f0 * (np.exp(rate * t) - 1) / rate)
    pitch = np.where(t < duration / 2, 220.0, 330.0)
    phase = 2 * np.pi * np.cumsum(pitch) / sample_rate
    harmonics = sum(0.2 / k * np.sin(k * phase) for k in range(1, 9) if k * 330.0 < sample_rate / 2)
    bursts = np.zeros_like(t)
    for centre in (duration * 0.2, duration * 0.55, duration * 0.85):
        inside = np.abs(t - centre) < 0.04
        bursts[inside] = rng.normal(0.0, 0.3, inside.sum()) * np.hanning(inside.sum())
    floor = rng.normal(0.0, 0.003, t.size)
    signal = (chirp + harmonics + bursts + floor).astype(np.float32)
    signal /= max(1.0, float(np.abs(signal).max()) / 0.9)
    signal.flags.writeable = False
    return AudioClip(signal[None, :], sample_rate, "WAV", "FLOAT")


def to_wav_bytes(samples: np.ndarray, sample_rate: int) -> bytes:
    """16-bit PCM WAV of ``(channels, frames)`` or ``(frames,)`` float samples (for playback)."""
    data = samples.T if samples.ndim == 2 else samples
    buffer = io.BytesIO()
    sf.write(buffer, np.clip(data, -1.0, 1.0), sample_rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()
