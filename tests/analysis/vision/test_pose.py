"""BlazePose: anchors, decoding and crop geometry on synthetic tensors; the real networks on
photos nobody here made (scikit-image's astronaut, Debian opencv-doc's players); drawing; CLI."""

from __future__ import annotations

import json
import math
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import skimage.data
from PIL import Image

import models.locate
from analysis.commands.cli import main as cli_main
from analysis.errors import InputError
from analysis.vision.blazepose import (
    CONNECTIONS,
    LANDMARK_NAMES,
    LEFT_HIP,
    LEFT_SHOULDER,
    NOSE,
    RIGHT_HIP,
    RIGHT_SHOULDER,
    decode_detections,
    pose_anchors,
    project_landmarks,
    roi_from_keypoints,
    roi_transform,
    weighted_nms,
)
from analysis.vision.detections import DetectionFilter
from analysis.vision.image import letterbox
from analysis.vision.pose import (
    MIN_PERSON_SCORE,
    PoseEstimator,
    Poses,
    estimate_poses,
    filter_poses,
    load_pose_estimator,
)
from analysis.vision.skeleton import (
    LEFT_COLOUR,
    MIDDLE_COLOUR,
    RIGHT_COLOUR,
    SkeletonAnnotator,
)
from models.locate import MissingModelError, MissingRuntimeError
from tests.conftest import require_model

ANKLES = (27, 28)
PHOTOS = ("messi5.jpg", "basketball1.png")  # full-body players, from opencv-doc


@pytest.fixture(scope="module")
def estimator() -> PoseEstimator:
    require_model("blazepose")
    return load_pose_estimator()


def photo(folder: Path, name: str) -> np.ndarray:
    return np.asarray(Image.open(folder / name).convert("RGB"))


def person(scores: float = 0.9, box=(0, 0, 10, 10)) -> Poses:
    keypoints = np.zeros((1, len(LANDMARK_NAMES), 3))
    return Poses([box], [scores], keypoints, [1.0])


# -- Anchors and decoding (no model) ---------------------------------------------------------


def test_anchors_follow_mediapipes_pose_detector_layout():
    anchors = pose_anchors()
    # 28² cells × 2 at stride 8, 14² × 2 at stride 16, 7² × (3 layers × 2) at stride 32.
    assert anchors.shape == (2254, 2)
    np.testing.assert_array_equal(anchors[0], anchors[1])  # two anchors per cell
    np.testing.assert_array_equal(anchors[[0, 2, 56]], [[4, 4], [12, 4], [4, 12]])  # rows first
    np.testing.assert_array_equal(anchors[1568], [8, 8])  # first stride-16 cell
    np.testing.assert_array_equal(anchors[1960:1966], [[16, 16]] * 6)  # stride-32 layers merge
    np.testing.assert_array_equal(anchors[1966], [48, 16])
    np.testing.assert_array_equal(anchors[-1], [208, 208])


def test_decode_offsets_boxes_and_keypoints_from_their_anchor():
    anchors = pose_anchors()
    raw_boxes = np.zeros((len(anchors), 12), np.float32)
    raw_scores = np.full((len(anchors), 1), -10.0, np.float32)
    raw_boxes[1568] = [3, -2, 20, 10, 1, 2, 3, 4, 5, 6, 7, 8]
    raw_scores[1568] = 2.0
    boxes, keypoints, scores = decode_detections(raw_boxes, raw_scores, anchors, floor=0.5)
    np.testing.assert_allclose(boxes, [[1, 1, 21, 11]])  # centre (8 + 3, 8 - 2), 20 × 10
    np.testing.assert_allclose(keypoints, [[[9, 10], [11, 12], [13, 14], [15, 16]]])
    np.testing.assert_allclose(scores, [1 / (1 + math.exp(-2))], rtol=1e-6)


def test_decode_keeps_nothing_below_the_floor_and_survives_huge_logits():
    anchors = pose_anchors()
    raw_scores = np.full(len(anchors), -1e4, np.float32)
    boxes, keypoints, scores = decode_detections(
        np.zeros((len(anchors), 12)), raw_scores, anchors, 0.3
    )
    assert boxes.shape == (0, 4) and keypoints.shape == (0, 4, 2) and scores.shape == (0,)


def test_weighted_nms_averages_overlapping_candidates_by_score():
    boxes = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [50, 50, 60, 60]], np.float32)
    keypoints = np.stack([np.full((4, 2), v, np.float32) for v in (0.0, 3.0, 100.0)])
    scores = np.array([0.9, 0.6, 0.7], np.float32)
    kept_boxes, kept_keypoints, kept_scores = weighted_nms(boxes, keypoints, scores, 0.3)
    np.testing.assert_allclose(kept_scores, [0.9, 0.7])
    np.testing.assert_allclose(kept_boxes, [[0.4, 0, 10.4, 10], [50, 50, 60, 60]], rtol=1e-6)
    np.testing.assert_allclose(kept_keypoints[:, 0, 0], [1.2, 100.0], rtol=1e-6)


def test_weighted_nms_of_nothing_is_empty():
    boxes, keypoints, scores = weighted_nms(np.zeros((0, 4)), np.zeros((0, 4, 2)), np.zeros(0), 0.3)
    assert boxes.shape == (0, 4) and keypoints.shape == (0, 4, 2) and scores.shape == (0,)


# -- Crop geometry (no model) ----------------------------------------------------------------


def test_an_upright_person_gets_an_unrotated_crop_of_2_5_body_radii():
    side, rotation = roi_from_keypoints(np.array([100, 200]), np.array([100, 120]))
    assert side == pytest.approx(200) and rotation == pytest.approx(0)
    matrix = roi_transform(np.array([100, 200]), side, rotation, 256)
    corners = np.array([[0, 0, 1], [256, 256, 1]]) @ matrix.T
    np.testing.assert_allclose(corners, [[0, 100], [200, 300]], atol=1e-9)


@pytest.mark.parametrize("degrees", [0, 30, 90, 135, 180, -90, -170])
def test_the_crop_turns_so_the_body_point_is_straight_above_the_hips(degrees):
    hips = np.array([300.0, 200.0])
    # The body point at `degrees` clockwise from straight up, 80 px away.
    angle = math.radians(degrees)
    body = hips + 80 * np.array([math.sin(angle), -math.cos(angle)])
    side, rotation = roi_from_keypoints(hips, body)
    assert -math.pi <= rotation < math.pi
    assert (math.cos(rotation), math.sin(rotation)) == pytest.approx(
        (math.cos(angle), math.sin(angle)), abs=1e-9
    )
    matrix = roi_transform(hips, side, rotation, 256)
    # In the crop the body point is above the middle by 256 / 2.5 px.
    np.testing.assert_allclose(matrix @ [128, 128 - 256 / 2.5, 1], body, atol=1e-6)
    np.testing.assert_allclose(matrix @ [128, 128, 1], hips, atol=1e-9)


def test_landmarks_are_projected_back_to_image_pixels_with_visibility():
    raw = np.zeros((39, 5), np.float32)
    raw[:, 3] = 20.0  # visible
    raw[NOSE] = [128, 0, 0, 0.0, 5]  # top middle of the crop, visibility sigmoid(0)
    raw[LEFT_HIP] = [128, 128, 0, -20, 5]
    matrix = roi_transform(np.array([50, 60]), 100.0, math.pi / 2, 256)  # lying, head right
    keypoints = project_landmarks(raw.ravel(), matrix)
    assert keypoints.shape == (33, 3) and keypoints.dtype == np.float32
    np.testing.assert_allclose(keypoints[NOSE], [100, 60, 0.5], atol=1e-4)
    np.testing.assert_allclose(keypoints[LEFT_HIP], [50, 60, 0], atol=1e-4)
    assert keypoints[RIGHT_HIP, 2] == pytest.approx(1)


@pytest.mark.parametrize("shape", [(342, 548), (548, 342), (1, 5000), (2, 2)])
def test_letterbox_centres_the_picture_in_the_square(shape):
    rgb = np.full((*shape, 3), 200, np.uint8)
    square, scale, offset = letterbox(rgb, (224, 224), centred=True, pad=0, interpolation=None)
    assert square.shape == (224, 224, 3)
    assert scale == pytest.approx(224 / max(shape))
    # The picture's middle lands in the square's middle.
    middle = np.array([shape[1], shape[0]]) / 2 * scale + offset
    np.testing.assert_allclose(middle, [112, 112], atol=1)


# -- Results and filtering (no model) --------------------------------------------------------


def test_the_confidence_filter_keeps_people_above_it_without_the_networks():
    raw = Poses(
        [[0, 0, 100, 200], [5, 0, 105, 200], [300, 0, 400, 200]],
        [0.9, 0.6, 0.35],
        np.zeros((3, 33, 3)),
        [1, 1, 1],
    )
    assert filter_poses(raw, DetectionFilter(confidence=0.5, iou=1.0)).scores.tolist() == [
        pytest.approx(0.9),
        pytest.approx(0.6),
    ]
    # The second person's box overlaps the first's: NMS on person boxes drops it.
    np.testing.assert_allclose(filter_poses(raw, DetectionFilter(0.3, 0.45)).scores, [0.9, 0.35])
    assert len(filter_poses(raw, DetectionFilter(0.3, classes=("car",)))) == 0
    assert len(filter_poses(raw, DetectionFilter(0.3, 1.0, classes=("person",)))) == 3


def test_records_hold_33_keypoints_and_people_convert_to_person_boxes():
    poses = person(0.8, (1, 2, 3, 4))
    records = poses.to_records()
    assert set(records[0]) == {"label", "score", "box", "keypoints"}
    assert records[0]["label"] == "person" and len(records[0]["keypoints"]) == 33
    assert all(len(k) == 3 for k in records[0]["keypoints"])
    detections = poses.to_detections()
    assert detections.labels == ["person"] and detections.boxes.tolist() == [[1, 2, 3, 4]]
    assert len(Poses.empty()) == 0 and Poses.empty().keypoints.shape == (0, 33, 3)


def test_mismatched_arrays_are_refused():
    with pytest.raises(ValueError, match="differ in length"):
        Poses(np.zeros((2, 4)), [0.5], np.zeros((1, 33, 3)), [1.0])


# -- Drawing (no model) ----------------------------------------------------------------------


def shoulders(size: int, score: float = 1.0) -> Poses:
    """One person whose only visible keypoints are the shoulders, across the image's middle."""
    keypoints = np.zeros((1, 33, 3), np.float32)
    keypoints[0, LEFT_SHOULDER] = [size * 0.25, size / 2, score]
    keypoints[0, RIGHT_SHOULDER] = [size * 0.75, size / 2, score]
    return Poses([[0, 0, size, size]], [0.9], keypoints, [1.0])


def draw_poses(rgb: np.ndarray, poses: Poses, min_score: float = 0.5) -> np.ndarray:
    """A copy of ``rgb`` with the skeletons alone drawn on it."""
    return SkeletonAnnotator(min_score).annotate(rgb.copy(), poses.to_supervision())


def test_the_skeleton_joins_visible_keypoints_in_side_colours():
    canvas = draw_poses(np.zeros((200, 200, 3), np.uint8), shoulders(200))
    assert tuple(canvas[100, 100]) == MIDDLE_COLOUR  # the shoulder line
    assert tuple(canvas[100, 50]) == LEFT_COLOUR  # left shoulder's dot
    assert tuple(canvas[100, 150]) == RIGHT_COLOUR
    assert not canvas[20].any()  # nothing far from the skeleton


def test_keypoints_below_the_score_are_not_drawn():
    blank = np.zeros((200, 200, 3), np.uint8)
    assert not draw_poses(blank, shoulders(200, score=0.3)).any()
    assert draw_poses(blank, shoulders(200, score=0.3), min_score=0.2).any()


def test_line_width_follows_the_image_size():
    def width(size: int) -> int:
        canvas = draw_poses(np.zeros((size, size, 3), np.uint8), shoulders(size))
        return int((canvas[:, size // 2] == MIDDLE_COLOUR).all(axis=1).sum())

    assert width(2000) >= 3 * width(200) > 0  # 200 px gets the 2-px minimum


def test_far_off_image_keypoints_do_not_break_drawing():
    poses = shoulders(100)
    poses.keypoints[0, RIGHT_SHOULDER, :2] = [1e12, -1e12]
    poses.keypoints[0, NOSE] = [-50, 40, 1.0]  # off the left edge: clipped by OpenCV
    canvas = draw_poses(np.zeros((100, 100, 3), np.uint8), poses)
    assert canvas.shape == (100, 100, 3) and canvas.any()


def test_every_connection_joins_two_landmarks():
    assert len(CONNECTIONS) == 35
    assert all(0 <= a < 33 and 0 <= b < 33 and a != b for a, b in CONNECTIONS)


# -- The networks on real photos -------------------------------------------------------------


def test_the_astronauts_nose_is_above_her_shoulders_and_hips(estimator):
    rgb = skimage.data.astronaut()
    raw, timings = estimator.estimate(rgb)
    poses = filter_poses(raw, DetectionFilter(0.5))
    assert len(poses) == 1
    keypoints = poses.keypoints[0]
    nose_y = keypoints[NOSE, 1]
    assert nose_y < keypoints[[LEFT_SHOULDER, RIGHT_SHOULDER], 1].min() - 50
    assert nose_y < keypoints[[LEFT_HIP, RIGHT_HIP], 1].min() - 200
    # The head and shoulders are in the picture and seen (her hips are at its bottom edge).
    upper = keypoints[[NOSE, LEFT_SHOULDER, RIGHT_SHOULDER]]
    assert (upper[:, 2] > 0.9).all()
    assert ((upper[:, :2] >= 0) & (upper[:, :2] < 512)).all()
    box = poses.boxes[0]
    assert box[0] <= keypoints[NOSE, 0] <= box[2] and box[1] <= nose_y <= box[3]
    assert len(timings.landmarks) == len(raw)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["messi5.jpg", "basketball1.png"])
def test_a_full_body_player_stands_with_nose_over_hips_over_ankles(estimator, opencv_data, name):
    rgb = photo(opencv_data, name)
    poses = filter_poses(estimator.estimate(rgb)[0], DetectionFilter(0.5))
    assert len(poses) == 1
    keypoints = poses.keypoints[0]
    hips_y = keypoints[[LEFT_HIP, RIGHT_HIP], 1].mean()
    assert keypoints[NOSE, 1] < hips_y < keypoints[list(ANKLES), 1].min()
    height, width = rgb.shape[:2]
    margin = 0.03 * max(height, width)  # a foot may end a few pixels past the frame
    assert (keypoints[:, 0] > -margin).all() and (keypoints[:, 0] < width + margin).all()
    assert (keypoints[:, 1] > -margin).all() and (keypoints[:, 1] < height + margin).all()


@pytest.mark.slow
def test_a_picture_turned_on_its_side_gives_the_same_pose_turned(estimator, opencv_data):
    """The landmark crop is turned upright: a lying person gets the standing person's pose."""
    rgb = photo(opencv_data, "basketball1.png")
    height = rgb.shape[0]
    upright = estimator.estimate(rgb)[0]
    turned = estimator.estimate(np.ascontiguousarray(np.rot90(rgb, -1)))[0]  # clockwise
    assert len(upright) == len(turned) == 1
    x, y = upright.keypoints[0, :, 0], upright.keypoints[0, :, 1]
    expected = np.column_stack([height - 1 - y, x])
    error = np.linalg.norm(turned.keypoints[0, :, :2] - expected, axis=1)
    assert np.median(error) < 0.02 * height


@pytest.mark.slow
def test_two_people_get_one_landmark_run_each(estimator, opencv_data):
    player = photo(opencv_data, "messi5.jpg")
    both = np.ascontiguousarray(np.vstack([player, player[:, ::-1]]))
    raw, timings = estimator.estimate(both)
    poses = filter_poses(raw, DetectionFilter(0.5))
    assert len(poses) == 2 and len(timings.landmarks) == len(raw) >= 2
    noses_y = sorted(poses.keypoints[:, NOSE, 1])
    split = player.shape[0]
    assert noses_y[0] < split < noses_y[1]  # one in each copy
    timing = timings.as_dict()
    assert timing["total"] == pytest.approx(
        timing["preprocess"] + timing["inference"] + timing["postprocess"], abs=0.01
    )


@pytest.mark.slow
def test_people_boxed_by_another_detector_get_landmarks(estimator, opencv_data):
    """Side by side, the players are too small for the pose detector; YOLOX's boxes are not."""
    player = photo(opencv_data, "basketball1.png")
    both = np.ascontiguousarray(np.hstack([player, player[:, ::-1]]))
    boxes = [[30, 82, 167, 480], [1113, 77, 1250, 480]]  # YOLOX-Nano's two full-body people
    raw, timings = estimator.estimate_in_boxes(both, boxes, [0.8, 0.9])
    assert raw.boxes.tolist() == boxes[::-1] and raw.scores.tolist() == pytest.approx([0.9, 0.8])
    assert len(timings.landmarks) == 2 and timings.detector.total == 0
    for (x1, _, x2, _), keypoints in zip(raw.boxes, raw.keypoints, strict=True):
        hips_y = keypoints[[LEFT_HIP, RIGHT_HIP], 1].mean()
        assert keypoints[NOSE, 1] < hips_y < keypoints[list(ANKLES), 1].min()
        assert x1 - 20 < keypoints[NOSE, 0] < x2 + 20
    assert len(estimator.estimate_in_boxes(both, np.zeros((0, 4)), [])[0]) == 0


@pytest.mark.parametrize("value", [0, 128, 255])
def test_a_blank_picture_has_nobody(estimator, value):
    raw, timings = estimator.estimate(np.full((480, 640, 3), value, np.uint8))
    assert len(raw) == 0 and timings.landmarks == ()


@pytest.mark.parametrize("shape", [(1, 5000, 3), (5000, 1, 3), (2, 2, 3)])
def test_slivers_have_nobody(estimator, shape):
    assert len(estimator.estimate(np.zeros(shape, np.uint8))[0]) == 0


def test_the_slider_filters_cached_people_down_to_the_floor(estimator):
    raw, _ = estimator.estimate(skimage.data.astronaut())
    assert (raw.scores >= MIN_PERSON_SCORE).all()
    assert len(filter_poses(raw, DetectionFilter(MIN_PERSON_SCORE))) == len(raw) == 1
    assert len(filter_poses(raw, DetectionFilter(0.99))) == 0


def test_a_grey_picture_is_an_input_error(estimator):
    with pytest.raises(InputError, match="RGB picture"):
        estimator.estimate(np.zeros((10, 10), np.uint8))


def test_sessions_estimating_at_once_get_the_same_poses(estimator):
    rgb = skimage.data.astronaut()
    expected = estimator.estimate(rgb)[0].keypoints
    results: list[np.ndarray] = []

    def run() -> None:
        results.append(estimate_poses(estimator, rgb, DetectionFilter(0.5))[0].keypoints)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4
    for keypoints in results:
        np.testing.assert_allclose(keypoints, expected, atol=1e-3)


def test_missing_model_files_say_how_to_get_them(monkeypatch, tmp_path):
    monkeypatch.setattr(models.locate, "model_dirs", lambda: [tmp_path])
    with pytest.raises(MissingModelError, match="python -m models fetch blazepose"):
        load_pose_estimator()


def test_missing_runtime_is_a_missing_model_error_saying_what_to_install(monkeypatch):
    paths = require_model("blazepose")
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)  # import fails
    with pytest.raises(MissingRuntimeError, match="pip install ai-edge-litert"):
        PoseEstimator(paths["detector"], paths["landmarks"])


def test_a_corrupt_model_file_is_a_missing_model_error(tmp_path):
    paths = require_model("blazepose")
    junk = tmp_path / "pose_landmark_full.tflite"
    junk.write_bytes(b"not a model" * 100)
    with pytest.raises(MissingModelError, match="not a loadable TFLite model"):
        PoseEstimator(paths["detector"], junk)


def test_another_tflite_model_is_a_missing_model_error():
    paths = require_model("blazepose")
    yamnet = require_model("yamnet")["model"]
    with pytest.raises(MissingModelError, match="not BlazePose's"):
        PoseEstimator(paths["detector"], yamnet)


# -- The pose command ------------------------------------------------------------------------


def test_pose_command_prints_people_keypoints_and_stage_timings(tmp_path, capsys):
    require_model("blazepose")
    image = tmp_path / "astronaut.png"
    Image.fromarray(skimage.data.astronaut()).save(image)
    out_png = tmp_path / "out.png"
    assert cli_main(["pose", str(image), "--json", "-o", str(out_png), "--repeat", "2"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["model"] == "blazepose"
    assert result["image"] == {"width": 512, "height": 512}
    assert result["keypoint_names"][0] == "nose" and len(result["keypoint_names"]) == 33
    (first,) = result["detections"]
    assert set(first) == {"label", "score", "box", "keypoints"} and first["label"] == "person"
    assert len(first["keypoints"]) == 33 and all(len(k) == 3 for k in first["keypoints"])
    nose, hip = first["keypoints"][NOSE], first["keypoints"][LEFT_HIP]
    assert nose[1] < hip[1]
    timings = result["timings_ms"]
    assert set(timings["detector"]) == {"preprocess", "inference", "postprocess", "total"}
    assert len(timings["landmarks"]) == 1
    assert timings["total"] == pytest.approx(
        timings["detector"]["total"] + timings["landmarks"][0]["total"] + timings["filtering"],
        abs=0.01,
    )
    assert Image.open(out_png).size == (512, 512)


def test_pose_command_prints_a_table(tmp_path, capsys):
    require_model("blazepose")
    image = tmp_path / "astronaut.jpg"
    Image.fromarray(skimage.data.astronaut()).save(image)
    assert cli_main(["pose", str(image), "--conf", "0.99"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("blazepose: 0 person(s) in 512×512 px") and "detector" in out


def test_pose_command_without_the_model_says_how_to_get_it(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(models.locate, "model_dirs", lambda: [tmp_path])
    image = tmp_path / "astronaut.png"
    Image.fromarray(skimage.data.astronaut()).save(image)
    assert cli_main(["pose", str(image)]) == 2
    assert "python -m models fetch blazepose" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--conf", "1.5"], "error: The confidence must be between 0 and 1, not 1.5."),
        (["--repeat", "0"], "error: --repeat must be at least 1, not 0."),
    ],
)
def test_pose_command_refuses_bad_parameters(tmp_path, capsys, args, message):
    image = tmp_path / "blank.png"
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(image)
    assert cli_main(["pose", str(image), *args]) == 2
    assert capsys.readouterr().err.strip() == message
