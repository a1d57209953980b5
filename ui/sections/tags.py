"""The audio page's "What's in this sound" section (YAMNet sound-event tags).

``app_pages/audio.py`` calls :func:`show_tags`.
"""

from __future__ import annotations

import logging

import streamlit as st

from analysis.audio.tag_plot import render_tag_timeline
from analysis.audio.tagging import Tagging, YamNet, load_yamnet, tag_audio
from analysis.errors import InputError
from analysis.figures import PHONE_SPECTROGRAM_LAYOUT, SPECTROGRAM_LAYOUT
from models.locate import MissingModelError
from ui.device import is_phone

LOG = logging.getLogger(__name__)
TOP_LABELS = 5


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


@st.cache_data(show_spinner=False, max_entries=16)
def timeline_picture(
    file_key: str, _tagging: Tagging, start_s: float, end_s: float, phone: bool
) -> bytes:
    """The timeline PNG of a file's range (``_tagging`` is named by the key and the range),
    laid out like the spectrogram above it (larger text on a phone)."""
    layout = PHONE_SPECTROGRAM_LAYOUT if phone else SPECTROGRAM_LAYOUT
    return render_tag_timeline(_tagging, start_s, end_s, layout)


def finished_tagging(file_key: str) -> Tagging | None:
    """The tags this session has already seen of ``file_key``, for other views of the page
    (the spectrogram's lane); None if there are none yet. Starts nothing."""
    return st.session_state.get(f"_tagging_{file_key}")


def show_tags(clip, start_s: float, end_s: float, file_key: str) -> None:
    """Render the tags for ``clip`` (an ``analysis.audio.decode.AudioClip``) between two times (s).

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
        LOG.exception("sound-event tagging failed")
        st.error("Sound-event tagging failed on this file; the rest of the page still works.")
        return

    st.session_state[f"_tagging_{file_key}"] = tagging  # for finished_tagging
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
    st.image(timeline_picture(file_key, in_range, start_s, end_s, is_phone()))
    st.caption(
        "Score over time, from 0 (black) to 1 (pale yellow): each column is one 0.975 s "
        "frame, centred on its time, every 0.48 s. The rows are the classes that score "
        "highest anywhere in the range."
    )
