"""Lines and zones drawn on video frames with their counts so far, by supervision's
annotators (``LineZoneAnnotator``, ``PolygonZoneAnnotator``), in the frame's own pixels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import supervision as sv
from supervision.geometry.core import Vector

from analysis.video.regions import Line, RegionCounter, Zone
from analysis.vision.annotate import line_width
from analysis.vision.tags import TagFont

ZONE_OPACITY = 0.15
"""Share of the zone colour over the picture inside a zone."""


@dataclass(frozen=True)
class _DrawnLine:
    """What ``LineZoneAnnotator`` reads of a ``LineZone``: its ends and its counts."""

    vector: Vector
    in_count: int
    out_count: int


class RegionArtist:
    """Draws ``lines`` and ``zones`` (in the video's pixels) on frames resized by ``scale``.

    Parameters
    ----------
    size : (width, height)
        Of the frames drawn on, pixels: strokes and text follow it.
    lines, zones : sequences of Line and Zone
    scale : float
        Drawn frame size / video size.
    """

    def __init__(
        self,
        size: tuple[int, int],
        lines: Sequence[Line] = (),
        zones: Sequence[Zone] = (),
        scale: float = 1.0,
    ) -> None:
        width, height = size
        stroke = line_width(height, width)
        font = TagFont.for_image(height, width)
        self.lines = [line.scaled(scale) for line in lines]
        self.line_annotator = sv.LineZoneAnnotator(
            thickness=stroke,
            text_thickness=font.thickness,
            text_scale=font.scale,
            text_padding=font.pad,
        )
        self.zones = [
            (
                zone.name,
                sv.PolygonZoneAnnotator(
                    zone=sv.PolygonZone(np.rint(zone.scaled(scale).points).astype(np.int32)),
                    color=sv.Color.WHITE,
                    thickness=stroke,
                    text_scale=font.scale,
                    text_thickness=font.thickness,
                    text_padding=font.pad,
                    opacity=ZONE_OPACITY,
                ),
            )
            for zone in zones
        ]

    def _arrow(self, canvas: np.ndarray, line: Line) -> None:
        """An arrow across the line, a quarter of the way along (its counts are in the
        middle), pointing the way that counts "in"; the line's name at its tail."""
        length = 8 * self.line_annotator.thickness
        dx, dy = line.in_direction()
        middle = np.array([line.x1 * 0.75 + line.x2 * 0.25, line.y1 * 0.75 + line.y2 * 0.25])
        tail = np.rint(middle - np.array([dx, dy]) * length / 2).astype(int)
        head = np.rint(middle + np.array([dx, dy]) * length / 2).astype(int)
        cv2.arrowedLine(
            canvas, tuple(tail.tolist()), tuple(head.tolist()), (255, 255, 255),
            self.line_annotator.thickness, cv2.LINE_AA, tipLength=0.4,
        )  # fmt: skip
        sv.draw_text(
            canvas, line.name, sv.Point(*(tail - np.array([dx, dy]) * length / 2)),
            text_color=sv.Color.BLACK, text_scale=self.line_annotator.text_scale,
            text_thickness=self.line_annotator.text_thickness,
            text_padding=self.line_annotator.text_padding, background_color=sv.Color.WHITE,
        )  # fmt: skip

    def draw(self, canvas: np.ndarray, counter: RegionCounter | None = None) -> np.ndarray:
        """Draw on ``canvas`` (RGB uint8, in place) with ``counter``'s counts so far (none
        without a counter: lines and zones placed, not yet counted); returns it."""
        crossed: dict[tuple[str, str], int] = {}
        for crossing in counter.crossings if counter else ():
            key = (crossing.line, crossing.direction)
            crossed[key] = crossed.get(key, 0) + 1
        for line in self.lines:
            start, end = sv.Point(line.x1, line.y1), sv.Point(line.x2, line.y2)
            drawn = _DrawnLine(
                Vector(start, end),
                crossed.get((line.name, "in"), 0),
                crossed.get((line.name, "out"), 0),
            )
            if counter is None:
                sv.draw_line(canvas, start, end, sv.Color.WHITE, self.line_annotator.thickness)
            else:
                self.line_annotator.annotate(canvas, drawn)
            self._arrow(canvas, line)
        inside = counter.inside_now() if counter else {}
        for name, annotator in self.zones:
            count = inside.get(name)
            label = name if count is None else f"{name}: {count}"
            canvas[:] = annotator.annotate(canvas, label=label)
        return canvas
