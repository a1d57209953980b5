"""The Video page's results for the current settings: the tracks, their counts and the
downloads.

Everything here depends on the analysis and the tracking settings only, never on the time
shown: a :class:`Tracked` holds one setting's tracking and makes each file of it once, when
first asked, and this session keeps the latest few. So a pause or a seek (or any rerun that
changes neither) recomputes nothing, and a settings change re-tracks once.
"""

from __future__ import annotations

import io
import json
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cached_property

import pandas as pd
import streamlit as st

from analysis.video.exports import frame_records, records_csv, result_json, to_vtt
from analysis.video.pipeline import VideoAnalysis, render_video
from analysis.video.regions import RegionCounts, count_regions
from analysis.video.tracking import Tracking, TrackRules, track_all
from analysis.vision.detections import DetectionFilter
from ui import jobs
from ui.counts import show_counts
from ui.sections.video_analysis import ON_SCREEN, Analysed
from ui.state import KeptFile
from ui.video_view import Shapes

MEMO = "_video_memo"  # session state: what this session made of its current analysis
# A real object keeps a good score over its frames (every person of vtest.avi 0.66 or more);
# something merely resembling one does not (its sign, seen as a person all along: 0.53).
UNSURE_MEAN = 0.6
KEEP_SETTINGS = 4  # trackings kept per session: going back to a recent setting is free


@dataclass(eq=False)
class Tracked:
    """An analysis tracked with one setting, and what the page shows of it, each made once."""

    analysis: VideoAnalysis
    params: DetectionFilter
    rules: TrackRules
    tracking: Tracking  # the objects of the chosen classes
    everything: Tracking  # all of them (another class filter starts from here)
    counted: dict[Shapes, RegionCounts] = field(default_factory=dict)
    json_of: tuple[Shapes | None, str] = (None, "")

    def counts(self, shapes: Shapes) -> RegionCounts:
        """What ``shapes`` count on these tracks (the latest shapes' counts are kept)."""
        if shapes not in self.counted:
            self.counted.clear()
            self.counted[shapes] = count_regions(self.tracking, shapes.lines, shapes.zones)
        return self.counted[shapes]

    def tracks_json(self, shapes: Shapes) -> str:
        """The JSON result with these lines' and zones' counts (made once per shapes)."""
        if self.json_of[0] != shapes:
            made = result_json(self.analysis, None, self.tracking, shapes.lines, shapes.zones)
            self.json_of = shapes, json.dumps(made, indent=1)
        return self.json_of[1]

    @cached_property
    def vtt(self) -> str:
        return to_vtt(self.tracking, self.analysis.end_s)

    @cached_property
    def tracks_csv(self) -> str:
        return records_csv([track.as_dict() for track in self.tracking.tracks])

    @cached_property
    def _records(self) -> list[dict[str, object]]:
        return frame_records(self.tracking, self.analysis.frame_indices)

    @cached_property
    def detections_csv(self) -> str:
        return records_csv(self._records)

    @cached_property
    def detections_json(self) -> str:
        return json.dumps(self._records)


def memo_of(result: Analysed) -> dict:
    """What this session made of ``result`` (its trackings, the soundtrack's lanes)."""
    memo = st.session_state.get(MEMO)
    if memo is None or memo["result"] is not result:
        memo = st.session_state[MEMO] = {"result": result, "tracked": OrderedDict()}
    return memo


def tracked(
    result: Analysed, params: DetectionFilter, rules: TrackRules, classes: tuple[str, ...] | None
) -> Tracked:
    """``result`` tracked with ``params`` and ``rules``, its objects of ``classes`` (None:
    all): the pass's own tracking when they are the ones it ran with, else tracked again from
    the kept candidates (once per setting); the class filter keeps whole objects and tracks
    nothing again."""
    analysis, settings = result.analysis, (params, rules, classes)
    kept: OrderedDict = memo_of(result)["tracked"]
    if settings not in kept:
        same = next((t for (p, r, _), t in kept.items() if (p, r) == (params, rules)), None)
        if same is not None:
            tracking = same.everything
        elif (params, rules) == (analysis.params, analysis.rules):
            tracking = analysis.tracking
        else:
            tracking = track_all(
                analysis.times, analysis.candidates, params, analysis.frame_rate, rules
            )
        kept[settings] = Tracked(analysis, params, rules, tracking.of_labels(classes), tracking)
        while len(kept) > KEEP_SETTINGS:
            kept.popitem(last=False)
    kept.move_to_end(settings)
    return kept[settings]


# -- Tracks and counts --------------------------------------------------------------------------


def show_tracks(shown: Tracked) -> None:
    """The objects counted per label, a table of their tracks, and a warning about those the
    detector was unsure of all along."""
    tracking, analysis = shown.tracking, shown.analysis
    show_counts(
        f"{len(tracking.tracks)} tracked object(s)",
        tracking.counts(),
        "Nothing tracked: try lowering the confidence threshold.",
    )
    unsure = [r for r in tracking.tracks if r.mean_score < UNSURE_MEAN]
    if unsure:
        st.warning(
            f"Unsure of {len(unsure)} object(s) (marked ?): the detector gave them a mean "
            f"score under {UNSURE_MEAN:.2f}. Look at them in the video before trusting the "
            "count; raising the confidence threshold leaves them out.",
            icon=":material/help:",
        )
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "id": r.id,
                    "label": r.label + (" ?" if r.mean_score < UNSURE_MEAN else ""),
                    "first seen (s)": round(r.first_s, 2),
                    "last seen (s)": round(r.last_s, 2),
                    "for (s)": round(r.duration_s, 2),
                    "mean score": round(r.mean_score, 2),
                    "best score": round(r.best_score, 2),
                }
                for r in tracking.tracks
            ]
        ),
        hide_index=True,
        height=260,
    )
    timings = analysis.timings_ms
    st.caption(
        f"Analysed {len(analysis.times)} frame(s) in {timings['total'] / 1000:.1f} s "
        f"(inference {timings['inference'] / 1000:.1f} s). Moving a control re-tracks the "
        f"kept candidates: the network does not run again."
    )


# -- Downloads ----------------------------------------------------------------------------------


def _draw(source: KeptFile, shown: Tracked, shapes: Shapes):
    def compute(progress: jobs.Progress) -> bytes:
        output = io.BytesIO()
        render_video(
            source.data,
            shown.analysis,
            shown.tracking,
            output,
            lines=shapes.lines,
            zones=shapes.zones,
            render=ON_SCREEN,
            progress=progress.step,
        )
        return output.getvalue()

    return compute


def _annotated_video(source: KeptFile, result: Analysed, shown: Tracked, shapes: Shapes, place):
    """The annotated MP4 for the current settings, lines and zones: the pass's own when they
    are its, else drawn again on request (decoding and encoding, no inference) in ``place``;
    None until then."""
    analysis = result.analysis
    if not shapes.lines and not shapes.zones and shown.tracking is analysis.tracking:
        return result.video
    key = ("video drawing", *result.key, shown.params, shown.rules, shapes)
    job = jobs.board().get(key)
    if job is not None and job.result is not None:
        return job.result
    with place:
        if job is not None and job.running and jobs.watching(job):
            jobs.show_progress([job], key="video_draw_stop")
        elif st.button(
            "Draw the annotated MP4 with these lines, zones and settings",
            icon=":material/movie:",
            help="Decodes and encodes the video again (no inference): about as long as it plays.",
        ):
            jobs.start(key, "video", "Drawing", "frames", _draw(source, shown, shapes))
            st.rerun()
        elif job is not None and job.failure is not None:  # logged by the job
            st.error("Drawing the video failed; the other downloads still work.")
    return None


def show_downloads(
    source: KeptFile, result: Analysed, shown: Tracked, shapes: Shapes, stem: str
) -> None:
    """Every file of the analysis, named after the video (``street_tracks.csv``)."""
    st.subheader("Downloads")
    place = st.container()
    # Buttons as wide as their labels, wrapping: equal columns cut the longer ones short.
    row = st.container(horizontal=True)
    video = _annotated_video(source, result, shown, shapes, place)
    row.download_button(
        "Annotated video (MP4)",
        video or b"",
        f"{stem}_tracked.mp4",
        "video/mp4",
        on_click="ignore",
        disabled=video is None,
        help=None if video is not None else "Draw it with the button above first.",
    )
    row.download_button(
        "Tracks (CSV)", shown.tracks_csv, f"{stem}_tracks.csv", "text/csv", on_click="ignore"
    )
    row.download_button(
        "Tracks (JSON)",
        shown.tracks_json(shapes),
        f"{stem}_tracks.json",
        "application/json",
        on_click="ignore",
    )
    row.download_button(
        "Subtitles (WebVTT)", shown.vtt, f"{stem}_detections.vtt", "text/vtt", on_click="ignore"
    )
    row.download_button(
        "Detections per frame (CSV)",
        shown.detections_csv,
        f"{stem}_detections.csv",
        "text/csv",
        on_click="ignore",
    )
    row.download_button(
        "Detections per frame (JSON)",
        shown.detections_json,
        f"{stem}_detections.json",
        "application/json",
        on_click="ignore",
    )
