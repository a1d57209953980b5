"""The sound-event tags over time as a picture: a heat map of the classes that score highest.

Laid out like the spectrogram above it (:mod:`analysis.figures`), with the class names in
the right margin where the spectrogram has its colour bar.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.font_manager import FontProperties

from analysis.audio.tagging import HOP_SAMPLES, SAMPLE_RATE, Tagging
from analysis.figures import DPI, SPECTROGRAM_LAYOUT, Layout, encode, new_figure

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
    figure, axes = new_figure(layout)
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
    return encode(figure, "png")
