"""Body poses with MediaPipe BlazePose: find people, then 33 landmarks per person.

Two TFLite networks run with ai-edge-litert, as in MediaPipe's pose graphs:

1. The **pose detector** (224×224, SSD with 2254 anchors) finds people. Each detection is
   a face box plus four alignment keypoints: the hip centre, a point on the circle that
   encloses the whole body, the shoulder centre and a point on the upper body's circle.
2. For each person, a square **region of interest** centred on the hips, 2.5 times the
   body circle's radius on a side and rotated so the body stands upright, is cropped
   to 256×256 for the **landmark model**, whose 33 landmarks (with visibility) are
   mapped back to image pixels.

:meth:`PoseEstimator.estimate` returns every person down to a low floor score
(``MIN_PERSON_SCORE``); :func:`filter_poses` applies the confidence, class and IoU controls
afterwards without running the networks again, as
:func:`analysis.vision.detections.filter_detections` does for boxes.
:meth:`PoseEstimator.estimate_in_boxes` skips the pose detector and finds the landmarks of
people another detector boxed (small or turned-away people the pose detector misses).

Example
-------
>>> estimator = load_pose_estimator()  # doctest: +SKIP
>>> raw, timings = estimator.estimate(rgb)  # doctest: +SKIP
>>> poses = filter_poses(raw, DetectionFilter(confidence=0.5))  # doctest: +SKIP
>>> poses.keypoints[0, NOSE]  # doctest: +SKIP
array([212.3, 101.8, 0.99], dtype=float32)
"""

from __future__ import annotations

import math
import os
import threading
import time
from dataclasses import dataclass

import cv2
import numpy as np

from analysis.cores import usable_cores
from analysis.errors import InputError
from analysis.vision.detections import DetectionFilter, Detections, nms_keep
from analysis.vision.detectors import Timings
from models.catalog import get_spec
from models.locate import MissingModelError, MissingRuntimeError, resolve_files

DETECTOR_SIZE = 224  # px, square input of the pose detector
LANDMARK_SIZE = 256  # px, square input of the landmark model
DETECTOR_STRIDES = (8, 16, 32, 32, 32)  # MediaPipe's pose_detection SSD layers
ANCHORS_PER_CELL = 2  # aspect ratio 1 plus the interpolated scale, per layer
DETECTOR_KEYPOINTS = 4  # hip centre, full-body point, shoulder centre, upper-body point
DETECTOR_IOU = 0.3  # MediaPipe's weighted-NMS overlap for the detector's candidates
ROI_SCALE = 1.25  # the landmark crop is 1.25 × the body circle's diameter on a side

MIN_PERSON_SCORE = 0.3
"""Lowest detector score kept as a candidate person; the confidence slider cannot go below."""

MAX_PEOPLE = 10
"""At most this many people get a landmark run (best detector scores first)."""

PERSON = ("person",)  # the class names of :meth:`Poses.to_detections`

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

_LANDMARK_VALUES = 5  # x, y, z, visibility, presence per landmark in the model's output
_MODEL_LANDMARKS = 39  # 33 body landmarks + 6 auxiliary ones MediaPipe uses for tracking


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0


def _check_image(rgb: np.ndarray) -> None:
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8 or rgb.size == 0:
        raise InputError("Pose estimation needs an RGB picture (height × width × 3, uint8).")


def _sigmoid(x: np.ndarray) -> np.ndarray:
    # Clipped so exp stays finite in float32; the sigmoid is saturated long before ±80.
    return 1.0 / (1.0 + np.exp(-np.clip(x, -80.0, 80.0)))


# -- Result values -------------------------------------------------------------------------


@dataclass(frozen=True)
class PoseTimings:
    """Milliseconds of one pose estimation: the detector, each person's landmark run, filtering.

    ``preprocess``, ``inference`` and ``postprocess`` sum the stages over every network run,
    so the result reads like a detector's timings; ``as_dict`` also lists each stage.
    """

    detector: Timings
    landmarks: tuple[Timings, ...]  # one per candidate person, in candidate order
    filtering: float = 0.0

    @property
    def preprocess(self) -> float:
        return self.detector.preprocess + sum(t.preprocess for t in self.landmarks)

    @property
    def inference(self) -> float:
        return self.detector.inference + sum(t.inference for t in self.landmarks)

    @property
    def postprocess(self) -> float:
        return self.detector.postprocess + sum(t.postprocess for t in self.landmarks)

    @property
    def total(self) -> float:
        return self.preprocess + self.inference + self.postprocess + self.filtering

    def as_dict(self) -> dict[str, object]:
        return {
            "preprocess": round(self.preprocess, 3),
            "inference": round(self.inference, 3),
            "postprocess": round(self.postprocess + self.filtering, 3),
            "total": round(self.total, 3),
            "detector": self.detector.as_dict(),
            "landmarks": [t.as_dict() for t in self.landmarks],
            "filtering": round(self.filtering, 3),
        }


@dataclass(frozen=True)
class Poses:
    """People found in one image, each with 33 BlazePose landmarks.

    Filtered like :class:`~analysis.vision.detections.Detections`: ``poses[poses.scores >= 0.5]``.

    Attributes
    ----------
    boxes : np.ndarray
        (N, 4) float32 ``x1, y1, x2, y2`` in image pixels: the landmarks' bounds clipped to
        the image, or the boxes given to :meth:`PoseEstimator.estimate_in_boxes`.
    scores : np.ndarray
        (N,) float32 pose detector confidences in [0, 1].
    keypoints : np.ndarray
        (N, 33, 3) float32 ``x, y`` in image pixels (may lie outside the image for body
        parts out of frame) and the landmark's visibility in [0, 1], in
        :data:`LANDMARK_NAMES` order.
    presence : np.ndarray
        (N,) float32 the landmark model's confidence that its crop holds a person.
    """

    boxes: np.ndarray
    scores: np.ndarray
    keypoints: np.ndarray
    presence: np.ndarray

    def __post_init__(self) -> None:
        boxes = np.asarray(self.boxes, dtype=np.float32).reshape(-1, 4)
        scores = np.asarray(self.scores, dtype=np.float32).reshape(-1)
        keypoints = np.asarray(self.keypoints, dtype=np.float32).reshape(-1, len(LANDMARK_NAMES), 3)
        presence = np.asarray(self.presence, dtype=np.float32).reshape(-1)
        if not len(boxes) == len(scores) == len(keypoints) == len(presence):
            raise ValueError(
                f"boxes, scores, keypoints and presence differ in length: "
                f"{len(boxes)}, {len(scores)}, {len(keypoints)}, {len(presence)}"
            )
        object.__setattr__(self, "boxes", boxes)
        object.__setattr__(self, "scores", scores)
        object.__setattr__(self, "keypoints", keypoints)
        object.__setattr__(self, "presence", presence)

    @classmethod
    def empty(cls) -> Poses:
        return cls(np.zeros((0, 4)), np.zeros(0), np.zeros((0, len(LANDMARK_NAMES), 3)), [])

    def __len__(self) -> int:
        return len(self.scores)

    def __getitem__(self, index: np.ndarray | slice | list[int]) -> Poses:
        """The people selected by a boolean mask, an index array or a slice."""
        return Poses(
            self.boxes[index], self.scores[index], self.keypoints[index], self.presence[index]
        )

    def to_detections(self) -> Detections:
        """The people as "person" boxes, for box drawing, tables and counts."""
        return Detections(self.boxes, self.scores, np.zeros(len(self), np.int64), PERSON)

    def to_records(self) -> list[dict]:
        """``[{"label", "score", "box", "keypoints": [[x, y, score] × 33]}]``, best first."""
        order = np.argsort(-self.scores, kind="stable")
        return [
            {
                "label": PERSON[0],
                "score": round(float(self.scores[i]), 4),
                "box": [round(float(v), 1) for v in self.boxes[i]],
                "keypoints": [
                    [round(float(x), 1), round(float(y), 1), round(float(s), 4)]
                    for x, y, s in self.keypoints[i]
                ],
            }
            for i in order
        ]


def filter_poses(poses: Poses, params: DetectionFilter) -> Poses:
    """Keep people above the confidence (and of the chosen classes), then NMS on their boxes.

    The pose detector has one class, "person": a class filter without it keeps nobody.
    """
    keep = poses.scores >= params.confidence
    if params.classes is not None and PERSON[0] not in params.classes:
        keep[:] = False
    kept = poses[keep]
    if params.iou < 1.0 and len(kept):
        kept = kept[nms_keep(kept.boxes, kept.scores, params.iou, None)]
    return kept[np.argsort(-kept.scores, kind="stable")]


# -- Detector decoding (pure numpy) --------------------------------------------------------


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
    scores = _sigmoid(np.asarray(raw_scores, np.float32).reshape(-1))
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


def letterbox(rgb: np.ndarray, size: int) -> tuple[np.ndarray, float, np.ndarray]:
    """``rgb`` resized keeping its aspect ratio, centred in a black ``size``² square.

    Returns the uint8 square, the scale (square pixels per image pixel) and the (x, y)
    offset of the image in the square: an image point p lands at p × scale + offset.
    """
    h, w = rgb.shape[:2]
    scale = size / max(h, w)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    offset = np.array([(size - new_w) // 2, (size - new_h) // 2], np.float32)
    square = np.zeros((size, size, 3), np.uint8)
    x, y = int(offset[0]), int(offset[1])
    square[y : y + new_h, x : x + new_w] = cv2.resize(
        rgb, (new_w, new_h), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    )
    return square, scale, offset


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
    landmarks = np.asarray(raw, np.float32).reshape(_MODEL_LANDMARKS, _LANDMARK_VALUES)
    body = landmarks[: len(LANDMARK_NAMES)]
    xy = body[:, :2] @ crop_to_image[:, :2].T + crop_to_image[:, 2]
    return np.column_stack([xy, _sigmoid(body[:, 3])]).astype(np.float32)


def landmark_box(keypoints: np.ndarray, width: int, height: int) -> np.ndarray:
    """Bounds ``x1, y1, x2, y2`` of the (33, 3) keypoints, clipped to the image."""
    low = keypoints[:, :2].min(axis=0)
    high = keypoints[:, :2].max(axis=0)
    box = np.concatenate([low, high])
    np.clip(box[0::2], 0, width, out=box[0::2])
    np.clip(box[1::2], 0, height, out=box[1::2])
    return box


# -- Running the networks ------------------------------------------------------------------


def _interpreter(path: os.PathLike, threads: int):
    from ai_edge_litert.interpreter import Interpreter

    try:
        interpreter = Interpreter(model_path=str(path), num_threads=threads)
        interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as error:
        raise MissingModelError(
            f"{os.fspath(path)} is not a loadable TFLite model ({type(error).__name__}); "
            "replace it with `python -m models fetch blazepose`."
        ) from None
    return interpreter


class PoseEstimator:
    """BlazePose's detector and landmark interpreters, safe to share between threads.

    A TFLite interpreter holds its tensors itself, so one image is estimated at a time
    under a lock.
    """

    def __init__(
        self,
        detector_path: os.PathLike,
        landmark_path: os.PathLike,
        threads: int | None = None,
    ) -> None:
        try:
            import ai_edge_litert.interpreter  # noqa: F401
        except ImportError:
            raise MissingRuntimeError(
                "BlazePose needs the ai-edge-litert package, which is not installed. "
                "To get it, run `pip install ai-edge-litert`."
            ) from None
        threads = min(4, threads or usable_cores())
        self.detector = _interpreter(detector_path, threads)
        self.landmarker = _interpreter(landmark_path, threads)
        self._detector_input = self.detector.get_input_details()[0]["index"]
        self._landmark_input = self.landmarker.get_input_details()[0]["index"]
        self.anchors = pose_anchors()
        detector_outputs = {
            tuple(o["shape"][1:]): o["index"] for o in self.detector.get_output_details()
        }
        # Of the landmark model's outputs (landmarks, pose flag, a segmentation mask, a
        # heatmap and world landmarks), the first two are used.
        landmark_outputs = {
            tuple(o["shape"]): o["index"] for o in self.landmarker.get_output_details()
        }
        try:
            self._regressors = detector_outputs[(len(self.anchors), 12)]
            self._classifiers = detector_outputs[(len(self.anchors), 1)]
            self._landmark_output = landmark_outputs[(1, _MODEL_LANDMARKS * _LANDMARK_VALUES)]
            self._pose_flag = landmark_outputs[(1, 1)]
        except KeyError:
            raise MissingModelError(
                "These are not BlazePose's pose_detection and pose_landmark_full models "
                "(their outputs differ); replace them with `python -m models fetch blazepose`."
            ) from None
        self._lock = threading.Lock()

    def estimate(self, rgb: np.ndarray) -> tuple[Poses, PoseTimings]:
        """Every person found down to ``MIN_PERSON_SCORE`` (at most ``MAX_PEOPLE``), with landmarks.

        Parameters
        ----------
        rgb : np.ndarray
            (height, width, 3) uint8 picture.

        Returns
        -------
        Poses
            Raw candidates, best detector score first; filter them with :func:`filter_poses`.
        PoseTimings
        """
        _check_image(rgb)
        with self._lock:
            crops, scores, detector_times = self._detect(rgb)
            keypoints, presence, landmark_times = self._landmarks(rgb, crops)
        height, width = rgb.shape[:2]
        boxes = np.array([landmark_box(k, width, height) for k in keypoints]).reshape(-1, 4)
        poses = Poses(boxes, scores, keypoints, presence)
        return poses, PoseTimings(detector_times, landmark_times)

    def estimate_in_boxes(
        self, rgb: np.ndarray, boxes: np.ndarray, scores: np.ndarray
    ) -> tuple[Poses, PoseTimings]:
        """Landmarks of people already found as boxes, e.g. an object detector's "person"s.

        The pose detector is meant for people filling a good share of the picture; an object
        detector also finds small, partly hidden or turned-away people. Each person's crop is
        an upright square around the box, 1.25 × its longer side. Only the ``MAX_PEOPLE``
        best-scoring boxes get a landmark run (about 11 ms each on 2 cores).

        Parameters
        ----------
        rgb : np.ndarray
            (height, width, 3) uint8 picture.
        boxes : np.ndarray
            (N, 4) ``x1, y1, x2, y2`` in image pixels.
        scores : np.ndarray
            (N,) the boxes' confidences, kept as the people's scores.

        Returns
        -------
        Poses
            One person per box (best score first), with the given box; the detector stage
            of the timings is zero (the boxes' detector timed itself).
        PoseTimings
        """
        _check_image(rgb)
        boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
        scores = np.asarray(scores, np.float32).reshape(-1)
        order = np.argsort(-scores, kind="stable")[:MAX_PEOPLE]
        boxes, scores = boxes[order], scores[order]
        crops = []
        for x1, y1, x2, y2 in boxes.tolist():
            side = max(x2 - x1, y2 - y1) * ROI_SCALE
            crops.append(roi_transform(np.array([x1 + x2, y1 + y2]) / 2, side, 0.0, LANDMARK_SIZE))
        with self._lock:
            keypoints, presence, landmark_times = self._landmarks(rgb, crops)
        poses = Poses(boxes, scores, keypoints, presence)
        return poses, PoseTimings(Timings(0.0, 0.0, 0.0), landmark_times)

    def _detect(self, rgb: np.ndarray) -> tuple[list[np.ndarray], np.ndarray, Timings]:
        """The people's landmark crops (crop-to-image matrices), their scores, the timings."""
        start = time.perf_counter()
        square, scale, offset = letterbox(rgb, DETECTOR_SIZE)
        tensor = square.astype(np.float32) * (2 / 255) - 1  # the detector takes [-1, 1]
        preprocess = _ms(start)

        start = time.perf_counter()
        self.detector.set_tensor(self._detector_input, tensor[np.newaxis])
        self.detector.invoke()
        raw_boxes = self.detector.get_tensor(self._regressors)[0]
        raw_scores = self.detector.get_tensor(self._classifiers)[0]
        inference = _ms(start)

        start = time.perf_counter()
        boxes, keypoints, scores = decode_detections(
            raw_boxes, raw_scores, self.anchors, MIN_PERSON_SCORE
        )
        _, keypoints, scores = weighted_nms(boxes, keypoints, scores, DETECTOR_IOU)
        keypoints, scores = keypoints[:MAX_PEOPLE], scores[:MAX_PEOPLE]
        crops = []
        for hips, body_point, *_ in (keypoints - offset) / scale:  # in image pixels
            side, rotation = roi_from_keypoints(hips, body_point)
            crops.append(roi_transform(hips, side, rotation, LANDMARK_SIZE))
        return crops, scores, Timings(preprocess, inference, _ms(start))

    def _landmarks(
        self, rgb: np.ndarray, crops: list[np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray, tuple[Timings, ...]]:
        """Keypoints (N, 33, 3), pose presence (N,) and timings of one landmark run per crop."""
        runs = [self._landmarks_in(rgb, crop_to_image) for crop_to_image in crops]
        keypoints = np.array([k for k, _, _ in runs], np.float32)
        presence = np.array([p for _, p, _ in runs], np.float32)
        return (
            keypoints.reshape(-1, len(LANDMARK_NAMES), 3),
            presence,
            tuple(t for _, _, t in runs),
        )

    def _landmarks_in(
        self, rgb: np.ndarray, crop_to_image: np.ndarray
    ) -> tuple[np.ndarray, float, Timings]:
        start = time.perf_counter()
        crop = cv2.warpAffine(
            rgb,
            crop_to_image,
            (LANDMARK_SIZE, LANDMARK_SIZE),
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            # MediaPipe's default for the landmark crop; with black borders the model
            # reports body parts beyond the picture's edge as visible more often.
            borderMode=cv2.BORDER_REPLICATE,
        )
        tensor = crop.astype(np.float32) * (1 / 255)  # the landmark model takes [0, 1]
        preprocess = _ms(start)

        start = time.perf_counter()
        self.landmarker.set_tensor(self._landmark_input, tensor[np.newaxis])
        self.landmarker.invoke()
        raw = self.landmarker.get_tensor(self._landmark_output)[0]
        presence = float(self.landmarker.get_tensor(self._pose_flag)[0, 0])
        inference = _ms(start)

        start = time.perf_counter()
        keypoints = project_landmarks(raw, crop_to_image)
        return keypoints, presence, Timings(preprocess, inference, _ms(start))


def load_pose_estimator(threads: int | None = None) -> PoseEstimator:
    """BlazePose from the model catalog's files (``blazepose``).

    ``threads`` caps each interpreter's threads (default: every usable core, at most four).

    Raises
    ------
    MissingModelError
        If the model files are not found or do not load (the message says how to get
        them), or (as :class:`MissingRuntimeError`) if ai-edge-litert is not installed.
    """
    paths = resolve_files(get_spec("blazepose"))
    return PoseEstimator(paths["detector"], paths["landmarks"], threads)


def estimate_poses(
    estimator: PoseEstimator, rgb: np.ndarray, params: DetectionFilter
) -> tuple[Poses, PoseTimings]:
    """Run ``estimator`` and filter its people; the filtering is timed on its own."""
    raw, timings = estimator.estimate(rgb)
    return filter_pose_candidates(raw, timings, params)


def filter_pose_candidates(
    raw: Poses, timings: PoseTimings, params: DetectionFilter
) -> tuple[Poses, PoseTimings]:
    """Filter a run's raw people (e.g. cached ones) and add the filtering to its timings."""
    start = time.perf_counter()
    shown = filter_poses(raw, params)
    return shown, PoseTimings(timings.detector, timings.landmarks, _ms(start))
