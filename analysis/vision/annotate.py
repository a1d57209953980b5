"""Draw detections on a picture: a box per detection, its label and score, a colour per class.

Tags ("cup 0.90") never cover one another and never leave the picture: :func:`tag_rects`
places them, best score first, each as close as it can to the top-left corner of its box.
supervision's ``LabelAnnotator(smart_position=True)`` only nudges overlapping labels apart
for a fixed number of steps and then snaps them back inside the frame, which can pile them
up again at an edge, so the placement is done here.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

import cv2
import numpy as np

from analysis.vision.detections import Detections

FONT = cv2.FONT_HERSHEY_SIMPLEX
MAX_TAGS = 100
"""Tags tried on one picture, best scores first; more would be unreadable anyway."""

Rect = tuple[int, int, int, int]
"""A tag's rectangle in pixels: ``x1, y1, x2, y2``, the right and bottom edges excluded."""


def class_colour(class_id: int) -> tuple[int, int, int]:
    """A stable, saturated RGB colour for ``class_id`` (golden-ratio hue steps)."""
    hue = (class_id * 0.618033988749895) % 1.0
    r, g, b = colorsys.hsv_to_rgb(hue, 0.85, 0.95)
    return int(r * 255), int(g * 255), int(b * 255)


def _text_colour(background: tuple[int, int, int]) -> tuple[int, int, int]:
    r, g, b = background
    return (0, 0, 0) if 0.299 * r + 0.587 * g + 0.114 * b > 150 else (255, 255, 255)


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


def tag_text(detections: Detections, index: int) -> str:
    """``"label 0.87"`` for detection ``index``."""
    class_id = int(detections.class_ids[index])
    return f"{detections.class_name(class_id)} {detections.scores[index]:.2f}"


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


def tag_rects(detections: Detections, height: int, width: int) -> list[Rect | None]:
    """Each detection's tag rectangle on a ``width`` × ``height`` picture (see ``place_tags``).

    Higher scores are placed first; the result is in the order of ``detections``.
    """
    font = TagFont.for_image(height, width)
    order = np.argsort(-detections.scores, kind="stable")
    sizes = np.array([font.size(tag_text(detections, int(i)))[:2] for i in order]).reshape(-1, 2)
    placed = place_tags(detections.boxes[order], sizes, width, height)
    rects: list[Rect | None] = [None] * len(detections)
    for i, rect in zip(order, placed, strict=True):
        rects[int(i)] = rect
    return rects


def annotate(rgb: np.ndarray, detections: Detections) -> np.ndarray:
    """A copy of ``rgb`` with each detection's box and "label 0.87" tag drawn on it.

    Line thickness and text size follow the image's size. Boxes are drawn first, lower
    scores first so the best stay on top, then the tags, which never overlap (see
    :func:`tag_rects`; a tag with no free place near its box is left out).
    """
    canvas = np.ascontiguousarray(rgb.copy())
    height, width = canvas.shape[:2]
    thickness = max(2, round(min(height, width) / 250))
    font = TagFont.for_image(height, width)
    rects = tag_rects(detections, height, width)
    by_score = np.argsort(detections.scores, kind="stable")
    for i in by_score:
        x1, y1, x2, y2 = np.rint(detections.boxes[i]).astype(int).tolist()
        colour = class_colour(int(detections.class_ids[i]))
        cv2.rectangle(canvas, (x1, y1), (x2, y2), colour, thickness)  # axis-aligned: no AA
    for i in by_score:
        if rects[i] is None:
            continue
        left, top, right, bottom = rects[i]
        colour = class_colour(int(detections.class_ids[i]))
        text = tag_text(detections, int(i))
        text_height = font.size(text)[2]
        cv2.rectangle(canvas, (left, top), (right - 1, bottom - 1), colour, cv2.FILLED)
        cv2.putText(
            canvas,
            text,
            (left + font.pad, top + font.pad + text_height),
            FONT,
            font.scale,
            _text_colour(colour),
            font.thickness,
            cv2.LINE_AA,
        )
    return canvas
