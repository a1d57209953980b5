"""What a picture's analysis gives to take away: a CSV table and the JSON object that the
``detect`` and ``pose`` commands print and the Vision page offers for download."""

from __future__ import annotations

import csv
import io

import numpy as np

from analysis.vision.blazepose import LANDMARK_NAMES
from analysis.vision.detections import DetectionFilter, Detections
from analysis.vision.pose import Poses
from analysis.vision.timings import PoseTimings, Timings

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


def detection_result(
    file: str,
    model: str,
    params: DetectionFilter,
    rgb: np.ndarray,
    detections: Detections,
    timings: Timings | PoseTimings,
    poses: Poses | None = None,
) -> dict[str, object]:
    """The JSON object of one picture's detections (the ``detect`` command's, the page's).

    ``file`` is the picture's file name; ``params`` the thresholds the detections passed
    (``classes`` is null when every class is shown). With ``poses``, the detections are the
    people, each with its keypoints, and ``keypoint_names`` names them.
    """
    result = {
        "file": file,
        "model": model,
        "thresholds": {
            "confidence": round(params.confidence, 4),
            "iou": round(params.iou, 4),
            "classes": None if params.classes is None else list(params.classes),
        },
        "image": {"width": int(rgb.shape[1]), "height": int(rgb.shape[0])},
        "detections": detections.to_records(),
        "timings_ms": timings.as_dict(),
    }
    if poses is not None:
        result["keypoint_names"] = list(LANDMARK_NAMES)
        result["detections"] = poses.to_records()
    return result


def pose_result(rgb: np.ndarray, poses: Poses, timings: PoseTimings) -> dict[str, object]:
    """The JSON object the ``pose`` command prints: BlazePose's people with their keypoints."""
    return {
        "model": "blazepose",
        "image": {"width": int(rgb.shape[1]), "height": int(rgb.shape[0])},
        "keypoint_names": list(LANDMARK_NAMES),
        "detections": poses.to_records(),
        "timings_ms": timings.as_dict(),
    }
