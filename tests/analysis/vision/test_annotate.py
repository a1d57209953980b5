"""Tags drawn on pictures never cover one another and never leave the picture.

On a real photo nobody here made (OpenCV's messi5.jpg: a footballer, a ball and a crowd) and
on synthetic crowds of boxes pushed against the edges.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from analysis.vision.annotate import MAX_TAGS, annotate, class_colour, place_tags, tag_rects
from analysis.vision.detections import DetectionFilter, Detections
from analysis.vision.detectors import detect, load_detector
from analysis.vision.image import decode_image
from models.catalog import COCO_LABELS
from tests.conftest import require_model


@pytest.fixture(scope="session")
def messi5(opencv_data: Path) -> Path:
    """messi5.jpg (548×342) from Debian's opencv-doc."""
    return opencv_data / "messi5.jpg"


def assert_apart_and_inside(rects, width: int, height: int) -> list[tuple[int, ...]]:
    """The placed rectangles, after checking that none overlaps another or leaves the picture."""
    placed = [r for r in rects if r is not None]
    for x1, y1, x2, y2 in placed:
        assert 0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height, (x1, y1, x2, y2)
    for a, b in itertools.combinations(placed, 2):
        apart = a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
        assert apart, (a, b)
    return placed


def crowd(seed: int, n: int, width: int, height: int) -> Detections:
    """``n`` boxes, most of them touching an edge or a corner, many overlapping."""
    rng = np.random.default_rng(seed)
    size = rng.uniform(8, 0.3 * min(width, height), (n, 2))
    corner = np.column_stack([rng.uniform(0, width, n), rng.uniform(0, height, n)])
    edge = rng.integers(0, 4, n)  # push each box against one of the four edges
    corner[edge == 0, 0] = 0
    corner[edge == 1, 1] = 0
    corner[edge == 2, 0] = width - size[edge == 2, 0]
    corner[edge == 3, 1] = height - size[edge == 3, 1]
    boxes = np.column_stack([corner, np.minimum(corner + size, (width, height))])
    return Detections(boxes, rng.uniform(0.05, 1, n), rng.integers(0, 80, n), COCO_LABELS)


# Haar needs no model file, so a fresh clone runs this too (it finds only three faces).
@pytest.mark.parametrize(
    ("model", "least"), [("yolox-nano", 100), ("yunet", 100), ("haar-faces", 3)]
)
def test_tags_on_messi5_never_overlap_or_leave_the_picture(messi5, model, least):
    if model != "haar-faces":
        require_model(model)
    rgb = decode_image(messi5)
    # The lowest confidence and IoU 1 keep every candidate: the most crowded the page shows.
    shown, _ = detect(load_detector(model), rgb, DetectionFilter(0.05, 1.0))
    assert len(shown) >= least
    rects = tag_rects(shown, *rgb.shape[:2])
    placed = assert_apart_and_inside(rects, rgb.shape[1], rgb.shape[0])
    assert len(placed) >= min(len(shown), 10)
    # The best detection keeps its tag just above its box's top-left corner, or inside the
    # picture's top edge when the box starts there.
    best = int(np.argmax(shown.scores))
    x1, y1 = np.rint(shown.boxes[best, :2]).astype(int)
    left, top, _, bottom = rects[best]
    assert left == min(x1, rgb.shape[1] - (rects[best][2] - left))
    assert bottom == y1 or top == 0


def test_the_messi5_tags_at_the_default_threshold_are_all_drawn_apart(messi5):
    require_model("yolox-nano")
    rgb = decode_image(messi5)
    shown, _ = detect(load_detector("yolox-nano"), rgb, DetectionFilter(0.25, 0.45))
    assert shown.counts() == {"person": 9, "sports ball": 2}
    rects = tag_rects(shown, *rgb.shape[:2])
    assert len(assert_apart_and_inside(rects, rgb.shape[1], rgb.shape[0])) == len(shown)
    out = annotate(rgb, shown)
    for i, (left, top, right, bottom) in enumerate(rects):
        # Each tag's band is drawn in its class colour, whole: no later tag covers it.
        band = out[top:bottom, left:right].reshape(-1, 3).astype(int)
        share = (np.abs(band - class_colour(int(shown.class_ids[i]))).max(axis=1) <= 2).mean()
        assert share > 0.5, (shown.labels[i], share)


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize(("width", "height"), [(640, 480), (300, 300), (1460, 120), (90, 1460)])
def test_crowded_boxes_at_the_edges_get_tags_apart_and_inside(seed, width, height):
    detections = crowd(seed, 40, width, height)
    rects = tag_rects(detections, height, width)
    placed = assert_apart_and_inside(rects, width, height)
    assert len(placed) >= 5  # crowded, yet tags near the best boxes still find a place


def test_identical_boxes_get_stacked_tags():
    boxes = np.tile([0.0, 0.0, 50.0, 50.0], (5, 1))
    rects = place_tags(boxes, np.tile([40, 12], (5, 1)), 200, 100)
    assert_apart_and_inside(rects, 200, 100)
    assert rects[0] == (0, 0, 40, 12)  # the first keeps the corner
    assert all(r is not None for r in rects)


def test_a_tag_larger_than_the_picture_or_past_the_limit_is_left_out():
    assert place_tags(np.array([[0.0, 0.0, 5.0, 1.0]]), np.array([[40, 20]]), 3000, 1) == [None]
    corners = [(40.0 * (i % 10), 36.0 * (i // 10) + 12) for i in range(MAX_TAGS + 5)]
    many = np.array([(x, y, x + 30, y + 20) for x, y in corners])  # room for every tag
    rects = place_tags(many, np.tile([30, 10], (len(many), 1)), 400, 420)
    assert rects[MAX_TAGS:] == [None] * 5
    assert len(assert_apart_and_inside(rects, 400, 420)) == MAX_TAGS


def test_a_strip_picture_is_annotated_without_error():
    strip = np.zeros((1, 3000, 3), np.uint8)
    detections = Detections(np.array([[10.0, 0.0, 400.0, 1.0]]), [0.9], [0], COCO_LABELS)
    out = annotate(strip, detections)
    assert out.shape == strip.shape and out.any()  # the box, without a tag that cannot fit
