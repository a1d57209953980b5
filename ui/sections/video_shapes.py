"""The Video page's counting lines and zones: what they counted, as tables, as the short notes
drawn beside them on the video, and as the crossing events of the timeline.

The counting itself is :func:`analysis.video.regions.count_regions`, from the stored tracks:
no network, no decoding, so moving a line costs milliseconds.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analysis.video.regions import RegionCounts


def notes(counter: RegionCounts) -> dict[str, str]:
    """One short line per line or zone for the video overlay: "in 3 · out 1", "2 entered"."""
    said = {}
    for name, sides in counter.line_counts().items():
        said[name] = f"in {sum(sides['in'].values())} · out {sum(sides['out'].values())}"
    for name, per_label in counter.zone_counts().items():
        said[name] = f"{sum(int(v['entered']) for v in per_label.values())} entered"
    return said


def crossing_events(counter: RegionCounts) -> list[dict[str, object]]:
    """The crossings as the timeline's lane reads them: ``{"t", "line", "dir", "label"}``."""
    return [
        {"t": round(c.time_s, 3), "line": c.line, "dir": c.direction, "label": c.label}
        for c in sorted(counter.crossings, key=lambda c: c.time_s)
    ]


def _line_rows(counter: RegionCounts) -> list[dict[str, object]]:
    rows = []
    for name, sides in counter.line_counts().items():
        labels = sorted(set(sides["in"]) | set(sides["out"]))
        rows += [
            {
                "line": name,
                "label": label,
                "in": sides["in"].get(label, 0),
                "out": sides["out"].get(label, 0),
            }
            for label in labels
        ] or [{"line": name, "label": "(nothing crossed yet)", "in": 0, "out": 0}]
    return rows  # fmt: skip


def _zone_rows(counter: RegionCounts) -> list[dict[str, object]]:
    rows = []
    for name, per_label in counter.zone_counts().items():
        rows += [
            {
                "zone": name,
                "label": label,
                "entered": int(v["entered"]),
                "mean stay (s)": round(float(v["mean_dwell_s"]), 2),
            }
            for label, v in per_label.items()
        ] or [{"zone": name, "label": "(nothing entered)", "entered": 0, "mean stay (s)": 0.0}]
    return rows  # fmt: skip


def show_region_counts(counter: RegionCounts) -> None:
    """Per line, in and out by label; per zone, how many entered and their mean stay."""
    if not counter.lines and not counter.zones:
        st.caption(
            "Press **+ Line** under the video and click two points on it to count what "
            "crosses; **+ Zone** and click corners to count what enters an area."
        )
        return
    if counter.lines:
        st.markdown("**Line crossings**")
        st.dataframe(pd.DataFrame(_line_rows(counter)), hide_index=True)
    if counter.zones:
        st.markdown("**Zones**")
        st.dataframe(pd.DataFrame(_zone_rows(counter)), hide_index=True)
