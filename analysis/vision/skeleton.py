"""The skeletons of the drawing style: BlazePose's skeleton lines and a dot per keypoint.

The person's left side is drawn in orange, the right side in blue and the middle (face
midline, shoulder and hip lines) in white, so a mirrored pose is visible at a glance.
"""

from __future__ import annotations

import cv2
import numpy as np
import supervision as sv
from supervision.annotators.base import BaseAnnotator

from analysis.vision.blazepose import CONNECTIONS, LANDMARK_NAMES
from analysis.vision.detections import KEYPOINTS

LEFT_COLOUR = (255, 140, 0)  # RGB
RIGHT_COLOUR = (30, 144, 255)
MIDDLE_COLOUR = (255, 255, 255)
OUTLINE_COLOUR = (20, 20, 20)

_SIDES = tuple(
    1 if name.startswith("left") else -1 if name.startswith("right") else 0
    for name in LANDMARK_NAMES
)
_SHIFT = 4  # fixed-point bits: sub-pixel positions keep thin lines smooth


def _colour(a: int, b: int) -> tuple[int, int, int]:
    side = _SIDES[a] if _SIDES[a] == _SIDES[b] else 0
    return {1: LEFT_COLOUR, -1: RIGHT_COLOUR, 0: MIDDLE_COLOUR}[side]


class SkeletonAnnotator(BaseAnnotator):
    """Draws each detection's keypoints (``data["keypoints"]``, see
    :func:`analysis.vision.detections.to_supervision`) as a skeleton, best score on top.

    Parameters
    ----------
    min_score : float
        Keypoints whose visibility is below this are not drawn, nor lines that end at them.

    Line width (about 1/200 of the shorter side, at least 2 px) and dot size follow the
    picture's size, so a thumbnail and a 4000-px photo both read well.
    """

    def __init__(self, min_score: float = 0.5) -> None:
        self.min_score = min_score

    def annotate(self, scene: np.ndarray, detections: sv.Detections) -> np.ndarray:
        """Draw on ``scene`` (RGB uint8, in place) and return it; without keypoints, nothing."""
        if KEYPOINTS not in detections.data:
            return scene
        thickness = max(2, round(min(scene.shape[:2]) / 200))
        radius = max(2, round(thickness * 1.2))
        # Far off-picture points (body parts out of frame) would overflow OpenCV's int coords.
        limit = 4 * max(scene.shape[:2]) * (1 << _SHIFT)
        keypoints = detections.data[KEYPOINTS]
        for person in keypoints[np.argsort(detections.confidence, kind="stable")]:
            points = np.rint(person[:, :2] * (1 << _SHIFT)).astype(np.int64)
            visible = (person[:, 2] >= self.min_score) & (np.abs(points) < limit).all(axis=1)
            self._draw_person(scene, points, visible, thickness, radius)
        return scene

    @staticmethod
    def _draw_person(
        scene: np.ndarray, points: np.ndarray, visible: np.ndarray, thickness: int, radius: int
    ) -> None:
        for a, b in CONNECTIONS:
            if visible[a] and visible[b]:
                pa, pb = tuple(points[a].tolist()), tuple(points[b].tolist())
                cv2.line(scene, pa, pb, OUTLINE_COLOUR, thickness + 2, cv2.LINE_AA, _SHIFT)
                cv2.line(scene, pa, pb, _colour(a, b), thickness, cv2.LINE_AA, _SHIFT)
        for i in np.flatnonzero(visible):
            centre = tuple(points[i].tolist())
            outline = (radius + 1) << _SHIFT
            cv2.circle(scene, centre, outline, OUTLINE_COLOUR, -1, cv2.LINE_AA, _SHIFT)
            cv2.circle(scene, centre, radius << _SHIFT, _colour(i, i), -1, cv2.LINE_AA, _SHIFT)
