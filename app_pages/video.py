"""Video: detect, track and count what moves, with the soundtrack on the same time axis."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from analysis.audio.decode import AudioClip
from analysis.filenames import safe_stem
from analysis.video.tracking import MAX_GAP_S, MIN_TRACK_S, TrackRules
from analysis.vision.detections import DEFAULT_CONFIDENCE, DetectionFilter
from analysis.vision.detectors import MIN_CANDIDATE_SCORE, is_available, vision_models
from models.catalog import CATALOG
from ui.sections.speech import finished_transcript, show_speech
from ui.sections.video_analysis import analysed
from ui.sections.video_player import current_shapes, show_player
from ui.sections.video_results import show_downloads, show_tracks, tracked
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
        "Confidence threshold",
        MIN_CANDIDATE_SCORE,
        1.0,
        step=0.05,
        value=DEFAULT_CONFIDENCE,
        key=remember("video_conf", DEFAULT_CONFIDENCE),
    )
    iou = st.slider(
        "Overlap (IoU) for merging boxes",
        0.1,
        1.0,
        step=0.05,
        value=0.45,
        key=remember("video_iou", 0.45),
    )

# -- Analysis (in the background; once per video, model and stride) --------------------------
with source_col:  # its progress, with the latest frame drawn, under the video's facts
    result = analysed(source, model, int(stride), DetectionFilter(confidence, iou), facts)
if result is None:
    st.stop()
info = result.analysis.info

# -- Settings that re-filter and re-track (no inference) -------------------------------------
with settings_col:
    min_track_s = st.number_input(
        "Count an object once it is seen for (s)",
        0.0,
        10.0,
        step=0.1,
        value=MIN_TRACK_S,
        key=remember("video_min_track_s", MIN_TRACK_S),
        help="Shorter tracks are flickers (a shadow, a reflection) and are not counted.",
    )
    st.caption(
        f"One object is one track with one label (the one most of its frames agree on). It "
        f"counts once seen for {min_track_s:g} s; lost for up to {MAX_GAP_S:g} s and found "
        f"again nearby, it keeps its number."
    )
    rules = TrackRules(min_track_s=float(min_track_s))
    every = tracked(result, DetectionFilter(confidence, iou), rules, None)
    key = remember(f"video_classes_{model}", [])
    classes = st.multiselect(  # the labels of the objects counted (and any chosen before)
        "Classes to show (empty shows all)",
        sorted(set(every.tracking.counts()) | set(st.session_state[key])),
        key=key,
    )
shown = tracked(result, DetectionFilter(confidence, iou), rules, tuple(classes) or None)
shapes = current_shapes(source)
counts = shown.counts(shapes)
soundtrack = result.analysis.soundtrack
clip = (
    None if soundtrack is None else AudioClip(soundtrack[0], soundtrack[1], "video", "soundtrack")
)
speech_key = f"{source.digest}:soundtrack"
transcript = None if clip is None else finished_transcript(speech_key, 0.0, round(clip.duration, 3))

# -- The video with its lines, zones, subtitles and timeline ---------------------------------
with source_col:
    show_player(source, result, shown, counts, transcript)

# -- Tracks and counts -----------------------------------------------------------------------
with settings_col:
    show_tracks(shown)

# -- What is said, and downloads -------------------------------------------------------------
if clip is not None:
    show_speech(clip, 0.0, clip.duration, speech_key, source_name=source.name)
show_downloads(source, result, shown, shapes, safe_stem(source.name, default="video"))
