"""Your own model: each output layout decoded on tiny generated ONNX models with known outputs,
the Caffe pair from bytes, the one-sentence refusals, masks, the real Ultralytics exports on
the astronaut photo, and ``detect --model-file``."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import onnx
import pytest
import skimage.data
from onnx import TensorProto, helper, numpy_helper

from analysis.commands.cli import main as cli_main
from analysis.errors import InputError
from analysis.vision.annotate import MASK_OPACITY, MaskAnnotator
from analysis.vision.detections import DetectionFilter, filter_detections, to_supervision
from analysis.vision.image import letterbox_blob
from analysis.vision.layouts import read_labels, recognise_layout
from analysis.vision.masks import mask_polygon
from analysis.vision.own_model import (
    CaffeFileDetector,
    OnnxFileDetector,
    load_model_file,
    load_model_paths,
    load_uploaded_model,
)
from analysis.vision.palette import class_colour
from models.locate import model_dirs
from tests.analysis.vision.test_detectors import write_tiny_ssd
from tests.conftest import skip_or_fail


def tiny_onnx(
    outputs: dict[str, np.ndarray],
    input_shape: tuple = (1, 3, 32, 32),
    metadata: dict[str, str] | None = None,
    input_type: int = TensorProto.FLOAT,
) -> bytes:
    """An ONNX model whose outputs are the given constant tensors, whatever its input.

    Each output is ``constant + 0 × mean(input)`` so the input is really consumed.
    """
    nodes = [
        helper.make_node("ReduceMean", ["images"], ["half_mean"], keepdims=0),
        helper.make_node("Cast", ["half_mean"], ["mean"], to=TensorProto.FLOAT),
    ]
    nodes.append(helper.make_node("Mul", ["mean", "zero"], ["nothing"]))
    initializers = [numpy_helper.from_array(np.zeros((), np.float32), "zero")]
    graph_outputs = []
    for name, value in outputs.items():
        value = np.asarray(value, np.float32)
        initializers.append(numpy_helper.from_array(value, f"{name}_value"))
        nodes.append(helper.make_node("Add", [f"{name}_value", "nothing"], [name]))
        graph_outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, value.shape))
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info("images", input_type, list(input_shape))],
        graph_outputs,
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    helper.set_model_props(model, metadata or {})
    onnx.checker.check_model(model)
    return model.SerializeToString()


GREY = np.full((64, 64, 3), 128, np.uint8)  # 64 px: twice the 32-px networks' input
CELLS_32 = 16 + 4 + 1  # anchors of a 32×32 input on strides 8, 16, 32


def ultralytics_output(classes: int, extra: int = 0) -> np.ndarray:
    """[1, 4 + classes + extra, 21]: anchor 5 is a box at centre (16, 12), 8×6 net pixels,
    class 2 at 0.9; anchor 7 a weaker class-0 box."""
    output = np.zeros((1, 4 + classes + extra, CELLS_32), np.float32)
    output[0, :4, 5] = (16, 12, 8, 6)
    output[0, 4 + 2, 5] = 0.9
    output[0, :4, 7] = (8, 8, 4, 4)
    output[0, 4 + 0, 7] = 0.3
    return output


def test_the_ultralytics_letterbox_is_rgb_in_0_1_padded_grey():
    rgb = np.zeros((100, 200, 3), np.uint8)
    rgb[..., 0] = 255  # red
    blob, ratio = letterbox_blob(rgb, (64, 64), bgr=False, unit=1 / 255)
    assert blob.shape == (1, 3, 64, 64) and blob.dtype == np.float32 and ratio == 64 / 200
    np.testing.assert_allclose(blob[0, :, :32, :].mean(axis=(1, 2)), [1, 0, 0], atol=1e-6)
    np.testing.assert_allclose(blob[0, :, 32:, :], 114 / 255, atol=1e-6)


# -- Each layout on a model with a known output ------------------------------------------------


def test_ultralytics_detection_boxes_classes_and_names_from_metadata():
    data = tiny_onnx(
        {"output0": ultralytics_output(3)}, metadata={"names": "{0: 'cat', 1: 'dog', 2: 'bird'}"}
    )
    detector = load_model_file(data, "mine.onnx")
    assert isinstance(detector, OnnxFileDetector)
    assert detector.layout.kind == "ultralytics" and detector.size == (32, 32)
    assert detector.class_names == ("cat", "dog", "bird")
    raw, timings = detector.detect(GREY)
    assert timings.inference > 0
    assert sorted(raw.labels) == ["bird", "cat"]
    best = filter_detections(raw, DetectionFilter(confidence=0.5))
    assert best.labels == ["bird"] and best.scores[0] == pytest.approx(0.9)
    # Net (12, 9)-(20, 15) at scale 0.5 → image (24, 18)-(40, 30).
    np.testing.assert_allclose(best.boxes[0], [24, 18, 40, 30], atol=1e-4)


def test_the_input_size_is_read_from_the_model_not_assumed():
    cells = 8 * 4 + 4 * 2 + 2 * 1  # a 64×32 (width × height) input
    output = np.zeros((1, 5, cells), np.float32)
    output[0, :, 0] = (10, 10, 4, 4, 0.8)
    detector = load_model_file(tiny_onnx({"output0": output}, (1, 3, 32, 64)), "wide.onnx")
    assert detector.size == (64, 32) and detector.spec.input_size == (64, 32)
    assert detector.class_names == ("class 0",)
    raw, _ = detector.detect(np.zeros((32, 64, 3), np.uint8))  # scale 1
    np.testing.assert_allclose(raw.boxes[0], [8, 8, 12, 12], atol=1e-4)


def test_a_dynamic_input_uses_imgsz_from_the_metadata():
    output = np.zeros((1, 6, CELLS_32), np.float32)
    data = tiny_onnx({"output0": output}, (1, 3, "height", "width"), metadata={"imgsz": "[32, 32]"})
    assert load_model_file(data, "dynamic.onnx").size == (32, 32)


def test_a_float16_model_gets_a_float16_input():
    data = tiny_onnx({"output0": ultralytics_output(3)}, input_type=TensorProto.FLOAT16)
    raw, _ = load_model_file(data, "half.onnx").detect(GREY)
    assert sorted(raw.labels) == ["class 0", "class 2"]


def test_yolov5_objectness_times_class_score():
    output = np.zeros((1, 3 * CELLS_32, 5 + 2), np.float32)
    output[0, 10] = (16, 16, 10, 10, 0.8, 0.1, 0.9)
    detector = load_model_file(tiny_onnx({"output": output}), "v5.onnx")
    assert detector.layout.kind == "yolov5"
    raw, _ = detector.detect(GREY)
    assert raw.labels == ["class 1"] and raw.scores[0] == pytest.approx(0.72)
    np.testing.assert_allclose(raw.boxes[0], [22, 22, 42, 42], atol=1e-4)


def test_yolox_grid_offsets_are_decoded():
    output = np.zeros((1, CELLS_32, 5 + 2), np.float32)
    # Anchor 5: stride 8, cell (1, 1); centre (1.5 × 8, 1.5 × 8), width 2 × 8, height 8.
    output[0, 5] = (0.5, 0.5, math.log(2), 0.0, 0.9, 1.0, 0.0)
    detector = load_model_file(tiny_onnx({"output": output}), "yolox.onnx", ["ball", "bat"])
    assert detector.layout.kind == "yolox" and detector.class_names == ("ball", "bat")
    raw, _ = detector.detect(GREY)
    assert raw.labels == ["ball"] and raw.scores[0] == pytest.approx(0.9)
    np.testing.assert_allclose(raw.boxes[0], [8, 16, 40, 32], atol=1e-3)


def test_end_to_end_rows_are_boxes_in_input_pixels():
    output = np.zeros((1, 300, 6), np.float32)
    output[0, 0] = (4, 4, 12, 20, 0.7, 1)
    detector = load_model_file(tiny_onnx({"output0": output}), "yolo26.onnx")
    assert detector.layout.kind == "end2end"
    raw, _ = detector.detect(GREY)
    assert raw.labels == ["class 1"] and raw.scores[0] == pytest.approx(0.7)
    np.testing.assert_allclose(raw.boxes[0], [8, 8, 24, 40], atol=1e-4)


def test_ssd_rows_are_normalised_to_the_picture():
    output = np.zeros((1, 1, 2, 7), np.float32)
    output[0, 0, 0] = (0, 1, 0.8, 0.25, 0.25, 0.5, 0.75)
    output[0, 0, 1] = (0, 0, 0.9, 0, 0, 1, 1)  # background: never returned
    detector = load_model_file(tiny_onnx({"detection_out": output}), "ssd.onnx")
    assert detector.layout.kind == "ssd"
    raw, _ = detector.detect(np.zeros((48, 64, 3), np.uint8))
    assert raw.labels == ["class 1"]
    np.testing.assert_allclose(raw.boxes[0], [16, 12, 32, 36], atol=1e-4)


def seg_model() -> bytes:
    """Ultralytics-style segmentation with 2 classes and 2 prototypes of 8×8: prototype 0 is
    +1 on the left half, −1 on the right. Anchor 3 (class 0, 0.9, coefficients (1, 0)) and
    anchor 4 (class 1, 0.6, coefficients (−1, 0)) both cover the whole input."""
    output = np.zeros((1, 4 + 2 + 2, CELLS_32), np.float32)
    output[0, :, 3] = (16, 16, 32, 32, 0.9, 0, 1, 0)
    output[0, :, 4] = (16, 16, 32, 32, 0, 0.6, -1, 0)
    prototypes = np.zeros((1, 2, 8, 8), np.float32)
    prototypes[0, 0, :, :4], prototypes[0, 0, :, 4:] = 1, -1
    return tiny_onnx({"output0": output, "output1": prototypes})


def test_segmentation_masks_follow_their_boxes_through_filtering():
    detector = load_model_file(seg_model(), "seg.onnx")
    assert detector.layout.kind == "ultralytics-seg" and detector.layout.classes == 2
    raw, _ = detector.detect(GREY)
    assert len(raw.masks) == len(raw) == 2
    shown = filter_detections(raw, DetectionFilter(confidence=0.5, iou=1.0))
    assert shown.labels == ["class 0", "class 1"]  # highest score first
    left, right = (shown.masks.crop(i, shown.boxes[i]) for i in range(2))
    assert left[2].shape == right[2].shape == (64, 64)
    assert left[2][:, :31].all() and not left[2][:, 33:].any()
    assert right[2][:, 33:].all() and not right[2][:, :31].any()
    only_right = filter_detections(raw, DetectionFilter(confidence=0.5, classes=("class 1",)))
    record = only_right.to_records()[0]["mask"]
    assert record["area_px"] == pytest.approx(32 * 64, abs=64)
    assert min(x for x, _ in record["polygon"]) >= 31


def draw_masks(rgb: np.ndarray, detections) -> np.ndarray:
    """A copy of ``rgb`` with the masks alone drawn on it."""
    return MaskAnnotator().annotate(rgb.copy(), to_supervision(detections))


def test_masks_are_drawn_semi_transparent_inside_only():
    raw, _ = load_model_file(seg_model(), "seg.onnx").detect(GREY)
    drawn = draw_masks(GREY, raw[raw.scores >= 0.8])
    assert (drawn[:, 40:] == 128).all()  # right half: no mask of the shown detection
    tint = np.rint(128 * (1 - MASK_OPACITY) + np.array(class_colour(0)) * MASK_OPACITY)
    assert (drawn[:, :30] == tint).all()  # grey blended with the class colour, not replaced
    assert (draw_masks(GREY, raw[[]]) == GREY).all()


def test_mask_polygon_outlines_the_largest_region():
    bitmap = np.zeros((20, 30), bool)
    bitmap[2:8, 3:13] = True
    bitmap[15:17, 20:22] = True
    polygon = np.array(mask_polygon(bitmap, 100, 200))
    assert polygon[:, 0].min() == 103 and polygon[:, 0].max() == 112
    assert polygon[:, 1].min() == 202 and polygon[:, 1].max() == 207
    assert mask_polygon(np.zeros((4, 4), bool)) == []


def test_recognise_layout_tells_yolo_variants_apart_by_anchor_count():
    size = (640, 640)
    assert recognise_layout([(1, 84, 8400)], size).kind == "ultralytics"
    assert recognise_layout([(1, 8400, 85)], size).kind == "yolox"
    assert recognise_layout([(1, 25200, 85)], size).kind == "yolov5"
    seg = recognise_layout([(1, 32, 160, 160), (1, 116, 8400)], size)
    assert (seg.kind, seg.classes, seg.boxes_output, seg.prototypes_output) == (
        "ultralytics-seg",
        80,
        1,
        0,
    )


# -- Refusals: one sentence each ---------------------------------------------------------------


def test_an_unrecognised_layout_names_what_was_found_and_what_is_supported():
    data = tiny_onnx({"logits": np.zeros((1, 1000), np.float32)})
    with pytest.raises(InputError) as caught:
        load_model_file(data, "classifier.onnx")
    message = str(caught.value)
    assert "images [1, 3, 32, 32]" in message and "logits [1, 1000]" in message
    assert "Ultralytics detection" in message and "SSD" in message
    assert message.count(". ") == 0 and message.endswith(".")


def test_an_input_that_is_not_an_image_tensor_is_refused_with_what_was_found():
    data = tiny_onnx({"output0": ultralytics_output(3)}, (1, 32, 32, 3))
    with pytest.raises(InputError, match=r"images \[1, 32, 32, 3\].*one float input"):
        load_model_file(data, "nhwc.onnx")


def test_an_ultralytics_pose_model_is_named_as_such():
    data = tiny_onnx({"output0": ultralytics_output(52)}, metadata={"task": "pose"})
    with pytest.raises(InputError, match="Ultralytics pose model"):
        load_model_file(data, "pose.onnx")


@pytest.mark.parametrize(
    "data",
    [b"", b"\x00\xff" * 1000, np.random.default_rng(0).bytes(5000)],
    ids=["empty", "binary", "random"],
)
def test_random_bytes_are_one_sentence(data):
    with pytest.raises(InputError, match=r"^junk\.onnx is not a readable ONNX model: [^.]*\.$"):
        load_model_file(data, "junk.onnx")


def test_a_truncated_model_is_one_sentence():
    data = tiny_onnx({"output0": ultralytics_output(80)})
    with pytest.raises(InputError, match="damaged, truncated"):
        load_model_file(data[: len(data) // 2], "cut.onnx")


def test_a_too_large_model_is_refused_before_loading(monkeypatch):
    monkeypatch.setattr("analysis.vision.own_model.MAX_MODEL_BYTES", 1000)
    with pytest.raises(InputError, match=r"big\.onnx is 0 MB; models up to"):
        load_model_file(b"x" * 2000, "big.onnx")


def test_uploads_must_be_one_model_with_at_most_one_labels_file():
    data = tiny_onnx({"output0": ultralytics_output(3)})
    detector = load_uploaded_model({"m.onnx": data, "classes.txt": b"a\nb\nc\n\n"})
    assert detector.class_names == ("a", "b", "c")
    with pytest.raises(InputError, match=r"photo\.jpg is not a model file"):
        load_uploaded_model({"photo.jpg": b"..."})
    with pytest.raises(InputError, match="Give one model"):
        load_uploaded_model({"a.onnx": data, "b.onnx": data})
    with pytest.raises(InputError, match="Give one model"):
        load_uploaded_model({"deploy.prototxt": b"name: 'x'"})
    with pytest.raises(InputError, match="not a text file"):
        read_labels(b"\xff\xfe\x00", "labels.txt")


# -- Caffe from bytes -----------------------------------------------------------------------------


def test_a_caffe_pair_loads_from_bytes_with_its_labels(tmp_path):
    write_tiny_ssd(tmp_path)  # the catalog test's 3×3-cell SSD: bright cells are class 15
    voc = ["background", *(f"voc{i}" for i in range(1, 21))]
    (tmp_path / "voc.txt").write_text("\n".join(voc))
    detector = load_model_paths(
        [tmp_path / "MobileNetSSD_deploy.prototxt", tmp_path / "MobileNetSSD_deploy.caffemodel"],
        tmp_path / "voc.txt",
    )
    assert isinstance(detector, CaffeFileDetector)
    assert detector.spec.input_size == (300, 300) and len(detector.class_names) == 21
    rgb = np.full((300, 300, 3), 255, np.uint8)
    shown = filter_detections(detector.detect(rgb)[0], DetectionFilter(confidence=0.5))
    assert set(shown.labels) == {"voc15"} and len(shown) == 9


def test_a_damaged_caffemodel_is_one_sentence(tmp_path):
    write_tiny_ssd(tmp_path)
    prototxt = (tmp_path / "MobileNetSSD_deploy.prototxt").read_bytes()
    with pytest.raises(InputError, match="not a loadable Caffe model"):
        load_model_file(prototxt, "deploy.prototxt", weights=b"\x0a\xff\xff garbage")


# -- The real Ultralytics exports (AGPL test fixtures, never defaults) ---------------------------


def require_fixture(file_name: str) -> Path:
    """Path of a test-only model file in a models directory; skips (fails in CI) without it."""
    for directory in model_dirs():
        if (directory / file_name).is_file():
            return directory / file_name
    skip_or_fail(f"{file_name} is not in any models directory", "PERCEPT_REQUIRE_MODELS")
    raise AssertionError  # unreachable: skip_or_fail raises


@pytest.mark.slow
@pytest.mark.parametrize(
    ("file_name", "side"), [("yolov8n_int8_640.onnx", 640), ("yolov8n_int8_320.onnx", 320)]
)
def test_yolov8n_exports_find_the_astronaut(file_name, side):
    detector = load_model_file(require_fixture(file_name), file_name)
    assert detector.layout.kind == "ultralytics" and detector.size == (side, side)
    assert detector.class_names[0] == "person" and len(detector.class_names) == 80
    shown, _ = detector.detect(skimage.data.astronaut())
    people = filter_detections(shown, DetectionFilter(confidence=0.5, classes=("person",)))
    assert len(people) >= 1 and people.scores[0] > 0.6
    x1, y1, x2, y2 = people.boxes[0]
    assert x1 < 60 and y1 < 60 and 300 < x2 < 420 and y2 > 480  # she fills the left 3/4


@pytest.mark.slow
def test_the_seg_export_gives_a_mask_inside_its_box():
    file_name = "yolov8n-seg_int8_320.onnx"
    detector = load_model_file(require_fixture(file_name), file_name)
    assert detector.layout.kind == "ultralytics-seg" and detector.size == (320, 320)
    raw, _ = detector.detect(skimage.data.astronaut())
    people = filter_detections(raw, DetectionFilter(confidence=0.5, classes=("person",)))
    assert len(people) >= 1
    box = people.boxes[0]
    x0, y0, bitmap = people.masks.crop(0, box)
    ys, xs = np.nonzero(bitmap)
    assert xs.min() + x0 >= box[0] - 1 and xs.max() + x0 <= box[2] + 1
    assert ys.min() + y0 >= box[1] - 1 and ys.max() + y0 <= box[3] + 1
    share = bitmap.sum() / ((box[2] - box[0]) * (box[3] - box[1]))
    assert 0.3 < share < 0.95


# -- The command line ---------------------------------------------------------------------------


def _astronaut_png(tmp_path: Path) -> Path:
    from PIL import Image

    path = tmp_path / "astronaut.png"
    Image.fromarray(skimage.data.astronaut()).save(path)
    return path


def test_detect_model_file_prints_the_same_json_with_masks(tmp_path, capsys):
    model = tmp_path / "seg.onnx"
    model.write_bytes(seg_model())
    labels = tmp_path / "labels.txt"
    labels.write_text("left\nright\n")
    output = tmp_path / "out.png"
    picture = _astronaut_png(tmp_path)
    argv = ["detect", str(picture), "--model-file", str(model), "--labels", str(labels)]
    code = cli_main([*argv, "--json", "--conf", "0.5", "--iou", "1", "-o", str(output)])
    assert code == 0 and output.stat().st_size > 0
    result = json.loads(capsys.readouterr().out)
    assert result["model"] == "seg.onnx"
    assert {"image", "detections", "timings_ms"} <= result.keys()
    assert [d["label"] for d in result["detections"]] == ["left", "right"]
    left = result["detections"][0]
    assert left["box"] == [0.0, 0.0, 512.0, 512.0]
    assert left["mask"]["area_px"] == pytest.approx(256 * 512, rel=0.02)
    assert max(x for x, _ in left["mask"]["polygon"]) <= 260


def test_detect_model_file_refuses_a_bad_model_in_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not onnx")
    assert cli_main(["detect", str(_astronaut_png(tmp_path)), "--model-file", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: bad.onnx is not a readable ONNX model") and err.count("\n") == 1
