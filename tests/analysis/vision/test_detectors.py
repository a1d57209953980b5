"""Model adapters: letterbox and decode maths on known answers, the Caffe path on a generated
tiny SSD, accuracy sanity on real photos, model choice, and the detect command."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
import skimage.data
from PIL import Image

from analysis.commands.cli import main as cli_main
from analysis.errors import InputError
from analysis.vision.decoding import yolox_decode, yolox_grids
from analysis.vision.detections import DetectionFilter
from analysis.vision.detectors import (
    MIN_CANDIDATE_SCORE,
    CaffeSsdDetector,
    best_available,
    detect,
    load_detector,
)
from analysis.vision.image import letterbox_blob
from models.locate import MissingModelError
from tests.conftest import require_model

# -- Letterbox and YOLOX decoding on drawn images --------------------------------------------


def test_letterbox_keeps_aspect_pads_bottom_right_and_gives_bgr():
    rgb = np.zeros((200, 400, 3), np.uint8)
    rgb[50:150, 100:300] = (255, 0, 0)  # a red rectangle, 200×100 px
    blob, ratio = letterbox_blob(rgb, (416, 416), bgr=True)
    assert blob.shape == (1, 3, 416, 416) and blob.dtype == np.float32
    assert ratio == pytest.approx(416 / 400)
    assert (blob[0, :, 208:, :] == 114).all()  # padding below the 208-px-high picture
    blue, green, red = blob[0]
    assert blue[:208].max() == 0 and green[:208].max() == 0 and red.max() == 255  # BGR
    ys, xs = np.nonzero(red[:208] > 200)
    # The rectangle's corners map by the ratio: (100, 50) → (104, 52), (300, 150) → (312, 156).
    assert abs(xs.min() - 104) <= 1 and abs(xs.max() + 1 - 312) <= 1
    assert abs(ys.min() - 52) <= 1 and abs(ys.max() + 1 - 156) <= 1


def test_letterbox_of_a_tall_and_a_tiny_image():
    blob, ratio = letterbox_blob(np.zeros((8000, 300, 3), np.uint8), (416, 416), bgr=True)
    assert ratio == pytest.approx(416 / 8000) and (blob[0, :, :, 17:] == 114).all()
    blob, ratio = letterbox_blob(np.zeros((2, 2, 3), np.uint8), (416, 416), bgr=True)
    assert ratio == 208 and (blob == 0).all()


def test_grids_follow_yolox_anchor_order():
    grid, strides = yolox_grids((416, 416))
    assert len(grid) == 52 * 52 + 26 * 26 + 13 * 13 == 3549
    assert grid[:3].tolist() == [[0, 0], [1, 0], [2, 0]]  # x varies fastest
    assert grid[52].tolist() == [0, 1]
    assert strides[0, 0] == 8 and strides[52 * 52, 0] == 16 and strides[-1, 0] == 32


def test_yolox_decode_puts_a_known_anchor_back_in_image_pixels():
    grid, strides = yolox_grids((416, 416))
    output = np.zeros((3549, 85), np.float32)
    anchor = 52 * 52 + 26 * 5 + 7  # stride 16, cell x = 7, y = 5
    # Centre (7.5, 5.5) cells → (120, 88) px; size exp(log 4) × 16 = 64 px square.
    output[anchor, :4] = (0.5, 0.5, np.log(4), np.log(4))
    output[anchor, 4] = 0.9  # objectness
    output[anchor, 5 + 15] = 0.8  # cat
    boxes, scores, class_ids = yolox_decode(
        output, grid, strides, ratio=0.5, floor=MIN_CANDIDATE_SCORE
    )
    assert class_ids.tolist() == [15]
    assert scores[0] == pytest.approx(0.72)
    np.testing.assert_allclose(boxes[0], [(120 - 32) / 0.5, (88 - 32) / 0.5, 304, 240])


def test_yolox_decode_keeps_scores_at_the_floor_whatever_the_objectness_alone():
    """Score = objectness × class probability: a sure class on a faint object stays out, and
    anchors whose product reaches the floor stay in, in anchor order."""
    grid, strides = yolox_grids((416, 416))
    output = np.zeros((3549, 85), np.float32)
    output[[10, 20, 30, 40], 4] = (0.04, 0.9, 0.1, 0.05)  # objectness
    output[[10, 20, 30, 40], 5] = (1.0, 0.9, 0.4, 1.0)  # person
    _, scores, _ = yolox_decode(output, grid, strides, ratio=1.0, floor=0.05)
    np.testing.assert_allclose(scores, [0.81, 0.05], rtol=1e-6)  # 0.04 and 0.1 × 0.4 out


# -- The Caffe SSD path on a generated tiny model ---------------------------------------------

TINY_SSD_PROTOTXT = """
name: "tiny_ssd"
input: "data"
input_shape { dim: 1 dim: 3 dim: 300 dim: 300 }
layer { name: "feat" type: "Pooling" bottom: "data" top: "feat"
  pooling_param { pool: AVE kernel_size: 100 stride: 100 } }
layer { name: "loc" type: "Convolution" bottom: "feat" top: "loc"
  convolution_param { num_output: 4 kernel_size: 1 } }
layer { name: "loc_perm" type: "Permute" bottom: "loc" top: "loc_perm"
  permute_param { order: 0 order: 2 order: 3 order: 1 } }
layer { name: "loc_flat" type: "Flatten" bottom: "loc_perm" top: "loc_flat"
  flatten_param { axis: 1 } }
layer { name: "conf" type: "Convolution" bottom: "feat" top: "conf"
  convolution_param { num_output: 21 kernel_size: 1 } }
layer { name: "conf_perm" type: "Permute" bottom: "conf" top: "conf_perm"
  permute_param { order: 0 order: 2 order: 3 order: 1 } }
layer { name: "conf_flat" type: "Flatten" bottom: "conf_perm" top: "conf_flat"
  flatten_param { axis: 1 } }
layer { name: "conf_reshape" type: "Reshape" bottom: "conf_flat" top: "conf_reshape"
  reshape_param { shape { dim: 0 dim: -1 dim: 21 } } }
layer { name: "conf_softmax" type: "Softmax" bottom: "conf_reshape" top: "conf_softmax"
  softmax_param { axis: 2 } }
layer { name: "conf_sm_flat" type: "Flatten" bottom: "conf_softmax" top: "conf_sm_flat"
  flatten_param { axis: 1 } }
layer { name: "prior" type: "PriorBox" bottom: "feat" bottom: "data" top: "prior"
  prior_box_param { min_size: 100.0 clip: false variance: 0.1 variance: 0.1
    variance: 0.2 variance: 0.2 offset: 0.5 step: 100.0 } }
layer { name: "detection_out" type: "DetectionOutput"
  bottom: "loc_flat" bottom: "conf_sm_flat" bottom: "prior" top: "detection_out"
  detection_output_param { num_classes: 21 share_location: true background_label_id: 0
    nms_param { nms_threshold: 0.45 top_k: 100 } code_type: CENTER_SIZE keep_top_k: 100
    confidence_threshold: 0.01 } }
"""


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        out.append(low | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field (wire type 2)."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _caffe_blob(array: np.ndarray) -> bytes:
    shape = _field(1, b"".join(_varint(d) for d in array.shape))  # BlobShape.dim, packed
    return _field(7, shape) + _field(5, array.astype("<f4").tobytes())  # shape, data


def _caffe_layer(name: str, kind: str, *blobs: np.ndarray) -> bytes:
    body = _field(1, name.encode()) + _field(2, kind.encode())
    return _field(100, body + b"".join(_field(7, _caffe_blob(b)) for b in blobs))


def write_tiny_ssd(directory) -> None:
    """A 3×3-cell SSD with the seed's input and output layout, written as the catalog's files.

    Its 1×1 "conf" convolution turns the mean of a cell's normalised pixels into the class
    logits: bright cells (≈ +1 after scale 0.007843 and mean 127.5) say "person" (VOC 15)
    with a score near 1, dark cells (≈ −1) say "cat" (VOC 8). Box offsets are zero, so each
    box is its cell.
    """
    conf_weights = np.zeros((21, 3, 1, 1))
    conf_weights[15] = 10 / 3
    conf_weights[8] = -10 / 3
    model = _caffe_layer("loc", "Convolution", np.zeros((4, 3, 1, 1)), np.zeros(4))
    model += _caffe_layer("conf", "Convolution", conf_weights, np.zeros(21))
    (directory / "MobileNetSSD_deploy.prototxt").write_text(TINY_SSD_PROTOTXT)
    (directory / "MobileNetSSD_deploy.caffemodel").write_bytes(model)


@pytest.fixture
def tiny_ssd_dir(tmp_path, monkeypatch):
    write_tiny_ssd(tmp_path)
    monkeypatch.setenv("PERCEPT_MODELS_DIR", str(tmp_path))
    return tmp_path


def test_caffe_ssd_blob_and_output_mapping_on_a_tiny_generated_model(tiny_ssd_dir):
    detector = load_detector("mobilenet-ssd")
    assert isinstance(detector, CaffeSsdDetector)
    # 600×300: the blob squashes it to 300×300, boxes must come back in original pixels.
    rgb = np.zeros((300, 600, 3), np.uint8)
    rgb[:, :200] = 255  # the left third is bright
    raw, timings = detector.detect(rgb)
    assert timings.inference > 0
    shown = raw[raw.scores >= 0.5]
    people = shown[np.array(shown.labels) == "person"]
    cats = shown[np.array(shown.labels) == "cat"]
    assert len(people) == 3 and len(cats) == 6
    assert (people.scores > 0.99).all()
    np.testing.assert_allclose(
        people.boxes[np.argsort(people.boxes[:, 1])],
        [[0, 0, 200, 100], [0, 100, 200, 200], [0, 200, 200, 300]],
        atol=1,
    )
    assert (cats.boxes[:, 0] >= 199).all()
    assert (raw.class_ids >= 1).all()  # the background class never comes back


@pytest.fixture
def no_models(tmp_path, monkeypatch):
    """No model files anywhere: every lookup directory is empty."""
    monkeypatch.setattr("models.locate.PROJECT_MODELS_DIR", tmp_path / "project")
    monkeypatch.setattr("models.locate.SHARED_MODELS_DIR", tmp_path / "shared")
    monkeypatch.delenv("PERCEPT_MODELS_DIR", raising=False)


def test_a_missing_model_says_how_to_get_it(no_models):
    with pytest.raises(MissingModelError, match="python -m models fetch mobilenet-ssd"):
        load_detector("mobilenet-ssd")


def test_a_corrupt_caffemodel_is_a_missing_model_error_not_a_crash(tiny_ssd_dir):
    (tiny_ssd_dir / "MobileNetSSD_deploy.caffemodel").write_bytes(b"not a caffemodel")
    with pytest.raises(MissingModelError, match="not a loadable Caffe model"):
        load_detector("mobilenet-ssd")


def test_a_corrupt_onnx_file_is_a_missing_model_error(tmp_path, monkeypatch):
    (tmp_path / "yolox_nano.onnx").write_bytes(b"\x00" * 100)
    monkeypatch.setenv("PERCEPT_MODELS_DIR", str(tmp_path))
    with pytest.raises(MissingModelError, match=r"yolox_nano\.onnx is not a loadable ONNX model"):
        load_detector("yolox-nano")


def test_unknown_model_name_is_an_input_error():
    with pytest.raises(InputError, match="not a vision model"):
        load_detector("yamnet")


def test_best_available_falls_back_to_the_builtin_detector(no_models):
    assert best_available() == "haar-faces"


# -- Accuracy sanity on real photos -------------------------------------------------------------


def test_yolox_finds_the_astronaut_and_the_cat():
    require_model("yolox-nano")
    detector = load_detector("yolox-nano")
    params = DetectionFilter(0.5, 0.45)
    people, _ = detect(detector, skimage.data.astronaut(), params)
    assert people.labels[0] == "person" and people.scores[0] > 0.8
    x1, y1, x2, y2 = people.boxes[0]
    assert x1 < 60 and y1 < 60 and x2 > 330 and y2 > 480  # she fills most of the frame
    cats, timings = detect(detector, skimage.data.chelsea(), params)
    assert "cat" in cats.labels
    assert set(timings.as_dict()) == {"preprocess", "inference", "postprocess", "total"}


def test_yolox_raw_candidates_sit_above_the_floor_and_before_nms():
    require_model("yolox-nano")
    raw, _ = load_detector("yolox-nano").detect(skimage.data.astronaut())
    assert (raw.scores >= MIN_CANDIDATE_SCORE).all()
    filtered = detect(
        load_detector("yolox-nano"), skimage.data.astronaut(), DetectionFilter(0.05, 0.45)
    )[0]
    assert len(raw) > len(filtered)  # overlapping candidates remain for the IoU slider


def test_yolox_with_sleeping_threads_finds_what_it_finds_spinning():
    """The video's detector (threads that sleep between frames) is the same model."""
    require_model("yolox-nano")
    sleeping = load_detector("yolox-nano", spin=False)
    options = sleeping.session.get_session_options()
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    picture = skimage.data.astronaut()
    ours, theirs = sleeping.detect(picture)[0], load_detector("yolox-nano").detect(picture)[0]
    np.testing.assert_allclose(ours.boxes, theirs.boxes, atol=1e-3)
    np.testing.assert_allclose(ours.scores, theirs.scores, atol=1e-5)


def test_yunet_finds_the_astronauts_face():
    require_model("yunet")
    faces, _ = detect(load_detector("yunet"), skimage.data.astronaut(), DetectionFilter(0.5))
    assert faces.labels == ["face"]
    x1, y1, x2, y2 = faces.boxes[0]
    assert 150 < (x1 + x2) / 2 < 300 and 60 < (y1 + y2) / 2 < 200


def test_haar_finds_the_astronauts_face_offline():
    faces, _ = detect(load_detector("haar-faces"), skimage.data.astronaut(), DetectionFilter(0.7))
    assert len(faces) >= 1 and faces.labels[0] == "face"
    x1, y1, x2, y2 = faces.boxes[0]
    assert 150 < (x1 + x2) / 2 < 300 and 60 < (y1 + y2) / 2 < 200


def test_hog_finds_nothing_on_a_blank_image_and_handles_tiny_ones():
    detector = load_detector("hog-people")
    assert len(detector.detect(np.full((300, 200, 3), 128, np.uint8))[0]) == 0
    assert len(detector.detect(np.zeros((2, 2, 3), np.uint8))[0]) == 0


@pytest.mark.parametrize("name", ["yolox-nano", "yunet", "haar-faces"])
def test_odd_shapes_do_not_break_adapters(name):
    if name != "haar-faces":
        require_model(name)
    detector = load_detector(name)
    for shape in [(2, 2, 3), (300, 8000, 3)]:
        raw, _ = detector.detect(np.zeros(shape, np.uint8))
        assert (raw.boxes[:, 2] <= shape[1]).all() and (raw.boxes[:, 3] <= shape[0]).all()


def test_one_detector_serves_several_threads():
    detector = load_detector("haar-faces")
    image = skimage.data.astronaut()
    expected = len(detector.detect(image)[0])
    counts: list[int] = []

    def work() -> None:
        for _ in range(3):
            counts.append(len(detector.detect(image)[0]))

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counts == [expected] * 9


# -- The detect command -------------------------------------------------------------------------


def test_detect_command_prints_the_json_shape(tmp_path, capsys):
    require_model("yolox-nano")
    image = tmp_path / "cat.png"
    Image.fromarray(skimage.data.chelsea()).save(image)
    out_png = tmp_path / "out.png"
    code = cli_main(
        [
            "detect",
            str(image),
            "--json",
            "-o",
            str(out_png),
            "--model",
            "yolox-nano",
            "--repeat",
            "3",
        ]
    )
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["model"] == "yolox-nano"
    assert result["image"] == {"width": 451, "height": 300}
    assert "cat" in [d["label"] for d in result["detections"]]
    first = result["detections"][0]
    assert set(first) == {"label", "score", "box"} and len(first["box"]) == 4
    timings = result["timings_ms"]
    assert timings["total"] == pytest.approx(
        timings["preprocess"] + timings["inference"] + timings["postprocess"], abs=0.01
    )
    assert Image.open(out_png).size == (451, 300)


def test_detect_command_defaults_to_the_best_model_and_prints_a_table(tmp_path, capsys):
    image = tmp_path / "astronaut.jpg"
    Image.fromarray(skimage.data.astronaut()).save(image)
    assert cli_main(["detect", str(image)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{best_available()}: ") and "inference" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--conf", "1.5"], "error: The confidence must be between 0 and 1, not 1.5."),
        (["--repeat", "0"], "error: --repeat must be at least 1, not 0."),
    ],
)
def test_detect_command_refuses_bad_parameters(tmp_path, capsys, args, message):
    image = tmp_path / "a.png"
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(image)
    assert cli_main(["detect", str(image), "--model", "haar-faces", *args]) == 2
    assert capsys.readouterr().err.strip() == message


def test_detect_command_on_a_text_file_is_one_error_line(tmp_path, capsys):
    fake = tmp_path / "notes.jpg"
    fake.write_text("hello")
    assert cli_main(["detect", str(fake)]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: This file is not a picture we can read (use JPEG, PNG, WebP, BMP, TIFF or GIF)."
    )


@pytest.mark.parametrize("shape", [(1, 5000, 3), (5000, 1, 3), (2, 2, 3)])
def test_people_detector_finds_nobody_in_a_sliver(shape):
    # Scaled to HOG's 800-px working size, a 5000×1 picture would have no rows at all.
    detections, _ = load_detector("hog-people").detect(np.zeros(shape, np.uint8))
    assert len(detections) == 0


def test_detect_command_cannot_write_its_output_is_one_error_line(tmp_path, capsys):
    image = tmp_path / "card.png"
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(image)
    out = tmp_path / "missing-folder" / "out.png"
    assert cli_main(["detect", str(image), "--model", "haar-faces", "-o", str(out)]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: Could not write the output: No such file or directory."
    )
