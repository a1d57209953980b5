"""The pictures' common frame: one figure size and plot area for every time-aligned picture.

The spectrogram, the waveform, the tag timeline, the speech timeline and the video's in-view
chart are drawn with matplotlib (no pyplot) into :class:`Layout` figures of the same pixel
width and horizontal margins, so that stacked one above the other their time axes line up.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, replace

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from PIL import Image

from analysis.errors import InputError

DPI = 100
THEME_COLOUR = "#6c5ce7"  # the app theme's primary colour: waveforms, voice activity


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


def new_figure(layout: Layout) -> tuple[Figure, Axes]:
    """A white figure of ``layout``'s size with one axes on its plot area (no top or right
    spine, its tick sizes, at most ``time_ticks`` ticks on x)."""
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


def encode(fig: Figure, image_format: str) -> bytes:
    """The drawn figure as PNG (exact, for files) or JPEG (several times faster, for screens)."""
    fig.canvas.draw()
    return encode_pixels(np.asarray(fig.canvas.buffer_rgba()), image_format)


def encode_pixels(rgba: np.ndarray, image_format: str) -> bytes:
    """An RGBA canvas (uint8, shape ``(height, width, 4)``) as :func:`encode` writes it."""
    if image_format not in IMAGE_FORMATS:
        raise InputError(f"Unknown image format “{image_format}”: choose png or jpeg.")
    # Pillow drops the alpha channel itself: a NumPy slice of three channels is copied
    # byte by byte first (8 ms for a 1200 x 480 picture, against 1 ms).
    rgb = Image.fromarray(np.ascontiguousarray(rgba)).convert("RGB")
    buffer = io.BytesIO()
    if image_format == "png":
        rgb.save(buffer, format="PNG", compress_level=1)  # fast; the image is small anyway
    else:
        rgb.save(buffer, format="JPEG", quality=92, subsampling=0)  # no chroma blur on text
    return buffer.getvalue()


def hz_tick(hz: float, _position: object = None) -> str:
    """Tick label for a frequency (a matplotlib formatter): ``"440"``, ``"1k"``, ``"2.5k"``."""
    if hz >= 1000:
        return f"{hz / 1000:g}k"
    return f"{hz:g}"
