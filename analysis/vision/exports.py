"""Detections as a CSV table, one row per box, for spreadsheets."""

from __future__ import annotations

import csv
import io

from analysis.vision.detections import Detections

COLUMNS = ("label", "score", "x1", "y1", "x2", "y2")


def detections_csv(detections: Detections) -> str:
    """``label,score,x1,y1,x2,y2`` with a header row, highest score first.

    Box corners are in pixels of the original picture (left, top, right, bottom).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for record in detections.to_records():
        writer.writerow([record["label"], record["score"], *record["box"]])
    return buffer.getvalue()
