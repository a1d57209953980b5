"""An interactive spectrogram: the rendered picture with a moving playhead, click to seek,
drag a box to zoom, and a readout of time, frequency, note and level under the pointer.

A Streamlit custom component (components v2: no iframe, plain JavaScript in
this folder, no build step). The browser owns the ``<audio>`` element, so playing,
seeking and the playhead never reach the server; only a zoom box or a reset comes back, and
Python draws the new view.

The picture's axes come from :mod:`analysis.audio.axes`, the mapping the renderer draws
with; the browser gets them as numbers (the frequency of each pixel row's edge) and only
interpolates, so no scale's formula is written twice.

>>> axes = plot_axes(spec)
>>> change = spectrogram_view(jpeg, "image/jpeg", wav, axes, key="view",
...                           levels=pooled_levels(spec, db))
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st

from analysis.audio.axes import PlotAxes, rows_bottom
from analysis.audio.peaks import Peaks
from analysis.audio.spectrogram import Spectrogram
from ui.internals import media_url

ASSETS = Path(__file__).parent
NO_DATA = 255  # level code of a cell without a value (codes 0..254 are levels)

_COMPONENT = st.components.v2.component(
    "spectrogram_view",
    html=(ASSETS / "view.html").read_text(encoding="utf-8"),
    css=(ASSETS / "view.css").read_text(encoding="utf-8"),
    js=(ASSETS / "view.js").read_text(encoding="utf-8"),
)


@dataclass(frozen=True)
class Levels:
    """dB under the plot area on a grid, for the hover readout.

    ``codes`` is uint8, shape ``(rows, columns)``, row 0 lowest; a code ``c`` below
    :data:`NO_DATA` means ``floor_db + c * step_db`` dB (the maximum in its cell). Columns
    span the plot's width; rows span from ``bottom`` (a fraction of the plot's height from its
    lower edge: below 0 when the lowest row is partly cut off, as on the linear scale) to its
    top edge.
    """

    codes: np.ndarray
    floor_db: float
    step_db: float
    bottom: float = 0.0


@dataclass(frozen=True)
class Track:
    """A frequency over time drawn over the picture (pitch, a formant): ``times`` (s) and
    ``hz``, NaN where there is none."""

    name: str
    times: np.ndarray
    hz: np.ndarray


@dataclass(frozen=True)
class Span:
    """Something named between two times (s): a word, a sound tag, a chord."""

    start_s: float
    end_s: float
    text: str


@dataclass(frozen=True)
class Layers:
    """What the view draws over its picture (tracks, markers; each one toggled in the
    browser) and in lanes under it (waveform, tags, words), on the picture's time axis.

    ``waveform`` is the minimum and maximum of the sound in each plot column (values in
    [-1, 1]); ``chroma`` frame times (s) and their 12 pitch-class strengths (0–1, C first,
    shape ``(12, frames)``); ``peaks`` the spectral peaks at moments across the view, which
    the spectrum slice names and the measure tool snaps to.
    """

    tracks: tuple[Track, ...] = ()
    words: tuple[Span, ...] = ()
    tags: tuple[Span, ...] = ()
    chords: tuple[Span, ...] = ()
    beats_s: tuple[float, ...] = ()
    onsets_s: tuple[float, ...] = ()
    waveform: tuple[np.ndarray, np.ndarray] | None = None
    chroma: tuple[np.ndarray, np.ndarray] | None = None
    peaks: Peaks | None = None


@dataclass(frozen=True)
class Zoom:
    """The box a person dragged: a time range (s) and a frequency band (Hz)."""

    start_s: float
    end_s: float
    fmin_hz: float
    fmax_hz: float


@dataclass(frozen=True)
class Reset:
    """Back to the whole file."""


ViewChange = Zoom | Reset


def pooled_levels(
    spec: Spectrogram, db: np.ndarray, *, max_columns: int = 160, max_rows: int = 512
) -> Levels:
    """``db`` (as drawn, shape ``(rows, columns)``) pooled by maximum to at most ``max_rows``
    by ``max_columns`` cells, about 65 kB for the browser at the app's size.

    Rows stay as drawn (at most 406 in :data:`SPECTROGRAM_LAYOUT`): the readout must give the
    level of the very line under the pointer, one pixel off may be 50 dB lower. Time is
    pooled, where the maximum keeps transients.
    """
    rows, columns = db.shape
    grid_rows, grid_columns = min(rows, max_rows), min(columns, max_columns)
    pooled = np.fmax.reduceat(db, np.arange(grid_rows) * rows // grid_rows, axis=0)
    pooled = np.fmax.reduceat(pooled, np.arange(grid_columns) * columns // grid_columns, axis=1)
    known = np.isfinite(pooled)
    floor = float(pooled[known].min()) if known.any() else 0.0
    span = float(pooled[known].max()) - floor if known.any() else 0.0
    step = span / (NO_DATA - 1) if span > 0 else 1.0
    codes = np.full(pooled.shape, NO_DATA, dtype=np.uint8)
    codes[known] = np.rint((pooled[known] - floor) / step).astype(np.uint8)
    return Levels(codes, floor, step, bottom=rows_bottom(spec))


def browser_axes(view: PlotAxes) -> dict[str, Any]:
    """The axes as view.js reads them: the time range, the plot area and the picture's size
    in pixels, and ``row_edges_hz``, the frequency of each pixel row's edge from the plot's
    bottom edge up (:meth:`PlotAxes.row_edges_hz`)."""
    return {
        "start_s": view.start_s,
        "end_s": view.end_s,
        "plot": list(view.plot),
        "image": list(view.image),
        "row_edges_hz": view.row_edges_hz().tolist(),
    }


def browser_levels(levels: Levels) -> dict[str, Any]:
    """The levels as view.js reads them: the codes as base64 bytes, row 0 lowest."""
    return {
        "rows": int(levels.codes.shape[0]),
        "columns": int(levels.codes.shape[1]),
        "floor_db": levels.floor_db,
        "step_db": levels.step_db,
        "bottom": levels.bottom,
        "codes": base64.b64encode(levels.codes.tobytes()).decode("ascii"),
    }


def _numbers(values: np.ndarray, decimals: int) -> list[float | None]:
    """Rounded numbers for JSON, None for NaN (JSON has no NaN)."""
    rounded = np.round(np.asarray(values, dtype=np.float64), decimals)
    return [None if np.isnan(x) else float(x) for x in rounded.ravel()]


def browser_layers(layers: Layers) -> dict[str, Any]:
    """The layers as view.js reads them: plain lists, None for NaN."""
    spans = lambda items: [[round(x.start_s, 3), round(x.end_s, 3), x.text] for x in items]  # noqa: E731
    peaks = layers.peaks
    return {
        "tracks": [
            {"name": t.name, "times": _numbers(t.times, 3), "hz": _numbers(t.hz, 1)}
            for t in layers.tracks
        ],
        "words": spans(layers.words),
        "tags": spans(layers.tags),
        "chords": spans(layers.chords),
        "chroma": None
        if layers.chroma is None
        else {
            "times": _numbers(layers.chroma[0], 3),
            "values": [_numbers(row, 2) for row in layers.chroma[1]],
        },
        "beats": [round(t, 3) for t in layers.beats_s],
        "onsets": [round(t, 3) for t in layers.onsets_s],
        "waveform": None
        if layers.waveform is None
        else [_numbers(layers.waveform[0], 3), _numbers(layers.waveform[1], 3)],
        "peaks": None
        if peaks is None
        else {
            "times": _numbers(peaks.times_s, 4),
            "hz": [_numbers(row, 2) for row in peaks.hz],
            "db": [_numbers(row, 1) for row in peaks.db],
        },
    }


def _change(value: Any) -> ViewChange | None:
    """The component's trigger value as a ViewChange (None for anything malformed)."""
    if not isinstance(value, dict):
        return None
    if value.get("kind") == "reset":
        return Reset()
    try:
        start, end, low, high = (
            float(value[name]) for name in ("start_s", "end_s", "fmin_hz", "fmax_hz")
        )
    except (KeyError, TypeError, ValueError):
        return None
    if value.get("kind") != "zoom" or not (end > start and high > low):
        return None
    return Zoom(start_s=start, end_s=end, fmin_hz=low, fmax_hz=high)


def spectrogram_view(
    picture: bytes,
    mime: str,
    audio: bytes | None,
    view: PlotAxes,
    key: str,
    *,
    audio_mime: str = "audio/wav",
    audio_start_s: float | None = None,
    levels: Levels | None = None,
    layers: Layers | None = None,
    on_change: Callable[[ViewChange], None] | None = None,
) -> ViewChange | None:
    """Show the spectrogram ``picture`` with its playback, playhead, zoom box and readout.

    Parameters
    ----------
    picture : bytes
        The rendered spectrogram (PNG or JPEG), whose axes ``view`` describes.
    mime : str
        Its type, e.g. ``"image/jpeg"``.
    audio : bytes or None
        Sound to play (e.g. the selection as WAV); None disables playing.
    view : PlotAxes
        The picture's axes (see :func:`analysis.audio.axes.plot_axes`).
    key : str
        Unique key of this component on the page.
    audio_mime : str
        Type of ``audio``.
    audio_start_s : float, optional
        Time in the file of the audio's first sample, seconds; default ``view.start_s``
        (the audio is the view's time range).
    levels : Levels, optional
        dB values for the readout and the spectrum slice (see :func:`pooled_levels`);
        without them both omit dB.
    layers : Layers, optional
        Tracks and markers over the picture and lanes under it.
    on_change : callable, optional
        Called with the change before the run it causes, as a widget's callback is: set the
        state the new view comes from there, and that run draws it (no second run).

    Returns
    -------
    Zoom, Reset or None
        What the person asked for in the run it arrives in, else None.
    """
    data = {
        "picture": media_url(picture, mime, f"{key}.picture"),
        "audio": None if audio is None else media_url(audio, audio_mime, f"{key}.audio"),
        "audio_start_s": view.start_s if audio_start_s is None else audio_start_s,
        "axes": browser_axes(view),
        "levels": None if levels is None else browser_levels(levels),
        "layers": browser_layers(layers or Layers()),
    }

    def report() -> None:  # the trigger is only reported with a callback, so always one
        change = _change(st.session_state[key].get("change"))
        if on_change is not None and change is not None:
            on_change(change)

    result = _COMPONENT(key=key, data=data, on_change_change=report)
    return _change(result.change)
