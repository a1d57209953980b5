"""Scene cuts: where a video jumps to another shot, so tracks do not run across it.

A cut changes the whole picture at once; motion, even fast, changes part of it. Each analysed
frame is shrunk to a thumbnail in HSV (colour apart from brightness); a mean change over
:data:`CUT_CHANGE` from the previous analysed frame is a cut (the method of PySceneDetect's
content detector). On OpenCV's samples: Megamind's cuts change 42 to 98, vtest's street never
more than 5.
"""

from __future__ import annotations

import cv2
import numpy as np

CUT_CHANGE = 20.0
"""Mean absolute change of the HSV thumbnail (0-255 a channel) from which a change is a cut."""

_THUMBNAIL = (64, 36)  # width, height: enough to see a shot, 0.1 ms to make


def thumbnail(rgb: np.ndarray) -> np.ndarray:
    """``rgb`` (H, W, 3 uint8) as a small HSV picture, (36, 64, 3) int16, for :func:`is_cut`."""
    small = cv2.resize(rgb, _THUMBNAIL, interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(small, cv2.COLOR_RGB2HSV).astype(np.int16)


def is_cut(previous: np.ndarray | None, current: np.ndarray) -> bool:
    """Whether the :func:`thumbnail` ``current`` starts another shot than ``previous``
    (None: the first frame, no cut)."""
    return previous is not None and float(np.abs(current - previous).mean()) > CUT_CHANGE


class Candidates(list):
    """Each analysed frame's raw candidates (a list), with ``cuts``: the indices of the frames
    that start a new shot, where :func:`~analysis.video.tracking.track_all` ends every track.
    A plain list of the same candidates has no cuts."""

    def __init__(self, items=(), cuts: tuple[int, ...] = ()) -> None:
        super().__init__(items)
        self.cuts = cuts
