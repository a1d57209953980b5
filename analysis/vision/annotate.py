"""One drawing style for pictures, video frames and the live camera, on supervision's
annotator API.

Everything drawn comes from one ``supervision.Detections`` (made by
:func:`analysis.vision.detections.to_supervision`, tracked or not), layer by layer:

1. instance masks, filled semi-transparently in the class colour (:class:`MaskAnnotator`);
2. trails behind tracked objects, over the last :data:`TRAIL_S` seconds (``sv.TraceAnnotator``);
3. boxes in the class colour, best score on top (``sv.BoxAnnotator``);
4. skeletons, left side orange, right side blue
   (:class:`~analysis.vision.skeleton.SkeletonAnnotator`);
5. tags, "person 0.87" or "#3 person 0.87" once tracked, which never cover one another and never
   leave the picture, best scores placed first (:class:`~analysis.vision.tags.TagAnnotator`);
6. a counting line, with its in and out counts (``sv.LineZoneAnnotator``).

Each class keeps its colour everywhere (:func:`~analysis.vision.palette.class_colour`), and
line widths and text follow the picture's size, so a 300-px thumbnail and a 4000-px photo
both read well.
"""

from __future__ import annotations

import numpy as np
import supervision as sv
from supervision.annotators.base import BaseAnnotator

from analysis.vision.detections import Detections, instance_masks, to_supervision
from analysis.vision.palette import ClassColours, class_colour
from analysis.vision.skeleton import SkeletonAnnotator
from analysis.vision.tags import TagAnnotator, TagFont

TRAIL_S = 1.5
"""Length of the trail drawn behind each tracked object, seconds."""

MASK_OPACITY = 0.45
"""Share of a mask's colour in its pixels when drawn."""


def line_width(height: int, width: int) -> int:
    """Pixels of box and line strokes on a ``width`` × ``height`` picture (at least 2)."""
    return max(2, round(min(height, width) / 250))


class MaskAnnotator(BaseAnnotator):
    """Fills each detection's instance mask in its class colour, ``opacity`` of it over the
    picture, lower scores first so the best stay on top. Masks are rasterised inside their
    box only, from the compact form :func:`~analysis.vision.detections.to_supervision` keeps."""

    def __init__(self, opacity: float = MASK_OPACITY) -> None:
        self.opacity = opacity

    def annotate(self, scene: np.ndarray, detections: sv.Detections) -> np.ndarray:
        """Draw on ``scene`` (RGB uint8, in place) and return it; without masks, nothing."""
        masks = instance_masks(detections)
        if masks is None:
            return scene
        for i in np.argsort(detections.confidence, kind="stable"):
            x0, y0, bitmap = masks.crop(int(i), detections.xyxy[i])
            if not bitmap.any():
                continue
            region = scene[y0 : y0 + bitmap.shape[0], x0 : x0 + bitmap.shape[1]]
            bitmap = bitmap[: region.shape[0], : region.shape[1]]
            colour = np.array(class_colour(int(detections.class_id[i])), dtype=np.float32)
            blended = region[bitmap] * (1.0 - self.opacity) + colour * self.opacity
            region[bitmap] = np.rint(blended).astype(np.uint8)
        return scene


class Annotator:
    """The drawing style for pictures of one size.

    Parameters
    ----------
    size : tuple of int
        (width, height) of the pictures drawn, pixels: strokes and text follow it.
    frame_rate : float, optional
        Frames per second of a stream drawn frame after frame: tracked objects then get a
        trail of their last :data:`TRAIL_S` seconds. Trails remember earlier frames, so such
        an annotator draws one stream, in order.
    """

    def __init__(self, size: tuple[int, int], frame_rate: float | None = None) -> None:
        width, height = size
        self.size = size
        stroke = line_width(height, width)
        self.font = TagFont.for_image(height, width)
        self.masks = MaskAnnotator()
        self.boxes = sv.BoxAnnotator(color=ClassColours(), thickness=stroke)
        self.trails = None
        if frame_rate is not None:
            self.trails = sv.TraceAnnotator(
                color=ClassColours(),
                trace_length=max(2, round(TRAIL_S * frame_rate)),
                thickness=stroke,
            )
        self.skeletons = SkeletonAnnotator()
        self.tags = TagAnnotator()
        self.line = sv.LineZoneAnnotator(
            thickness=stroke,
            text_thickness=self.font.thickness,
            text_scale=self.font.scale,
            text_padding=self.font.pad,
        )

    def draw(
        self,
        rgb: np.ndarray,
        detections: sv.Detections,
        line: sv.LineZone | None = None,
        counts: bool = True,
    ) -> np.ndarray:
        """A copy of ``rgb`` (RGB uint8) with ``detections`` drawn on it.

        Parameters
        ----------
        rgb : np.ndarray
            The picture, never drawn on.
        detections : sv.Detections
            In ``rgb``'s pixels (see :func:`~analysis.vision.detections.rescaled`); with
            ``tracker_id``, tags read "#3 person 0.87" and, with a ``frame_rate``, trails
            follow the tracks (-1: not yet confirmed, no id and no trail).
        line : sv.LineZone, optional
            A counting line in ``rgb``'s pixels, drawn with its in and out counts, or
            without them when ``counts`` is False (a line chosen, not yet counted). Anything
            with a ``LineZone``'s ``vector``, ``in_count`` and ``out_count`` will do (a zone
            counted in other pixels, drawn on a resized frame).
        """
        canvas = np.ascontiguousarray(rgb.copy())
        self.masks.annotate(canvas, detections)
        if self.trails is not None and (len(detections) == 0 or detections.tracker_id is not None):
            self.trails.annotate(canvas, detections)  # an empty frame ages the trails
        by_score = detections[np.argsort(detections.confidence, kind="stable")]
        by_score.xyxy = np.rint(by_score.xyxy)  # supervision truncates: round to the nearest
        self.boxes.annotate(canvas, by_score)
        self.skeletons.annotate(canvas, detections)
        self.tags.annotate(canvas, detections)
        if line is not None and counts:
            self.line.annotate(canvas, line)
        elif line is not None:
            start, end = line.vector.start, line.vector.end
            sv.draw_line(canvas, start, end, sv.Color.WHITE, self.boxes.thickness)
        return canvas


def annotate(rgb: np.ndarray, detections: sv.Detections | Detections) -> np.ndarray:
    """A copy of the picture ``rgb`` with ``detections`` drawn in the one style (see
    :class:`Annotator`); our :class:`~analysis.vision.detections.Detections` are converted
    with :func:`~analysis.vision.detections.to_supervision`."""
    if isinstance(detections, Detections):
        detections = to_supervision(detections)
    return Annotator((rgb.shape[1], rgb.shape[0])).draw(rgb, detections)
