"""BlazePose's geometry, pure numpy: its 33 landmarks, the pose detector's anchors and their
decoding, the rotated crop around each person and the landmarks mapped back to the picture.

As in MediaPipe's pose graphs: the **pose detector** (224×224, SSD with 2254 anchors) finds
people, each as a face box plus four alignment keypoints (the hip centre, a point on the
circle that encloses the whole body, the shoulder centre and a point on the upper body's
circle). For each person, a square **region of interest** centred on the hips, 2.5 times the
body circle's radius on a side and rotated so the body stands upright, is cropped to 256×256
for the **landmark model**, whose 33 landmarks (with visibility) are mapped back to image
pixels. :mod:`analysis.vision.pose` runs the networks.
"""

from __future__ import annotations

import math

import numpy as np

DETECTOR_SIZE = 224  # px, square input of the pose detector
LANDMARK_SIZE = 256  # px, square input of the landmark model
DETECTOR_STRIDES = (8, 16, 32, 32, 32)  # MediaPipe's pose_detection SSD layers
ANCHORS_PER_CELL = 2  # aspect ratio 1 plus the interpolated scale, per layer
DETECTOR_KEYPOINTS = 4  # hip centre, full-body point, shoulder centre, upper-body point
DETECTOR_IOU = 0.3  # MediaPipe's weighted-NMS overlap for the detector's candidates
ROI_SCALE = 1.25  # the landmark crop is 1.25 × the body circle's diameter on a side

LANDMARK_NAMES = (
    "nose", "left eye inner", "left eye", "left eye outer", "right eye inner", "right eye",
    "right eye outer", "left ear", "right ear", "mouth left", "mouth right", "left shoulder",
    "right shoulder", "left elbow", "right elbow", "left wrist", "right wrist", "left pinky",
    "right pinky", "left index", "right index", "left thumb", "right thumb", "left hip",
    "right hip", "left knee", "right knee", "left ankle", "right ankle", "left heel",
    "right heel", "left foot index", "right foot index",
)  # fmt: skip
"""The 33 BlazePose landmarks, in the model's order (left and right of the person)."""

NOSE, LEFT_SHOULDER, RIGHT_SHOULDER, LEFT_HIP, RIGHT_HIP = 0, 11, 12, 23, 24

CONNECTIONS = (
    (0, 1), (1, 2), (2, 3), (3, 7), (0, 4), (4, 5), (5, 6), (6, 8), (9, 10),
    (11, 12), (11, 13), (13, 15), (15, 17), (15, 19), (15, 21), (17, 19),
    (12, 14), (14, 16), (16, 18), (16, 20), (16, 22), (18, 20),
    (11, 23), (12, 24), (23, 24), (23, 25), (24, 26), (25, 27), (26, 28),
    (27, 29), (28, 30), (29, 31), (30, 32), (27, 31), (28, 32),
)  # fmt: skip
"""Pairs of landmark indices joined by a skeleton line (MediaPipe's POSE_CONNECTIONS)."""

LANDMARK_VALUES = 5  # x, y, z, visibility, presence per landmark in the model's output
MODEL_LANDMARKS = 39  # 33 body landmarks + 6 auxiliary ones MediaPipe uses for tracking


def sigmoid(x: np.ndarray) -> np.ndarray:
    # Clipped so exp stays finite in float32; the sigmoid is saturated long before ±80.
    return 1.0 / (1.0 + np.exp(-np.clip(x, -80.0, 80.0)))


# -- Detector decoding ---------------------------------------------------------------------


def pose_anchors(
    size: int = DETECTOR_SIZE,
    strides: tuple[int, ...] = DETECTOR_STRIDES,
    per_cell: int = ANCHORS_PER_CELL,
) -> np.ndarray:
    """Centres (A, 2) of the pose detector's SSD anchors, in input pixels, in output order.

    As MediaPipe's SsdAnchorsCalculator with fixed anchor size: consecutive layers of one
    stride share a grid whose cells hold ``per_cell`` anchors per layer, rows first. At
    224 px: 28² × 2 + 14² × 2 + 7² × 6 = 2254 anchors.
    """
    centres = []
    layer = 0
    while layer < len(strides):
        stride = strides[layer]
        layers = 1
        while layer + layers < len(strides) and strides[layer + layers] == stride:
            layers += 1
        cells = math.ceil(size / stride)
        ys, xs = np.mgrid[0:cells, 0:cells]
        grid = (np.column_stack([xs.ravel(), ys.ravel()]) + 0.5) * (size / cells)
        centres.append(np.repeat(grid, per_cell * layers, axis=0))
        layer += layers
    return np.concatenate(centres).astype(np.float32)


def decode_detections(
    raw_boxes: np.ndarray, raw_scores: np.ndarray, anchors: np.ndarray, floor: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boxes, alignment keypoints and scores of the anchors scoring at least ``floor``.

    Parameters
    ----------
    raw_boxes : np.ndarray
        (A, 12) the detector's regression output: box centre offset, width, height, then
        four keypoint offsets, all in input pixels relative to the anchor centre.
    raw_scores : np.ndarray
        (A,) or (A, 1) logits.
    anchors : np.ndarray
        (A, 2) anchor centres in input pixels (:func:`pose_anchors`).
    floor : float
        Lowest score kept, in [0, 1].

    Returns
    -------
    boxes : np.ndarray
        (K, 4) float32 ``x1, y1, x2, y2`` in input pixels.
    keypoints : np.ndarray
        (K, 4, 2) float32 in input pixels: hip centre, full-body point, shoulder centre,
        upper-body point.
    scores : np.ndarray
        (K,) float32 sigmoid scores.
    """
    scores = sigmoid(np.asarray(raw_scores, np.float32).reshape(-1))
    keep = np.flatnonzero(scores >= floor)
    raw = np.asarray(raw_boxes, np.float32)[keep]
    centre = anchors[keep]
    box_centre = raw[:, 0:2] + centre
    half = raw[:, 2:4] / 2
    boxes = np.concatenate([box_centre - half, box_centre + half], axis=1)
    keypoints = raw[:, 4 : 4 + 2 * DETECTOR_KEYPOINTS].reshape(-1, DETECTOR_KEYPOINTS, 2)
    keypoints = keypoints + centre[:, None, :]
    return boxes, keypoints, scores[keep]


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    top_left = np.maximum(box[:2], boxes[:, :2])
    bottom_right = np.minimum(box[2:], boxes[:, 2:])
    inter = np.prod(np.clip(bottom_right - top_left, 0, None), axis=1)
    area = np.prod(box[2:] - box[:2])
    areas = np.prod(boxes[:, 2:] - boxes[:, :2], axis=1)
    return inter / np.maximum(area + areas - inter, 1e-9)


def weighted_nms(
    boxes: np.ndarray, keypoints: np.ndarray, scores: np.ndarray, iou_threshold: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MediaPipe's weighted non-maximum suppression, best score first.

    Each kept detection is the score-weighted mean (box and keypoints) of the candidates
    overlapping the best remaining one by IoU above ``iou_threshold``, with the best's score:
    averaging many anchors' estimates steadies the alignment keypoints.
    """
    order = np.argsort(-scores, kind="stable")
    out_boxes, out_keypoints, out_scores = [], [], []
    while len(order):
        overlap = _iou(boxes[order[0]], boxes[order]) > iou_threshold
        overlap[0] = True
        group = order[overlap]
        weights = scores[group] / scores[group].sum()
        out_boxes.append(weights @ boxes[group])
        out_keypoints.append(np.tensordot(weights, keypoints[group], axes=1))
        out_scores.append(scores[order[0]])
        order = order[~overlap]
    if not out_scores:
        return np.zeros((0, 4), np.float32), np.zeros((0, DETECTOR_KEYPOINTS, 2)), np.zeros(0)
    return (
        np.asarray(out_boxes, np.float32),
        np.asarray(out_keypoints, np.float32),
        np.asarray(out_scores, np.float32),
    )


# -- Regions of interest and landmarks -----------------------------------------------------


def roi_from_keypoints(hip_centre: np.ndarray, body_point: np.ndarray) -> tuple[float, float]:
    """Side (px) and rotation (radians, clockwise on screen) of a person's landmark crop.

    MediaPipe's alignment: the crop is a square centred on the hips, 2 × 1.25 times the
    hip-to-body-point distance on a side, turned so the body point lies straight above
    the hips (the person stands upright in the crop).
    """
    dx, dy = (np.asarray(body_point, np.float64) - np.asarray(hip_centre, np.float64)).tolist()
    side = 2.0 * math.hypot(dx, dy) * ROI_SCALE
    rotation = math.pi / 2 - math.atan2(-dy, dx)
    rotation = (rotation + math.pi) % (2 * math.pi) - math.pi  # into [-pi, pi)
    return side, rotation


def roi_transform(centre: np.ndarray, side: float, rotation: float, size: int) -> np.ndarray:
    """2×3 affine matrix from a crop of ``size``² pixels to image pixels.

    The crop's x axis runs along (cos r, sin r) in the image and its y axis along
    (-sin r, cos r); its middle is ``centre`` and it covers ``side`` image pixels.
    """
    scale = side / size
    cos, sin = math.cos(rotation) * scale, math.sin(rotation) * scale
    linear = np.array([[cos, -sin], [sin, cos]])
    shift = np.asarray(centre, np.float64) - linear @ np.array([size / 2, size / 2])
    return np.column_stack([linear, shift])


def project_landmarks(raw: np.ndarray, crop_to_image: np.ndarray) -> np.ndarray:
    """The landmark model's output → (33, 3) image pixels ``x, y`` and visibility in [0, 1].

    ``raw`` holds 39 × (x, y, z, visibility logit, presence logit), x and y in crop pixels;
    the last 6 landmarks are auxiliary and dropped.
    """
    landmarks = np.asarray(raw, np.float32).reshape(MODEL_LANDMARKS, LANDMARK_VALUES)
    body = landmarks[: len(LANDMARK_NAMES)]
    xy = body[:, :2] @ crop_to_image[:, :2].T + crop_to_image[:, 2]
    return np.column_stack([xy, sigmoid(body[:, 3])]).astype(np.float32)


def landmark_box(keypoints: np.ndarray, width: int, height: int) -> np.ndarray:
    """Bounds ``x1, y1, x2, y2`` of the (33, 3) keypoints, clipped to the image."""
    low = keypoints[:, :2].min(axis=0)
    high = keypoints[:, :2].max(axis=0)
    box = np.concatenate([low, high])
    np.clip(box[0::2], 0, width, out=box[0::2])
    np.clip(box[1::2], 0, height, out=box[1::2])
    return box
