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
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from analysis.cores import usable_cores
from analysis.errors import InputError
from analysis.vision.detections import DetectionFilter, Detections, filter_detections
from models.catalog import CATALOG, ModelSpec
from models.locate import MissingModelError, resolve_files

MIN_CANDIDATE_SCORE = 0.05
"""Lowest score an adapter returns; the confidence slider cannot go below it."""

MAX_CANDIDATES = 2000
"""Cap on raw candidates kept per image (highest scores), so filtering stays cheap."""

PREFERENCE = ("yolox-nano", "mobilenet-ssd", "yunet", "haar-faces", "hog-people")
"""Vision models from best to most basic: the default is the first one available."""


@dataclass(frozen=True)
class Timings:
    """Milliseconds spent in each stage of one detection."""

    preprocess: float
    inference: float
    postprocess: float

    @property
    def total(self) -> float:
        return self.preprocess + self.inference + self.postprocess

    def as_dict(self) -> dict[str, float]:
        return {
            "preprocess": round(self.preprocess, 3),
            "inference": round(self.inference, 3),
            "postprocess": round(self.postprocess, 3),
            "total": round(self.total, 3),
        }


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0


def _check_image(rgb: np.ndarray) -> None:
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise InputError("The detector needs an RGB picture (height × width × 3, uint8).")


def _top_candidates(
    boxes: np.ndarray, scores: np.ndarray, class_ids: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if len(scores) > MAX_CANDIDATES:
        top = np.argpartition(-scores, MAX_CANDIDATES)[:MAX_CANDIDATES]
        return boxes[top], scores[top], class_ids[top]
    return boxes, scores, class_ids


def _clip_boxes(boxes: np.ndarray, width: int, height: int) -> np.ndarray:
    np.clip(boxes[:, 0::2], 0, width, out=boxes[:, 0::2])
    np.clip(boxes[:, 1::2], 0, height, out=boxes[:, 1::2])
    return boxes


class Detector:
    """Base of the adapters: ``detect(rgb) -> (Detections, Timings)`` of raw candidates."""

    spec: ModelSpec

    def detect(self, rgb: np.ndarray) -> tuple[Detections, Timings]:
        raise NotImplementedError

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.spec.labels


# -- YOLOX ---------------------------------------------------------------------------------


def letterbox_blob(
    rgb: np.ndarray, size: tuple[int, int], pad_value: float = 114.0
) -> tuple[np.ndarray, float]:
    """The network input for YOLOX: the picture resized keeping its aspect ratio into a
    ``size`` (width, height) canvas, top-left aligned, padded with ``pad_value``.

    Returns a (1, 3, height, width) float32 blob in **BGR** order, 0..255, and the scale
    ``r`` (network pixels per image pixel): an image point (x, y) lands at (x r, y r).
    """
    width, height = size
    h, w = rgb.shape[:2]
    r = min(width / w, height / h)
    new_w, new_h = max(1, round(w * r)), max(1, round(h * r))
    resized = cv2.resize(rgb, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    blob = np.full((1, 3, height, width), pad_value, dtype=np.float32)
    # Plane by plane: RGB → BGR and HWC → CHW with contiguous copies, 3x faster than
    # one strided transpose-and-convert.
    for channel, plane in enumerate(reversed(cv2.split(resized))):
        blob[0, channel, :new_h, :new_w] = plane
    return blob, r


def yolox_grids(size: tuple[int, int], strides: tuple[int, ...] = (8, 16, 32)):
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
    """Boxes (xyxy, image pixels), scores and class ids of anchors scoring at least ``floor``.

    ``output`` is (A, 5 + C): raw (cx, cy, log w, log h) grid offsets, objectness and class
    probabilities; the score of an anchor is objectness × its best class probability.
    """
    scores = output[:, 4] * output[:, 5:].max(axis=1)
    keep = np.flatnonzero(scores >= floor)
    out, grid, strides = output[keep], grid[keep], strides[keep]
    class_ids = out[:, 5:].argmax(axis=1)  # only for the few anchors kept
    centres = (out[:, :2] + grid) * strides
    half = np.exp(out[:, 2:4]) * strides / 2
    boxes = np.concatenate([centres - half, centres + half], axis=1) / ratio
    return boxes.astype(np.float32), scores[keep], class_ids


class YoloxDetector(Detector):
    """YOLOX-Nano with onnxruntime: letterbox, one run, vectorised grid decode."""

    def __init__(
        self,
        model_path: Path,
        spec: ModelSpec = CATALOG["yolox-nano"],
        threads: int | None = None,
    ) -> None:
        import onnxruntime as ort

        self.spec = spec
        options = ort.SessionOptions()
        # One thread per usable core (more thrashes), and no gain past four for this model.
        options.intra_op_num_threads = min(4, threads or usable_cores())
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
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
        _check_image(rgb)
        start = time.perf_counter()
        blob, ratio = letterbox_blob(rgb, self.size)
        preprocess = _ms(start)

        start = time.perf_counter()
        output = self.session.run(None, {self.input_name: blob})[0][0]
        inference = _ms(start)

        start = time.perf_counter()
        boxes, scores, class_ids = yolox_decode(
            output, self.grid, self.strides, ratio, MIN_CANDIDATE_SCORE
        )
        boxes = _clip_boxes(boxes, rgb.shape[1], rgb.shape[0])
        detections = Detections(*_top_candidates(boxes, scores, class_ids), self.class_names)
        return detections, Timings(preprocess, inference, _ms(start))


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
        _check_image(rgb)
        height, width = rgb.shape[:2]
        start = time.perf_counter()
        resized = cv2.resize(rgb, self.size, interpolation=cv2.INTER_AREA)
        blob = cv2.dnn.blobFromImage(resized, 0.007843, self.size, 127.5, swapRB=True)
        preprocess = _ms(start)

        start = time.perf_counter()
        with self.lock:
            self.net.setInput(blob)
            output = self.net.forward()
        inference = _ms(start)

        start = time.perf_counter()
        rows = output.reshape(-1, 7)
        rows = rows[(rows[:, 2] >= MIN_CANDIDATE_SCORE) & (rows[:, 1] >= 1)]
        boxes = rows[:, 3:7] * np.array([width, height, width, height], dtype=np.float32)
        boxes = _clip_boxes(boxes.astype(np.float32), width, height)
        detections = Detections(boxes, rows[:, 2], rows[:, 1].astype(np.int64), self.class_names)
        return detections, Timings(preprocess, inference, _ms(start))


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
        _check_image(rgb)
        height, width = rgb.shape[:2]
        start = time.perf_counter()
        bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
        preprocess = _ms(start)

        start = time.perf_counter()
        with self.lock:
            self.detector.setInputSize((width, height))
            _, faces = self.detector.detect(bgr)
        inference = _ms(start)

        start = time.perf_counter()
        faces = np.zeros((0, 15), np.float32) if faces is None else faces
        faces = faces[np.isfinite(faces).all(axis=1)]  # tiny inputs can yield NaN rows
        boxes = np.column_stack([faces[:, :2], faces[:, :2] + faces[:, 2:4]]).astype(np.float32)
        boxes = _clip_boxes(boxes, width, height)
        detections = Detections(
            boxes, faces[:, 14], np.zeros(len(faces), np.int64), self.class_names
        )
        return detections, Timings(preprocess, inference, _ms(start))


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
        _check_image(rgb)
        start = time.perf_counter()
        gray = cv2.equalizeHist(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
        preprocess = _ms(start)

        start = time.perf_counter()
        min_side = max(20, min(gray.shape) // 40)
        with self.lock:
            rects, neighbours = self.cascade.detectMultiScale2(
                gray, scaleFactor=1.1, minNeighbors=1, minSize=(min_side, min_side)
            )
        inference = _ms(start)

        start = time.perf_counter()
        rects = np.asarray(rects, dtype=np.float32).reshape(-1, 4)
        counts = np.asarray(neighbours, dtype=np.float32).reshape(-1)
        boxes = np.column_stack([rects[:, :2], rects[:, :2] + rects[:, 2:]])
        detections = Detections(
            boxes, counts / (counts + 3.0), np.zeros(len(rects), np.int64), self.class_names
        )
        return detections, Timings(preprocess, inference, _ms(start))


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
        _check_image(rgb)
        start = time.perf_counter()
        scale = min(1.0, self.MAX_SIDE / max(rgb.shape[:2]))
        # Smaller than the 64×128 detection window once scaled: no person fits (and a sliver
        # like 5000×1 would scale to zero rows, which cv2.resize refuses).
        too_small = min(rgb.shape[:2]) * scale < 128
        small = cv2.resize(rgb, None, fx=scale, fy=scale) if scale < 1 and not too_small else rgb
        gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
        preprocess = _ms(start)

        start = time.perf_counter()
        if too_small:
            rects, weights = np.zeros((0, 4)), np.zeros(0)
        else:
            with self.lock:
                rects, weights = self.hog.detectMultiScale(
                    gray, hitThreshold=-3.0, winStride=(8, 8), scale=1.05
                )
        inference = _ms(start)

        start = time.perf_counter()
        rects = np.asarray(rects, dtype=np.float32).reshape(-1, 4) / scale
        margins = np.asarray(weights, dtype=np.float32).reshape(-1)
        boxes = np.column_stack([rects[:, :2], rects[:, :2] + rects[:, 2:]])
        scores = 1.0 / (1.0 + np.exp(-margins))
        keep = scores >= MIN_CANDIDATE_SCORE
        detections = Detections(
            boxes[keep], scores[keep], np.zeros(int(keep.sum()), np.int64), self.class_names
        )
        return detections, Timings(preprocess, inference, _ms(start))


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


def load_detector(name: str, threads: int | None = None) -> Detector:
    """Build the adapter for catalog model ``name``.

    ``threads`` caps the inference threads of models that run on several cores (default:
    every usable core, at most four).

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
        return YoloxDetector(files["model"], spec, threads)
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
    postprocess = timings.postprocess + _ms(start)
    return shown, Timings(timings.preprocess, timings.inference, postprocess)
