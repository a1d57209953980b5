"""The colours of the drawing style: a stable, saturated colour per class.

supervision's annotators write ``Color.as_bgr()`` into the array they draw on, as OpenCV's
pictures are BGR; ours are RGB, so :class:`ClassColours` hands each colour over with red and
blue exchanged and the drawn pixels read in RGB as :func:`class_colour` says.
"""

from __future__ import annotations

import colorsys
from functools import lru_cache

import supervision as sv


@lru_cache(maxsize=4096)
def class_colour(class_id: int) -> tuple[int, int, int]:
    """A stable, saturated RGB colour for ``class_id`` (golden-ratio hue steps)."""
    hue = (class_id * 0.618033988749895) % 1.0
    r, g, b = colorsys.hsv_to_rgb(hue, 0.85, 0.95)
    return int(r * 255), int(g * 255), int(b * 255)


def text_colour(background: tuple[int, int, int]) -> tuple[int, int, int]:
    """Black or white, whichever reads better on the RGB ``background``."""
    r, g, b = background
    return (0, 0, 0) if 0.299 * r + 0.587 * g + 0.114 * b > 150 else (255, 255, 255)


class ClassColours(sv.ColorPalette):
    """A supervision palette giving class id ``i`` the colour :func:`class_colour` (i), for
    annotators drawing on RGB arrays (``color_lookup=sv.ColorLookup.CLASS``)."""

    def __init__(self) -> None:
        super().__init__(colors=[])

    def by_idx(self, idx: int) -> sv.Color:
        r, g, b = class_colour(int(idx))
        return sv.Color(r=b, g=g, b=r)  # drawn as (b, g, r) into RGB: reads as (r, g, b)
