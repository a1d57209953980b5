"""What a tracked video gives to read and keep: the in-view chart, per-frame records (CSV,
JSON), WebVTT subtitles of what is in view, and the JSON result of the analysis."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import supervision as sv

from analysis.figures import SPECTROGRAM_LAYOUT, encode, new_figure
from analysis.video.pipeline import VideoAnalysis
from analysis.video.regions import Line, Zone, count_regions
from analysis.video.tracking import Tracking


def render_in_view(tracking: Tracking, end_s: float, classes: int = 6) -> bytes:
    """Chart of how many of each class are in view over time, as PNG.

    Drawn in the pictures' shared frame (:mod:`analysis.figures`): placed above or below the
    soundtrack's spectrogram, the time axes and their ticks line up.
    """
    layout = replace(SPECTROGRAM_LAYOUT, height=260, top=12, bottom=50)
    figure, axes = new_figure(layout)
    in_view = tracking.in_view()
    busiest = sorted(in_view, key=lambda label: -int(in_view[label].sum()))[:classes]
    for label in busiest:
        axes.step(tracking.times, in_view[label], where="post", label=label, linewidth=1.6)
    axes.set_xlim(0, end_s)
    axes.set_ylim(bottom=0)
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.set_xlabel("Time (s)", fontsize=layout.label_pt)
    axes.set_ylabel("In view", fontsize=layout.label_pt)
    if busiest:
        axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=9, frameon=False)
    return encode(figure, "png")


# -- Exports ---------------------------------------------------------------------------------


def frame_records(tracking: Tracking, frame_indices: np.ndarray) -> list[dict[str, object]]:
    """One record per confirmed object in every analysed frame: frame, time (s), track id,
    the track's label, score (2 decimals), box (whole pixels)."""
    records = []
    for index, t, frame in zip(frame_indices, tracking.times, tracking.frames, strict=True):
        for box, score, track_id, name in zip(
            frame.xyxy, frame.confidence, frame.tracker_id, frame.data["class_name"], strict=True
        ):
            records.append(
                {
                    "frame": int(index),
                    "time_s": round(float(t), 3),
                    "track_id": int(track_id),
                    "label": str(name),
                    "score": round(float(score), 2),
                    "box": [round(float(v)) for v in box],
                }
            )
    return records


def records_csv(records: list[dict[str, object]]) -> str:
    """Records as CSV text; a ``box`` field becomes columns x1, y1, x2, y2."""
    buffer = io.StringIO()
    if not records:
        return ""
    flat = [_flatten(record) for record in records]
    writer = csv.DictWriter(buffer, fieldnames=list(flat[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(flat)
    return buffer.getvalue()


def _flatten(record: dict[str, object]) -> dict[str, object]:
    out = {k: v for k, v in record.items() if k != "box"}
    if "box" in record:
        out.update(zip(("x1", "y1", "x2", "y2"), record["box"], strict=True))
    return out


def _vtt_clock(seconds: float) -> str:
    millis = round(max(seconds, 0.0) * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def to_vtt(tracking: Tracking, end_s: float) -> str:
    """WebVTT subtitles saying what is in view ("2 person, 1 car"), one cue per change.

    Parameters
    ----------
    end_s : float
        End of the video, s (the last cue runs to it).
    """
    lines = ["WEBVTT", ""]
    summaries = [_summary(frame) for frame in tracking.frames]
    times = [*tracking.times.tolist(), end_s]
    start = 0
    for k in range(1, len(summaries) + 1):
        if k < len(summaries) and summaries[k] == summaries[start]:
            continue
        if summaries[start]:
            begin, stop = float(times[start]), max(float(times[k]), float(times[start]) + 0.001)
            lines += [f"{_vtt_clock(begin)} --> {_vtt_clock(stop)}", summaries[start], ""]
        start = k
    return "\n".join(lines)


def _summary(frame: sv.Detections) -> str:
    counts = Counter(str(name) for name in frame.data.get("class_name", []))
    return ", ".join(f"{n} {label}" for label, n in counts.most_common())


def result_json(
    analysis: VideoAnalysis,
    output: Path | None,
    tracking: Tracking | None = None,
    lines: Sequence[Line] | None = None,
    zones: Sequence[Zone] | None = None,
) -> dict[str, object]:
    """The JSON object the CLI prints and the Video page offers for download.

    ``tracking``, ``lines`` and ``zones`` replace the pass's own (the page's, for its current
    settings). Keys: model, video, frames_analysed, tracks (confirmed only), counts (distinct
    confirmed objects per label), timings_ms, output, ``"lines": {name: {"in": {label: n},
    "out": {label: n}}}``, ``"zones": {name: {label: {"entered": n, "mean_dwell_s": s}}}``
    and "rules" (how detections became objects).
    """
    tracking = tracking or analysis.tracking
    lines = analysis.lines if lines is None else lines
    zones = analysis.zones if zones is None else zones
    counted = count_regions(tracking, lines, zones)
    rules = tracking.rules
    return {
        "model": analysis.model,
        "video": analysis.info.as_dict(),
        "frames_analysed": len(analysis.times),
        "tracks": [track.as_dict() for track in tracking.tracks],
        "counts": tracking.counts(),
        "timings_ms": analysis.timings_ms,
        "output": str(output) if output else None,
        "lines": counted.line_counts(),
        "zones": counted.zone_counts(),
        "rules": {
            "min_track_s": rules.min_track_s,
            "max_gap_s": rules.max_gap_s,
            "class_agnostic": rules.class_agnostic,
        },
    }
