"""A command's MEDIA argument: a sound file, or a video whose soundtrack is analysed."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from analysis.errors import InputError
from analysis.sniff import SNIFF_BYTES, file_kind


def read_media(path: str) -> tuple[np.ndarray, int]:
    """The samples ((channels, frames), float32 in [-1, 1]) and rate (Hz) of a sound file,
    or of a video's soundtrack (mono, at most 32 kHz).

    Raises
    ------
    InputError
        In one sentence, for anything else, or a video without sound.
    """
    from analysis.audio.decode import load_audio  # decoding stack, only needed here

    try:
        clip = load_audio(path)
    except InputError:
        if not _is_video(path):
            raise
        return _soundtrack(path)
    return clip.samples, clip.sample_rate


def _is_video(path: str) -> bool:
    try:
        with open(path, "rb") as file:
            return file_kind(file.read(SNIFF_BYTES)) == "video"
    except OSError:
        return False


def _soundtrack(path: str) -> tuple[np.ndarray, int]:
    """A video's first sound stream, decoded alone (its pictures are skipped)."""
    import av

    name = Path(path).name
    try:
        with av.open(path) as container:
            streams = container.streams.audio
            heard = _decode(container, streams[0]) if streams else None
    except (av.FFmpegError, EOFError, ValueError):
        raise InputError(f"The sound of “{name}” could not be decoded.") from None
    if heard is None:
        raise InputError(f"“{name}” is a video without sound: there is no voice in it.")
    samples = heard.samples()
    if samples is None:
        raise InputError(f"The sound of “{name}” could not be decoded.")
    return samples, heard.rate


def _decode(container, stream):
    """A :class:`Soundtrack` that heard all of ``stream``, on the file's time axis."""
    import av

    from analysis.video.io import SoundFormat, Soundtrack

    origin_s = (container.start_time or 0) / av.time_base
    heard = Soundtrack(SoundFormat(stream.rate or 48_000, stream.channels or 1))
    for piece in container.decode(stream):
        heard.hear((piece.time or 0.0) - origin_s, piece)
    return heard
