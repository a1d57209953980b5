"""Video: detect, track and count what moves, with the soundtrack on the same time axis."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from analysis.errors import InputError
from analysis.filenames import safe_stem
from analysis.video.tracking import Line
from analysis.vision.detections import DetectionFilter
from analysis.vision.detectors import MIN_CANDIDATE_SCORE, is_available, vision_models
from models.catalog import CATALOG
from ui.sections.video_analysis import analysed
from ui.sections.video_frames import show_frames
from ui.sections.video_results import (
    show_downloads,
    show_timeline,
    show_tracks,
    show_videos,
    tracked,
)
from ui.state import KeptFile, kept_file, remember

SAMPLE = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")  # Debian's opencv-doc

st.title("Video")
st.caption(
    "Drop in a video: an object detector runs on its frames, a tracker follows each object, "
    "and what is heard sits on the same time axis as what is seen."
)

# -- Input -----------------------------------------------------------------------------------
source_col, settings_col = st.columns([3, 2], gap="large")
with source_col:
    kept = kept_file(
        "video_upload",
        lambda key: st.file_uploader(
            "Drop a video here",
            key=key,
            help="MP4, MOV, WebM, MKV, AVI… anything FFmpeg decodes, up to 200 MB.",
        ),
    )
    use_sample = kept is None and st.toggle(
        "…or try OpenCV's sample of pedestrians (vtest.avi, 80 s)",
        key=remember("video_sample", False),
        disabled=not SAMPLE.exists(),
        help="Works offline; needs Debian's opencv-doc package.",
    )
    if kept is not None:
        source = kept
    elif use_sample:
        source = KeptFile(SAMPLE.name, SAMPLE.read_bytes(), "sample:vtest", "sample")
    else:
        st.info("Drop a video to start.")
        st.stop()
    facts = st.empty()  # the video's size, rate, length and sound, once known

with settings_col:
    available = [spec.name for spec in vision_models() if is_available(spec)]
    model = st.selectbox(
        "Model",
        available,
        key=remember("video_model", available[0]),
        format_func=lambda n: CATALOG[n].title,
    )
    stride = st.number_input(
        "Analyse every Nth frame",
        min_value=1,
        max_value=30,
        key=remember("video_stride", 1),
        help="2 halves the time; tracks stay consistent.",
    )
    confidence = st.slider(
        "Confidence threshold", MIN_CANDIDATE_SCORE, 1.0, step=0.05, key=remember("video_conf", 0.4)
    )
    iou = st.slider(
        "Overlap (IoU) for merging boxes", 0.1, 1.0, step=0.05, key=remember("video_iou", 0.45)
    )

# -- Analysis (in the background; once per video, model and stride) --------------------------
result = analysed(source, model, int(stride), DetectionFilter(confidence, iou), facts)
if result is None:
    st.stop()
info = result.analysis.info

# -- Settings that re-filter and re-track (no inference) -------------------------------------
with settings_col:
    present = sorted({label for raw in result.analysis.candidates for label in raw.labels})
    classes = st.multiselect(
        "Classes to show (empty shows all)", present, key=remember(f"video_classes_{model}", [])
    )
    use_line = st.toggle("Count crossings of a line", key=remember("video_use_line", False))
    line = None
    if use_line:
        a, b, c, d = st.columns(4)
        x1 = a.number_input("x1", 0, info.width, key=remember("video_x1", 0))
        y1 = b.number_input("y1", 0, info.height, key=remember("video_y1", info.height // 2))
        x2 = c.number_input("x2", 0, info.width, key=remember("video_x2", info.width))
        y2 = d.number_input("y2", 0, info.height, key=remember("video_y2", info.height // 2))
        try:
            line = Line(x1, y1, x2, y2)
        except InputError as error:
            st.error(str(error))

shown = tracked(result, DetectionFilter(confidence, iou, tuple(classes) or None), line)

# -- The video, frame by frame ---------------------------------------------------------------
with source_col:
    show_videos(source, result, shown)
    show_frames(source, shown)

# -- Tracks and counts -----------------------------------------------------------------------
with settings_col:
    show_tracks(shown)

# -- Seen and heard on one time axis, and downloads ------------------------------------------
show_timeline(result, shown)
show_downloads(result, shown, safe_stem(source.name, default="video"))
