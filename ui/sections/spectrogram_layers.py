"""What the interactive spectrogram draws over and under its picture, from what the page has
already made: pitch and formants and words (the speech section's finished jobs), sound tags
(the tags section's), the waveform, and spectral peaks for the slice and the measure tool.

Nothing here starts slow work: a layer appears once its section has made it.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from analysis.audio.lanes import envelope, tag_spans, track_in_view
from analysis.audio.peaks import Peaks, peak_params, spectral_peaks
from ui.sections.music import finished_music
from ui.sections.sound import KEPT_FOR
from ui.sections.speech import finished_transcript, finished_voice
from ui.sections.tags import finished_tagging
from ui.spectrogram_view import Layers, Span, Track

PEAK_COLUMNS = 120  # moments across the view whose spectral peaks are named


@st.cache_data(max_entries=16, ttl=KEPT_FOR, show_spinner=False)
def _envelope(
    file_key: str,
    _signal: np.ndarray,
    rate: int,
    channel,
    start_s: float,
    end_s: float,
    columns: int,
) -> tuple[np.ndarray, np.ndarray]:
    return envelope(_signal, rate, start_s=start_s, end_s=end_s, columns=columns)


@st.cache_data(max_entries=16, ttl=KEPT_FOR, show_spinner=False)
def _peaks(
    file_key: str,
    _signal: np.ndarray,
    rate: int,
    channel,
    start_s: float,
    end_s: float,
) -> Peaks:
    times = start_s + (np.arange(PEAK_COLUMNS) + 0.5) / PEAK_COLUMNS * (end_s - start_s)
    return spectral_peaks(_signal, rate, times, peak_params(rate))


def view_layers(
    file_key: str,
    signal: np.ndarray,
    sample_rate: int,
    channel: int | None,
    view: tuple[float, float],
    columns: int,
) -> Layers:
    """The layers of the view ``(start_s, end_s)`` of a file's ``signal`` (the channel or mix
    shown), ``columns`` pixel columns wide. The spectral peaks have a window of their own
    (:func:`~analysis.audio.peaks.peak_params`): an FFT-size step costs none."""
    start_s, end_s = view
    tracks: list[Track] = []
    voice = finished_voice(file_key, start_s, end_s)
    if voice is not None:
        names = ("Pitch (F0)", "F1", "F2", "F3")
        values = np.column_stack([voice.f0_hz, voice.formants_hz])
        times, kept = track_in_view(voice.times, values, start_s, end_s, max_points=2 * columns)
        tracks = [Track(name, times, kept[:, i]) for i, name in enumerate(names)]
    transcript = finished_transcript(file_key, start_s, end_s)
    words = (
        ()
        if transcript is None
        else tuple(
            Span(w.start, w.end, w.word)
            for w in transcript.words
            if w.end > start_s and w.start < end_s
        )
    )
    tagging = finished_tagging(file_key)
    tags = (
        ()
        if tagging is None
        else tuple(Span(a, b, label) for a, b, label, _score in tag_spans(tagging, start_s, end_s))
    )
    music = finished_music(file_key, start_s, end_s)
    chords, beats, onsets, chroma = (), (), (), None
    if music is not None:
        if music.pitch is not None:
            times, f0 = track_in_view(
                music.pitch.times_s, music.pitch.f0_hz, start_s, end_s, max_points=2 * columns
            )
            tracks.append(Track("Notes (pYIN)", times, f0))
        chords = tuple(
            Span(c.start_s, c.end_s, c.name)
            for c in music.chords
            if c.end_s > start_s and c.start_s < end_s
        )
        inside = lambda times: tuple(float(t) for t in times if start_s <= t <= end_s)  # noqa: E731
        beats, onsets = inside(music.beats_s), inside(music.onsets_s)
        times, values = track_in_view(
            music.chroma_times_s, music.chroma.T, start_s, end_s, max_points=columns
        )
        chroma = (times, values.T)
    return Layers(
        tracks=tuple(tracks),
        words=words,
        tags=tags,
        chords=chords,
        beats_s=beats,
        onsets_s=onsets,
        chroma=chroma,
        waveform=_envelope(file_key, signal, sample_rate, channel, start_s, end_s, columns),
        peaks=_peaks(file_key, signal, sample_rate, channel, start_s, end_s),
    )
