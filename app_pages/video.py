"""Video: detect, track and count what moves, with the soundtrack on the same time axis."""

from __future__ import annotations

import io
import json
import logging
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from analysis.audio.render import render_spectrogram
from analysis.audio.spectrogram import STFTParams, spectrogram, to_db
from analysis.audio.tag_plot import render_tag_timeline
from analysis.errors import InputError
from analysis.filenames import safe_stem
from analysis.video.exports import frame_records, records_csv, render_in_view, result_json, to_vtt
from analysis.video.io import probe, read_frame, video_detector
from analysis.video.pipeline import RenderSettings, VideoAnalysis, analyse_video, render_video
from analysis.video.tracking import FrameAnnotator, Line, track_all
from analysis.vision.detections import DetectionFilter
from analysis.vision.detectors import MIN_CANDIDATE_SCORE, Detector, is_available, vision_models
from models.catalog import CATALOG
from models.locate import MissingModelError
from ui.internals import newer_run_waiting
from ui.state import kept_file, remember

log = logging.getLogger(__name__)

SAMPLE = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")  # Debian's opencv-doc
ON_SCREEN = RenderSettings(max_side=1280)  # the page's annotated video; the CLI keeps full size
RESULT = "_video_result"  # session key: this session's analysis, never shared


@st.cache_resource(show_spinner="Loading the model…")
def get_detector(name: str) -> Detector:
    return video_detector(name)


@st.cache_resource(max_entries=2, show_spinner=False)
def get_yamnet():
    from analysis.audio.tagging import load_yamnet

    return load_yamnet()


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
        name, data, digest = kept.name, kept.data, kept.digest
    elif use_sample:
        name, data, digest = SAMPLE.name, SAMPLE.read_bytes(), "sample:vtest"
    else:
        st.info("Drop a video to start.")
        st.stop()

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

try:
    info = probe(data)
except InputError as error:
    st.error(str(error))
    st.stop()

with source_col:
    sound = "with sound" if info.has_audio else "no sound"
    st.text(
        f"{name} — {info.width}×{info.height} px, {info.fps:.2f} fps, {info.frames} frames, "
        f"{info.duration_s:.1f} s, {info.codec}, {sound}"
    )

# -- Analysis (once per video, model and stride; kept in this session only) ------------------
key = (digest, model, int(stride))
result = st.session_state.get(RESULT)
if result is None or result["key"] != key:
    st.button(
        "Stop",
        key="video_stop",
        help="Ends the analysis; what is done so far is kept and shown.",
    )
    bar = st.progress(0.0, text="Analysing…")
    started = time.perf_counter()
    stop = threading.Event()

    def progress(done: int, total: int) -> None:
        # Stop, or any other control, asks for a new run: end the pass and keep what is done
        # rather than let the rerun throw it away mid-frame.
        if newer_run_waiting():
            stop.set()
            return
        elapsed = time.perf_counter() - started
        left = elapsed / done * (total - done)
        bar.progress(
            min(done / total, 1.0), text=f"Frame {done} of {total} — about {left:.0f} s left"
        )

    output = io.BytesIO()
    try:
        analysis = analyse_video(
            data,
            get_detector(model),
            model,
            DetectionFilter(confidence, iou),
            stride=int(stride),
            output=output,
            render=ON_SCREEN,
            soundtrack=True,
            progress=progress,
            stop=stop,
        )
    except (InputError, MissingModelError) as error:
        st.error(str(error))
        st.stop()
    except Exception:
        log.exception("video analysis failed")
        st.error("Something went wrong while analysing this video; please try another one.")
        st.stop()
    drawn_with = (confidence, iou, None, None)  # the settings the video was drawn with
    result = {
        "key": key,
        "analysis": analysis,
        "video": output.getvalue(),
        "drawn_with": drawn_with,
    }
    st.session_state[RESULT] = result
    st.rerun()  # draw the page without the progress bar and the Stop button

analysis: VideoAnalysis = result["analysis"]
if analysis.note:
    st.warning(analysis.note)
if (
    analysis.note
    and analysis.note.startswith("Stopped")
    and st.button("Analyse the whole video", help="Runs the detector again from the first frame.")
):
    del st.session_state[RESULT]
    st.rerun()

# -- Settings that re-filter and re-track (no inference) -------------------------------------
with settings_col:
    present = sorted({label for raw in analysis.candidates for label in raw.labels})
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

params = DetectionFilter(confidence, iou, tuple(classes) if classes else None)
settings = (confidence, iou, params.classes, line)
if result.get("tracked_with") != settings:
    result["tracking"] = track_all(
        analysis.times, analysis.candidates, params, analysis.frame_rate, line
    )
    result["tracked_with"] = settings
tracking = result["tracking"]
stem = safe_stem(name, default="video")

# -- The video -------------------------------------------------------------------------------
with source_col:
    vtt = to_vtt(tracking, analysis.end_s)
    annotated_tab, original_tab = st.tabs(["With detections", "Original"])
    with annotated_tab:
        st.video(result["video"], format="video/mp4", subtitles={"Detections": vtt})
        if result["drawn_with"] != settings:
            st.caption("The video above was drawn with earlier settings.")
            if st.button("Draw the video again with these settings (no inference, takes a while)"):
                bar = st.progress(0.0, text="Drawing…")
                output = io.BytesIO()
                render_video(
                    data,
                    analysis,
                    tracking,
                    output,
                    line=line,
                    render=ON_SCREEN,
                    progress=lambda done, total: bar.progress(done / total, text="Drawing…"),
                )
                result["video"], result["drawn_with"] = output.getvalue(), settings
                st.rerun()
    with original_tab:
        st.video(data)
        st.caption("Browsers play H.264, VP8/9 and AV1 videos; others show only here, drawn.")

    # -- One frame -------------------------------------------------------------------------
    st.subheader("Frame by frame")
    position = st.slider(
        "Frame",
        0,
        max(len(analysis.times) - 1, 1),
        key=remember(f"video_frame_{digest}", 0),
        disabled=len(analysis.times) < 2,
        help="Analysed frames; the time is shown under the picture.",
    )
    position = min(position, len(analysis.times) - 1)
    t = float(analysis.times[position])
    tracked = tracking.frames[position]
    rgb = read_frame(data, t)
    annotator = FrameAnnotator((rgb.shape[1], rgb.shape[0]), analysis.frame_rate, line)
    st.image(annotator.draw(rgb, tracked, trails=False), width="stretch")
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

# -- Tracks and counts -----------------------------------------------------------------------
with settings_col:
    counts = tracking.counts()
    st.subheader(f"{len(tracking.tracks)} tracked object(s)")
    if counts:
        st.write(", ".join(f"{label}: {n}" for label, n in counts.items()))
    else:
        st.write("Nothing tracked: try lowering the confidence threshold.")
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "id": r.id,
                    "label": r.label,
                    "first seen (s)": round(r.first_s, 2),
                    "last seen (s)": round(r.last_s, 2),
                    "for (s)": round(r.duration_s, 2),
                    "best score": round(r.best_score, 3),
                }
                for r in tracking.tracks
            ]
        ),
        hide_index=True,
        height=260,
    )
    if tracking.crossings is not None:
        st.markdown("**Line crossings**")
        st.dataframe(
            pd.DataFrame(
                [
                    {"label": k, "in": v["in"], "out": v["out"]}
                    for k, v in tracking.crossings.items()
                ]
            ),
            hide_index=True,
        )
    timings = analysis.timings_ms
    st.caption(
        f"Analysed {len(analysis.times)} frame(s) in {timings['total'] / 1000:.1f} s "
        f"(inference {timings['inference'] / 1000:.1f} s). Moving a control re-tracks the "
        f"kept candidates: the network does not run again."
    )

# -- Seen and heard on one time axis ---------------------------------------------------------
st.subheader("Timeline")
st.image(render_in_view(tracking, analysis.end_s), width="stretch")
if info.has_audio:
    audio = analysis.soundtrack
    if audio is not None:
        samples, rate = audio
        spec = spectrogram(samples[0], rate, STFTParams(n_fft=1024), end_s=analysis.end_s)
        db, top = to_db(spec.power)
        st.image(
            render_spectrogram(spec, db, db_floor=top - 80, db_top=top, image_format="jpeg"),
            width="stretch",
        )
        try:
            if "tagging" not in result:
                from analysis.audio.tagging import tag_audio

                with st.spinner("Tagging the sounds (YAMNet)…"):
                    result["tagging"] = tag_audio(samples, rate, get_yamnet())
            st.image(render_tag_timeline(result["tagging"], 0.0, analysis.end_s), width="stretch")
        except MissingModelError as error:
            st.caption(f"Sound tags need YAMNet: {error}")
else:
    st.caption("This video has no sound.")

# -- Downloads -------------------------------------------------------------------------------
st.subheader("Downloads")
records = frame_records(tracking, analysis.frame_indices)
tracks = [r.as_dict() for r in tracking.tracks]
row1 = st.columns(4)
row1[0].download_button(
    "Annotated video (MP4)", result["video"], f"{stem}_tracked.mp4", "video/mp4", on_click="ignore"
)
row1[1].download_button(
    "Tracks (CSV)", records_csv(tracks), f"{stem}_tracks.csv", "text/csv", on_click="ignore"
)
row1[2].download_button(
    "Tracks (JSON)",
    json.dumps(result_json(analysis, None, tracking), indent=1),
    f"{stem}_tracks.json",
    "application/json",
    on_click="ignore",
)
row1[3].download_button(
    "Subtitles (WebVTT)", vtt, f"{stem}_detections.vtt", "text/vtt", on_click="ignore"
)
row2 = st.columns(4)
row2[0].download_button(
    "Detections per frame (CSV)",
    records_csv(records),
    f"{stem}_detections.csv",
    "text/csv",
    on_click="ignore",
)
row2[1].download_button(
    "Detections per frame (JSON)",
    json.dumps(records),
    f"{stem}_detections.json",
    "application/json",
    on_click="ignore",
)
