"""An interactive spectrogram: the rendered picture with a moving playhead, click to seek,
drag a box to zoom, and a readout of time, frequency, note and level under the pointer.

A Streamlit custom component (components v2: no iframe, plain JavaScript in
this folder, no build step). The browser owns the ``<audio>`` element, so playing,
seeking and the playhead never reach the server; only a zoom box or a reset comes back, and
Python draws the new view.

>>> axes = view_axes(spec)
>>> change = spectrogram_view(jpeg, "image/jpeg", wav, axes, key="view",
...                           levels=pooled_levels(spec, db))
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st

from analysis.audio.mel import hz_to_mel, mel_to_hz
from analysis.audio.spectrogram import Spectrogram
from analysis.figures import SPECTROGRAM_LAYOUT, Layout
from ui.internals import media_url

ASSETS = Path(__file__).parent
NO_DATA = 255  # level code of a cell without a value (codes 0..254 are levels)

_COMPONENT = st.components.v2.component(
    "spectrogram_view",
    html=(ASSETS / "view.html").read_text(encoding="utf-8"),
    css=(ASSETS / "view.css").read_text(encoding="utf-8"),
    js=(ASSETS / "view.js").read_text(encoding="utf-8"),
)


def _to_axis(hz: np.ndarray | float, scale: str) -> np.ndarray:
    """Hz to the frequency axis' units: Hz, log10 Hz or mel."""
    if scale == "log":
        return np.log10(np.asarray(hz, dtype=np.float64))
    if scale == "mel":
        return hz_to_mel(hz)
    return np.asarray(hz, dtype=np.float64)


def _from_axis(value: np.ndarray | float, scale: str) -> np.ndarray:
    """The frequency axis' units back to Hz."""
    value = np.asarray(value, dtype=np.float64)
    if scale == "log":
        return 10.0**value
    if scale == "mel":
        return mel_to_hz(value)
    return value


@dataclass(frozen=True)
class ViewAxes:
    """What the picture shows and where: the axis ranges and the plot area in its pixels.

    Pixel coordinates run from the picture's top-left corner; the plot area spans
    ``plot = (left, top, width, height)``. Time is linear across it; frequency is linear in
    Hz, log10 Hz or mel (HTK) from bottom to top, as ``scale`` says.
    """

    start_s: float  # time at the plot's left edge
    end_s: float  # ... and right edge
    fmin_hz: float  # frequency at the plot's bottom edge
    fmax_hz: float  # ... and top edge
    scale: str  # "linear", "log" or "mel"
    plot: tuple[int, int, int, int]  # left, top, width, height, picture pixels
    image: tuple[int, int]  # width, height of the whole picture, pixels

    def x_of(self, seconds: np.ndarray | float) -> np.ndarray:
        """Picture x (pixels) of a time in seconds."""
        left, _top, width, _height = self.plot
        return left + (np.asarray(seconds) - self.start_s) / (self.end_s - self.start_s) * width

    def time_at(self, x: np.ndarray | float) -> np.ndarray:
        """Time in seconds at picture x (pixels)."""
        left, _top, width, _height = self.plot
        return self.start_s + (np.asarray(x) - left) / width * (self.end_s - self.start_s)

    def y_of(self, hz: np.ndarray | float) -> np.ndarray:
        """Picture y (pixels, downwards) of a frequency in Hz."""
        _left, top, _width, height = self.plot
        low, high = _to_axis(self.fmin_hz, self.scale), _to_axis(self.fmax_hz, self.scale)
        return top + height * (1.0 - (_to_axis(hz, self.scale) - low) / (high - low))

    def freq_at(self, y: np.ndarray | float) -> np.ndarray:
        """Frequency in Hz at picture y (pixels, downwards)."""
        _left, top, _width, height = self.plot
        low, high = _to_axis(self.fmin_hz, self.scale), _to_axis(self.fmax_hz, self.scale)
        return _from_axis(low + (top + height - np.asarray(y)) / height * (high - low), self.scale)


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


def _data_extent(spec: Spectrogram) -> tuple[float, float, float]:
    """(bottom, top, lowest shown) of the drawn rows in axis units, as render_spectrogram
    draws them: linear rows are centred on their frequencies and the axis never starts below
    0 Hz; a zoomed band (``spec.fmin`` above the scale's lowest) starts at its own bottom."""
    if spec.scale == "log":
        low, high = float(np.log10(spec.fmin)), float(np.log10(spec.fmax))
        return low, high, low
    if spec.scale == "mel":
        low = float(hz_to_mel(spec.fmin))
        return low, float(hz_to_mel(spec.fmax)), low
    half_row = (spec.fmax - spec.fmin) / max(len(spec.freqs) - 1, 1) / 2
    return spec.fmin - half_row, spec.fmax + half_row, max(spec.fmin - half_row, 0.0)


def view_axes(spec: Spectrogram, layout: Layout = SPECTROGRAM_LAYOUT) -> ViewAxes:
    """The axes of ``render_spectrogram(spec, ..., layout=layout)`` without a title."""
    _bottom, top, lowest = _data_extent(spec)
    columns, rows = layout.plot_size
    return ViewAxes(
        start_s=float(spec.times[0]),
        end_s=float(spec.times[-1]),
        fmin_hz=float(_from_axis(lowest, spec.scale)),
        fmax_hz=float(_from_axis(top, spec.scale)),
        scale=spec.scale,
        plot=(layout.left, layout.top, columns, rows),
        image=(layout.width, layout.height),
    )


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
    bottom, top, lowest = _data_extent(spec)
    return Levels(codes, floor, step, bottom=(bottom - lowest) / (top - lowest))


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
    view: ViewAxes,
    key: str,
    *,
    audio_mime: str = "audio/wav",
    audio_start_s: float | None = None,
    levels: Levels | None = None,
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
    view : ViewAxes
        The picture's axes (see :func:`view_axes`).
    key : str
        Unique key of this component on the page.
    audio_mime : str
        Type of ``audio``.
    audio_start_s : float, optional
        Time in the file of the audio's first sample, seconds; default ``view.start_s``
        (the audio is the view's time range).
    levels : Levels, optional
        dB values for the readout (see :func:`pooled_levels`); without them it omits dB.
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
        "axes": asdict(view),
        "levels": None
        if levels is None
        else {
            "rows": int(levels.codes.shape[0]),
            "columns": int(levels.codes.shape[1]),
            "floor_db": levels.floor_db,
            "step_db": levels.step_db,
            "bottom": levels.bottom,
            "codes": base64.b64encode(levels.codes.tobytes()).decode("ascii"),
        },
    }

    def report() -> None:  # the trigger is only reported with a callback, so always one
        change = _change(st.session_state[key].get("change"))
        if on_change is not None and change is not None:
            on_change(change)

    result = _COMPONENT(key=key, data=data, on_change_change=report)
    return _change(result.change)
