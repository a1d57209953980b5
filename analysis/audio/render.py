"""Images of spectrograms and waveforms with real axes, as PNG/JPEG bytes (matplotlib, no pyplot).

The spectrogram arrives already pooled to the plot's pixel grid (see
:func:`analysis.audio.spectrogram.spectrogram`), so drawing it is one ``imshow`` of a small array.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Rectangle
from matplotlib.ticker import FuncFormatter, MaxNLocator
from PIL import Image

from analysis.audio.spectrogram import Spectrogram, hz_to_mel
from analysis.audio.tagging import HOP_SAMPLES, SAMPLE_RATE, Tagging
from analysis.errors import InputError

COLORMAPS = ("magma", "inferno", "viridis", "plasma", "cividis", "gray_r", "turbo")
DPI = 100
WAVEFORM_COLOR = "#6c5ce7"  # the app theme's primary colour


@dataclass(frozen=True)
class Layout:
    """Figure size and the plot area inside it, in pixels, and the text size, in points.

    A point is ``DPI / 72`` pixels of the image; what a reader sees is that times the width
    the image is shown at over :attr:`width`.
    """

    width: int = 1200  # about a wide Streamlit column: shown near 1:1, text stays legible
    height: int = 480
    left: int = 84
    right: int = 120  # room for the colour bar and its label, or the tag names
    top: int = 16
    bottom: int = 58
    tick_pt: float = 12  # tick labels
    label_pt: float = 13  # axis titles
    name_pt: float = 10  # the tag timeline's class names, in the right margin
    time_ticks: int = 12  # at most this many ticks on the time axis
    freq_ticks: int = 8  # about this many on the frequency axis

    @property
    def plot_size(self) -> tuple[int, int]:
        """(columns, rows) of pixels inside the axes: the spectrogram's display grid."""
        return self.width - self.left - self.right, self.height - self.top - self.bottom

    @property
    def tick_px(self) -> float:
        """Height of the tick labels' font in image pixels."""
        return self.tick_pt * DPI / 72


SPECTROGRAM_LAYOUT = Layout()
WAVEFORM_LAYOUT = Layout(height=190, bottom=52, top=10)
# A phone shows the image about 360 CSS px wide: 720 px (sharp at 2 device pixels per CSS px)
# with 16 pt = 22 px text keeps it 11 CSS px tall; fewer ticks, and taller to suit the screen.
PHONE_SPECTROGRAM_LAYOUT = Layout(
    width=720,
    height=600,
    left=98,
    right=176,  # the tag timeline's names, two lines at 16 pt, share this margin
    top=16,
    bottom=80,
    tick_pt=16,
    label_pt=16,
    name_pt=16,
    time_ticks=6,
    freq_ticks=6,
)
PHONE_WAVEFORM_LAYOUT = replace(PHONE_SPECTROGRAM_LAYOUT, height=300, top=12)
NO_DATA_COLOR = "#9a9a9a"  # cells without a value: a neutral grey no colour map uses...
# ...except those that pass through grey themselves: a muted rose there.
NO_DATA_COLORS = {"gray_r": "#e3a3b4", "cividis": "#e3a3b4"}


def _figure(layout: Layout) -> tuple[Figure, object]:
    fig = Figure(figsize=(layout.width / DPI, layout.height / DPI), dpi=DPI, facecolor="white")
    FigureCanvasAgg(fig)
    w, h = layout.width, layout.height
    ax = fig.add_axes(
        (
            layout.left / w,
            layout.bottom / h,
            (w - layout.left - layout.right) / w,
            (h - layout.top - layout.bottom) / h,
        )
    )
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=layout.tick_pt)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=layout.time_ticks))
    return fig, ax


IMAGE_FORMATS = ("png", "jpeg")


def _encode(fig: Figure, image_format: str) -> bytes:
    """The drawn figure as PNG (exact, for files) or JPEG (several times faster, for screens)."""
    if image_format not in IMAGE_FORMATS:
        raise InputError(f"Unknown image format “{image_format}”: choose png or jpeg.")
    fig.canvas.draw()
    rgb = Image.fromarray(np.asarray(fig.canvas.buffer_rgba())[..., :3])
    buffer = io.BytesIO()
    if image_format == "png":
        rgb.save(buffer, format="PNG", compress_level=1)  # fast; the image is small anyway
    else:
        rgb.save(buffer, format="JPEG", quality=92, subsampling=0)  # no chroma blur on text
    return buffer.getvalue()


def format_hz(hz: float, _position: object = None) -> str:
    """Tick label for a frequency: ``"440"``, ``"1k"``, ``"2.5k"``."""
    if hz >= 1000:
        return f"{hz / 1000:g}k"
    return f"{hz:g}"


def _nice_hz_ticks(fmin: float, fmax: float) -> list[float]:
    """1-2-5 ticks per decade between two frequencies (log and mel axes)."""
    ticks = []
    for decade in range(int(np.floor(np.log10(max(fmin, 1.0)))), int(np.ceil(np.log10(fmax))) + 1):
        for step in (1, 2, 5):
            hz = step * 10.0**decade
            if fmin <= hz <= fmax:
                ticks.append(hz)
    return ticks


def _spaced(ticks: list[float], to_axis, span: float, min_gap: float) -> list[float]:
    """Ticks at least ``min_gap`` of the axis apart, keeping the higher ones (mel crowds low)."""
    kept: list[float] = []
    for hz in reversed(ticks):
        if not kept or float(to_axis(kept[-1]) - to_axis(hz)) >= min_gap * span:
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
    if title:
        title_px = round(2.4 * layout.label_pt * DPI / 72)
        layout = replace(layout, height=layout.height + title_px, top=layout.top + title_px)
    fig, ax = _figure(layout)
    w, h = layout.width, layout.height
    if title:
        fig.text(
            layout.left / w,
            1 - title_px / 2 / h,
            title,
            ha="left",
            va="center",
            fontsize=layout.label_pt,
        )
    if spec.scale == "log":
        y0, y1 = np.log10(spec.fmin), np.log10(spec.fmax)
        to_axis = np.log10
    elif spec.scale == "mel":
        y0, y1 = float(hz_to_mel(spec.fmin)), float(hz_to_mel(spec.fmax))  # fmin: 0 Hz or a band's
        to_axis = hz_to_mel
    else:
        half_row = (spec.fmax - spec.fmin) / max(len(spec.freqs) - 1, 1) / 2
        y0, y1 = spec.fmin - half_row, spec.fmax + half_row
        to_axis = None
    colors = matplotlib.colormaps[cmap].with_extremes(bad=no_data_color(cmap))
    columns, rows = layout.plot_size
    fits = db.shape[1] <= columns and db.shape[0] <= rows  # a grid made for a larger plot...
    image = ax.imshow(
        db,
        origin="lower",
        aspect="auto",
        interpolation="nearest" if fits else "antialiased",  # ...is filtered, not decimated
        extent=(spec.times[0], spec.times[-1], y0, y1),
        cmap=colors,
        vmin=db_floor,
        vmax=db_top if db_top > db_floor else db_floor + 1.0,
    )
    if to_axis is None:
        ax.set_ylim(max(y0, 0.0), y1)
        ax.yaxis.set_major_formatter(FuncFormatter(format_hz))
        ax.yaxis.set_major_locator(MaxNLocator(nbins=layout.freq_ticks, steps=[1, 2, 2.5, 5, 10]))
    else:
        hz = _nice_hz_ticks(max(spec.fmin, 20.0), spec.fmax)
        ticks = _spaced(hz, to_axis, y1 - y0, min_gap=0.4 / layout.freq_ticks)
        ax.set_yticks(to_axis(np.asarray(ticks)), [format_hz(hz) for hz in ticks])
        ax.set_ylim(y0, y1)
    scale_name = {"log": "log scale", "mel": "mel scale", "linear": "linear scale"}[spec.scale]
    ax.set_ylabel(f"Frequency (Hz, {scale_name})", fontsize=layout.label_pt)
    ax.set_xlabel("Time (s)", fontsize=layout.label_pt)

    bar_x, bar_w = w - layout.right + 16, round(1.2 * layout.tick_px) - 6  # 14 px at 12 pt
    bar_bottom, bar_top = layout.bottom, h - layout.top
    if np.isnan(db).any():  # a key for the no-data colour under the bar, in its place
        key = bar_w
        fig.add_artist(
            Rectangle(
                (bar_x / w, bar_bottom / h),
                key / w,
                key / h,
                transform=fig.transFigure,
                facecolor=no_data_color(cmap),
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
    return _encode(fig, image_format)


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
    fig, ax = _figure(layout)
    peak = 1.0
    if len(y):
        low, high = waveform_envelope(y, layout.plot_size[0])
        times = start_s + np.linspace(0, len(y) / sample_rate, len(low))
        ax.fill_between(
            times, low, high, color=WAVEFORM_COLOR, linewidth=0.6, edgecolor=WAVEFORM_COLOR
        )
        ax.set_xlim(start_s, start_s + len(y) / sample_rate)
        # From the envelope: np.abs(y) would copy the whole signal (300 MB for 30 minutes).
        peak = max(float(-low.min()), float(high.max()), 1e-3)
    ax.set_ylim(-peak * 1.05, peak * 1.05)
    ax.axhline(0.0, color="#999999", linewidth=0.5)
    ax.set_xlabel("Time (s)", fontsize=layout.label_pt)
    ax.set_ylabel("Amplitude", fontsize=layout.label_pt)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=4, symmetric=True))
    return _encode(fig, image_format)


TIMELINE_CLASSES = 8  # rows of the tag timeline


def _first_synonym(label: str) -> str:
    """The first synonym without a bracketed note: "Light engine (high frequency)" ->
    "Light engine"; "Vehicle horn, car horn, honking" -> "Vehicle horn"."""
    return label.split(",")[0].split(" (")[0]


def _qualified(label: str) -> str:
    """A longer name for a class whose first synonym another class shares: "Whimper (dog)",
    "Inside, large room or hall" -> "Inside, large room" (the "or …" alternative dropped)."""
    first, *rest = label.split(", ")
    if " (" in first or not rest:
        return first
    return f"{first}, {rest[0].split(' or ')[0]}"


def short_names(labels: Sequence[str]) -> tuple[str, ...]:
    """Short, distinct display names for a model's classes, in the same order.

    Each class gets its first synonym without a bracketed note, unless another class would
    get the same name; then both get a qualified one ("Inside, small room" and "Inside, large
    room", "Whimper" and "Whimper (dog)"), and the full label if even that is shared.
    """
    first = [_first_synonym(label) for label in labels]
    counts = Counter(first)
    pairs = zip(first, labels, strict=True)
    names = [n if counts[n] == 1 else _qualified(label) for n, label in pairs]
    counts = Counter(names)
    return tuple(n if counts[n] == 1 else label for n, label in zip(names, labels, strict=True))


def text_width(text: str, size_pt: float) -> float:
    """Width of ``text`` in image pixels at ``size_pt`` points (matplotlib's default font)."""
    # A renderer of its own: sessions draw in parallel threads.
    width, _height, _descent = RendererAgg(1, 1, DPI).get_text_width_height_descent(
        text, FontProperties(size=size_pt), ismath=False
    )
    return width


def fit_name(name: str, width_px: float, size_pt: float) -> str:
    """``name`` on one line if it fits ``width_px``, else on two lines split where the longer
    is shortest (at a space, or after a hyphen); cut with "…" only if two lines cannot hold it."""
    if text_width(name, size_pt) <= width_px:
        return name
    splits = [
        (name[:i], name[i + 1 :]) if ch == " " else (name[: i + 1], name[i + 1 :])
        for i, ch in enumerate(name)
        if ch in " -" and 0 < i < len(name) - 1
    ]
    if splits:
        first, second = min(splits, key=lambda s: max(text_width(part, size_pt) for part in s))
        if max(text_width(first, size_pt), text_width(second, size_pt)) <= width_px:
            return f"{first}\n{second}"
    while len(name) > 1 and text_width(name + "…", size_pt) > width_px:
        name = name[:-1]
    return name.rstrip() + "…"


def render_tag_timeline(
    tagging: Tagging, start_s: float, end_s: float, layout: Layout = SPECTROGRAM_LAYOUT
) -> bytes:
    """Heatmap of the sound classes that peak highest, from ``start_s`` to ``end_s`` s, as PNG.

    Pass the ``layout`` of the spectrogram above it: same pixel width, horizontal margins and
    text size, so the time axes line up; class names sit in the right margin where the
    spectrogram has its colour bar, on two lines when one is too narrow.
    """
    peaks = tagging.scores.max(axis=0)
    rows = np.argsort(peaks)[::-1][:TIMELINE_CLASSES]
    # Each frame fills the time nearest its centre; the ends stretch to the range's edges.
    half_hop = HOP_SAMPLES / SAMPLE_RATE / 2
    edges = np.concatenate(([start_s], tagging.centers[:-1] + half_hop, [end_s]))

    names = short_names(tagging.class_names)
    pad_pt = 3.5  # matplotlib's default gap between a tick label and the axes
    column_px = layout.right - pad_pt * DPI / 72
    shown = [fit_name(names[i], column_px, layout.name_pt) for i in rows]
    lines = max((name.count("\n") + 1 for name in shown), default=1)
    row_px = round(layout.name_pt * DPI / 72 * (1.2 * lines + 0.5))
    layout = replace(layout, top=8, bottom=layout.bottom - 8)
    layout = replace(layout, height=layout.top + row_px * len(rows) + layout.bottom)
    figure, axes = _figure(layout)
    axes.pcolormesh(
        edges, np.arange(len(rows) + 1), tagging.scores[:, rows].T, cmap="magma", vmin=0, vmax=1
    )
    axes.set_xlim(start_s, end_s)
    axes.set_xlabel("Time (s)", fontsize=layout.label_pt)
    axes.set_ylabel("Sound", fontsize=layout.label_pt)
    axes.yaxis.tick_right()
    axes.set_yticks(np.arange(len(rows)) + 0.5, shown)
    axes.invert_yaxis()  # highest-peaking class on top
    axes.tick_params(axis="y", length=0, pad=pad_pt, labelsize=layout.name_pt)
    return _encode(figure, "png")
