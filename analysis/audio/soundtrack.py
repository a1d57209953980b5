"""A video's soundtrack as an :class:`AudioClip`, decoded with PyAV at its own sample rate;
and :func:`load_media`, which takes a sound or a video.

>>> clip = load_media("interview.mp4")
>>> clip.from_video, clip.format, clip.subtype
(True, 'MP4', 'AAC')
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np

from analysis.audio.decode import AudioClip, load_audio
from analysis.errors import InputError
from analysis.sniff import SNIFF_BYTES, file_kind

# PyAV's container names -> how the page names them.
CONTAINERS = {"mov,mp4,m4a,3gp,3g2,mj2": "MP4", "matroska,webm": "Matroska/WebM", "avi": "AVI"}


def load_media(
    source: str | os.PathLike | bytes,
    *,
    name: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> AudioClip:
    """Decode a sound (:func:`~analysis.audio.decode.load_audio`, which reports its
    ``progress``) or a video's soundtrack (:func:`load_soundtrack`), whichever the file is."""
    if isinstance(source, bytes | bytearray | memoryview):
        head = bytes(source[:SNIFF_BYTES])
    else:
        path = Path(source)
        head = path.open("rb").read(SNIFF_BYTES) if path.is_file() else b""
    if file_kind(head) == "video":
        return load_soundtrack(source, name=name)
    return load_audio(source, name=name, progress=progress)


def load_soundtrack(source: str | os.PathLike | bytes, *, name: str | None = None) -> AudioClip:
    """The first audio stream of a video file (path or bytes), float32, all its channels.

    Raises
    ------
    InputError
        When the file cannot be opened as a video, has no sound, or its sound cannot be
        decoded.
    """
    is_bytes = isinstance(source, bytes | bytearray | memoryview)
    label = f"“{name}”" if name else ("The video" if is_bytes else f"“{Path(source).name}”")
    try:
        with av.open(io.BytesIO(source) if is_bytes else str(source)) as container:
            if not container.streams.audio:
                raise InputError(f"{label} is a video without sound: there is nothing to hear.")
            stream = container.streams.audio[0]
            samples, damaged = _decode(container, stream)
            rate = stream.codec_context.sample_rate or stream.rate
            fmt = CONTAINERS.get(container.format.name, container.format.name.upper())
            codec = stream.codec_context.name.upper()
    except av.FFmpegError as error:
        raise InputError(f"{label} could not be read as a video: it may be damaged.") from error
    if samples.shape[1] == 0:
        raise InputError(f"{label} has a sound track with no samples in it.")
    warnings = ()
    if damaged:
        warnings = ("Some of the video's sound could not be decoded and was left out.",)
    samples.flags.writeable = False
    return AudioClip(samples, int(rate), fmt, codec, warnings, from_video=True)


def _decode(container: av.container.InputContainer, stream) -> tuple[np.ndarray, bool]:
    """Every frame of ``stream`` as float32 ``(channels, frames)``, and whether some packets
    could not be decoded (skipped: a damaged packet costs its own few milliseconds only)."""
    resampler = av.AudioResampler(format="fltp")  # planar float, channels and rate kept
    blocks: list[np.ndarray] = []
    skipped = 0
    for packet in container.demux(stream):
        try:
            frames = stream.decode(packet)
        except av.FFmpegError:
            skipped += 1
            continue
        for frame in frames:
            blocks.extend(converted.to_ndarray() for converted in resampler.resample(frame))
    if not blocks:
        return np.zeros((max(stream.codec_context.channels, 1), 0), np.float32), skipped > 0
    samples = np.concatenate(blocks, axis=1).astype(np.float32, copy=False)
    bad = ~np.isfinite(samples)
    if bad.any():
        samples[bad] = 0.0
    return np.ascontiguousarray(samples), skipped > 0
