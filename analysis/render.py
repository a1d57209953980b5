"""Images of spectrograms and waveforms with real axes, as PNG/JPEG bytes (matplotlib, no pyplot).

The spectrogram arrives already pooled to the plot's pixel grid (see
:func:`analysis.spectrogram.spectrogram`), so drawing it is one ``imshow`` of a small array.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, replace

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator
from PIL import Image

from analysis.errors import InputError
from analysis.spectrogram import Spectrogram, hz_to_mel
from analysis.tagging import HOP_SAMPLES, SAMPLE_RATE, Tagging

COLORMAPS = ("magma", "inferno", "viridis", "plasma", "cividis", "gray_r", "turbo")
DPI = 100
WAVEFORM_COLOR = "#6c5ce7"  # the app theme's primary colour


@dataclass(frozen=True)
class Layout:
    """Figure size and the plot area inside it, in pixels."""

    width: int = 1200  # about a wide Streamlit column: shown near 1:1, text stays legible
    height: int = 480
    left: int = 84
    right: int = 120  # room for the colour bar and its label
    top: int = 16
    bottom: int = 58

    @property
    def plot_size(self) -> tuple[int, int]:
        """(columns, rows) of pixels inside the axes: the spectrogram's display grid."""
        return self.width - self.left - self.right, self.height - self.top - self.bottom


SPECTROGRAM_LAYOUT = Layout()
WAVEFORM_LAYOUT = Layout(height=190, bottom=52, top=10)


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
    ax.tick_params(labelsize=12)
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


def _spaced(ticks: list[float], to_axis, span: float, min_gap: float = 0.05) -> list[float]:
    """Ticks at least ``min_gap`` of the axis apart, keeping the higher ones (mel crowds low)."""
    kept: list[float] = []
    for hz in reversed(ticks):
        if not kept or float(to_axis(kept[-1]) - to_axis(hz)) >= min_gap * span:
            kept.append(hz)
    return kept[::-1]


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
) -> bytes:
    """The spectrogram as an image with time (s) and frequency (Hz) axes and a dB colour bar.

    Parameters
    ----------
    spec : Spectrogram
        Pooled power on the display grid (its scale decides the frequency axis).
    db : np.ndarray
        ``spec.power`` in dB, shape ``(rows, columns)``.
    db_floor, db_top : float
        Colour scale limits, dB.
    db_label : str
        Colour bar label (says what 0 dB means).
    cmap : str
        One of :data:`COLORMAPS`.
    layout : Layout
        Pixel size of the figure.
    image_format : {"png", "jpeg"}
        Encoding of the returned bytes.
    """
    if cmap not in COLORMAPS:
        raise InputError(f"Unknown colour map “{cmap}”: choose one of {', '.join(COLORMAPS)}.")
    fig, ax = _figure(layout)
    if spec.scale == "log":
        y0, y1 = np.log10(spec.fmin), np.log10(spec.fmax)
        to_axis = np.log10
    elif spec.scale == "mel":
        y0, y1 = 0.0, float(hz_to_mel(spec.fmax))
        to_axis = hz_to_mel
    else:
        half_row = (spec.fmax - spec.fmin) / max(len(spec.freqs) - 1, 1) / 2
        y0, y1 = spec.fmin - half_row, spec.fmax + half_row
        to_axis = None
    image = ax.imshow(
        db,
        origin="lower",
        aspect="auto",
        interpolation="nearest",
        extent=(spec.times[0], spec.times[-1], y0, y1),
        cmap=matplotlib.colormaps[cmap],
        vmin=db_floor,
        vmax=db_top if db_top > db_floor else db_floor + 1.0,
    )
    if to_axis is None:
        ax.set_ylim(max(y0, 0.0), y1)
        ax.yaxis.set_major_formatter(FuncFormatter(format_hz))
        ax.yaxis.set_major_locator(MaxNLocator(nbins=8, steps=[1, 2, 2.5, 5, 10]))
    else:
        ticks = _spaced(_nice_hz_ticks(max(spec.fmin, 20.0), spec.fmax), to_axis, y1 - y0)
        ax.set_yticks(to_axis(np.asarray(ticks)), [format_hz(hz) for hz in ticks])
        ax.set_ylim(y0, y1)
    scale_name = {"log": "log scale", "mel": "mel scale", "linear": "linear scale"}[spec.scale]
    ax.set_ylabel(f"Frequency (Hz, {scale_name})", fontsize=13)
    ax.set_xlabel("Time (s)", fontsize=13)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=12))
    w, h = layout.width, layout.height
    cax = fig.add_axes(
        (
            (w - layout.right + 16) / w,
            layout.bottom / h,
            14 / w,
            (h - layout.top - layout.bottom) / h,
        )
    )
    colorbar = fig.colorbar(image, cax=cax)
    colorbar.set_label(db_label, fontsize=13)
    colorbar.ax.tick_params(labelsize=12)
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
    ax.set_xlabel("Time (s)", fontsize=13)
    ax.set_ylabel("Amplitude", fontsize=13)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=12))
    ax.yaxis.set_major_locator(MaxNLocator(nbins=4, symmetric=True))
    return _encode(fig, image_format)


TIMELINE_CLASSES = 8  # rows of the tag timeline
ROW_PX = 26  # height of one class's band in the tag timeline


def short_name(label: str, max_chars: int = 17) -> str:
    """A class name that fits the timeline's right margin: its first synonym without the
    bracketed note ("Light engine (high frequency)" -> "Light engine"), cut if still long."""
    name = label.split(",")[0].split(" (")[0]
    return name if len(name) <= max_chars else name[: max_chars - 1] + "…"


def render_tag_timeline(tagging: Tagging, start_s: float, end_s: float) -> bytes:
    """Heatmap of the sound classes that peak highest, from ``start_s`` to ``end_s`` s, as PNG.

    Same pixel width and horizontal margins as the spectrogram above it, so the time axes
    line up; class names sit in the right margin where the spectrogram has its colour bar.
    """
    peaks = tagging.scores.max(axis=0)
    rows = np.argsort(peaks)[::-1][:TIMELINE_CLASSES]
    # Each frame fills the time nearest its centre; the ends stretch to the range's edges.
    half_hop = HOP_SAMPLES / SAMPLE_RATE / 2
    edges = np.concatenate(([start_s], tagging.centers[:-1] + half_hop, [end_s]))

    layout = replace(SPECTROGRAM_LAYOUT, top=8, bottom=50)
    layout = replace(layout, height=layout.top + ROW_PX * len(rows) + layout.bottom)
    figure, axes = _figure(layout)
    axes.pcolormesh(
        edges, np.arange(len(rows) + 1), tagging.scores[:, rows].T, cmap="magma", vmin=0, vmax=1
    )
    axes.set_xlim(start_s, end_s)
    axes.xaxis.set_major_locator(MaxNLocator(nbins=12))
    axes.set_xlabel("Time (s)", fontsize=12)
    axes.set_ylabel("Sound", fontsize=12)
    axes.yaxis.tick_right()
    axes.set_yticks(np.arange(len(rows)) + 0.5, [short_name(tagging.class_names[i]) for i in rows])
    axes.invert_yaxis()  # highest-peaking class on top
    axes.tick_params(labelsize=11)
    axes.tick_params(axis="y", length=0, labelsize=9)
    return _encode(figure, "png")
