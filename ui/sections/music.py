"""The audio page's "Music" section: tempo and beats, key, chords, notes, and the harmonic and
percussive parts of the sound (librosa).

``app_pages/audio.py`` calls :func:`show_music`. The features of a minute of sound take a
second or two, those of a 10-minute song about ten (pYIN's pitch is most of it), so they
run as a background job (:mod:`ui.jobs`, kind ``"music"``), keyed by the file's content and
the analysed range: identical work is done once for every session, and the page's controls
never wait. A clip of up to a minute is analysed when opened; a longer one on a click, for
the selected range. Separating the harmonic and percussive parts (about 4 s a minute) is
its own job (kind ``"hpss"``), on a click.

Other views of the page (the spectrogram's layers and lanes) read what is already made with
:func:`finished_music`; it starts nothing. Its :class:`~analysis.audio.music.Music` has every
time in seconds from the file's start and every frequency in Hz: ``beats_s``, ``onsets_s``,
``chroma`` (12 × frames, C first, each frame scaled to a peak of 1) at ``chroma_times_s``,
``chords`` (``start_s``, ``end_s``, ``name``: ``"C"``, ``"Am"``, ``"C5"`` for a root and
fifth with no third, ``"N"`` for none), ``key`` (``name``, ``confidence``, ``sure``),
``tempo_bpm`` with ``tempo_sure``, and ``pitch`` (``times_s``, ``f0_hz`` with NaN where
unvoiced, ``voiced_probability``, ``notes`` such as ``"A4"``).
"""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import streamlit as st

from analysis.audio.decode import to_wav_bytes
from analysis.audio.harmony import NO_CHORD
from analysis.audio.music import CLEAR_BEAT, Music, analyse_music
from analysis.audio.separation import separate
from analysis.audio.timbre import timbre_features
from analysis.errors import InputError
from ui import device, jobs
from ui.jobs import Job

AUTO_S = 60.0  # clips up to this long are analysed when opened: a second or two of work
SHOWN_CHORDS = 24  # chords written out in the sequence line; the table has them all


def _part(clip, start_s: float, end_s: float) -> np.ndarray:
    """The samples between two times (s): a view, no copy."""
    return clip.samples[:, round(start_s * clip.sample_rate) : round(end_s * clip.sample_rate)]


def _start_music(clip, file_key: str, start_s: float, end_s: float) -> Job:
    samples = _part(clip, start_s, end_s)

    def compute(progress: jobs.Progress) -> Music:
        return analyse_music(samples, clip.sample_rate, progress=progress.step).shifted(start_s)

    key = (file_key, "music", start_s, end_s)
    return jobs.start(key, "music", "Finding beats, key, chords and notes", "steps", compute)


def _start_separation(clip, file_key: str, start_s: float, end_s: float) -> Job:
    samples = _part(clip, start_s, end_s)

    def compute(progress: jobs.Progress) -> tuple[bytes, bytes]:
        parts = separate(samples, clip.sample_rate, progress=progress.step)
        return (
            to_wav_bytes(parts.harmonic, parts.sample_rate),
            to_wav_bytes(parts.percussive, parts.sample_rate),
        )

    key = (file_key, "hpss", start_s, end_s)
    return jobs.start(key, "hpss", "Separating harmonic and percussive parts", "blocks", compute)


def finished_music(file_key: str, start_s: float, end_s: float) -> Music | None:
    """The musical features already found of ``file_key`` over a range covering
    ``[start_s, end_s]`` (s), for other views of the page; None if there are none yet.
    Starts nothing. The result may cover more than the range asked for (its ``start_s`` and
    ``end_s`` say which); its times are from the file's start."""
    job = jobs.covering((file_key, "music"), round(start_s, 3), round(end_s, 3))
    return None if job is None else job.result


def _pending(job: Job | None) -> bool:
    """Whether this session has yet to ask for the work (see ``ui.sections.speech``)."""
    if job is None:
        return True
    return job.result is None and job.failure is None and not (job.running and jobs.watching(job))


def _stopped(job: Job | None) -> bool:
    return job is not None and jobs.stopped_here(job)


def show_music(clip, start_s: float, end_s: float, file_key: str) -> None:
    """Render the musical features of ``clip`` (an ``AudioClip``) between two times (s).

    ``file_key`` identifies the decoded file (e.g. its content hash): results are kept once
    per file and analysed range, and reused for every range inside it.
    """
    st.subheader("Music")
    start_s, end_s = round(start_s, 3), round(end_s, 3)
    finding = jobs.covering((file_key, "music"), start_s, end_s)
    if clip.duration <= AUTO_S and _pending(finding) and not _stopped(finding):
        finding = _start_music(clip, file_key, 0.0, round(clip.duration, 3))
    separating = jobs.covering((file_key, "hpss"), start_s, end_s)
    running = [
        job
        for job in (finding, separating)
        if job is not None and job.running and jobs.watching(job)
    ]
    if running:
        jobs.show_progress(running, key="music_stop")
    elif _pending(finding):
        _start_button(clip, file_key, start_s, end_s)
    for job in (finding, separating):
        if job is not None and job.failure is not None:
            _say_failure(job)
    if _stopped(finding):
        st.caption("Stopped.")
    music = None if finding is None else finding.result
    if music is not None:
        _show_facts(music)
        _show_chords(music)
        _show_pitch(music)
        _show_downloads(clip, music, file_key)
    _show_parts(clip, file_key, start_s, end_s, separating, bool(running))


def _say_failure(job: Job) -> None:
    if isinstance(job.failure, InputError):
        st.info(str(job.failure))
    else:
        st.error(f"{job.what} failed on this sound; the rest of the page still works.")


def _start_button(clip, file_key: str, start_s: float, end_s: float) -> None:
    whole = start_s <= 0 and end_s >= clip.duration - 1e-3
    named = "the whole file" if whole else f"{start_s:.2f} s to {end_s:.2f} s"
    if st.button(
        "Find beats, key and chords",
        key="music_start",
        icon=":material/music_note:",
        help=f"Analyse {named} in the background; the page keeps working meanwhile.",
    ):
        _start_music(clip, file_key, start_s, end_s)
        st.rerun()  # redraw with the progress
    st.caption(f"Analyses {named}: about a second per minute of music on a free core.")


def _show_facts(music: Music) -> None:
    """Tempo and key, each with how sure it is, in words a musician reads (on a phone, one
    line: two tiles would stack and push the rest a screen down)."""
    if music.tempo_sure:
        tempo = f"{music.tempo_bpm:.0f} BPM"
        tempo_note = f"{len(music.beats_s)} beats, {len(music.onsets_s)} note onsets."
    else:
        tempo = "No clear beat"
        tempo_note = (
            f"The onsets are not regular enough for a tempo (clarity {music.beat_clarity:.2f}, "
            f"needs {CLEAR_BEAT}). {len(music.onsets_s)} note onsets."
        )
    found = music.key
    if found.sure:
        key = found.name
        key_note = (
            f"Confidence {found.confidence:.2f}; shares its notes with {found.relative}; "
            f"next: {found.runner_up}."
        )
    else:
        key = "Unsure"
        key_note = (
            f"Best guess {found.name} (confidence {found.confidence:.2f}), "
            f"nearly as likely {found.runner_up}."
        )
    if device.is_phone():
        st.markdown(f"**Tempo:** {tempo} · **Key:** {key}")
        st.caption(f"{tempo_note} Key: {key_note}")
    else:
        left, right = st.columns(2)
        left.metric("Tempo", tempo)
        left.caption(tempo_note)
        right.metric("Key", key)
        right.caption(key_note)
    st.caption(f"Analysed {music.start_s:.2f} s to {music.end_s:.2f} s.")


def _show_chords(music: Music) -> None:
    named = [chord for chord in music.chords if chord.name != NO_CHORD]
    if not named:
        st.caption("No chords: no major or minor triad is heard clearly.")
        return
    line = " → ".join(chord.name for chord in named[:SHOWN_CHORDS])
    more = f" … and {len(named) - SHOWN_CHORDS} more" if len(named) > SHOWN_CHORDS else ""
    st.text(f"Chords: {line}{more}")
    with st.expander(f"All {len(music.chords)} chord spans"):
        st.dataframe(
            {
                "start (s)": [round(c.start_s, 2) for c in music.chords],
                "end (s)": [round(c.end_s, 2) for c in music.chords],
                "chord": [c.name for c in music.chords],
            },
            hide_index=True,
            width="stretch",
        )


def _show_pitch(music: Music) -> None:
    if music.pitch is None:
        return
    notes = [note for note in music.pitch.notes if note is not None]
    if not notes:
        st.caption("Pitch: no steady pitch heard.")
        return
    share = len(notes) / len(music.pitch.notes)
    common = ", ".join(
        f"{note} ({count / len(notes):.0%})" for note, count in Counter(notes).most_common(5)
    )
    st.text(f"Notes most heard: {common}")
    st.caption(
        f"pYIN hears a pitch in {share:.0%} of the time. It follows one voice or instrument; "
        "in a mix it may jump between parts or an octave."
    )


def _show_downloads(clip, music: Music, file_key: str) -> None:
    samples = _part(clip, music.start_s, music.end_s)

    def features_csv() -> str:
        return timbre_features(samples, clip.sample_rate).shifted(music.start_s).to_csv()

    left, right = st.columns(2)
    left.download_button(
        "MFCC and spectral features (CSV)",
        features_csv,
        file_name="features.csv",
        mime="text/csv",
        key=f"music_csv_{file_key}",
        help="Per 23 ms frame: 13 MFCCs, centroid, bandwidth, roll-off, flatness, ZCR, RMS.",
    )
    right.download_button(
        "Beats, key, chords and pitch (JSON)",
        lambda: json.dumps(music.to_dict()),
        file_name="music.json",
        mime="application/json",
        key=f"music_json_{file_key}",
    )


def _show_parts(
    clip, file_key: str, start_s: float, end_s: float, job: Job | None, busy: bool
) -> None:
    """Players of the harmonic and percussive parts, or the button that separates them."""
    parts = None if job is None else job.result
    if parts is not None:
        harmonic, percussive = st.columns(2)
        harmonic.caption("Harmonic part: sustained tones")
        harmonic.audio(parts[0], format="audio/wav")
        percussive.caption("Percussive part: drums and attacks")
        percussive.audio(parts[1], format="audio/wav")
    elif (
        not busy
        and _pending(job)
        and st.button(
            "Separate harmonic and percussive parts",
            key="music_hpss",
            icon=":material/call_split:",
            help="Median filtering of the spectrogram (librosa's HPSS): a few seconds a minute.",
        )
    ):
        _start_separation(clip, file_key, start_s, end_s)
        st.rerun()
