"""The Video page's frame viewer: one analysed frame with its detections, frame by frame.

A fragment: moving its slider reruns only the viewer, never the page's spectrogram, charts
or downloads. A frame is decoded from the file when first shown (a seek and a few frames),
then cached, so a rerun that does not move the frame decodes nothing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from analysis.errors import InputError
from analysis.video.io import read_frame
from analysis.vision.annotate import Annotator
from ui.sections.video_results import Tracked
from ui.state import KeptFile, remember


@st.cache_data(max_entries=16, show_spinner=False)
def frame_at(digest: str, time_s: float, _data: bytes) -> np.ndarray:
    """The upright frame of the video ``digest`` (its bytes: ``_data``) shown at ``time_s``."""
    return read_frame(_data, time_s)


@st.fragment
def show_frames(source: KeptFile, shown: Tracked) -> None:
    """One analysed frame at a time, drawn with ``shown``'s detections, and their table."""
    analysis = shown.analysis
    st.subheader("Frame by frame")
    position = st.slider(
        "Frame",
        0,
        max(len(analysis.times) - 1, 1),
        key=remember(f"video_frame_{source.digest}", 0),
        disabled=len(analysis.times) < 2,
        help="Analysed frames; the time is shown under the picture.",
    )
    position = min(position, len(analysis.times) - 1)
    t = float(analysis.times[position])
    tracked = shown.tracking.frames[position]
    try:
        rgb = frame_at(source.digest, t, source.data)
    except InputError as error:
        st.error(str(error))
        return
    line = None if shown.line is None else shown.line.zone()
    drawn = Annotator((rgb.shape[1], rgb.shape[0])).draw(rgb, tracked, line=line, counts=False)
    st.image(drawn, width="stretch")
    st.text(f"{t:.2f} s — frame {int(analysis.frame_indices[position])}")
    st.dataframe(
        pd.DataFrame(
            {
                "track": [int(i) if i >= 0 else None for i in tracked.tracker_id],
                "label": list(tracked.data.get("class_name", [])),
                "score": np.round(tracked.confidence, 3),
                "box (x1, y1, x2, y2)": [str(np.round(b, 1).tolist()) for b in tracked.xyxy],
            }
        ),
        hide_index=True,
    )
