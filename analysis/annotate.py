"""Draw detections on a picture: a box per detection, its label and score, a colour per class."""

from __future__ import annotations

import colorsys

import cv2
import numpy as np

from analysis.detections import Detections

FONT = cv2.FONT_HERSHEY_SIMPLEX


def class_colour(class_id: int) -> tuple[int, int, int]:
    """A stable, saturated RGB colour for ``class_id`` (golden-ratio hue steps)."""
    hue = (class_id * 0.618033988749895) % 1.0
    r, g, b = colorsys.hsv_to_rgb(hue, 0.85, 0.95)
    return int(r * 255), int(g * 255), int(b * 255)


def _text_colour(background: tuple[int, int, int]) -> tuple[int, int, int]:
    r, g, b = background
    return (0, 0, 0) if 0.299 * r + 0.587 * g + 0.114 * b > 150 else (255, 255, 255)


def annotate(rgb: np.ndarray, detections: Detections) -> np.ndarray:
    """A copy of ``rgb`` with each detection's box and "label 0.87" tag drawn on it.

    Line thickness and text size follow the image's size (about 1/40 of its shorter side
    for the text height, at least 12 px), so tags stay readable on a 300-px thumbnail
    and on a 4000-px photo alike. Lower scores are drawn first so the best stay on top.
    """
    canvas = np.ascontiguousarray(rgb.copy())
    height, width = canvas.shape[:2]
    side = min(height, width)
    thickness = max(2, round(side / 250))
    text_height = max(12, side / 40)
    font_scale = text_height / 22.0  # Hershey simplex is about 22 px tall at scale 1
    font_thickness = max(1, round(text_height / 12))
    pad = max(2, round(text_height / 5))

    for i in np.argsort(detections.scores, kind="stable"):
        x1, y1, x2, y2 = np.rint(detections.boxes[i]).astype(int).tolist()
        class_id = int(detections.class_ids[i])
        colour = class_colour(class_id)
        cv2.rectangle(canvas, (x1, y1), (x2, y2), colour, thickness)  # axis-aligned: no AA

        tag = f"{detections.class_name(class_id)} {detections.scores[i]:.2f}"
        (tw, th), baseline = cv2.getTextSize(tag, FONT, font_scale, font_thickness)
        tag_h = th + baseline + 2 * pad
        # Above the box when there is room, else just inside its top edge; never off-image.
        top = y1 - tag_h if y1 - tag_h >= 0 else min(max(y1, 0), max(height - tag_h, 0))
        left = min(max(x1, 0), max(width - tw - 2 * pad, 0))
        cv2.rectangle(canvas, (left, top), (left + tw + 2 * pad, top + tag_h), colour, cv2.FILLED)
        cv2.putText(
            canvas,
            tag,
            (left + pad, top + pad + th),
            FONT,
            font_scale,
            _text_colour(colour),
            font_thickness,
            cv2.LINE_AA,
        )
    return canvas
