"""Bring your own detector: an ONNX file or a Caffe pair, its output layout read from the model.

The model is loaded from bytes (never written to disk, so no other session can load it)
and run once on a blank input to learn its output shapes, from which the layout is
recognised:

- Ultralytics detection (YOLOv8, 11, ...): one output ``[1, 4 + classes, anchors]``,
  (cx, cy, w, h) in input pixels then class scores, no objectness;
- Ultralytics segmentation: ``[1, 4 + classes + 32, anchors]`` plus prototype masks
  ``[1, 32, h, w]``;
- YOLOv5 (and v7): ``[1, 3 × anchors, 5 + classes]``, boxes in input pixels, objectness;
- YOLOX: ``[1, anchors, 5 + classes]``, grid offsets on strides 8, 16 and 32;
- Ultralytics end-to-end (YOLOv10, YOLO26): ``[1, N, 6]`` rows of (x1, y1, x2, y2, score,
  class) in input pixels;
- SSD: ``[1, 1, N, 7]`` rows of (image, class, score, x1, y1, x2, y2) in [0, 1].

"anchors" is the number of cells of the 8/16/32-stride grids of the input (8400 at 640 ×
640), which tells the YOLO layouts apart. Like the catalog adapters, a loaded model
returns every candidate above :data:`analysis.vision.detectors.MIN_CANDIDATE_SCORE`, masks
included, so the confidence, IoU and class controls re-filter without running it again.
"""

from __future__ import annotations

import ast
import re
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from analysis.cores import usable_cores
from analysis.errors import InputError
from analysis.vision.detections import Detections
from analysis.vision.detectors import (
    MAX_CANDIDATES,
    MIN_CANDIDATE_SCORE,
    CaffeSsdDetector,
    Detector,
    Timings,
    _check_image,
    _clip_boxes,
    _ms,
    letterbox_blob,
    yolox_decode,
    yolox_grids,
)
from analysis.vision.masks import InstanceMasks
from models.catalog import ModelSpec

MAX_MODEL_BYTES = 200 * 1024 * 1024
"""Largest model file accepted (200 MB): more than any real-time detector needs."""

DEFAULT_SIDE = 640
"""Input side used when the model's input size is dynamic and its metadata does not say."""

STRIDES = (8, 16, 32)
P6_STRIDES = (8, 16, 32, 64)

MODEL_SUFFIXES = (".onnx", ".prototxt", ".caffemodel")
LABEL_SUFFIXES = (".txt", ".names", ".labels")

SUPPORTED = (
    "Ultralytics detection ([1, 4+classes, anchors]), Ultralytics segmentation "
    "([1, 4+classes+32, anchors] and prototypes [1, 32, h, w]), YOLOv5 ([1, 3×anchors, "
    "5+classes]), YOLOX ([1, anchors, 5+classes]), end-to-end YOLO ([1, N, 6]) and SSD "
    "([1, 1, N, 7])"
)

LAYOUT_TITLES = {
    "ultralytics": "Ultralytics detection",
    "ultralytics-seg": "Ultralytics segmentation",
    "yolov5": "YOLOv5",
    "yolox": "YOLOX",
    "end2end": "end-to-end YOLO",
    "ssd": "SSD",
}


@dataclass(frozen=True)
class Layout:
    """How to read a model's outputs.

    Attributes
    ----------
    kind : str
        One of :data:`LAYOUT_TITLES`' keys.
    classes : int
        Number of classes the output scores (0 when it does not say: SSD, end-to-end).
    boxes_output : int
        Index of the output with the boxes.
    prototypes_output : int or None
        Index of the segmentation prototypes output.
    """

    kind: str
    classes: int
    boxes_output: int = 0
    prototypes_output: int | None = None


class UnrecognisedLayout(Exception):
    """The output shapes match none of the supported layouts."""


def anchor_count(size: tuple[int, int], strides: tuple[int, ...] = STRIDES) -> int:
    """Cells of the stride grids of a (width, height) input: 8400 for 640 × 640."""
    width, height = size
    return sum((width // s) * (height // s) for s in strides)


def recognise_layout(shapes: Sequence[tuple[int, ...]], size: tuple[int, int]) -> Layout:
    """The layout of outputs of these concrete ``shapes`` for a (width, height) input.

    Raises
    ------
    UnrecognisedLayout
        If no supported layout has outputs of these shapes.
    """
    cells = {anchor_count(size), anchor_count(size, P6_STRIDES)}
    shapes = [tuple(int(d) for d in shape) for shape in shapes]
    if len(shapes) == 1:
        shape = shapes[0]
        if len(shape) == 4 and shape[:2] == (1, 1) and shape[3] == 7:
            return Layout("ssd", 0)
        if len(shape) == 3 and shape[0] == 1:
            _, rows, columns = shape
            if columns in cells and rows > 4:
                return Layout("ultralytics", rows - 4)
            if rows in cells and columns > 5:
                return Layout("yolox", columns - 5)
            if rows in {3 * c for c in cells} and columns > 5:
                return Layout("yolov5", columns - 5)
            if columns == 6:
                return Layout("end2end", 0)
    if len(shapes) == 2:
        order = sorted(range(2), key=lambda i: len(shapes[i]))
        boxes, prototypes = (shapes[i] for i in order)
        if len(boxes) == 3 and len(prototypes) == 4 and boxes[0] == prototypes[0] == 1:
            masks = prototypes[1]
            if boxes[2] in cells and boxes[1] > 4 + masks:
                return Layout("ultralytics-seg", boxes[1] - 4 - masks, order[0], order[1])
    raise UnrecognisedLayout


# -- Reading the model's own description ----------------------------------------------------


def _literal(text: str | None, limit: int = 1_000_000) -> object:
    """``ast.literal_eval`` of a metadata string (literals only, never code), or None."""
    if not text or len(text) > limit:
        return None
    try:
        return ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


def metadata_names(text: str | None) -> tuple[str, ...]:
    """Class names from Ultralytics' ``names`` metadata ("{0: 'person', ...}"), or ()."""
    value = _literal(text)
    if isinstance(value, dict) and value and all(isinstance(k, int) for k in value):
        if min(value) < 0 or max(value) > 100_000:
            return ()
        return tuple(str(value.get(i, f"class {i}")) for i in range(max(value) + 1))
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    return ()


def metadata_size(text: str | None) -> tuple[int, int] | None:
    """(width, height) from Ultralytics' ``imgsz`` metadata ("[640, 640]", height first)."""
    value = _literal(text)
    if isinstance(value, int):
        value = [value, value]
    if (
        isinstance(value, list | tuple)
        and len(value) == 2
        and all(isinstance(v, int) and 16 <= v <= 4096 for v in value)
    ):
        return int(value[1]), int(value[0])
    return None


def read_labels(data: bytes, name: str = "The labels file") -> tuple[str, ...]:
    """Class names from a labels file: one per line, in class order (line 1 is class 0).

    Raises
    ------
    InputError
        If the file is not UTF-8 text or names no class.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{name} is not a text file of class names, one per line.") from None
    labels = [line.strip() for line in text.splitlines()]
    while labels and not labels[-1]:
        labels.pop()
    if not labels or len(labels) > 100_000:
        raise InputError(f"{name} should list the class names, one per line.")
    return tuple(labels)


def resolve_class_names(
    classes: int, labels: Sequence[str] | None, metadata: Sequence[str]
) -> tuple[str, ...]:
    """Names of ``classes`` classes: the labels file's, else the metadata's, else "class i"."""
    names = tuple(labels or metadata)
    if classes == 0:
        return names
    return names[:classes] + tuple(f"class {i}" for i in range(len(names), classes))


def _shape_text(name: str, shape: Sequence[object]) -> str:
    return f"{name} [{', '.join(str(d) for d in shape)}]"


# -- Preprocessing and decoding -------------------------------------------------------------


def letterbox_rgb01(rgb: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, float]:
    """The Ultralytics input: ``rgb`` resized keeping its aspect ratio into a (width, height)
    canvas, top-left aligned, padded with grey 114, as a (1, 3, height, width) float32 RGB
    blob in 0..1; and the scale ``r`` (network pixels per image pixel)."""
    width, height = size
    h, w = rgb.shape[:2]
    r = min(width / w, height / h)
    new_w, new_h = max(1, round(w * r)), max(1, round(h * r))
    resized = cv2.resize(rgb, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    blob = np.full((1, 3, height, width), 114 / 255, dtype=np.float32)
    # Plane by plane into the blob, scaled in place: 15x faster than cv2.dnn.blobFromImage.
    for channel, plane in enumerate(cv2.split(resized)):
        target = blob[0, channel, :new_h, :new_w]
        target[...] = plane
        target *= 1 / 255
    return blob, r


def _keep(scores: np.ndarray, floor: float) -> np.ndarray:
    """Indices of scores at least ``floor``, the best :data:`MAX_CANDIDATES` of them."""
    keep = np.flatnonzero(scores >= floor)
    if len(keep) > MAX_CANDIDATES:
        keep = keep[np.argpartition(-scores[keep], MAX_CANDIDATES)[:MAX_CANDIDATES]]
    return keep


def _corners(xywh: np.ndarray) -> np.ndarray:
    half = xywh[:, 2:4] / 2
    return np.concatenate([xywh[:, :2] - half, xywh[:, :2] + half], axis=1)


def decode_channels_first(
    output: np.ndarray, classes: int, ratio: float, floor: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Ultralytics' ``(4 + classes [+ extra], anchors)`` output: boxes (xyxy, image pixels),
    scores, class ids and the anchor indices kept (to pick mask coefficients with)."""
    class_scores = output[4 : 4 + classes]
    scores = class_scores.max(axis=0)
    keep = _keep(scores, floor)
    class_ids = class_scores[:, keep].argmax(axis=0)
    boxes = _corners(output[:4, keep].T) / ratio
    return boxes.astype(np.float32), scores[keep], class_ids, keep


def decode_objectness(
    output: np.ndarray, ratio: float, floor: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """YOLOv5's ``(anchors, 5 + classes)`` output: boxes (xyxy, image pixels), scores
    (objectness × best class score) and class ids."""
    scores = output[:, 4] * output[:, 5:].max(axis=1)
    keep = _keep(scores, floor)
    rows = output[keep]
    boxes = _corners(rows[:, :4]) / ratio
    return boxes.astype(np.float32), scores[keep], rows[:, 5:].argmax(axis=1)


def decode_end_to_end(
    output: np.ndarray, ratio: float, floor: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(N, 6)`` rows of (x1, y1, x2, y2, score, class) in input pixels."""
    rows = output[_keep(output[:, 4], floor)]
    return (rows[:, :4] / ratio).astype(np.float32), rows[:, 4], rows[:, 5].astype(np.int64)


# -- Detectors -----------------------------------------------------------------------------


class OnnxFileDetector(Detector):
    """A user's ONNX detector run with onnxruntime, decoded according to its :class:`Layout`."""

    def __init__(self, session, layout: Layout, spec: ModelSpec) -> None:
        self.session = session
        self.layout = layout
        self.spec = spec
        model_input = session.get_inputs()[0]
        self.input_name = model_input.name
        self.half = model_input.type == "tensor(float16)"
        self.size = spec.input_size
        if layout.kind == "yolox":
            self.grid, self.strides = yolox_grids(self.size)

    def _blob(self, rgb: np.ndarray) -> tuple[np.ndarray, float]:
        if self.layout.kind == "yolox":
            return letterbox_blob(rgb, self.size)
        if self.layout.kind == "ssd":
            # The MobileNet-SSD convention of the Caffe adapter: resize, BGR, ±1.
            resized = cv2.resize(rgb, self.size, interpolation=cv2.INTER_AREA)
            return cv2.dnn.blobFromImage(resized, 0.007843, self.size, 127.5, swapRB=True), 1.0
        return letterbox_rgb01(rgb, self.size)

    def detect(self, rgb: np.ndarray) -> tuple[Detections, Timings]:
        _check_image(rgb)
        height, width = rgb.shape[:2]
        start = time.perf_counter()
        blob, ratio = self._blob(rgb)
        if self.half:
            blob = blob.astype(np.float16)
        preprocess = _ms(start)

        start = time.perf_counter()
        outputs = self.session.run(None, {self.input_name: blob})
        inference = _ms(start)

        start = time.perf_counter()
        layout = self.layout
        output = outputs[layout.boxes_output][0].astype(np.float32, copy=False)
        masks = None
        if layout.kind in ("ultralytics", "ultralytics-seg"):
            boxes, scores, class_ids, keep = decode_channels_first(
                output, layout.classes, ratio, MIN_CANDIDATE_SCORE
            )
            if layout.kind == "ultralytics-seg":
                prototypes = outputs[layout.prototypes_output][0].astype(np.float32, copy=False)
                coefficients = output[4 + layout.classes :, keep].T
                masks = InstanceMasks(
                    coefficients, prototypes, ratio * prototypes.shape[2] / self.size[0]
                )
        elif layout.kind == "yolox":
            boxes, scores, class_ids = yolox_decode(
                output, self.grid, self.strides, ratio, MIN_CANDIDATE_SCORE
            )
        elif layout.kind == "yolov5":
            boxes, scores, class_ids = decode_objectness(output, ratio, MIN_CANDIDATE_SCORE)
        elif layout.kind == "end2end":
            boxes, scores, class_ids = decode_end_to_end(output, ratio, MIN_CANDIDATE_SCORE)
        else:  # ssd
            rows = output.reshape(-1, 7)
            rows = rows[(rows[:, 2] >= MIN_CANDIDATE_SCORE) & (rows[:, 1] >= 1)]
            boxes = rows[:, 3:7] * np.array([width, height, width, height], dtype=np.float32)
            scores, class_ids = rows[:, 2], rows[:, 1].astype(np.int64)
        boxes = _clip_boxes(np.ascontiguousarray(boxes, dtype=np.float32), width, height)
        detections = Detections(boxes, scores, class_ids, self.class_names, masks)
        return detections, Timings(preprocess, inference, _ms(start))


class CaffeFileDetector(CaffeSsdDetector):
    """A user's Caffe SSD loaded from bytes; preprocessing and decoding are the catalog
    MobileNet-SSD's (300-style resize, (pixel − 127.5) × 0.007843, BGR)."""

    def __init__(self, net: cv2.dnn.Net, spec: ModelSpec) -> None:
        # Not CaffeSsdDetector.__init__: that one reads the pair from disk.
        self.spec = spec
        self.net = net
        self.size = spec.input_size
        self.lock = threading.Lock()


# -- Loading ------------------------------------------------------------------------------


def _read(source: bytes | Path, name: str) -> bytes:
    if isinstance(source, Path):
        try:
            if source.stat().st_size > MAX_MODEL_BYTES:
                raise InputError(_too_large(name, source.stat().st_size))
            return source.read_bytes()
        except OSError as error:
            raise InputError(f"Cannot read {name}: {error.strerror}.") from None
    if len(source) > MAX_MODEL_BYTES:
        raise InputError(_too_large(name, len(source)))
    return bytes(source)


def _too_large(name: str, size: int) -> str:
    return (
        f"{name} is {size / 1e6:.0f} MB; models up to {MAX_MODEL_BYTES / 1e6:.0f} MB can be used."
    )


def _spec(
    name: str,
    kind: str,
    fmt: str,
    size: tuple[int, int],
    names: tuple[str, ...],
    preprocessing: str,
) -> ModelSpec:
    return ModelSpec(
        name=name,
        title=f"{name} (your {LAYOUT_TITLES[kind]} model)",
        task="objects",
        format=fmt,
        runtime="onnxruntime" if fmt == "onnx" else "OpenCV DNN",
        description=f"An uploaded {LAYOUT_TITLES[kind]} model, {size[0]}×{size[1]} input.",
        input_size=size,
        preprocessing=preprocessing,
        licence="as supplied",
        source="uploaded file",
        labels=tuple(names),
    )


PREPROCESSING = {
    "yolox": "letterbox (pad 114), BGR 0..255",
    "ssd": "resize, BGR, (pixel − 127.5) × 0.007843",
}


def _onnx_session(data: bytes, name: str, threads: int | None):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = min(4, threads or usable_cores())
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # a user's model may warn about unused initialisers
    try:
        return ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime raises its own classes for each failure
        if "NOT_IMPLEMENTED" in str(error) or type(error).__name__ == "NotImplemented":
            raise InputError(
                f"{name} uses an operator or opset this onnxruntime cannot run."
            ) from None
        raise InputError(
            f"{name} is not a readable ONNX model: the file is damaged, truncated or of "
            "another kind."
        ) from None


def _input_size(shape: Sequence[object], metadata: Mapping[str, str]) -> tuple[int, int]:
    """(width, height) of an NCHW input: its fixed dims, else ``imgsz``, else 640 × 640."""
    height, width = shape[2], shape[3]
    if isinstance(height, int) and isinstance(width, int) and height > 0 and width > 0:
        return width, height
    return metadata_size(metadata.get("imgsz")) or (DEFAULT_SIDE, DEFAULT_SIDE)


def load_onnx(
    data: bytes, name: str, labels: Sequence[str] | None = None, threads: int | None = None
) -> OnnxFileDetector:
    """An :class:`OnnxFileDetector` for the ONNX model ``data`` (see :func:`load_model_file`)."""
    session = _onnx_session(data, name, threads)
    inputs, outputs = session.get_inputs(), session.get_outputs()
    metadata = session.get_modelmeta().custom_metadata_map
    found = (
        f"{name} has input{'s' if len(inputs) > 1 else ''} "
        + ", ".join(_shape_text(i.name, i.shape) for i in inputs)
        + f" and output{'s' if len(outputs) > 1 else ''} "
        + ", ".join(_shape_text(o.name, o.shape) for o in outputs)
    )
    task = metadata.get("task")
    if task in ("pose", "obb", "classify"):
        raise InputError(
            f"{name} is an Ultralytics {task} model; Percept reads detection and "
            "segmentation models."
        )
    shape = inputs[0].shape
    if (
        len(inputs) != 1
        or len(shape) != 4
        or shape[1] != 3
        or inputs[0].type not in ("tensor(float)", "tensor(float16)")
    ):
        raise InputError(
            f"{found}; Percept runs models with one float input [1, 3, height, width] and "
            f"outputs of these layouts: {SUPPORTED}."
        )
    size = _input_size(shape, metadata)
    dtype = np.float16 if inputs[0].type == "tensor(float16)" else np.float32
    try:
        probe = session.run(None, {inputs[0].name: np.zeros((1, 3, size[1], size[0]), dtype)})
    except Exception:  # any failure of the user's graph on a valid input
        raise InputError(f"{found}; it fails to run on a {size[0]}×{size[1]} input.") from None
    try:
        layout = recognise_layout([p.shape for p in probe], size)
    except UnrecognisedLayout:
        concrete = ", ".join(
            _shape_text(o.name, p.shape) for o, p in zip(outputs, probe, strict=True)
        )
        raise InputError(
            f"{name} has input {_shape_text(inputs[0].name, shape)} and outputs {concrete}, "
            f"which is no layout Percept reads; supported: {SUPPORTED}."
        ) from None
    names = resolve_class_names(layout.classes, labels, metadata_names(metadata.get("names")))
    preprocessing = PREPROCESSING.get(layout.kind, "letterbox (pad 114), RGB 0..1")
    spec = _spec(name, layout.kind, "onnx", size, names, preprocessing)
    return OnnxFileDetector(session, layout, spec)


def _caffe_input_size(prototxt: bytes) -> tuple[int, int]:
    """(width, height) from the first four ``dim:`` / ``input_dim:`` values, else 300 × 300."""
    dims = [int(d) for d in re.findall(rb"dim:\s*(\d+)", prototxt[:100_000])[:4]]
    if len(dims) == 4 and all(16 <= d <= 4096 for d in dims[2:]):
        return dims[3], dims[2]
    return 300, 300


def load_caffe(
    prototxt: bytes, weights: bytes, name: str, labels: Sequence[str] | None = None
) -> CaffeFileDetector:
    """A :class:`CaffeFileDetector` for a Caffe SSD pair (see :func:`load_model_file`)."""
    try:
        net = cv2.dnn.readNetFromCaffe(
            np.frombuffer(prototxt, np.uint8), np.frombuffer(weights, np.uint8)
        )
    except cv2.error:
        raise InputError(
            f"{name} and its .caffemodel are not a loadable Caffe model: one of them is "
            "damaged, truncated or of another kind, or they do not belong together."
        ) from None
    size = _caffe_input_size(prototxt)
    try:
        net.setInput(np.zeros((1, 3, size[1], size[0]), np.float32))
        output = net.forward()
    except cv2.error:
        raise InputError(
            f"{name} does not run on a {size[0]}×{size[1]} input with its .caffemodel."
        ) from None
    if output.ndim != 4 or output.shape[:2] != (1, 1) or output.shape[3] != 7:
        outputs = ", ".join(net.getUnconnectedOutLayersNames())
        raise InputError(
            f"{name} has output {_shape_text(outputs, output.shape)}, which is no layout "
            "Percept reads; Caffe models must be SSDs with an output [1, 1, N, 7]."
        )
    classes = re.search(rb"num_classes:\s*(\d+)", prototxt)
    names = resolve_class_names(int(classes.group(1)) if classes else 0, labels, ())
    spec = _spec(name, "ssd", "caffe", size, names, PREPROCESSING["ssd"])
    return CaffeFileDetector(net, spec)


def load_model_file(
    model: bytes | Path,
    name: str,
    labels: Sequence[str] | None = None,
    weights: bytes | Path | None = None,
    threads: int | None = None,
) -> Detector:
    """Load a user's detector from its bytes (or a path), recognising its output layout.

    Parameters
    ----------
    model : bytes or Path
        An ONNX model, or with ``weights`` a Caffe ``.prototxt``; at most
        :data:`MAX_MODEL_BYTES`. Bytes are never written to disk.
    name : str
        File name, shown in messages and as the model's name in results.
    labels : sequence of str, optional
        Class names in class order (see :func:`read_labels`); otherwise the ONNX metadata's
        ``names`` (Ultralytics exports), otherwise "class 0", "class 1", ...
    weights : bytes or Path, optional
        The ``.caffemodel`` of a Caffe pair.
    threads : int, optional
        Inference threads of an ONNX model (default: every usable core, at most four).

    Raises
    ------
    InputError
        One sentence: too large, unreadable, damaged or truncated, or an output layout that
        is not supported (naming the inputs and outputs found and the supported layouts).
    """
    data = _read(model, name)
    if weights is not None:
        return load_caffe(data, _read(weights, f"{name}'s weights"), name, labels)
    if name.lower().endswith((".prototxt", ".caffemodel")):
        raise InputError(f"{name} is half of a Caffe model: give both .prototxt and .caffemodel.")
    return load_onnx(data, name, labels, threads)


def load_uploaded_model(files: Mapping[str, bytes], threads: int | None = None) -> Detector:
    """Load the model among uploaded ``{file name: bytes}``: one ``.onnx``, or a
    ``.prototxt`` with its ``.caffemodel``, plus optionally a labels file (``.txt``,
    ``.names``, ``.labels``: one class name per line).

    Raises
    ------
    InputError
        If the files are not such a set, or the model cannot be used (see
        :func:`load_model_file`).
    """
    by_suffix: dict[str, list[str]] = {}
    for file_name in files:
        suffix = Path(file_name).suffix.lower()
        if suffix not in MODEL_SUFFIXES + LABEL_SUFFIXES:
            raise InputError(
                f"{file_name} is not a model file: give a .onnx file, or a .prototxt with its "
                ".caffemodel, and optionally a labels file (.txt, one class name per line)."
            )
        by_suffix.setdefault(suffix, []).append(file_name)
    label_files = [f for s in LABEL_SUFFIXES for f in by_suffix.get(s, [])]
    onnx, prototxt, caffemodel = (by_suffix.get(s, []) for s in MODEL_SUFFIXES)
    if len(label_files) > 1:
        raise InputError("Give at most one labels file.")
    labels = read_labels(files[label_files[0]], label_files[0]) if label_files else None
    if len(onnx) == 1 and not prototxt and not caffemodel:
        return load_model_file(files[onnx[0]], onnx[0], labels, threads=threads)
    if len(prototxt) == 1 and len(caffemodel) == 1 and not onnx:
        return load_model_file(
            files[prototxt[0]], prototxt[0], labels, weights=files[caffemodel[0]]
        )
    raise InputError("Give one model: a .onnx file, or a .prototxt with its .caffemodel.")


def load_model_paths(
    paths: Sequence[Path], labels: Path | None = None, threads: int | None = None
) -> Detector:
    """:func:`load_uploaded_model` for files on disk (the command line's ``--model-file``),
    each refused above :data:`MAX_MODEL_BYTES` before it is read."""
    files = {path.name: _read(path, path.name) for path in [*paths, *([labels] if labels else [])]}
    if len(files) < len(paths) + bool(labels):
        raise InputError("The model files must have different names.")
    return load_uploaded_model(files, threads)
