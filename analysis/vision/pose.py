"""Body poses with MediaPipe BlazePose: find people, then 33 landmarks per person.

Two TFLite networks run with ai-edge-litert, as in MediaPipe's pose graphs: the pose
detector finds people, then the landmark model finds each person's 33 landmarks in a crop
around them (the geometry is :mod:`analysis.vision.blazepose`'s).

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

import os
import threading
import time
from dataclasses import dataclass

import cv2
import numpy as np
import supervision as sv

from analysis.cores import usable_cores
from analysis.vision.blazepose import (
    DETECTOR_IOU,
    DETECTOR_SIZE,
    LANDMARK_NAMES,
    LANDMARK_SIZE,
    LANDMARK_VALUES,
    MODEL_LANDMARKS,
    ROI_SCALE,
    decode_detections,
    landmark_box,
    pose_anchors,
    project_landmarks,
    roi_from_keypoints,
    roi_transform,
    weighted_nms,
)
from analysis.vision.detections import DetectionFilter, Detections, nms_keep, to_supervision
from analysis.vision.image import check_rgb, letterbox
from analysis.vision.timings import PoseTimings, Timings, ms_since
from models.catalog import get_spec
from models.locate import MissingModelError, MissingRuntimeError, resolve_files

MIN_PERSON_SCORE = 0.3
"""Lowest detector score kept as a candidate person; the confidence slider cannot go below."""

MAX_PEOPLE = 10
"""At most this many people get a landmark run (best detector scores first)."""

PERSON = ("person",)  # the class names of :meth:`Poses.to_detections`


# -- Result values -------------------------------------------------------------------------


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
        """The people as "person" boxes, for tables and counts."""
        return Detections(self.boxes, self.scores, np.zeros(len(self), np.int64), PERSON)

    def to_supervision(self) -> sv.Detections:
        """The people as "person" boxes with their keypoints, for the annotators."""
        return to_supervision(self.to_detections(), self.keypoints)

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
            self._landmark_output = landmark_outputs[(1, MODEL_LANDMARKS * LANDMARK_VALUES)]
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
        check_rgb(rgb, "Pose estimation needs")
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
        check_rgb(rgb, "Pose estimation needs")
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
        square, scale, place = letterbox(
            rgb, (DETECTOR_SIZE, DETECTOR_SIZE), centred=True, pad=0, interpolation=None
        )
        offset = np.array(place, np.float32)
        tensor = square.astype(np.float32) * (2 / 255) - 1  # the detector takes [-1, 1]
        preprocess = ms_since(start)

        start = time.perf_counter()
        self.detector.set_tensor(self._detector_input, tensor[np.newaxis])
        self.detector.invoke()
        raw_boxes = self.detector.get_tensor(self._regressors)[0]
        raw_scores = self.detector.get_tensor(self._classifiers)[0]
        inference = ms_since(start)

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
        return crops, scores, Timings(preprocess, inference, ms_since(start))

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
        preprocess = ms_since(start)

        start = time.perf_counter()
        self.landmarker.set_tensor(self._landmark_input, tensor[np.newaxis])
        self.landmarker.invoke()
        raw = self.landmarker.get_tensor(self._landmark_output)[0]
        presence = float(self.landmarker.get_tensor(self._pose_flag)[0, 0])
        inference = ms_since(start)

        start = time.perf_counter()
        keypoints = project_landmarks(raw, crop_to_image)
        return keypoints, presence, Timings(preprocess, inference, ms_since(start))


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
    return shown, PoseTimings(timings.detector, timings.landmarks, ms_since(start))
