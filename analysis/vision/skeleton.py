"""Draw body poses on a picture: BlazePose's skeleton lines and a dot per keypoint.

The person's left side is drawn in orange, the right side in blue and the middle (face
midline, shoulder and hip lines) in white, so a mirrored pose is visible at a glance.
"""

from __future__ import annotations

import cv2
import numpy as np

from analysis.vision.blazepose import CONNECTIONS, LANDMARK_NAMES
from analysis.vision.pose import Poses

LEFT_COLOUR = (255, 140, 0)  # RGB
RIGHT_COLOUR = (30, 144, 255)
MIDDLE_COLOUR = (255, 255, 255)
OUTLINE_COLOUR = (20, 20, 20)

_SIDES = tuple(
    1 if name.startswith("left") else -1 if name.startswith("right") else 0
    for name in LANDMARK_NAMES
)


def _colour(a: int, b: int) -> tuple[int, int, int]:
    side = _SIDES[a] if _SIDES[a] == _SIDES[b] else 0
    return {1: LEFT_COLOUR, -1: RIGHT_COLOUR, 0: MIDDLE_COLOUR}[side]


def draw_poses(rgb: np.ndarray, poses: Poses, min_score: float = 0.5) -> np.ndarray:
    """A copy of ``rgb`` with each person's skeleton and keypoints drawn on it.

    Parameters
    ----------
    rgb : np.ndarray
        (height, width, 3) uint8 picture.
    poses : Poses
        People in ``rgb``'s pixel coordinates.
    min_score : float
        Keypoints whose visibility is below this are not drawn, nor lines that end at them.

    Returns
    -------
    np.ndarray
        The annotated copy. Line width (about 1/200 of the shorter side, at least 2 px) and
        dot size follow the image's size, so a thumbnail and a 4000-px photo both read well.
    """
    canvas = np.ascontiguousarray(rgb.copy())
    side = min(canvas.shape[:2])
    thickness = max(2, round(side / 200))
    radius = max(2, round(thickness * 1.2))
    shift = 4  # fixed-point bits: sub-pixel positions keep thin lines smooth
    for person in poses.keypoints[np.argsort(poses.scores, kind="stable")]:
        visible = person[:, 2] >= min_score
        points = np.rint(person[:, :2] * (1 << shift)).astype(np.int64)
        # Far off-image points (body parts out of frame) would overflow OpenCV's int coords.
        limit = 4 * max(canvas.shape[:2]) * (1 << shift)
        visible &= (np.abs(points) < limit).all(axis=1)
        for a, b in CONNECTIONS:
            if visible[a] and visible[b]:
                pa, pb = tuple(points[a].tolist()), tuple(points[b].tolist())
                cv2.line(canvas, pa, pb, OUTLINE_COLOUR, thickness + 2, cv2.LINE_AA, shift)
                cv2.line(canvas, pa, pb, _colour(a, b), thickness, cv2.LINE_AA, shift)
        for i in np.flatnonzero(visible):
            centre = tuple(points[i].tolist())
            colour = _colour(i, i)
            cv2.circle(
                canvas, centre, (radius + 1) << shift, OUTLINE_COLOUR, -1, cv2.LINE_AA, shift
            )
            cv2.circle(canvas, centre, radius << shift, colour, -1, cv2.LINE_AA, shift)
    return canvas
