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

import re
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import cv2
import numpy as np

from analysis.cores import usable_cores
from analysis.errors import InputError
from analysis.vision.decoding import (
    decode_channels_first,
    decode_end_to_end,
    decode_objectness,
    decode_ssd,
    yolox_decode,
    yolox_grids,
)
from analysis.vision.detections import Detections, clip_boxes
from analysis.vision.detectors import MIN_CANDIDATE_SCORE, CaffeSsdDetector, Detector
from analysis.vision.image import check_rgb, letterbox_blob, ssd_blob
from analysis.vision.layouts import (
    LAYOUT_TITLES,
    SUPPORTED,
    Layout,
    UnrecognisedLayout,
    metadata_names,
    metadata_size,
    read_labels,
    recognise_layout,
    resolve_class_names,
)
from analysis.vision.masks import InstanceMasks
from analysis.vision.timings import Timings, ms_since
from models.catalog import ModelSpec

MAX_MODEL_BYTES = 200 * 1024 * 1024
"""Largest model file accepted (200 MB): more than any real-time detector needs."""

DEFAULT_SIDE = 640
"""Input side used when the model's input size is dynamic and its metadata does not say."""

MODEL_SUFFIXES = (".onnx", ".prototxt", ".caffemodel")
LABEL_SUFFIXES = (".txt", ".names", ".labels")


def _shape_text(name: str, shape: Sequence[object]) -> str:
    return f"{name} [{', '.join(str(d) for d in shape)}]"


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
            return letterbox_blob(rgb, self.size, bgr=True)
        if self.layout.kind == "ssd":  # the MobileNet-SSD convention of the Caffe adapter
            return ssd_blob(rgb, self.size), 1.0
        return letterbox_blob(rgb, self.size, bgr=False, unit=1 / 255)

    def detect(self, rgb: np.ndarray) -> tuple[Detections, Timings]:
        check_rgb(rgb)
        height, width = rgb.shape[:2]
        start = time.perf_counter()
        blob, ratio = self._blob(rgb)
        if self.half:
            blob = blob.astype(np.float16)
        preprocess = ms_since(start)

        start = time.perf_counter()
        outputs = self.session.run(None, {self.input_name: blob})
        inference = ms_since(start)

        start = time.perf_counter()
        detections = self._decode(outputs, ratio, width, height)
        return detections, Timings(preprocess, inference, ms_since(start))

    def _decode(self, outputs: list, ratio: float, width: int, height: int) -> Detections:
        """Candidates of a ``width`` × ``height`` picture from the network's ``outputs``."""
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
            boxes, scores, class_ids = decode_ssd(output, width, height, MIN_CANDIDATE_SCORE)
        boxes = clip_boxes(np.ascontiguousarray(boxes, dtype=np.float32), width, height)
        return Detections(boxes, scores, class_ids, self.class_names, masks)


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
