"""The Video page's results for the current settings: the annotated video, the tracks, the
timeline of what is seen and heard, and the downloads.

Everything here depends on the analysis and the tracking settings only, never on the frame
shown: a :class:`Tracked` holds one setting's tracking and makes each picture and file of it
once, when first shown, and this session keeps the latest few. So a frame move (or any rerun
that changes neither) recomputes nothing, and a settings change re-tracks once.
"""

from __future__ import annotations

import io
import json
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property

import pandas as pd
import streamlit as st

from analysis.audio.render import render_spectrogram
from analysis.audio.spectrogram import STFTParams, spectrogram, to_db
from analysis.audio.tag_plot import render_tag_timeline
from analysis.video.exports import frame_records, records_csv, render_in_view, result_json, to_vtt
from analysis.video.pipeline import VideoAnalysis, render_video
from analysis.video.tracking import Line, Tracking, track_all
from analysis.vision.detections import DetectionFilter
from models.locate import MissingModelError
from ui import jobs
from ui.counts import show_counts
from ui.sections.video_analysis import ON_SCREEN, Analysed
from ui.state import KeptFile

MEMO = "_video_memo"  # session state: what this session made of its current analysis
KEEP_SETTINGS = 4  # trackings kept per session: going back to a recent setting is free


@dataclass(eq=False)
class Tracked:
    """An analysis tracked with one setting, and what the page shows of it, each made once."""

    analysis: VideoAnalysis
    params: DetectionFilter
    line: Line | None
    tracking: Tracking

    @property
    def settings(self) -> tuple[DetectionFilter, Line | None]:
        return self.params, self.line

    @cached_property
    def in_view_png(self) -> bytes:
        return render_in_view(self.tracking, self.analysis.end_s)

    @cached_property
    def vtt(self) -> str:
        return to_vtt(self.tracking, self.analysis.end_s)

    @cached_property
    def tracks_csv(self) -> str:
        return records_csv([track.as_dict() for track in self.tracking.tracks])

    @cached_property
    def tracks_json(self) -> str:
        return json.dumps(result_json(self.analysis, None, self.tracking), indent=1)

    @cached_property
    def _records(self) -> list[dict[str, object]]:
        return frame_records(self.tracking, self.analysis.frame_indices)

    @cached_property
    def detections_csv(self) -> str:
        return records_csv(self._records)

    @cached_property
    def detections_json(self) -> str:
        return json.dumps(self._records)


def _memo(result: Analysed) -> dict:
    memo = st.session_state.get(MEMO)
    if memo is None or memo["result"] is not result:
        memo = st.session_state[MEMO] = {"result": result, "tracked": OrderedDict()}
    return memo


def tracked(result: Analysed, params: DetectionFilter, line: Line | None) -> Tracked:
    """``result`` tracked with these settings: the pass's own tracking when they are the ones
    it ran with, else tracked again from the kept candidates (once per setting)."""
    analysis, settings = result.analysis, (params, line)
    kept: OrderedDict = _memo(result)["tracked"]
    if settings not in kept:
        if settings == (analysis.params, analysis.line):
            tracking = analysis.tracking
        else:
            tracking = track_all(
                analysis.times, analysis.candidates, params, analysis.frame_rate, line
            )
        kept[settings] = Tracked(analysis, params, line, tracking)
        while len(kept) > KEEP_SETTINGS:
            kept.popitem(last=False)
    kept.move_to_end(settings)
    return kept[settings]


# -- The annotated video ------------------------------------------------------------------------


def _draw(source: KeptFile, shown: Tracked):
    def compute(progress: jobs.Progress) -> bytes:
        output = io.BytesIO()
        render_video(
            source.data,
            shown.analysis,
            shown.tracking,
            output,
            line=shown.line,
            render=ON_SCREEN,
            progress=progress.step,
        )
        return output.getvalue()

    return compute


def _drawn(result: Analysed) -> tuple[bytes, tuple[DetectionFilter, Line | None]]:
    """The annotated video to show and the settings it was drawn with: this session's latest
    finished drawing of ``result``, else the pass's."""
    memo = _memo(result)
    drawing = memo.get("drawing")
    if drawing is not None and drawing.result is not None:
        memo["drawn"] = drawing.result, drawing.key[-1]
    return memo.get("drawn", (result.video, (result.analysis.params, result.analysis.line)))


def show_videos(source: KeptFile, result: Analysed, shown: Tracked) -> None:
    """The annotated video (detections as subtitles), drawn again on request with the current
    settings, and the original."""
    memo = _memo(result)
    drawing = memo.get("drawing")  # this session's latest drawing with other settings
    video, drawn_with = _drawn(result)
    annotated_tab, original_tab = st.tabs(["With detections", "Original"])
    with annotated_tab:
        st.video(video, format="video/mp4", subtitles={"Detections": shown.vtt})
        if drawing is not None and drawing.running and jobs.watching(drawing):
            jobs.show_progress([drawing], key="video_draw_stop")
        elif drawn_with != shown.settings:
            if drawing is not None and drawing.failure is not None:  # logged by the job
                st.error("Drawing the video again failed; the one above is still shown.")
            st.caption("The video above was drawn with earlier settings.")
            if st.button("Draw the video again with these settings (no inference, takes a while)"):
                key = ("video drawing", *result.key, shown.settings)
                memo["drawing"] = jobs.start(
                    key, "video", "Drawing", "frames", _draw(source, shown)
                )
                st.rerun()
    with original_tab:
        st.video(source.data)
        st.caption("Browsers play H.264, VP8/9 and AV1 videos; others show only here, drawn.")


# -- Tracks and counts --------------------------------------------------------------------------


def show_tracks(shown: Tracked) -> None:
    tracking, analysis = shown.tracking, shown.analysis
    show_counts(
        f"{len(tracking.tracks)} tracked object(s)",
        tracking.counts(),
        "Nothing tracked: try lowering the confidence threshold.",
    )
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


# -- Seen and heard on one time axis ------------------------------------------------------------


@st.cache_resource(max_entries=2, show_spinner=False)
def get_yamnet():
    from analysis.audio.tagging import load_yamnet

    return load_yamnet()


def _soundtrack_picture(analysis: VideoAnalysis) -> bytes:
    samples, rate = analysis.soundtrack
    spec = spectrogram(samples[0], rate, STFTParams(n_fft=1024), end_s=analysis.end_s)
    db, top = to_db(spec.power)
    return render_spectrogram(spec, db, db_floor=top - 80, db_top=top, image_format="jpeg")


def _sound_tags_picture(analysis: VideoAnalysis) -> bytes:
    from analysis.audio.tagging import tag_audio

    samples, rate = analysis.soundtrack
    with st.spinner("Tagging the sounds (YAMNet)…"):
        tagging = tag_audio(samples, rate, get_yamnet())
    return render_tag_timeline(tagging, 0.0, analysis.end_s)


def show_timeline(result: Analysed, shown: Tracked) -> None:
    """What is in view over time, above the soundtrack's spectrogram and sound tags."""
    analysis, memo = result.analysis, _memo(result)
    st.subheader("Timeline")
    st.image(shown.in_view_png, width="stretch")
    if not analysis.info.has_audio:
        st.caption("This video has no sound.")
        return
    if analysis.soundtrack is None:
        return
    if "spectrogram" not in memo:
        memo["spectrogram"] = _soundtrack_picture(analysis)
    st.image(memo["spectrogram"], width="stretch")
    try:
        if "tags" not in memo:
            memo["tags"] = _sound_tags_picture(analysis)
        st.image(memo["tags"], width="stretch")
    except MissingModelError as error:
        st.caption(f"Sound tags need YAMNet: {error}")


# -- Downloads ----------------------------------------------------------------------------------


def show_downloads(result: Analysed, shown: Tracked, stem: str) -> None:
    st.subheader("Downloads")
    row1 = st.columns(4)
    row1[0].download_button(
        "Annotated video (MP4)",
        _drawn(result)[0],
        f"{stem}_tracked.mp4",
        "video/mp4",
        on_click="ignore",
    )
    row1[1].download_button(
        "Tracks (CSV)", shown.tracks_csv, f"{stem}_tracks.csv", "text/csv", on_click="ignore"
    )
    row1[2].download_button(
        "Tracks (JSON)",
        shown.tracks_json,
        f"{stem}_tracks.json",
        "application/json",
        on_click="ignore",
    )
    row1[3].download_button(
        "Subtitles (WebVTT)", shown.vtt, f"{stem}_detections.vtt", "text/vtt", on_click="ignore"
    )
    row2 = st.columns(4)
    row2[0].download_button(
        "Detections per frame (CSV)",
        shown.detections_csv,
        f"{stem}_detections.csv",
        "text/csv",
        on_click="ignore",
    )
    row2[1].download_button(
        "Detections per frame (JSON)",
        shown.detections_json,
        f"{stem}_detections.json",
        "application/json",
        on_click="ignore",
    )
