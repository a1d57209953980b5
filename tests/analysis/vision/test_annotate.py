"""The one drawing style: tags never cover one another and never leave the picture, tracked
or not; masks, trails and the counting line.

On a real photo nobody here made (OpenCV's messi5.jpg: a footballer, a ball and a crowd) and
on synthetic crowds of boxes pushed against the edges.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import supervision as sv

from analysis.vision.annotate import Annotator, MaskAnnotator, annotate, line_width
from analysis.vision.detections import (
    DetectionFilter,
    Detections,
    instance_masks,
    rescaled,
    to_supervision,
)
from analysis.vision.detectors import detect, load_detector
from analysis.vision.image import decode_image
from analysis.vision.masks import InstanceMasks
from analysis.vision.palette import class_colour
from analysis.vision.tags import MAX_TAGS, place_tags, tag_rects, tag_texts
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
    rects = tag_rects(to_supervision(shown), *rgb.shape[:2])
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
    rects = tag_rects(to_supervision(shown), *rgb.shape[:2])
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
    rects = tag_rects(to_supervision(detections), height, width)
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


# -- One style: tracked or not, masks, skeletons, trails and the counting line ------------------


def person(box, score=0.87, track: int | None = None) -> sv.Detections:
    detections = to_supervision(Detections([box], [score], [0], COCO_LABELS))
    if track is not None:
        detections.tracker_id = np.array([track])
    return detections


def test_tracked_detections_read_their_track_id():
    two = to_supervision(
        Detections([[0, 0, 9, 9], [20, 0, 29, 9]], [0.87, 0.41], [0, 0], COCO_LABELS)
    )
    assert tag_texts(two) == ["person 0.87", "person 0.41"]
    two.tracker_id = np.array([3, -1])  # the second track is not confirmed yet
    assert tag_texts(two) == ["#3 person 0.87", "person 0.41"]


def test_tracked_or_not_boxes_and_tags_are_drawn_alike():
    rgb = np.zeros((300, 400, 3), np.uint8)
    box = [100, 120, 300, 280]
    plain = Annotator((400, 300)).draw(rgb, person(box))
    tracked = Annotator((400, 300), frame_rate=15).draw(rgb, person(box, track=3))
    colour = class_colour(0)
    for out in (plain, tracked):
        assert tuple(out[200, 100]) == colour  # the box's left edge
        assert tuple(out[118, 102]) == colour  # the tag's band, just above the box
    # Only the tag's text differs ("#3 " in front): the box is drawn the same.
    assert (plain[130:, :] == tracked[130:, :]).all()


def test_trails_follow_tracked_objects_over_frames():
    rgb = np.zeros((100, 300, 3), np.uint8)
    stream, still = Annotator((300, 100), frame_rate=10), Annotator((300, 100))
    for x in range(20, 200, 20):  # a box moving right, frame after frame
        trailed = stream.draw(rgb, person([x, 40, x + 20, 60], track=1))
        plain = still.draw(rgb, person([x, 40, x + 20, 60], track=1))
    # The trail joins the box centres of the last 1.5 s (15 frames here): (40, 50) to (190, 50).
    assert tuple(trailed[50, 100]) == class_colour(0) and not plain[50, 100].any()
    empty = to_supervision(Detections.empty(COCO_LABELS))
    assert not stream.draw(rgb, empty).any()  # nothing detected: no box, no trail


def test_the_counting_line_is_drawn_with_or_without_its_counts():
    rgb = np.zeros((200, 300, 3), np.uint8)
    line = sv.LineZone(start=sv.Point(150, 0), end=sv.Point(150, 200))
    annotator = Annotator((300, 200), frame_rate=10)
    for x in (60, 100, 140, 180, 220):  # one person walks across the line
        crossing = person([x, 80, x + 20, 120], track=1)
        line.trigger(crossing)
    assert line.in_count + line.out_count == 1
    counted = annotator.draw(rgb, crossing, line)
    chosen = Annotator((300, 200)).draw(rgb, crossing, line, counts=False)
    assert (chosen[:75, 150] == 255).all()  # the white line, above the box
    assert (counted != chosen).any(axis=2).sum() > 200  # the counts' labels


def square_masks(side: int) -> InstanceMasks:
    """One mask over the left half of a ``side`` × ``side`` picture, at a quarter of its size."""
    prototypes = -np.ones((1, side // 4, side // 4), np.float32)
    prototypes[0, :, : side // 8] = 1.0
    return InstanceMasks(np.ones((1, 1), np.float32), prototypes, 0.25)


def test_masks_and_boxes_move_together_onto_a_scaled_padded_copy():
    detections = Detections([[0, 0, 64, 64]], [0.9], [0], COCO_LABELS, square_masks(64))
    full = MaskAnnotator().annotate(np.zeros((64, 64, 3), np.uint8), to_supervision(detections))
    assert full[:, :30].all(axis=2).all() and not full[:, 34:].any()
    # At half size, 10 px right and 4 px down on a 52 × 40 screen copy.
    moved = rescaled(to_supervision(detections), 0.5, (10, 4))
    np.testing.assert_allclose(moved.xyxy[0], [10, 4, 42, 36])
    screen = MaskAnnotator().annotate(np.zeros((40, 52, 3), np.uint8), moved)
    assert screen[4:36, 10:25].all(axis=2).all()  # the left half of the picture, tinted
    assert not screen[:, 27:].any() and not screen[:4].any() and not screen[36:].any()


def test_supervision_detections_keep_names_keypoints_and_compact_masks_when_filtered():
    masks = InstanceMasks(np.arange(6, dtype=np.float32).reshape(3, 2), np.zeros((2, 4, 4)), 0.5)
    ours = Detections(
        np.tile([0, 0, 8, 8], (3, 1)), [0.9, 0.2, 0.6], [0, 2, 56], COCO_LABELS, masks
    )
    keypoints = np.arange(3 * 33 * 3, dtype=np.float32).reshape(3, 33, 3)
    theirs = to_supervision(ours, keypoints)[np.array([2, 0])]
    assert list(theirs.data["class_name"]) == ["chair", "person"]
    np.testing.assert_array_equal(theirs.data["keypoints"], keypoints[[2, 0]])
    kept = instance_masks(theirs)
    np.testing.assert_array_equal(kept.coefficients, masks.coefficients[[2, 0]])
    assert kept.prototypes is masks.prototypes and kept.scale == 0.5
    assert instance_masks(to_supervision(Detections.empty(COCO_LABELS))) is None


def test_strokes_and_text_follow_the_picture_size():
    assert line_width(300, 300) == 2 and line_width(4000, 4000) == 16
    assert Annotator((300, 300)).boxes.thickness == 2
    assert Annotator((6000, 4000)).boxes.thickness == 16
