"""The Video page's player: the annotated video with the counting lines and zones drawn over
it, the subtitles (detections and speech), the timeline under it, and below them what the
lines and zones counted and the detections of the frame the video is paused on.

Everything the browser does while playing (playhead, seeking, the highlighted word) costs no
server work. Drawing a line or a zone reruns the page once: the shapes are counted from the
stored tracks (:mod:`ui.sections.video_shapes`), no network and no encoding.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from analysis.speech.subtitles import to_vtt as speech_vtt
from analysis.speech.whisper import Transcript
from analysis.video.regions import RegionCounts
from ui.sections.video_analysis import Analysed
from ui.sections.video_results import Tracked, memo_of
from ui.sections.video_shapes import crossing_events, notes, show_region_counts
from ui.sections.video_timeline import lanes
from ui.state import KeptFile
from ui.video_view import Shapes, Subtitles, video_view

PAUSED = "_video_paused_s"  # session state: (digest, time) the video was last paused at


def shapes_key(source: KeptFile) -> str:
    """Session-state key of the lines and zones drawn on this video (kept per video)."""
    return f"video_shapes_{source.digest}"


def current_shapes(source: KeptFile) -> Shapes:
    return st.session_state.get(shapes_key(source), Shapes())


def frame_table(shown: Tracked, time_s: float) -> tuple[pd.DataFrame, float]:
    """The tracked detections of the analysed frame shown at ``time_s``: track id, label,
    score to 2 decimals, box in whole pixels (unconfirmed detections have no id: "–"); and
    that frame's time (s)."""
    times = shown.analysis.times
    k = int(np.clip(np.searchsorted(times, time_s + 1e-6) - 1, 0, len(times) - 1))
    frame = shown.tracking.frames[k]
    ids = [] if frame.tracker_id is None else frame.tracker_id.tolist()
    return pd.DataFrame(
        {
            "track": [str(i) if i >= 0 else "–" for i in ids] or [],
            "label": [str(n) for n in frame.data.get("class_name", [])],
            "score": [
                round(float(c), 2)
                for c in (frame.confidence if frame.confidence is not None else [])
            ],
            "box (x1, y1, x2, y2)": [", ".join(f"{v:.0f}" for v in box) for box in frame.xyxy],
        }
    ), float(times[k])


def show_player(
    source: KeptFile,
    result: Analysed,
    shown: Tracked,
    counts: RegionCounts,
    transcript: Transcript | None,
) -> None:
    """The player with its timeline, then the counts of its lines and zones and the table of
    the paused frame's detections."""
    analysis = result.analysis
    info = analysis.info
    subtitles = [Subtitles("Detections", shown.vtt, "en", on=False)]
    if transcript is not None and transcript.segments:
        subtitles.insert(0, Subtitles("Speech", speech_vtt(transcript), transcript.language, True))
    timeline, missing = lanes(
        analysis, shown.tracking, crossing_events(counts), memo_of(result), transcript
    )

    def keep(new: Shapes) -> None:
        st.session_state[shapes_key(source)] = new

    paused = video_view(
        result.video,
        "video_view",
        frame=(info.width, info.height),
        fps=analysis.frame_rate,
        sound=info.has_audio,
        duration_s=analysis.end_s,
        shapes=current_shapes(source),
        lanes=timeline,
        notes=notes(counts),
        subtitles=subtitles,
        on_shapes=keep,
    )
    if paused is not None:
        st.session_state[PAUSED] = (source.digest, paused)
    if missing:
        st.caption(missing)
    show_region_counts(counts)
    digest, at = st.session_state.get(PAUSED, (None, 0.0))
    table, frame_s = frame_table(shown, at if digest == source.digest else 0.0)
    st.markdown(f"**Detections at {frame_s:.2f} s** (pause the video to see another frame)")
    first_s = min((track.first_s for track in shown.tracking.tracks), default=None)
    if not table.empty:
        st.dataframe(table, hide_index=True)
    elif first_s is not None and frame_s < first_s:
        # An empty table under people in the picture would read as "nothing found".
        st.caption(
            f"No object is tracked yet in this frame: the first tracks begin at {first_s:.2f} s."
        )
    else:
        st.caption("No tracked object in this frame.")
