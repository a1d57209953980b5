"""Instance masks of segmentation models: kept compact, rasterised only for what is shown.

A YOLO segmentation model gives each candidate 32 mask coefficients and the image a set of
32 prototype masks at a quarter of the network's resolution; an instance's mask is the
sign of ``coefficients @ prototypes`` inside its box. Raw candidates keep only their
coefficients (a few hundred bytes each), so re-filtering them costs nothing, and the few
detections shown are rasterised at image resolution, inside their box only.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class InstanceMasks:
    """Masks of N detections, as coefficients over shared prototype masks.

    Attributes
    ----------
    coefficients : np.ndarray
        (N, K) float32 mask coefficients, one row per detection.
    prototypes : np.ndarray
        (K, h, w) float32 prototype masks shared by every detection of the image.
    scale : float
        Prototype pixels per image pixel: image point (x, y) is prototype point
        ((x - origin x) scale, (y - origin y) scale).
    origin : tuple of float
        Image point at the prototypes' top-left corner: (0, 0) for the network's top-left
        aligned letterbox; elsewhere for a copy of the image drawn with an offset.
    """

    coefficients: np.ndarray
    prototypes: np.ndarray
    scale: float
    origin: tuple[float, float] = (0.0, 0.0)

    def __post_init__(self) -> None:
        coefficients = np.asarray(self.coefficients, dtype=np.float32)
        prototypes = np.asarray(self.prototypes, dtype=np.float32)
        if prototypes.ndim != 3 or coefficients.reshape(-1).size % prototypes.shape[0]:
            raise ValueError(
                f"coefficients {coefficients.shape} do not match prototypes {prototypes.shape}"
            )
        object.__setattr__(self, "coefficients", coefficients.reshape(-1, prototypes.shape[0]))
        object.__setattr__(self, "prototypes", prototypes)

    def __len__(self) -> int:
        return len(self.coefficients)

    def __getitem__(self, index: np.ndarray | slice | list[int]) -> InstanceMasks:
        return InstanceMasks(self.coefficients[index], self.prototypes, self.scale, self.origin)

    def crop(self, i: int, box: np.ndarray) -> tuple[int, int, np.ndarray]:
        """Mask ``i`` inside ``box`` (x1, y1, x2, y2 in image pixels, within the image).

        Returns ``(x0, y0, bitmap)``: the bool bitmap covers the whole pixels the box
        touches, its top-left pixel being image pixel (x0, y0).
        """
        x0, y0 = int(np.floor(box[0])), int(np.floor(box[1]))
        x1, y1 = int(np.ceil(box[2])), int(np.ceil(box[3]))
        if x1 <= x0 or y1 <= y0:
            return x0, y0, np.zeros((0, 0), dtype=bool)
        k, h, w = self.prototypes.shape
        logits = (self.coefficients[i] @ self.prototypes.reshape(k, -1)).reshape(h, w)
        # Image pixel centre (x + 0.5) sits at prototype coordinate (x + 0.5 - origin) s - 0.5.
        s, (ox, oy) = self.scale, self.origin
        to_prototype = np.array(
            [[s, 0, (x0 + 0.5 - ox) * s - 0.5], [0, s, (y0 + 0.5 - oy) * s - 0.5]],
            dtype=np.float64,
        )
        crop = cv2.warpAffine(
            logits,
            to_prototype,
            (x1 - x0, y1 - y0),
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_REPLICATE,
        )
        return x0, y0, crop > 0  # sigmoid(logit) > 0.5

    def record(self, i: int, box: np.ndarray) -> dict[str, object]:
        """``{"area_px": N, "polygon": [[x, y], ...]}`` of mask ``i``, for JSON."""
        x0, y0, bitmap = self.crop(i, box)
        return {"area_px": int(bitmap.sum()), "polygon": mask_polygon(bitmap, x0, y0)}


def mask_polygon(bitmap: np.ndarray, x0: int = 0, y0: int = 0) -> list[list[int]]:
    """Outline of the largest region of ``bitmap`` as ``[[x, y], ...]`` image pixels.

    The outline is simplified to within one pixel (Douglas–Peucker) to keep JSON small;
    ``(x0, y0)`` is the image position of the bitmap's top-left pixel. Empty: ``[]``.
    """
    if not bitmap.any():
        return []
    contours, _ = cv2.findContours(
        bitmap.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE
    )
    largest = max(contours, key=cv2.contourArea)
    points = cv2.approxPolyDP(largest, 1.0, True).reshape(-1, 2) + np.array([x0, y0])
    return points.tolist()
