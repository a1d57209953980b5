"""The Video page's counting lines and zones: counted from the stored tracks, shown as tables.

Counting replays the tracked boxes of every analysed frame through supervision's
``LineZone`` and ``PolygonZone``: no network and no tracker runs, so moving a line costs a
few milliseconds per hundred frames. Each object counts under its track's label (the one
most of its frames agree on), so one object never counts under two labels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st
import supervision as sv

from analysis.video.tracking import Tracking
from ui.video_view import NamedLine, NamedZone, Shapes


@dataclass(frozen=True)
class ShapeCounts:
    """What the lines and zones counted.

    ``lines``: ``{name: {"in": {label: n}, "out": {label: n}}}``; ``zones``: ``{name: {label:
    {"entered": n, "mean_dwell_s": s}}}``; ``crossings``: one ``{"t", "line", "dir",
    "label"}`` per crossing, in time order.
    """

    lines: dict[str, dict[str, dict[str, int]]]
    zones: dict[str, dict[str, dict[str, float]]]
    crossings: list[dict[str, object]]

    def notes(self) -> dict[str, str]:
        """One short line per shape for the video overlay: "in 3 · out 1", "2 in, 4.1 s"."""
        notes = {}
        for name, sides in self.lines.items():
            notes[name] = f"in {sum(sides['in'].values())} · out {sum(sides['out'].values())}"
        for name, per_label in self.zones.items():
            entered = sum(int(v["entered"]) for v in per_label.values())
            notes[name] = f"{entered} entered"
        return notes


def _confirmed(frame: sv.Detections) -> sv.Detections:
    if frame.tracker_id is None or len(frame) == 0:
        return frame[np.zeros(len(frame), dtype=bool)]
    return frame[frame.tracker_id >= 0]


def _count_line(
    line: NamedLine, tracking: Tracking, labels: dict[int, str], crossings: list
) -> dict[str, dict[str, int]]:
    zone = sv.LineZone(start=sv.Point(*line.start), end=sv.Point(*line.end))
    sides: dict[str, dict[str, int]] = {"in": {}, "out": {}}
    for t, frame in zip(tracking.times, tracking.frames, strict=True):
        confirmed = _confirmed(frame)
        if len(confirmed) == 0:
            continue
        went_in, went_out = zone.trigger(confirmed)
        for direction, crossed in (("in", went_in), ("out", went_out)):
            for track_id in confirmed.tracker_id[crossed]:
                label = labels.get(int(track_id), "object")
                sides[direction][label] = sides[direction].get(label, 0) + 1
                crossings.append(
                    {"t": round(float(t), 3), "line": line.name, "dir": direction, "label": label}
                )
    return sides


def _count_zone(
    zone: NamedZone, tracking: Tracking, labels: dict[int, str], frame_rate: float
) -> dict[str, dict[str, float]]:
    polygon = sv.PolygonZone(np.rint(np.asarray(zone.points)).astype(int))
    frames_inside: dict[int, int] = {}
    for frame in tracking.frames:
        confirmed = _confirmed(frame)
        if len(confirmed) == 0:
            continue
        for track_id in confirmed.tracker_id[polygon.trigger(confirmed)]:
            frames_inside[int(track_id)] = frames_inside.get(int(track_id), 0) + 1
    per_label: dict[str, list[float]] = {}
    for track_id, frames in frames_inside.items():
        per_label.setdefault(labels.get(track_id, "object"), []).append(frames / frame_rate)
    return {
        label: {"entered": len(dwells), "mean_dwell_s": round(float(np.mean(dwells)), 2)}
        for label, dwells in sorted(per_label.items())
    }


def count_shapes(tracking: Tracking, shapes: Shapes, frame_rate: float) -> ShapeCounts:
    """Count ``shapes`` on ``tracking``'s stored tracks; ``frame_rate`` is analysed frames
    per second (a zone's dwell is the frames an object spends inside it over that rate)."""
    labels = {track.id: track.label for track in tracking.tracks}
    crossings: list[dict[str, object]] = []
    lines = {line.name: _count_line(line, tracking, labels, crossings) for line in shapes.lines}
    zones = {z.name: _count_zone(z, tracking, labels, frame_rate) for z in shapes.zones}
    crossings.sort(key=lambda c: c["t"])
    return ShapeCounts(lines, zones, crossings)


def show_shape_counts(counts: ShapeCounts) -> None:
    """Per line, in and out by label; per zone, how many entered and their mean stay."""
    if not counts.lines and not counts.zones:
        st.caption(
            "Press **+ Line** under the video and click two points on it to count what "
            "crosses; **+ Zone** and click corners to count what enters an area."
        )
        return
    rows = [
        {
            "line": name,
            "label": label,
            "in": sides["in"].get(label, 0),
            "out": sides["out"].get(label, 0),
        }
        for name, sides in counts.lines.items()
        for label in sorted(set(sides["in"]) | set(sides["out"])) or ["(nothing crossed)"]
    ]
    if rows:
        st.markdown("**Line crossings**")
        st.dataframe(pd.DataFrame(rows), hide_index=True)
    rows = [
        {
            "zone": name,
            "label": label,
            "entered": int(v["entered"]),
            "mean stay (s)": v["mean_dwell_s"],
        }
        for name, per_label in counts.zones.items()
        for label, v in (
            per_label.items() or [("(nothing entered)", {"entered": 0, "mean_dwell_s": 0.0})]
        )
    ]
    if rows:
        st.markdown("**Zones**")
        st.dataframe(pd.DataFrame(rows), hide_index=True)
