"""Images of spectrograms and waveforms with real axes, as PNG/JPEG bytes (matplotlib, no pyplot).

The spectrogram arrives already pooled to the plot's pixel grid (see
:func:`analysis.audio.spectrogram.spectrogram`), so drawing it is one ``imshow`` of a small array.
Its axes and ticks take most of the drawing time (0.12 of 0.14 s), and a new FFT size,
loudness range, window or channel changes none of them: the last few drawn figures are kept,
and one with the same axes only has its picture and colour bar replaced and drawn again over
the kept background (matplotlib's blitting), in a few tens of milliseconds and to the same
pixels. A grid no larger than the plot is coloured straight into the kept canvas through the
colour map's table, each pixel from the cell under its centre as ``imshow`` samples it,
without matplotlib's resampling: a redraw of the 10-minute view takes 0.062 s instead of
0.085 s, JPEG included (the colour bar's text is most of the rest).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, replace

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.patches import Rectangle
from matplotlib.ticker import FuncFormatter, MaxNLocator

from analysis.audio.axes import row_extent, shown_range, to_axis
from analysis.audio.spectrogram import Spectrogram
from analysis.errors import InputError
from analysis.figures import (
    DPI,
    SPECTROGRAM_LAYOUT,
    THEME_COLOUR,
    WAVEFORM_LAYOUT,
    Layout,
    encode,
    encode_pixels,
    hz_tick,
    new_figure,
)

COLORMAPS = ("magma", "inferno", "viridis", "plasma", "cividis", "gray_r", "turbo")
KEPT_FIGURES = 4  # drawn spectrogram figures kept for their axes, about 5 MB each


NO_DATA_COLOR = "#9a9a9a"  # cells without a value: a neutral grey no colour map uses...
# ...except those that pass through grey themselves: a muted rose there.
NO_DATA_COLORS = {"gray_r": "#e3a3b4", "cividis": "#e3a3b4"}


def _nice_hz_ticks(fmin: float, fmax: float) -> list[float]:
    """1-2-5 ticks per decade between two frequencies (log and mel axes)."""
    ticks = []
    for decade in range(int(np.floor(np.log10(max(fmin, 1.0)))), int(np.ceil(np.log10(fmax))) + 1):
        for step in (1, 2, 5):
            hz = step * 10.0**decade
            if fmin <= hz <= fmax:
                ticks.append(hz)
    return ticks


def _spaced(ticks: list[float], scale: str, span: float, min_gap: float) -> list[float]:
    """Ticks at least ``min_gap`` of the axis apart, keeping the higher ones (mel crowds low)."""
    kept: list[float] = []
    for hz in reversed(ticks):
        if not kept or float(to_axis(kept[-1], scale) - to_axis(hz, scale)) >= min_gap * span:
            kept.append(hz)
    return kept[::-1]


def spectrogram_title(name: str, spec: Spectrogram, db_range: float) -> str:
    """One line naming the file and the settings, for an exported picture.

    E.g. ``"speech.wav — FFT 2048, hop 512, hann window, log scale, 80 dB range"``.
    """
    p = spec.params
    if len(name) > 60:  # keep the settings on the line: the file name gives way in its middle
        name = name[:34] + "…" + name[-25:]
    window = f"{p.window} window" + (f" of {p.win_length}" if p.win_length != p.n_fft else "")
    return (
        f"{name} — FFT {p.n_fft}, hop {p.hop_length}, {window}, {spec.scale} scale, "
        f"{db_range:g} dB range"
    )


def no_data_color(cmap: str) -> str:
    """The colour of cells without a value under colour map ``cmap``: one the map never uses."""
    return NO_DATA_COLORS.get(cmap, NO_DATA_COLOR)


def render_spectrogram(
    spec: Spectrogram,
    db: np.ndarray,
    *,
    db_floor: float,
    db_top: float,
    db_label: str = "dB re full scale",
    cmap: str = "magma",
    layout: Layout = SPECTROGRAM_LAYOUT,
    image_format: str = "png",
    title: str | None = None,
) -> bytes:
    """The spectrogram as an image with time (s) and frequency (Hz) axes and a dB colour bar.

    Parameters
    ----------
    spec : Spectrogram
        Pooled power on the display grid (its scale decides the frequency axis).
    db : np.ndarray
        ``spec.power`` in dB, shape ``(rows, columns)``. NaN cells (e.g. rows below the
        lowest frequency the FFT resolves) are drawn in :func:`no_data_color`, with a key
        under the colour bar.
    db_floor, db_top : float
        Colour scale limits, dB.
    db_label : str
        Colour bar label (says what 0 dB means).
    cmap : str
        One of :data:`COLORMAPS`.
    layout : Layout
        Pixel size of the figure, without the title.
    image_format : {"png", "jpeg"}
        Encoding of the returned bytes.
    title : str, optional
        A line above the plot (see :func:`spectrogram_title`); the image grows by its height.
    """
    if cmap not in COLORMAPS:
        raise InputError(f"Unknown colour map “{cmap}”: choose one of {', '.join(COLORMAPS)}.")
    no_data = no_data_color(cmap) if np.isnan(db).any() else None
    frame = _Frame(
        layout,
        title,
        (spec.scale, spec.fmin, spec.fmax, len(spec.freqs), spec.times[0], spec.times[-1]),
        db.shape,
        (db_label, cmap, no_data),
    )
    with _kept_lock:
        kept = _kept.pop(frame, None)
    if kept is None:
        kept = _draw_figure(spec, db, frame)
    with kept.lock:
        pixels = kept.draw(db, db_floor, db_top if db_top > db_floor else db_floor + 1.0)
        picture = encode_pixels(pixels, image_format)
    with _kept_lock:
        _kept[frame] = kept
        while len(_kept) > KEPT_FIGURES:
            _kept.popitem(last=False)
    return picture


@dataclass(frozen=True)
class _Frame:
    """Everything a spectrogram figure shows but its picture: what a kept one is found by."""

    layout: Layout
    title: str | None
    axes: tuple  # scale, lowest and highest frequency, rows, first and last time
    shape: tuple[int, int]  # the picture's (rows, columns)
    colours: tuple  # colour bar label, colour map, no-data colour


@dataclass(frozen=True)
class _Pixels:
    """Where a grid's cells land on the canvas, pixel for pixel, and in which colours.

    The plot's pixels from canvas row ``top`` and column ``left`` down and right show the
    cells ``rows`` by ``columns`` (one index per pixel row, top first, and per pixel column).
    ``colours`` is the colour map's table (RGBA, uint8), then the no-data colour.
    """

    top: int
    left: int
    rows: np.ndarray
    columns: np.ndarray
    colours: np.ndarray

    def paint(self, canvas: np.ndarray, db: np.ndarray, vmin: float, vmax: float) -> None:
        """Colour ``db`` from ``vmin`` to ``vmax`` dB into ``canvas`` (RGBA, writable) as
        matplotlib's colour maps do: below the range the lowest colour, above it the highest,
        NaN the no-data colour."""
        n = len(self.colours) - 1
        cells = db[np.ix_(self.rows, self.columns)]
        with np.errstate(invalid="ignore"):
            level = (cells - vmin) * (n / (vmax - vmin))
        codes = np.clip(np.nan_to_num(level, nan=-1.0), 0, n - 1).astype(np.intp)
        codes[np.isnan(cells)] = n
        height, width = codes.shape
        canvas[self.top : self.top + height, self.left : self.left + width] = self.colours[codes]


def _pixels(fig: Figure, ax: Axes, image: AxesImage, shape: tuple[int, int]) -> _Pixels | None:
    """The cells of a ``shape`` grid (rows from the lowest) under the plot's pixel centres,
    as ``imshow`` with nearest sampling draws them; None where some pixel shows none."""
    height = fig.canvas.get_width_height()[1]
    x0, y0, x1, y1 = ax.bbox.extents  # display pixels, from the bottom left
    left, right = round(x0), round(x1)
    bottom, top = round(y0), round(y1)
    to_data = ax.transData.inverted()
    times = to_data.transform(
        np.column_stack([np.arange(left, right) + 0.5, np.full(right - left, y0)])
    )[:, 0]
    levels = to_data.transform(
        np.column_stack([np.full(top - bottom, x0), np.arange(bottom, top) + 0.5])
    )[:, 1]
    first_s, last_s, low, high = image.get_extent()
    columns = np.floor((times - first_s) / (last_s - first_s) * shape[1]).astype(np.intp)
    rows = np.floor((levels - low) / (high - low) * shape[0]).astype(np.intp)
    if columns.min() < 0 or columns.max() >= shape[1] or rows.min() < 0 or rows.max() >= shape[0]:
        return None
    cmap = image.get_cmap()
    colours = np.vstack([cmap(np.arange(cmap.N), bytes=True), cmap(np.nan, bytes=True)])
    return _Pixels(height - top, left, rows[::-1], columns, colours)


@dataclass
class _DrawnFigure:
    """A drawn spectrogram figure, its image and colour bar, and the canvas without them."""

    fig: Figure
    ax: Axes
    image: AxesImage
    bar: Axes
    background: object  # the canvas's saved pixels without the image and the colour bar
    pixels: _Pixels | None  # None: the grid is larger than the plot, matplotlib filters it
    lock: threading.Lock

    def draw(self, db: np.ndarray, vmin: float, vmax: float) -> np.ndarray:
        """The canvas (RGBA, uint8) with ``db`` as the picture, coloured from ``vmin`` to
        ``vmax`` dB; hold :attr:`lock`."""
        canvas = self.fig.canvas
        self.image.set_clim(vmin, vmax)  # the colour bar follows, keeping its ticks' format
        canvas.restore_region(self.background)
        if self.pixels is None:
            self.image.set_data(db)
            self.ax.draw_artist(self.image)
        else:
            self.pixels.paint(np.asarray(canvas.buffer_rgba()), db, vmin, vmax)
        for spine in self.ax.spines.values():  # drawn over the image's edges, as in a draw
            if spine.get_visible():
                self.ax.draw_artist(spine)
        self.fig.draw_artist(self.bar)
        return np.asarray(canvas.buffer_rgba())


# Drawn figures by everything but the picture: layout, title, axes, colours, in use order.
_kept: OrderedDict[_Frame, _DrawnFigure] = OrderedDict()
_kept_lock = threading.Lock()


def _draw_figure(spec: Spectrogram, db: np.ndarray, frame: _Frame) -> _DrawnFigure:
    """The figure of :func:`render_spectrogram` drawn without its picture."""
    layout, title = frame.layout, frame.title
    db_label, cmap, no_data = frame.colours
    if title:
        title_px = round(2.4 * layout.label_pt * DPI / 72)
        layout = replace(layout, height=layout.height + title_px, top=layout.top + title_px)
    fig, ax = new_figure(layout)
    if title:
        fig.text(
            layout.left / layout.width,
            1 - title_px / 2 / layout.height,
            title,
            ha="left",
            va="center",
            fontsize=layout.label_pt,
        )
    columns, rows = layout.plot_size
    fits = db.shape[1] <= columns and db.shape[0] <= rows  # a grid made for a larger plot...
    image = ax.imshow(
        db,
        origin="lower",
        aspect="auto",
        interpolation="nearest" if fits else "antialiased",  # ...is filtered, not decimated
        extent=(spec.times[0], spec.times[-1], *row_extent(spec)),
        cmap=matplotlib.colormaps[cmap].with_extremes(bad=no_data_color(cmap)),
    )
    _frequency_axis(ax, spec, layout)
    ax.set_xlabel("Time (s)", fontsize=layout.label_pt)
    bar = _colour_bar(fig, image, layout, db_label, no_data=no_data)
    image.set_visible(False)
    bar.set_visible(False)
    fig.canvas.draw()
    background = fig.canvas.copy_from_bbox(fig.bbox)
    image.set_visible(True)
    bar.set_visible(True)
    pixels = _pixels(fig, ax, image, db.shape) if fits else None
    return _DrawnFigure(fig, ax, image, bar, background, pixels, threading.Lock())


def _frequency_axis(ax: Axes, spec: Spectrogram, layout: Layout) -> None:
    """Limits, ticks and label of the frequency axis, as :mod:`analysis.audio.axes` maps it."""
    low, high = shown_range(spec)
    if spec.scale == "linear":
        ax.yaxis.set_major_formatter(FuncFormatter(hz_tick))
        ax.yaxis.set_major_locator(MaxNLocator(nbins=layout.freq_ticks, steps=[1, 2, 2.5, 5, 10]))
    else:
        bottom, top = row_extent(spec)
        hz = _nice_hz_ticks(max(spec.fmin, 20.0), spec.fmax)
        ticks = _spaced(hz, spec.scale, top - bottom, min_gap=0.4 / layout.freq_ticks)
        ax.set_yticks(to_axis(np.asarray(ticks), spec.scale), [hz_tick(hz) for hz in ticks])
    ax.set_ylim(low, high)
    scale_name = {"log": "log scale", "mel": "mel scale", "linear": "linear scale"}[spec.scale]
    ax.set_ylabel(f"Frequency (Hz, {scale_name})", fontsize=layout.label_pt)


def _colour_bar(
    fig: Figure, image: AxesImage, layout: Layout, db_label: str, no_data: str | None
) -> Axes:
    """The dB colour bar right of the plot, and its axes; under it a key of the ``no_data``
    colour, if any."""
    w, h = layout.width, layout.height
    bar_x, bar_w = w - layout.right + 16, round(1.2 * layout.tick_px) - 6  # 14 px at 12 pt
    bar_bottom, bar_top = layout.bottom, h - layout.top
    if no_data is not None:  # a key for the no-data colour under the bar, in its place
        key = bar_w
        fig.add_artist(
            Rectangle(
                (bar_x / w, bar_bottom / h),
                key / w,
                key / h,
                transform=fig.transFigure,
                facecolor=no_data,
                edgecolor="none",
            )
        )
        fig.text(
            (bar_x + key + 6) / w,
            (bar_bottom + key / 2) / h,
            "no data",
            va="center",
            fontsize=layout.tick_pt,
        )
        bar_bottom += key + round(layout.tick_px)
    cax = fig.add_axes((bar_x / w, bar_bottom / h, bar_w / w, (bar_top - bar_bottom) / h))
    colorbar = fig.colorbar(image, cax=cax)
    colorbar.set_label(db_label, fontsize=layout.label_pt)
    colorbar.ax.tick_params(labelsize=layout.tick_pt)
    colorbar.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:+.0f}" if v else "0"))
    return cax


def spectrogram_colours(db: np.ndarray, peak_db: float, db_range: float = 80.0) -> np.ndarray:
    """A spectrogram's dB (rows from the lowest frequency) as an RGB picture with no axes:
    uint8, shape ``(rows, columns, 3)``, the highest frequency on top, the loudest
    ``db_range`` dB in magma's colours and no data (NaN) as silence."""
    level = np.nan_to_num((db - (peak_db - db_range)) / db_range, nan=0.0).clip(0, 1)
    return (matplotlib.colormaps["magma"](level[::-1])[..., :3] * 255).astype(np.uint8)


def waveform_envelope(y: np.ndarray, columns: int) -> tuple[np.ndarray, np.ndarray]:
    """Min and max of ``y`` in ``columns`` equal slices (each shape ``(columns,)``)."""
    columns = max(1, min(columns, len(y)))
    edges = np.linspace(0, len(y), columns + 1).round().astype(np.int64)
    return np.minimum.reduceat(y, edges[:-1]), np.maximum.reduceat(y, edges[:-1])


def render_waveform(
    y: np.ndarray,
    sample_rate: int,
    *,
    start_s: float = 0.0,
    layout: Layout = WAVEFORM_LAYOUT,
    image_format: str = "png",
) -> bytes:
    """The waveform's min/max envelope at pixel resolution as an image; time axis in seconds.

    Parameters
    ----------
    y : np.ndarray
        Mono signal, float32, shape ``(samples,)``.
    sample_rate : int
        Hz.
    start_s : float
        Time of ``y[0]`` in the file, seconds (labels the axis).
    layout : Layout
        Pixel size (use the spectrogram's width and margins so the time axes line up).
    image_format : {"png", "jpeg"}
        Encoding of the returned bytes.
    """
    fig, ax = new_figure(layout)
    peak = 1.0
    if len(y):
        low, high = waveform_envelope(y, layout.plot_size[0])
        times = start_s + np.linspace(0, len(y) / sample_rate, len(low))
        ax.fill_between(times, low, high, color=THEME_COLOUR, linewidth=0.6, edgecolor=THEME_COLOUR)
        ax.set_xlim(start_s, start_s + len(y) / sample_rate)
        # From the envelope: np.abs(y) would copy the whole signal (300 MB for 30 minutes).
        peak = max(float(-low.min()), float(high.max()), 1e-3)
    ax.set_ylim(-peak * 1.05, peak * 1.05)
    ax.axhline(0.0, color="#999999", linewidth=0.5)
    ax.set_xlabel("Time (s)", fontsize=layout.label_pt)
    ax.set_ylabel("Amplitude", fontsize=layout.label_pt)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=4, symmetric=True))
    return encode(fig, image_format)
