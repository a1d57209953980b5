"""Where a spectrogram picture puts each time and frequency: the one mapping that
:func:`analysis.audio.render.render_spectrogram` draws with and the interactive view reads.

Time runs linearly across the plot area. Frequency runs from bottom to top linearly in Hz,
in log10 Hz or in mel (HTK), as the spectrogram's scale says: the "axis units". Linear rows
are centred on their frequencies, so the drawn rows reach half a row past the outer centres,
and the axis never starts below 0 Hz; log and mel rows span exactly ``fmin`` to ``fmax``.

>>> axes = plot_axes(spec, SPECTROGRAM_LAYOUT)
>>> axes.freq_at(axes.plot[1])  # the frequency at the plot's top edge, Hz
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.audio.mel import hz_to_mel, mel_to_hz
from analysis.audio.spectrogram import Spectrogram
from analysis.figures import SPECTROGRAM_LAYOUT, Layout


def to_axis(hz: np.ndarray | float, scale: str) -> np.ndarray:
    """Hz to the frequency axis' units: Hz (linear), log10 Hz (log) or mel (mel)."""
    if scale == "log":
        return np.log10(np.asarray(hz, dtype=np.float64))
    if scale == "mel":
        return hz_to_mel(hz)
    return np.asarray(hz, dtype=np.float64)


def from_axis(value: np.ndarray | float, scale: str) -> np.ndarray:
    """The frequency axis' units back to Hz."""
    value = np.asarray(value, dtype=np.float64)
    if scale == "log":
        return 10.0**value
    if scale == "mel":
        return mel_to_hz(value)
    return value


def row_extent(spec: Spectrogram) -> tuple[float, float]:
    """(bottom, top) of the drawn rows, axis units."""
    if spec.scale == "linear":
        half_row = (spec.fmax - spec.fmin) / max(len(spec.freqs) - 1, 1) / 2
        return spec.fmin - half_row, spec.fmax + half_row
    return float(to_axis(spec.fmin, spec.scale)), float(to_axis(spec.fmax, spec.scale))


def shown_range(spec: Spectrogram) -> tuple[float, float]:
    """(bottom, top) of the plot, axis units: the drawn rows, on the linear scale from 0 Hz
    at the lowest (a zoomed band starts at its own bottom)."""
    bottom, top = row_extent(spec)
    return (max(bottom, 0.0) if spec.scale == "linear" else bottom), top


def rows_bottom(spec: Spectrogram) -> float:
    """Where the lowest drawn row starts, as a fraction of the plot's height from its lower
    edge: below 0 when it is partly cut off (linear rows centred on 0 Hz), else 0."""
    bottom, top = row_extent(spec)
    low, _top = shown_range(spec)
    return (bottom - low) / (top - low)


@dataclass(frozen=True)
class PlotAxes:
    """What a picture shows and where: the axis ranges and the plot area in its pixels.

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
        low, high = to_axis(self.fmin_hz, self.scale), to_axis(self.fmax_hz, self.scale)
        return top + height * (1.0 - (to_axis(hz, self.scale) - low) / (high - low))

    def freq_at(self, y: np.ndarray | float) -> np.ndarray:
        """Frequency in Hz at picture y (pixels, downwards)."""
        _left, top, _width, height = self.plot
        low, high = to_axis(self.fmin_hz, self.scale), to_axis(self.fmax_hz, self.scale)
        return from_axis(low + (top + height - np.asarray(y)) / height * (high - low), self.scale)

    def row_edges_hz(self) -> np.ndarray:
        """The frequency (Hz) of each pixel row's edge, from the plot's bottom edge up to its
        top edge, shape ``(height + 1,)``: between two edges, a straight line is within a
        hundredth of a pixel of the scale's curve, so this table is the mapping for a reader
        that interpolates in it."""
        _left, top, _width, height = self.plot
        return self.freq_at(top + height - np.arange(height + 1))


def plot_axes(spec: Spectrogram, layout: Layout = SPECTROGRAM_LAYOUT) -> PlotAxes:
    """The axes of ``render_spectrogram(spec, ..., layout=layout)`` without a title."""
    low, high = shown_range(spec)
    columns, rows = layout.plot_size
    return PlotAxes(
        start_s=float(spec.times[0]),
        end_s=float(spec.times[-1]),
        fmin_hz=float(from_axis(low, spec.scale)),
        fmax_hz=float(from_axis(high, spec.scale)),
        scale=spec.scale,
        plot=(layout.left, layout.top, columns, rows),
        image=(layout.width, layout.height),
    )
