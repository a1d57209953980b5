"""The Detections value, NMS, filtering by mask, and drawing: hand-made boxes, known answers."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.errors import InputError
from analysis.vision.annotate import annotate
from analysis.vision.detections import DetectionFilter, Detections, filter_detections, nms_keep
from analysis.vision.palette import class_colour

NAMES = ("person", "cat", "dog")


def make(boxes, scores, class_ids) -> Detections:
    return Detections(np.array(boxes, float), np.array(scores), np.array(class_ids), NAMES)


def test_arrays_are_normalised_to_dtypes_and_shapes():
    d = make([[0, 0, 10, 10]], [0.9], [1])
    assert d.boxes.dtype == np.float32 and d.boxes.shape == (1, 4)
    assert d.scores.dtype == np.float32 and d.class_ids.dtype == np.int64
    assert d.labels == ["cat"]
    assert len(Detections.empty(NAMES)) == 0


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError, match="differ in length"):
        Detections(np.zeros((2, 4)), np.zeros(3), np.zeros(2), NAMES)


def test_boolean_mask_and_index_selection_keep_rows_together():
    d = make([[0, 0, 1, 1], [2, 2, 3, 3], [4, 4, 5, 5]], [0.2, 0.9, 0.6], [0, 1, 2])
    high = d[d.scores > 0.5]
    assert high.labels == ["cat", "dog"]
    np.testing.assert_array_equal(high.boxes[:, 0], [2, 4])
    assert d[np.array([2, 0])].labels == ["dog", "person"]


def test_unknown_class_id_gets_a_readable_label():
    assert make([[0, 0, 1, 1]], [0.5], [7]).labels == ["class 7"]


def test_records_are_sorted_by_score_and_json_ready():
    d = make([[0, 0, 10, 20], [1.25, 2, 3, 4]], [0.3, 0.8], [0, 1])
    assert d.to_records() == [
        {"label": "cat", "score": 0.8, "box": [1.2, 2.0, 3.0, 4.0]},
        {"label": "person", "score": 0.3, "box": [0.0, 0.0, 10.0, 20.0]},
    ]
    assert make([[0, 0, 1, 1]] * 3, [0.5] * 3, [1, 0, 1]).counts() == {"cat": 2, "person": 1}


def test_nms_suppresses_overlap_above_the_threshold_only():
    # Boxes A and B overlap with IoU 81/119 ≈ 0.68; C is far away.
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]], np.float32)
    scores = np.array([0.9, 0.8, 0.7], np.float32)
    assert nms_keep(boxes, scores, 0.5, None).tolist() == [0, 2]
    assert nms_keep(boxes, scores, 0.7, None).tolist() == [0, 1, 2]


def test_class_aware_nms_keeps_overlapping_boxes_of_different_classes():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11]], np.float32)
    scores = np.array([0.9, 0.8], np.float32)
    assert sorted(nms_keep(boxes, scores, 0.5, np.array([0, 1])).tolist()) == [0, 1]
    assert nms_keep(boxes, scores, 0.5, np.array([1, 1])).tolist() == [0]
    assert nms_keep(np.zeros((0, 4)), np.zeros(0), 0.5, None).tolist() == []


def test_filter_by_confidence_class_and_iou():
    d = make(
        [[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60], [70, 70, 80, 80]],
        [0.9, 0.8, 0.4, 0.95],
        [0, 0, 1, 2],
    )
    assert filter_detections(d, DetectionFilter(0.5, 0.5)).labels == ["dog", "person"]
    assert filter_detections(d, DetectionFilter(0.5, 1.0)).labels == ["dog", "person", "person"]
    assert filter_detections(d, DetectionFilter(0.3, 0.5, ("cat",))).labels == ["cat"]
    assert len(filter_detections(d, DetectionFilter(0.99, 0.5))) == 0


@pytest.mark.parametrize(("confidence", "iou"), [(-0.1, 0.5), (1.5, 0.5), (0.5, 0.0), (0.5, 2)])
def test_filter_parameters_are_validated(confidence, iou):
    with pytest.raises(InputError):
        DetectionFilter(confidence, iou)


def test_annotation_draws_the_box_in_the_class_colour_and_leaves_the_input_alone():
    rgb = np.zeros((300, 400, 3), np.uint8)
    d = make([[100, 120, 300, 280]], [0.87], [1])
    out = annotate(rgb, d)
    assert not rgb.any()  # the original is not drawn on
    colour = np.array(class_colour(1))
    # The left edge's middle is box-coloured, the box interior and far corner untouched.
    assert np.abs(out[200, 100].astype(int) - colour).max() <= 2
    assert not out[200, 200].any() and not out[5, 395].any()
    # The tag sits above the box: a filled band of the class colour just above y1.
    assert np.abs(out[118, 102].astype(int) - colour).max() <= 2


def test_text_size_follows_the_image_size():
    def tag_height(side: int) -> int:
        rgb = np.zeros((side, side, 3), np.uint8)
        box = [side * 0.3, side * 0.5, side * 0.6, side * 0.9]
        out = annotate(rgb, make([box], [0.5], [0]))
        column = out[: int(side * 0.5), int(side * 0.31)]
        return int(column.any(axis=1).sum())

    small, large = tag_height(300), tag_height(4000)
    assert 12 <= small <= 30
    assert large > 5 * small  # still readable when the 4000-px photo is shown scaled down


def test_tags_stay_inside_the_image_for_boxes_at_the_edge():
    rgb = np.zeros((100, 100, 3), np.uint8)
    out = annotate(rgb, make([[0, 0, 100, 100]], [0.99], [2]))
    assert out[:15, :30].any()  # tag drawn inside the top-left corner, not above the image


def test_stable_colours_per_class():
    assert class_colour(3) == class_colour(3)
    assert len({class_colour(i) for i in range(80)}) == 80
