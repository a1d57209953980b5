"""The tags of the drawing style: "person 0.87" (or "#3 person 0.87" once tracked) in a band
of the class colour, placed so that tags never cover one another and never leave the picture.

:func:`place_tags` places them, best score first, each as close as it can to the top-left
corner of its box. supervision's ``LabelAnnotator(smart_position=True)`` only nudges
overlapping labels apart for a fixed number of steps and then snaps them back inside the
frame, which can pile them up again at an edge, so :class:`TagAnnotator` places its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import supervision as sv
from supervision.annotators.base import BaseAnnotator

from analysis.vision.detections import CLASS_NAME
from analysis.vision.palette import class_colour, text_colour

FONT = cv2.FONT_HERSHEY_SIMPLEX
MAX_TAGS = 100
"""Tags tried on one picture, best scores first; more would be unreadable anyway."""

Rect = tuple[int, int, int, int]
"""A tag's rectangle in pixels: ``x1, y1, x2, y2``, the right and bottom edges excluded."""


@dataclass(frozen=True)
class TagFont:
    """Text size of the tags on one picture, in pixels and OpenCV font units."""

    scale: float
    thickness: int
    pad: int  # pixels between the text and the edge of its coloured band

    @classmethod
    def for_image(cls, height: int, width: int) -> TagFont:
        """About 1/40 of the shorter side for the text height, at least 12 px, so tags stay
        readable on a 300-px thumbnail and on a 4000-px photo alike."""
        text_height = max(12, min(height, width) / 40)
        # Hershey simplex is about 22 px tall at scale 1.
        return cls(
            text_height / 22.0, max(1, round(text_height / 12)), max(2, round(text_height / 5))
        )

    def size(self, text: str) -> tuple[int, int, int]:
        """Width and height of ``text``'s band, and the text's own height (pixels)."""
        (width, height), baseline = cv2.getTextSize(text, FONT, self.scale, self.thickness)
        return width + 2 * self.pad, height + baseline + 2 * self.pad, height


def tag_texts(detections: sv.Detections) -> list[str]:
    """``"#3 person 0.87"`` for each tracked detection, ``"person 0.87"`` for the others
    (no tracker, or a track not yet confirmed: id -1)."""
    n = len(detections)
    ids = detections.tracker_id if detections.tracker_id is not None else np.full(n, -1)
    names = detections.data.get(CLASS_NAME)
    if names is None:
        names = [f"class {class_id}" for class_id in detections.class_id]
    return [
        (f"#{track_id} " if track_id >= 0 else "") + f"{name} {score:.2f}"
        for track_id, name, score in zip(ids, names, detections.confidence, strict=True)
    ]


def _overlaps(candidates: np.ndarray, placed: np.ndarray) -> np.ndarray:
    """For each (M, 4) candidate rectangle, whether it overlaps any (K, 4) placed one."""
    if not len(placed):
        return np.zeros(len(candidates), bool)
    c, p = candidates[:, None, :], placed[None, :, :]
    hit = (c[..., 0] < p[..., 2]) & (p[..., 0] < c[..., 2])
    hit &= (c[..., 1] < p[..., 3]) & (p[..., 1] < c[..., 3])
    return hit.any(axis=1)


def place_tags(boxes: np.ndarray, sizes: np.ndarray, width: int, height: int) -> list[Rect | None]:
    """Where to draw each box's tag so that no two tags overlap and all stay in the picture.

    Parameters
    ----------
    boxes : np.ndarray
        (N, 4) box corners ``x1, y1, x2, y2`` in pixels, in order of priority: earlier boxes
        get the better places.
    sizes : np.ndarray
        (N, 2) width and height of each tag, in pixels.
    width, height : int
        Size of the picture, in pixels.

    Returns
    -------
    list of Rect or None
        Each tag's rectangle, or None where no free place was found near the box, the tag
        is larger than the picture, or ``MAX_TAGS`` tags came before it. A tag goes just
        above its box's top-left corner when there is room, else to the nearest free place
        around the box, within a few tag heights of it.
    """
    rects: list[Rect | None] = []
    placed = np.zeros((0, 4), np.int64)
    corners = np.rint(boxes).astype(np.int64)
    for index, ((x1, y1, x2, y2), (w, h)) in enumerate(zip(corners, sizes, strict=True)):
        w, h = int(w), int(h)
        if w > width or h > height or index >= MAX_TAGS:
            rects.append(None)
            continue
        # Candidate top-left corners on a grid around the box, nearest to the preferred spot
        # (just above the top-left corner) first.
        step_x, step_y = max(1, w // 4), max(1, h // 2)
        xs = np.arange(x1 - 2 * w, max(x2, x1 + 1) + w, step_x)
        ys = np.arange(y1 - 4 * h, max(y2, y1 + 1) + 3 * h, step_y)
        xs = np.unique(np.clip(np.append(xs, [x1, x2 - w]), 0, width - w))
        ys = np.unique(np.clip(np.append(ys, [y1 - h, y1, y2]), 0, height - h))
        left, top = (a.ravel() for a in np.meshgrid(xs, ys))
        distance = np.abs(left - x1) + np.abs(top - (y1 - h))
        order = np.argsort(distance, kind="stable")
        candidates = np.column_stack([left, top, left + w, top + h])[order]
        free = np.flatnonzero(~_overlaps(candidates, placed))
        if not len(free):
            rects.append(None)
            continue
        rect = candidates[free[0]]
        placed = np.vstack([placed, rect])
        rects.append(tuple(int(v) for v in rect))
    return rects


def tag_rects(
    detections: sv.Detections, height: int, width: int, texts: list[str] | None = None
) -> list[Rect | None]:
    """Each detection's tag rectangle on a ``width`` × ``height`` picture (see ``place_tags``).

    Higher scores are placed first; the result is in the order of ``detections``.
    """
    font = TagFont.for_image(height, width)
    texts = tag_texts(detections) if texts is None else texts
    sizes = np.array([font.size(text) for text in texts]).reshape(-1, 3)
    return _placed(detections, sizes[:, :2], width, height)


def _placed(
    detections: sv.Detections, sizes: np.ndarray, width: int, height: int
) -> list[Rect | None]:
    order = np.argsort(-detections.confidence, kind="stable")
    placed = place_tags(detections.xyxy[order], sizes[order], width, height)
    rects: list[Rect | None] = [None] * len(detections)
    for i, rect in zip(order, placed, strict=True):
        rects[int(i)] = rect
    return rects


class TagAnnotator(BaseAnnotator):
    """Draws each detection's tag in a band of its class colour, where :func:`tag_rects`
    places it (a tag with no free place near its box is left out). Text size follows the
    picture's size (:class:`TagFont`)."""

    def annotate(
        self, scene: np.ndarray, detections: sv.Detections, labels: list[str] | None = None
    ) -> np.ndarray:
        """Draw on ``scene`` (RGB uint8, in place) and return it; ``labels`` replace the
        texts of :func:`tag_texts`."""
        height, width = scene.shape[:2]
        font = TagFont.for_image(height, width)
        texts = tag_texts(detections) if labels is None else labels
        sizes = np.array([font.size(text) for text in texts]).reshape(-1, 3)
        for i, rect in enumerate(_placed(detections, sizes[:, :2], width, height)):
            if rect is None:
                continue
            left, top, right, bottom = rect
            colour = class_colour(int(detections.class_id[i]))
            cv2.rectangle(scene, (left, top), (right - 1, bottom - 1), colour, cv2.FILLED)
            cv2.putText(
                scene,
                texts[i],
                (left + font.pad, top + font.pad + int(sizes[i, 2])),
                FONT,
                font.scale,
                text_colour(colour),
                font.thickness,
                cv2.LINE_AA,
            )
        return scene
