"""The audio page's "What's in this sound" section (YAMNet sound-event tags).

``pages/audio.py`` calls :func:`show_tags`.
"""

from __future__ import annotations

import io
from dataclasses import replace

import numpy as np
import streamlit as st
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from analysis.errors import InputError
from analysis.render import DPI, SPECTROGRAM_LAYOUT
from analysis.tagging import HOP_SAMPLES, SAMPLE_RATE, Tagging, YamNet, load_yamnet, tag_audio
from models.locate import MissingModelError

TOP_LABELS = 5
TIMELINE_CLASSES = 8
ROW_PX = 26  # height of one class's band in the timeline


@st.cache_resource(show_spinner="Loading the YAMNet sound-event model…")
def _yamnet() -> YamNet:
    # One interpreter for all sessions; YamNet scores one recording at a time under a lock.
    return load_yamnet()


@st.cache_data(show_spinner=False, max_entries=16)
def _tag_file(file_key: str, _clip, _yamnet: YamNet) -> Tagging:
    """Tag the whole file once: STFT controls and range changes reuse this by ``file_key``."""
    # Created inside the cached function so a cache hit replays it as an empty placeholder.
    bar = st.progress(0.0, text="Listening for sound events…")

    def progress(done: int, total: int) -> None:
        bar.progress(done / total, text=f"Listening for sound events… {done} of {total} frames")

    tagging = tag_audio(_clip.samples, _clip.sample_rate, _yamnet, progress)
    bar.empty()
    return tagging


def show_tags(clip, start_s: float, end_s: float, file_key: str) -> None:
    """Render the tags for ``clip`` (an ``analysis.audio.AudioClip``) between two times (s).

    ``file_key`` identifies the decoded file (e.g. its content hash) so results are cached
    once per file and never recomputed when only STFT controls change.
    """
    st.subheader("What's in this sound")
    try:
        tagging = _tag_file(file_key, clip, _yamnet())
    except MissingModelError as error:
        st.info(f"Sound-event tags are off. {error}", icon=":material/download:")
        return
    except InputError as error:
        st.error(str(error))
        return
    except Exception:  # the page edge: one sentence, the rest of the page keeps working
        st.error("Sound-event tagging failed on this file; the rest of the page still works.")
        return

    in_range = tagging.between(start_s, end_s)
    top = in_range.top(TOP_LABELS)
    where = (
        "the whole file"
        if start_s <= 0 and end_s >= clip.duration - 1e-3  # the page's slider rounds to ms
        else f"{start_s:.2f} s to {end_s:.2f} s"
    )
    st.markdown(
        f"YAMNet hears mostly **{top[0].label}** in {where} "
        f"(mean score {top[0].score:.2f} over {len(in_range.scores)} frames of 0.975 s)."
    )
    st.dataframe(
        {"Sound": [tag.label for tag in top], "Score": [tag.score for tag in top]},
        column_config={
            "Score": st.column_config.ProgressColumn(
                "Mean score", min_value=0.0, max_value=1.0, format="%.2f"
            )
        },
        hide_index=True,
    )
    st.image(timeline_png(in_range, start_s, end_s))
    st.caption(
        "Score over time, from 0 (black) to 1 (pale yellow): each column is one 0.975 s "
        "frame, centred on its time, every 0.48 s. The rows are the classes that score "
        "highest anywhere in the range."
    )


def short_name(label: str, max_chars: int = 17) -> str:
    """A class name that fits the timeline's right margin: its first synonym without the
    bracketed note ("Light engine (high frequency)" -> "Light engine"), cut if still long."""
    name = label.split(",")[0].split(" (")[0]
    return name if len(name) <= max_chars else name[: max_chars - 1] + "…"


def timeline_png(tagging: Tagging, start_s: float, end_s: float) -> bytes:
    """Heatmap of the classes that peak highest, from ``start_s`` to ``end_s`` s, as a PNG.

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
    plot_width, plot_height = layout.plot_size
    figure = Figure(figsize=(layout.width / DPI, layout.height / DPI), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_axes(
        (
            layout.left / layout.width,
            layout.bottom / layout.height,
            plot_width / layout.width,
            plot_height / layout.height,
        )
    )
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
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()
