"""What a detector someone brings says about itself: its output layout, its class names, its
input size (read from the model's outputs, its metadata and a labels file).

The layouts (see :mod:`analysis.vision.own_model`) are told apart by their output shapes;
"anchors" is the number of cells of the 8/16/32-stride grids of the input (8400 at 640 ×
640). Metadata strings are read as Python literals, never run.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass

from analysis.errors import InputError
from analysis.vision.decoding import STRIDES

P6_STRIDES = (8, 16, 32, 64)
"""The grids of the YOLO "P6" models (1280-px inputs), one more than :data:`STRIDES`."""

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
