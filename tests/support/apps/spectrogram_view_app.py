"""Test harness for ui/spectrogram_view: a 1 kHz tone, its spectrogram, and what came back.

Run by the tests and bench/bench_spectrogram_view.py only:
``python -m streamlit run tests/support/apps/spectrogram_view_app.py`` from the project root;
``?scale=linear`` (or mel) picks the frequency scale, ``?seconds=1800`` the tone's length,
``?tones=1000,1500`` the tones (Hz, each at 0.3 of full scale instead of the one at 0.5), and
``?layers=1`` adds layers: a pitch track on the first tone, words "one" to "four" (a second
each), a sound tag, chords C then G, a beat every half second and a chroma all C.
The spectrogram is a fragment whose callback asks for a full run, as on the Audio page, and
the page counts its runs and the fragment's.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from analysis.audio.axes import PlotAxes, plot_axes
from analysis.audio.decode import to_wav_bytes
from analysis.audio.lanes import envelope, track_in_view
from analysis.audio.peaks import spectral_peaks
from analysis.audio.render import render_spectrogram
from analysis.audio.spectrogram import spectrogram, to_db
from analysis.audio.stft import STFTParams, view_hop
from analysis.figures import SPECTROGRAM_LAYOUT
from ui.spectrogram_view import (
    Layers,
    Levels,
    Reset,
    Span,
    Track,
    ViewChange,
    Zoom,
    pooled_levels,
    spectrogram_view,
)

RATE = 22050
TONE_HZ = 1000.0
DB_RANGE = 80.0
PLAYABLE_S = 300  # longer views come without sound, as on the Audio page


@st.cache_resource(max_entries=1)
def half_scale_tone(seconds: float, tones: tuple[float, ...] = ()) -> np.ndarray:
    """The tone, float32: 1 kHz at 22.05 kHz repeats every 441 samples, so 30 min is a tiling.
    ``tones``: other tones (Hz) instead, each at 0.3 of full scale."""
    samples = int(RATE * seconds)
    if tones:
        t = np.arange(samples) / RATE
        return sum(0.3 * np.sin(2 * np.pi * hz * t) for hz in tones).astype(np.float32)
    period = 0.5 * np.sin(2 * np.pi * TONE_HZ * np.arange(441) / RATE)
    return np.tile(period.astype(np.float32), samples // 441 + 1)[:samples]


@st.cache_data(max_entries=4)
def view(
    seconds: float, scale: str, start_s: float, end_s: float, tones: tuple[float, ...] = ()
) -> tuple[bytes, bytes | None, PlotAxes, Levels]:
    """Picture, sound, axes and levels of a time range, cached as the Audio page caches them."""
    tone = half_scale_tone(seconds, tones)
    columns, rows = SPECTROGRAM_LAYOUT.plot_size
    hop = view_hop(2048, round((end_s - start_s) * RATE), columns)  # sharp, as on the page
    spec = spectrogram(
        tone, RATE, STFTParams(2048, hop), scale=scale, start_s=start_s, end_s=end_s,
        max_columns=columns, max_rows=rows,
    )  # fmt: skip
    db, peak_db = to_db(spec.power, db_range=DB_RANGE)
    picture = render_spectrogram(
        spec, db, db_floor=peak_db - DB_RANGE, db_top=peak_db, image_format="jpeg"
    )
    sound = None
    if end_s - start_s <= PLAYABLE_S:
        sound = to_wav_bytes(tone[round(start_s * RATE) : round(end_s * RATE)], RATE)
    return picture, sound, plot_axes(spec), pooled_levels(spec, db)


def layers(seconds: float, tones: tuple[float, ...], start_s: float, end_s: float) -> Layers:
    """The harness's layers: the first tone as a pitch track, a word a second, one tag; and
    the waveform and peaks as the Audio page makes them."""
    signal = half_scale_tone(seconds, tones)
    times = np.arange(0.0, seconds, 0.01)
    pitch = np.full(times.size, tones[0] if tones else TONE_HZ)
    pitch[(times > 1.9) & (times < 2.1)] = np.nan  # an unvoiced gap
    columns = SPECTROGRAM_LAYOUT.plot_size[0]
    times, pitch = track_in_view(times, pitch, start_s, end_s, max_points=2 * columns)
    peak_times = start_s + (np.arange(120) + 0.5) / 120 * (end_s - start_s)
    return Layers(
        tracks=(Track("Pitch (F0)", times, pitch), Track("F1", times, pitch * 2)),
        words=tuple(Span(i, i + 0.9, f" {w}") for i, w in enumerate(WORDS) if i < seconds),
        tags=(Span(0.0, seconds, "Sine wave"),),
        chords=(Span(0.0, seconds / 2, "C"), Span(seconds / 2, seconds, "G")),
        beats_s=tuple(np.arange(0.0, seconds, 0.5)),
        chroma=(times[::10], np.eye(12)[:, [0] * (times.size // 10 + (times.size % 10 > 0))]),
        waveform=envelope(signal, RATE, start_s=start_s, end_s=end_s, columns=columns),
        peaks=spectral_peaks(signal, RATE, peak_times, STFTParams(2048)),
    )


WORDS = ("one", "two", "three", "four")
st.set_page_config(layout="wide")  # the picture shown near its own size
scale = st.query_params.get("scale", "log")
SECONDS = float(st.query_params.get("seconds", 4.0))
TONES = tuple(float(hz) for hz in st.query_params.get("tones", "").split(",") if hz)
WITH_LAYERS = st.query_params.get("layers") == "1"
# Runs of the whole script and of the spectrogram's fragment, for the tests to count.
st.session_state.page_runs = st.session_state.get("page_runs", 0) + 1


def show(change: ViewChange) -> None:
    """The component's callback, as the Audio page's: the range to draw, what came, and one
    full run to draw it (on the page, the time range slider is outside the fragment)."""
    st.session_state.received = change
    st.session_state.shown_range = (
        (0.0, SECONDS)
        if isinstance(change, Reset)
        else (max(change.start_s, 0.0), min(change.end_s, SECONDS))
    )
    st.rerun()


@st.fragment
def spectrogram_section(start_s: float, end_s: float) -> None:
    """The spectrogram in a fragment of its own, as on the Audio page."""
    st.session_state.fragment_runs = st.session_state.get("fragment_runs", 0) + 1
    picture, selection, axes, levels = view(SECONDS, scale, start_s, end_s, TONES)
    spectrogram_view(
        picture, "image/jpeg", selection, axes, key="spectrogram", levels=levels,
        layers=layers(SECONDS, TONES, start_s, end_s) if WITH_LAYERS else None, on_change=show,
    )  # fmt: skip
    received = st.session_state.get("received")
    if isinstance(received, Zoom):
        st.write(
            f"Received zoom: {received.start_s:.3f}–{received.end_s:.3f} s, "
            f"{received.fmin_hz:.0f}–{received.fmax_hz:.0f} Hz"
        )
    elif isinstance(received, Reset):
        st.write("Received reset")
    st.write(f"View: {start_s:.3f}–{end_s:.3f} s")
    st.button("Run the spectrogram")  # a run of the fragment alone, to count against
    st.write(
        f"Runs: {st.session_state.page_runs} of the page, "
        f"{st.session_state.fragment_runs} of the spectrogram"
    )


spectrogram_section(*st.session_state.setdefault("shown_range", (0.0, SECONDS)))
