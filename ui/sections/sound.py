"""The Audio page's sound: decoded once per file, played as the browser can play it, its facts
as the page states them, and the page's sentences when something goes wrong.

``app_pages/audio.py`` decodes with :func:`decode` (or :func:`sample_clip`) and asks
:func:`playable` what the spectrogram plays.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

import numpy as np
import streamlit as st

from analysis.audio.decode import AudioClip, demo_clip, to_wav_bytes
from analysis.audio.soundtrack import load_media
from ui.memory import per_sound

LOG = logging.getLogger(__name__)
# Containers a browser's <audio> element plays as they are; others are converted to WAV.
BROWSER_PLAYABLE = {
    "WAV": "audio/wav",
    "FLAC": "audio/flac",
    "OGG": "audio/ogg",
    "MP3": "audio/mpeg",
}
ENCODINGS = {
    "PCM_U8": "8-bit PCM",
    "PCM_S8": "8-bit PCM",
    "PCM_16": "16-bit PCM",
    "PCM_24": "24-bit PCM",
    "PCM_32": "32-bit PCM",
    "FLOAT": "32-bit float",
    "DOUBLE": "64-bit float",
    "VORBIS": "Vorbis",
    "OPUS": "Opus",
    "MPEG_LAYER_III": "MP3",
}
# A selection up to this long plays as a WAV of its own (exact in any format: an MP3 seeks
# only roughly); longer ones play from the whole file, as a WAV costs ~0.1 s a minute of stereo.
EXACT_PLAYBACK_S = 60
# The decoded sound of the file a person works on (a 10-minute stereo file is 210 MB of
# samples) is kept by ui.memory.per_sound: under the server's byte budget, for an hour, until
# another sound is opened or no session is open, so that memory goes back once the work is
# over; the page then decodes again from the kept bytes. Its smaller results keep as long.
KEPT_FOR = "1h"
UNEXPECTED = "Something went wrong while analysing this audio; try another file or other settings."


@per_sound(max_entries=1)
def decode(
    file_key: str, _data: bytes, name: str, _progress: Callable[[int, int], None] | None = None
) -> AudioClip:
    """The decoded clip (a sound, or a video's soundtrack), shared by every session that opens
    the same content; ``_progress(frames decoded, frames in all)`` hears how far it is."""
    return load_media(_data, name=name, progress=_progress)


@st.cache_resource(max_entries=1, show_spinner=False)
def sample_clip() -> tuple[AudioClip, bytes]:
    clip = demo_clip()
    return clip, to_wav_bytes(clip.samples, clip.sample_rate)


@per_sound(max_entries=1)
def playback_wav(file_key: str, _clip: AudioClip) -> bytes:
    """WAV for formats or channel counts a browser may not play as they are."""
    samples = _clip.samples if _clip.channels <= 2 else _clip.mono()
    return to_wav_bytes(samples, _clip.sample_rate)


@per_sound(max_entries=1)
def selection_wav(file_key: str, _clip: AudioClip, start_s: float, end_s: float) -> bytes:
    """WAV of the selected range only, for exact playback of it."""
    first, last = round(start_s * _clip.sample_rate), round(end_s * _clip.sample_rate)
    samples = _clip.samples[:, first:last]
    if _clip.channels > 2:
        samples = samples.mean(axis=0, dtype=np.float32)
    return to_wav_bytes(samples, _clip.sample_rate)


def playable(
    clip: AudioClip,
    file_key: str,
    upload: tuple[bytes, str] | None,
    start_s: float,
    end_s: float,
    whole_file: bool,
) -> tuple[bytes, str, float]:
    """What the spectrogram plays for a selection: (bytes, type, time in the file of its first
    sample, s). ``upload``: the file as given and its type, when a browser plays it as it is."""
    if not whole_file and end_s - start_s <= EXACT_PLAYBACK_S:
        return selection_wav(file_key, clip, start_s, end_s), "audio/wav", start_s
    if upload is None:
        upload = playback_wav(file_key, clip), "audio/wav"
    return *upload, 0.0


def format_duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.3g} s" if seconds < 1 else f"{seconds:.1f} s"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}:{rest:04.1f} min"


def facts_line(clip: AudioClip, duration_s: float | None = None) -> str:
    """The facts in one line, for a phone: "12.3 s · 44,100 Hz · stereo · WAV, 16-bit PCM";
    ``duration_s``: the file's, when ``clip`` is only its first part."""
    channels = {1: "mono", 2: "stereo"}.get(clip.channels, f"{clip.channels} channels")
    duration_s = clip.duration if duration_s is None else duration_s
    return (
        f"{format_duration(duration_s)} · {clip.sample_rate:,} Hz · {channels} · "
        f"{clip.format}, {encoding_name(clip.subtype)}"
    )


def encoding_name(subtype: str) -> str:
    """How the facts name an encoding: "16-bit PCM" for libsndfile's "PCM_16"."""
    return ENCODINGS.get(subtype, subtype.replace("_", " "))


def markdown_literal(text: str) -> str:
    """User text (a file name) shown literally in Streamlit's markdown: no links, no styling."""
    return re.sub(r"([\\`*_\[\]<>#~$|:])", r"\\\1", text)


def show_input_error(message: str, name: str) -> None:
    """A sentence about the file ``name`` (quoted in it as “name”), shown literally: st.error
    renders markdown, where a file name could be a link or styling."""
    st.error(message.replace(f"“{name}”", f"“{markdown_literal(name)}”"))


def show_unexpected(error: Exception) -> None:
    LOG.exception("audio page", exc_info=error)
    st.error(UNEXPECTED)
