"""The one value every detector returns, and the one adapter to supervision.

:class:`Detections` is modelled on Roboflow supervision's: parallel arrays, filtered by
indexing with a boolean mask or an index array, e.g. ``detections[detections.scores >= 0.5]``;
tables, exports and the command line read it. :func:`to_supervision` turns it into
``supervision.Detections``, the one value the annotators (:mod:`analysis.vision.annotate`)
and the tracker take; :func:`rescaled` moves that value onto a resized or padded copy of
the picture.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import cv2
import numpy as np

from analysis.errors import InputError
from analysis.vision.masks import InstanceMasks

if TYPE_CHECKING:
    import supervision as sv

CLASS_NAME = "class_name"
"""supervision's ``data`` field with each detection's class name."""

KEYPOINTS = "keypoints"
"""``data`` field with each detection's (K, 3) keypoints: x, y (pixels) and visibility."""

MASK_COEFFICIENTS = "mask_coefficients"
"""``data`` field with each detection's instance-mask coefficients; the prototypes they
weigh, their scale and origin are in ``metadata`` under :data:`MASK_PROTOTYPES`, ..."""

MASK_PROTOTYPES, MASK_SCALE, MASK_ORIGIN = "mask_prototypes", "mask_scale", "mask_origin"


@dataclass(frozen=True)
class Detections:
    """Boxes found in one image.

    Attributes
    ----------
    boxes : np.ndarray
        (N, 4) float32, corners ``x1, y1, x2, y2`` in pixels of the original image.
    scores : np.ndarray
        (N,) float32 confidences in [0, 1].
    class_ids : np.ndarray
        (N,) int64 indices into ``class_names``.
    class_names : tuple of str
        The model's class names (COCO's "sports ball", VOC's "diningtable", "face", ...).
    masks : InstanceMasks or None
        Instance masks of segmentation models, one per detection (indexed along with the
        boxes); None for box-only models.
    """

    boxes: np.ndarray
    scores: np.ndarray
    class_ids: np.ndarray
    class_names: tuple[str, ...] = field(default=())
    masks: InstanceMasks | None = None

    def __post_init__(self) -> None:
        boxes = np.asarray(self.boxes, dtype=np.float32).reshape(-1, 4)
        scores = np.asarray(self.scores, dtype=np.float32).reshape(-1)
        class_ids = np.asarray(self.class_ids, dtype=np.int64).reshape(-1)
        if not len(boxes) == len(scores) == len(class_ids):
            raise ValueError(
                f"boxes, scores and class_ids differ in length: "
                f"{len(boxes)}, {len(scores)}, {len(class_ids)}"
            )
        if self.masks is not None and len(self.masks) != len(boxes):
            raise ValueError(f"{len(self.masks)} masks for {len(boxes)} boxes")
        object.__setattr__(self, "boxes", boxes)
        object.__setattr__(self, "scores", scores)
        object.__setattr__(self, "class_ids", class_ids)
        object.__setattr__(self, "class_names", tuple(self.class_names))

    @classmethod
    def empty(cls, class_names: tuple[str, ...] = ()) -> Detections:
        return cls(np.zeros((0, 4)), np.zeros(0), np.zeros(0, dtype=np.int64), class_names)

    def __len__(self) -> int:
        return len(self.scores)

    def __getitem__(self, index: np.ndarray | slice | list[int]) -> Detections:
        """The detections selected by a boolean mask, an index array or a slice."""
        masks = None if self.masks is None else self.masks[index]
        return Detections(
            self.boxes[index], self.scores[index], self.class_ids[index], self.class_names, masks
        )

    @property
    def labels(self) -> list[str]:
        """Class name of each detection."""
        return [self.class_name(i) for i in self.class_ids]

    def class_name(self, class_id: int) -> str:
        if 0 <= class_id < len(self.class_names):
            return self.class_names[class_id]
        return f"class {class_id}"

    def counts(self) -> dict[str, int]:
        """Number of detections per label, most frequent first."""
        return dict(Counter(self.labels).most_common())

    def to_records(self) -> list[dict]:
        """``[{"label", "score", "box": [x1, y1, x2, y2]}]``, highest score first, for JSON.

        With masks, each record also has ``"mask": {"area_px": N, "polygon": [[x, y], ...]}``.
        """
        order = np.argsort(-self.scores, kind="stable")
        records = [
            {
                "label": self.class_name(int(self.class_ids[i])),
                "score": round(float(self.scores[i]), 4),
                "box": [round(float(v), 1) for v in self.boxes[i]],
            }
            for i in order
        ]
        if self.masks is not None:
            for record, i in zip(records, order, strict=True):
                record["mask"] = self.masks.record(int(i), self.boxes[i])
        return records


def clip_boxes(boxes: np.ndarray, width: int, height: int) -> np.ndarray:
    """Clip (N, 4) corners ``x1, y1, x2, y2`` to a ``width`` × ``height`` picture, in place;
    returns ``boxes``."""
    np.clip(boxes[:, 0::2], 0, width, out=boxes[:, 0::2])
    np.clip(boxes[:, 1::2], 0, height, out=boxes[:, 1::2])
    return boxes


def nms_keep(
    boxes: np.ndarray, scores: np.ndarray, iou_threshold: float, class_ids: np.ndarray | None
) -> np.ndarray:
    """Indices kept by non-maximum suppression, highest score first.

    A box is dropped when it overlaps a higher-scoring kept box by IoU above
    ``iou_threshold``; with ``class_ids`` only boxes of the same class suppress each other.
    """
    if len(scores) == 0:
        return np.zeros(0, dtype=np.int64)
    boxes = np.asarray(boxes, dtype=np.float32)
    if class_ids is not None:
        # Shift each class to its own region so boxes of different classes never overlap.
        offset = np.asarray(class_ids, dtype=np.float32)[:, None] * (float(boxes.max()) + 1.0)
        boxes = boxes + offset
    xywh = np.column_stack([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]])
    keep = cv2.dnn.NMSBoxes(
        xywh.tolist(), np.asarray(scores, np.float32).tolist(), 0.0, iou_threshold
    )
    return np.asarray(keep, dtype=np.int64).reshape(-1)


DEFAULT_CONFIDENCE = 0.4
"""The one default minimum score of Vision, Video, Live and the commands."""


@dataclass(frozen=True)
class DetectionFilter:
    """What to show of a model's raw candidates: cheap to apply, no network involved.

    Attributes
    ----------
    confidence : float
        Minimum score in [0, 1].
    iou : float
        NMS IoU threshold in (0, 1]: boxes of one class overlapping more are merged; 1 keeps all.
    classes : tuple of str or None
        Labels to keep; None keeps every class.
    """

    confidence: float = DEFAULT_CONFIDENCE
    iou: float = 0.45
    classes: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.confidence <= 1.0:
            raise InputError(f"The confidence must be between 0 and 1, not {self.confidence}.")
        if not 0.0 < self.iou <= 1.0:
            raise InputError(f"The IoU threshold must be above 0 and at most 1, not {self.iou}.")


def filter_detections(detections: Detections, params: DetectionFilter) -> Detections:
    """Keep candidates above the confidence, of the chosen classes, then apply per-class NMS."""
    mask = detections.scores >= params.confidence
    if params.classes is not None:
        mask &= np.isin(np.asarray(detections.labels, dtype=object), list(params.classes))
    kept = detections[mask]
    if params.iou < 1.0 and len(kept):
        kept = kept[nms_keep(kept.boxes, kept.scores, params.iou, kept.class_ids)]
    return kept[np.argsort(-kept.scores, kind="stable")]


# -- The one adapter to supervision -----------------------------------------------------------
# supervision is imported where it is used: it takes 0.4 s to import, which a process that
# only runs a detector (a batch worker, the detect command) need not pay.


def to_supervision(detections: Detections, keypoints: np.ndarray | None = None) -> sv.Detections:
    """``detections`` as ``supervision.Detections``, for the annotators and the tracker.

    Boxes, scores and class ids as they are; each class name in ``data["class_name"]``;
    ``keypoints`` ((N, K, 3) x, y and visibility, for poses) in ``data["keypoints"]``;
    instance masks stay compact: their coefficients in ``data`` (filtered along with the
    boxes), the shared prototypes in ``metadata`` (see :func:`instance_masks`).
    """
    import supervision as sv

    data: dict[str, np.ndarray] = {CLASS_NAME: np.asarray(detections.labels, dtype=object)}
    metadata: dict[str, object] = {}
    if keypoints is not None:
        data[KEYPOINTS] = np.asarray(keypoints, np.float32)
    masks = detections.masks
    if masks is not None:
        data[MASK_COEFFICIENTS] = masks.coefficients
        metadata.update(
            {MASK_PROTOTYPES: masks.prototypes, MASK_SCALE: masks.scale, MASK_ORIGIN: masks.origin}
        )
    return sv.Detections(
        xyxy=detections.boxes,
        confidence=detections.scores,
        class_id=detections.class_ids,
        data=data,
        metadata=metadata,
    )


def instance_masks(detections: sv.Detections) -> InstanceMasks | None:
    """The instance masks :func:`to_supervision` put in ``detections`` (None without)."""
    if MASK_COEFFICIENTS not in detections.data:
        return None
    meta = detections.metadata
    return InstanceMasks(
        detections.data[MASK_COEFFICIENTS],
        meta[MASK_PROTOTYPES],
        meta[MASK_SCALE],
        meta[MASK_ORIGIN],
    )


def rescaled(
    detections: sv.Detections, scale: float, offset: tuple[int, int] = (0, 0)
) -> sv.Detections:
    """``detections`` on a copy of their picture resized by ``scale`` and placed with its
    top-left corner at ``offset`` (x, y pixels): boxes, keypoints and masks move alike."""
    import supervision as sv

    if scale == 1.0 and offset == (0, 0):
        return detections
    dx, dy = offset
    data, metadata = dict(detections.data), dict(detections.metadata)
    if KEYPOINTS in data:
        keypoints = data[KEYPOINTS].copy()
        keypoints[..., :2] = keypoints[..., :2] * scale + np.array([dx, dy], np.float32)
        data[KEYPOINTS] = keypoints
    if MASK_SCALE in metadata:
        ox, oy = metadata[MASK_ORIGIN]
        metadata[MASK_SCALE] = metadata[MASK_SCALE] / scale
        metadata[MASK_ORIGIN] = (ox * scale + dx, oy * scale + dy)
    return sv.Detections(
        xyxy=detections.xyxy * scale + np.array([dx, dy, dx, dy], np.float32),
        confidence=detections.confidence,
        class_id=detections.class_id,
        tracker_id=detections.tracker_id,
        data=data,
        metadata=metadata,
    )
