"""Detector outputs to boxes, scores and class ids: the YOLO families' and SSD's layouts.

Pure numpy, shared by the catalog adapters (:mod:`analysis.vision.detectors`) and the
models people bring (:mod:`analysis.vision.own_model`). Each decoder keeps the candidates
scoring at least ``floor``, at most :data:`MAX_CANDIDATES` of them (the best), and returns
boxes as ``x1, y1, x2, y2`` in pixels of the original picture: network pixels divided by
the letterbox's ``ratio`` (network pixels per picture pixel).
"""

from __future__ import annotations

import numpy as np

MAX_CANDIDATES = 2000
"""Cap on raw candidates kept per image (highest scores), so filtering stays cheap."""

STRIDES = (8, 16, 32)
"""The YOLO families' output grids, in network pixels per cell."""


def keep_best(scores: np.ndarray, floor: float) -> np.ndarray:
    """Indices of scores at least ``floor``, the best :data:`MAX_CANDIDATES` of them."""
    keep = np.flatnonzero(scores >= floor)
    if len(keep) > MAX_CANDIDATES:
        keep = keep[np.argpartition(-scores[keep], MAX_CANDIDATES)[:MAX_CANDIDATES]]
    return keep


def corners(xywh: np.ndarray) -> np.ndarray:
    """(N, 4) centre, width and height to corners ``x1, y1, x2, y2``."""
    half = xywh[:, 2:4] / 2
    return np.concatenate([xywh[:, :2] - half, xywh[:, :2] + half], axis=1)


def yolox_grids(size: tuple[int, int], strides: tuple[int, ...] = STRIDES):
    """Cell offsets (A, 2) and strides (A, 1) of YOLOX's anchors, in output order."""
    width, height = size
    grids, expanded = [], []
    for stride in strides:
        ys, xs = np.mgrid[0 : height // stride, 0 : width // stride]
        grids.append(np.column_stack([xs.ravel(), ys.ravel()]))
        expanded.append(np.full((xs.size, 1), stride))
    return np.concatenate(grids).astype(np.float32), np.concatenate(expanded).astype(np.float32)


def yolox_decode(
    output: np.ndarray, grid: np.ndarray, strides: np.ndarray, ratio: float, floor: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boxes, scores and class ids of YOLOX's anchors scoring at least ``floor``.

    ``output`` is (A, 5 + C): raw (cx, cy, log w, log h) grid offsets, objectness and class
    probabilities; the score of an anchor is objectness × its best class probability.
    """
    # A score is objectness × a probability (≤ 1): anchors below the floor by objectness alone
    # are left out before the class maximum, the costly part (about 0.5 ms a frame saved).
    maybe = np.flatnonzero(output[:, 4] >= floor)
    candidates = output[maybe]
    scores = candidates[:, 4] * candidates[:, 5:].max(axis=1)
    keep = keep_best(scores, floor)
    out, grid, strides = candidates[keep], grid[maybe[keep]], strides[maybe[keep]]
    class_ids = out[:, 5:].argmax(axis=1)  # only for the few anchors kept
    centres = (out[:, :2] + grid) * strides
    half = np.exp(out[:, 2:4]) * strides / 2
    boxes = np.concatenate([centres - half, centres + half], axis=1) / ratio
    return boxes.astype(np.float32), scores[keep], class_ids


def decode_channels_first(
    output: np.ndarray, classes: int, ratio: float, floor: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Ultralytics' ``(4 + classes [+ extra], anchors)`` output: boxes, scores, class ids and
    the anchor indices kept (to pick mask coefficients with)."""
    class_scores = output[4 : 4 + classes]
    scores = class_scores.max(axis=0)
    keep = keep_best(scores, floor)
    class_ids = class_scores[:, keep].argmax(axis=0)
    boxes = corners(output[:4, keep].T) / ratio
    return boxes.astype(np.float32), scores[keep], class_ids, keep


def decode_objectness(
    output: np.ndarray, ratio: float, floor: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """YOLOv5's ``(anchors, 5 + classes)`` output: boxes, scores (objectness × best class
    score) and class ids."""
    scores = output[:, 4] * output[:, 5:].max(axis=1)
    keep = keep_best(scores, floor)
    rows = output[keep]
    boxes = corners(rows[:, :4]) / ratio
    return boxes.astype(np.float32), scores[keep], rows[:, 5:].argmax(axis=1)


def decode_end_to_end(
    output: np.ndarray, ratio: float, floor: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(N, 6)`` rows of (x1, y1, x2, y2, score, class) in network pixels."""
    rows = output[keep_best(output[:, 4], floor)]
    return (rows[:, :4] / ratio).astype(np.float32), rows[:, 4], rows[:, 5].astype(np.int64)


def decode_ssd(
    output: np.ndarray, width: int, height: int, floor: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SSD's ``(1, 1, N, 7)`` rows of (image, class, score, x1, y1, x2, y2), corners in [0, 1]
    of a ``width`` × ``height`` picture; class 0, the background, is left out."""
    rows = output.reshape(-1, 7)
    rows = rows[(rows[:, 2] >= floor) & (rows[:, 1] >= 1)]
    boxes = rows[:, 3:7] * np.array([width, height, width, height], dtype=np.float32)
    return boxes.astype(np.float32), rows[:, 2], rows[:, 1].astype(np.int64)
