"""The audio page's "What's in this sound" section (YAMNet sound-event tags).

Not a page of its own: ``pages/audio.py`` calls :func:`show_tags`.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import streamlit as st
from matplotlib.figure import Figure

from analysis.errors import InputError
from analysis.tagging import HOP_SAMPLES, SAMPLE_RATE, Tagging, YamNet, load_yamnet, tag_audio
from models.locate import MissingModelError

TOP_LABELS = 5
TIMELINE_CLASSES = 8


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
        if start_s <= 0 and end_s >= clip.duration
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
    figure = timeline_figure(in_range, start_s, end_s)
    st.pyplot(figure, width="stretch")
    plt.close(figure)
    st.caption(
        "Each column is one 0.975 s frame, centred on its time, every 0.48 s; "
        "the classes shown are those scoring highest anywhere in the range."
    )


def timeline_figure(tagging: Tagging, start_s: float, end_s: float) -> Figure:
    """Heatmap of the classes that peak highest, over time from ``start_s`` to ``end_s`` s."""
    peaks = tagging.scores.max(axis=0)
    rows = np.argsort(peaks)[::-1][:TIMELINE_CLASSES]
    # Each frame fills the time nearest its centre; the ends stretch to the range's edges.
    half_hop = HOP_SAMPLES / SAMPLE_RATE / 2
    edges = np.concatenate(([start_s], tagging.centers[:-1] + half_hop, [end_s]))

    height = 0.35 * len(rows) + 0.8  # inches: a band per class plus the time axis
    figure = Figure(figsize=(12, height))
    axes = figure.add_axes((0.16, 0.5 / height, 0.78, 1 - 0.6 / height))
    mesh = axes.pcolormesh(
        edges, np.arange(len(rows) + 1), tagging.scores[:, rows].T, cmap="magma", vmin=0, vmax=1
    )
    axes.set_xlim(start_s, end_s)
    axes.set_yticks(np.arange(len(rows)) + 0.5, [tagging.class_names[i] for i in rows])
    axes.invert_yaxis()  # highest-peaking class on top
    axes.set_xlabel("Time (s)")
    figure.colorbar(mesh, ax=axes, fraction=0.02, pad=0.01, label="score")
    return figure
