"""Model adapters: each turns an RGB uint8 image into raw candidate ``Detections`` + timings.

Adapters return every candidate above a low floor score (``MIN_CANDIDATE_SCORE``) and do no
confidence, class or IoU filtering of their own beyond what the network does inside
(SSD's DetectionOutput, Haar's grouping), so the confidence, IoU and class controls are
applied afterwards by :func:`analysis.vision.detections.filter_detections` without running the
network again.

Thread safety: one adapter may serve several app sessions at once. onnxruntime's
``InferenceSession.run`` is thread-safe; OpenCV's ``dnn.Net``, ``FaceDetectorYN``,
``CascadeClassifier`` and ``HOGDescriptor`` are not, so those calls hold a per-instance lock.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import cv2
import numpy as np

from analysis.cores import usable_cores
from analysis.errors import InputError
from analysis.vision.decoding import decode_ssd, yolox_decode, yolox_grids
from analysis.vision.detections import (
    DetectionFilter,
    Detections,
    clip_boxes,
    filter_detections,
)
from analysis.vision.image import check_rgb, letterbox_blob, ssd_blob
from analysis.vision.timings import Timings, ms_since
from models.catalog import CATALOG, ModelSpec
from models.locate import MissingModelError, resolve_files

MIN_CANDIDATE_SCORE = 0.05
"""Lowest score an adapter returns; the confidence slider cannot go below it."""

PREFERENCE = ("yolox-nano", "mobilenet-ssd", "yunet", "haar-faces", "hog-people")
"""Vision models from best to most basic: the default is the first one available."""


class Detector:
    """Base of the adapters: ``detect(rgb) -> (Detections, Timings)`` of raw candidates."""

    spec: ModelSpec

    def detect(self, rgb: np.ndarray) -> tuple[Detections, Timings]:
        raise NotImplementedError

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.spec.labels


# -- YOLOX ---------------------------------------------------------------------------------


class YoloxDetector(Detector):
    """YOLOX-Nano with onnxruntime: letterbox, one run, vectorised grid decode.

    ``spin``: onnxruntime's threads wait for work by spinning (the fastest for one picture
    on an idle machine); off, they sleep, and leave the cores to the work beside them (a
    video's decoding, drawing and encoding).
    """

    def __init__(
        self,
        model_path: Path,
        spec: ModelSpec = CATALOG["yolox-nano"],
        threads: int | None = None,
        spin: bool = True,
    ) -> None:
        import onnxruntime as ort

        self.spec = spec
        options = ort.SessionOptions()
        # One thread per usable core (more thrashes), and no gain past four for this model.
        options.intra_op_num_threads = min(4, threads or usable_cores())
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if not spin:
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self.session = ort.InferenceSession(
                str(model_path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as error:
            raise MissingModelError(
                f"{model_path.name} is not a loadable ONNX model ({type(error).__name__}); "
                f"replace it with `python -m models fetch {spec.name}`."
            ) from None
        self.input_name = self.session.get_inputs()[0].name
        self.size = spec.input_size or (416, 416)
        self.grid, self.strides = yolox_grids(self.size)

    def detect(self, rgb: np.ndarray) -> tuple[Detections, Timings]:
        check_rgb(rgb)
        start = time.perf_counter()
        blob, ratio = letterbox_blob(rgb, self.size, bgr=True)
        preprocess = ms_since(start)

        start = time.perf_counter()
        output = self.session.run(None, {self.input_name: blob})[0][0]
        inference = ms_since(start)

        start = time.perf_counter()
        boxes, scores, class_ids = yolox_decode(
            output, self.grid, self.strides, ratio, MIN_CANDIDATE_SCORE
        )
        boxes = clip_boxes(boxes, rgb.shape[1], rgb.shape[0])
        detections = Detections(boxes, scores, class_ids, self.class_names)
        return detections, Timings(preprocess, inference, ms_since(start))


# -- Caffe MobileNet-SSD (the seed example) ------------------------------------------------


class CaffeSsdDetector(Detector):
    """The seed's MobileNet-SSD through ``cv2.dnn.readNetFromCaffe``.

    Blob: resize to 300×300, (pixel − 127.5) × 0.007843, BGR. Output (1, 1, N, 7) rows of
    (image, class, score, x1, y1, x2, y2) in [0, 1]; class 0 is the background.
    """

    def __init__(
        self, config: Path, weights: Path, spec: ModelSpec = CATALOG["mobilenet-ssd"]
    ) -> None:
        self.spec = spec
        try:
            self.net = cv2.dnn.readNetFromCaffe(str(config), str(weights))
        except cv2.error:
            raise MissingModelError(
                f"{weights.name} or {config.name} is not a loadable Caffe model; "
                f"replace them with `python -m models fetch {spec.name}`."
            ) from None
        self.size = spec.input_size or (300, 300)
        self.lock = threading.Lock()

    def detect(self, rgb: np.ndarray) -> tuple[Detections, Timings]:
        check_rgb(rgb)
        height, width = rgb.shape[:2]
        start = time.perf_counter()
        blob = ssd_blob(rgb, self.size)
        preprocess = ms_since(start)

        start = time.perf_counter()
        with self.lock:
            self.net.setInput(blob)
            output = self.net.forward()
        inference = ms_since(start)

        start = time.perf_counter()
        boxes, scores, class_ids = decode_ssd(output, width, height, MIN_CANDIDATE_SCORE)
        boxes = clip_boxes(boxes, width, height)
        detections = Detections(boxes, scores, class_ids, self.class_names)
        return detections, Timings(preprocess, inference, ms_since(start))


# -- YuNet faces ---------------------------------------------------------------------------


class YunetDetector(Detector):
    """YuNet through ``cv2.FaceDetectorYN``.

    Its built-in NMS runs at a permissive IoU of 0.9 (only near-duplicates merge) so that
    the IoU control decides below that.
    """

    def __init__(self, model_path: Path, spec: ModelSpec = CATALOG["yunet"]) -> None:
        self.spec = spec
        try:
            self.detector = cv2.FaceDetectorYN.create(
                str(model_path), "", (320, 320), MIN_CANDIDATE_SCORE, 0.9, 5000
            )
        except cv2.error:
            raise MissingModelError(
                f"{model_path.name} is not a loadable YuNet model; "
                f"replace it with `python -m models fetch {spec.name}`."
            ) from None
        self.lock = threading.Lock()

    def detect(self, rgb: np.ndarray) -> tuple[Detections, Timings]:
        check_rgb(rgb)
        height, width = rgb.shape[:2]
        start = time.perf_counter()
        bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
        preprocess = ms_since(start)

        start = time.perf_counter()
        with self.lock:
            self.detector.setInputSize((width, height))
            _, faces = self.detector.detect(bgr)
        inference = ms_since(start)

        start = time.perf_counter()
        faces = np.zeros((0, 15), np.float32) if faces is None else faces
        faces = faces[np.isfinite(faces).all(axis=1)]  # tiny inputs can yield NaN rows
        boxes = np.column_stack([faces[:, :2], faces[:, :2] + faces[:, 2:4]]).astype(np.float32)
        boxes = clip_boxes(boxes, width, height)
        detections = Detections(
            boxes, faces[:, 14], np.zeros(len(faces), np.int64), self.class_names
        )
        return detections, Timings(preprocess, inference, ms_since(start))


# -- Built into OpenCV: no files needed ----------------------------------------------------


class HaarFaceDetector(Detector):
    """OpenCV's bundled frontal-face Haar cascade (not deep learning).

    A cascade has no probability; the score is ``n / (n + 3)`` where ``n`` is the number of
    overlapping raw hits grouped into the box, so 0.5 matches OpenCV's default
    ``minNeighbors=3``.
    """

    def __init__(self, spec: ModelSpec = CATALOG["haar-faces"]) -> None:
        self.spec = spec
        self.cascade = cv2.CascadeClassifier(
            str(Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml")
        )
        if self.cascade.empty():
            raise MissingModelError(
                "OpenCV's Haar face cascade is missing from this installation; "
                "reinstall opencv-python-headless."
            )
        self.lock = threading.Lock()

    def detect(self, rgb: np.ndarray) -> tuple[Detections, Timings]:
        check_rgb(rgb)
        start = time.perf_counter()
        gray = cv2.equalizeHist(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
        preprocess = ms_since(start)

        start = time.perf_counter()
        min_side = max(20, min(gray.shape) // 40)
        with self.lock:
            rects, neighbours = self.cascade.detectMultiScale2(
                gray, scaleFactor=1.1, minNeighbors=1, minSize=(min_side, min_side)
            )
        inference = ms_since(start)

        start = time.perf_counter()
        rects = np.asarray(rects, dtype=np.float32).reshape(-1, 4)
        counts = np.asarray(neighbours, dtype=np.float32).reshape(-1)
        boxes = np.column_stack([rects[:, :2], rects[:, :2] + rects[:, 2:]])
        detections = Detections(
            boxes, counts / (counts + 3.0), np.zeros(len(rects), np.int64), self.class_names
        )
        return detections, Timings(preprocess, inference, ms_since(start))


class HogPeopleDetector(Detector):
    """OpenCV's bundled HOG + linear SVM pedestrian detector (Dalal–Triggs 2005, not deep).

    Score: the logistic of the SVM margin, so 0.5 is OpenCV's default decision threshold.
    Images are scaled to at most ``MAX_SIDE`` pixels first because HOG is slow.
    """

    MAX_SIDE = 800

    def __init__(self, spec: ModelSpec = CATALOG["hog-people"]) -> None:
        self.spec = spec
        self.hog = cv2.HOGDescriptor()
        self.hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
        self.lock = threading.Lock()

    def detect(self, rgb: np.ndarray) -> tuple[Detections, Timings]:
        check_rgb(rgb)
        start = time.perf_counter()
        scale = min(1.0, self.MAX_SIDE / max(rgb.shape[:2]))
        # Smaller than the 64×128 detection window once scaled: no person fits (and a sliver
        # like 5000×1 would scale to zero rows, which cv2.resize refuses).
        too_small = min(rgb.shape[:2]) * scale < 128
        small = cv2.resize(rgb, None, fx=scale, fy=scale) if scale < 1 and not too_small else rgb
        gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
        preprocess = ms_since(start)

        start = time.perf_counter()
        if too_small:
            rects, weights = np.zeros((0, 4)), np.zeros(0)
        else:
            with self.lock:
                rects, weights = self.hog.detectMultiScale(
                    gray, hitThreshold=-3.0, winStride=(8, 8), scale=1.05
                )
        inference = ms_since(start)

        start = time.perf_counter()
        rects = np.asarray(rects, dtype=np.float32).reshape(-1, 4) / scale
        margins = np.asarray(weights, dtype=np.float32).reshape(-1)
        boxes = np.column_stack([rects[:, :2], rects[:, :2] + rects[:, 2:]])
        scores = 1.0 / (1.0 + np.exp(-margins))
        keep = scores >= MIN_CANDIDATE_SCORE
        detections = Detections(
            boxes[keep], scores[keep], np.zeros(int(keep.sum()), np.int64), self.class_names
        )
        return detections, Timings(preprocess, inference, ms_since(start))


# -- Choosing and loading ------------------------------------------------------------------


def vision_models() -> list[ModelSpec]:
    """Catalog entries this module can run, best first."""
    return [CATALOG[name] for name in PREFERENCE if name in CATALOG]


def is_available(spec: ModelSpec) -> bool:
    """True when the model's files are present (built-in models always are)."""
    try:
        resolve_files(spec)
    except MissingModelError:
        return False
    return True


def best_available() -> str:
    """Name of the best vision model whose files are present (at worst the built-in Haar)."""
    for spec in vision_models():
        if is_available(spec):
            return spec.name
    return "haar-faces"


def load_detector(name: str, threads: int | None = None, spin: bool = True) -> Detector:
    """Build the adapter for catalog model ``name``.

    ``threads`` caps the inference threads of models that run on several cores (default:
    every usable core, at most four); ``spin`` False makes them sleep between runs instead
    of spinning (see :class:`YoloxDetector`).

    Raises
    ------
    InputError
        If ``name`` is not a vision model of the catalog.
    MissingModelError
        If its files are missing or do not load; the message says how to get them.
    """
    if name not in PREFERENCE or name not in CATALOG:
        known = ", ".join(spec.name for spec in vision_models())
        raise InputError(f"{name!r} is not a vision model; choose one of {known}.")
    spec = CATALOG[name]
    files = resolve_files(spec)
    if name == "yolox-nano":
        return YoloxDetector(files["model"], spec, threads, spin)
    if name == "mobilenet-ssd":
        return CaffeSsdDetector(files["config"], files["weights"], spec)
    if name == "yunet":
        return YunetDetector(files["model"], spec)
    if name == "haar-faces":
        return HaarFaceDetector(spec)
    return HogPeopleDetector(spec)


def detect(
    detector: Detector, rgb: np.ndarray, params: DetectionFilter
) -> tuple[Detections, Timings]:
    """Run ``detector`` and filter its candidates; the filtering counts as postprocessing."""
    raw, timings = detector.detect(rgb)
    return filter_candidates(raw, timings, params)


def filter_candidates(
    raw: Detections, timings: Timings, params: DetectionFilter
) -> tuple[Detections, Timings]:
    """Filter a run's raw candidates (e.g. cached ones); the filtering adds to postprocessing."""
    start = time.perf_counter()
    shown = filter_detections(raw, params)
    postprocess = timings.postprocess + ms_since(start)
    return shown, Timings(timings.preprocess, timings.inference, postprocess)
