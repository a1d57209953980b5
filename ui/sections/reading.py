"""A long Ogg or FLAC sound shown from its first minute while the whole file decodes in the
background: a first picture in a few seconds, where decoding a 28-minute OGG takes ~20 s.

``app_pages/audio.py`` opens an upload with :func:`open_sound`; while :attr:`Opened.reading`
runs, the page shows the first part and :func:`show_reading`, and holds the sections that
need the whole file (tags, speech, music) back. When the decode ends, the page runs again
with the whole file.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from analysis.audio.decode import AudioClip, load_audio_head
from ui import jobs
from ui.jobs import Job
from ui.memory import opening_sound, per_sound
from ui.sections.sound import decode, format_duration

HEAD_S = 60.0  # s of a long file shown while the rest decodes
# Longer files are read ahead (decoding 3 minutes of OGG takes ~2 s).
READ_AHEAD_FROM_S = 180.0


@dataclass(frozen=True)
class Opened:
    """An upload as the page shows it: the whole file, or its first part while it decodes."""

    clip: AudioClip
    file_key: str  # of what ``clip`` holds: the file's content hash, or its first part's
    duration_s: float  # the whole file's
    reading: Job | None = None  # the whole file's decode, while the clip is its first part


@per_sound(max_entries=1)
def first_part(file_key: str, _data: bytes) -> tuple[AudioClip, float] | None:
    """The first :data:`HEAD_S` of a long Ogg or FLAC sound and its duration (s); else None."""
    try:
        return load_audio_head(_data, HEAD_S, longer_than=READ_AHEAD_FROM_S)
    except Exception:  # not a sound libsndfile reads (a video, damage): decode() says what
        return None


def open_sound(file_key: str, data: bytes, name: str) -> Opened:
    """The upload ``data`` (content hash ``file_key``): decoded whole now, or, for a long Ogg
    or FLAC sound, its first part while the whole file decodes in a background job.

    Raises InputError as :func:`ui.sections.sound.decode` does, when the decode fails.
    """
    opening_sound(file_key)
    head = first_part(file_key, data)
    if head is None:
        clip = decode(file_key, data, name)
        return Opened(clip, file_key, clip.duration)
    first, duration_s = head
    key = (file_key, "decode")
    job = jobs.board().get(key)
    if job is None or not jobs.stopped_here(job):
        job = _read_whole(file_key, data, name, first.sample_rate)
    if job.failure is not None:
        raise job.failure
    if job.running or jobs.stopped_here(job):
        return Opened(first, f"{file_key}-first-{HEAD_S:g}s", duration_s, job)
    clip = decode(file_key, data, name)  # decoded by the job: from the cache
    return Opened(clip, file_key, clip.duration)


def _read_whole(file_key: str, data: bytes, name: str, rate: int) -> Job:
    def compute(progress: jobs.Progress) -> bool:
        decode(file_key, data, name, lambda done, total: progress.step(done / rate, total / rate))
        return True  # the clip stays in decode()'s cache only

    return jobs.start((file_key, "decode"), "decode", "Reading the whole file", "s", compute)


def show_reading(opened: Opened, file_key: str, data: bytes, name: str) -> None:
    """What the page says while it shows the first part of the upload ``data`` (content hash
    ``file_key``): how much, and the progress of reading the rest (or, once stopped here, a
    button to read it after all)."""
    job = opened.reading
    shown, whole = format_duration(opened.clip.duration), format_duration(opened.duration_s)
    if job is not None and job.running and jobs.watching(job):
        st.caption(
            f"Still reading the file: its first {shown} is shown, of {whole}. The whole "
            "file's picture, its sound tags, speech and music follow when it is read."
        )
        jobs.show_progress(
            [job], "audio_reading_stop", "Stop reading: the page keeps the first part only."
        )
        return
    st.caption(f"Reading was stopped: only the file's first {shown} is shown, of {whole}.")
    st.button(
        "Read the whole file",
        on_click=_read_whole,
        args=(file_key, data, name, opened.clip.sample_rate),
    )
