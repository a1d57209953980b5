"""The Vision page with the person's own model, masks and poses, in AppTest.

Tiny generated ONNX models (tests/analysis/vision/test_own_model.py's builders) check the
upload, the sliders that never re-run it, the one-sentence refusals and the masks' place on
the screen copy; the real YOLOv8n-seg export and BlazePose run behind a skip when their
files are absent.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import skimage.data
from PIL import Image
from streamlit.testing.v1 import AppTest

import ui.sections.own_model
import ui.sections.vision
from analysis.vision.annotate import MASK_OPACITY, MaskAnnotator
from analysis.vision.detections import instance_masks
from analysis.vision.masks import InstanceMasks
from analysis.vision.palette import class_colour
from analysis.vision.skeleton import SkeletonAnnotator
from tests.analysis.vision.test_detectors import write_tiny_ssd
from tests.analysis.vision.test_own_model import (
    require_fixture,
    seg_model,
    tiny_onnx,
    ultralytics_output,
)
from tests.app.test_vision_page import (
    PAGE,
    Counter,
    downloads,
    headline,
    model_box,
    runs,
    shown_labels,
    slider,
    start,
    upload,
)
from tests.conftest import require_model
from tests.support.corpus import png

__all__ = ["downloads", "runs"]  # fixtures shared with the Vision page's tests
NAMES = "{0: 'cat', 1: 'dog', 2: 'bird'}"
JSON_LABEL = "Download detections (JSON)"


def tiny_model() -> bytes:
    """Ultralytics layout, 32×32 input: a bird at 0.9 and a cat at 0.3 (see its builder)."""
    return tiny_onnx({"output0": ultralytics_output(3)}, metadata={"names": NAMES})


@pytest.fixture
def own_runs(monkeypatch) -> Counter:
    """Counts the runs of every model the page loads from an upload (its warm-up included)."""
    counter = Counter()
    real = ui.sections.own_model.load_uploaded_model
    monkeypatch.setattr(
        ui.sections.own_model, "load_uploaded_model", lambda files: counter.wrap(real(files))
    )
    return counter


@pytest.fixture
def drawn(monkeypatch) -> list[tuple[np.ndarray, object]]:
    """Each (canvas, detections) the page draws masks on, the canvas as the masks leave it
    (before boxes and tags go on top)."""
    seen = []
    real = MaskAnnotator.annotate

    def spy(self, scene, detections):
        out = real(self, scene, detections)
        seen.append((out.copy(), detections))
        return out

    monkeypatch.setattr(MaskAnnotator, "annotate", spy)
    return seen


def model_uploader(at: AppTest):
    return next(u for u in at.file_uploader if u.label == "Drop your model here")


def use_own_model(at: AppTest, files: list[tuple[str, bytes]]) -> AppTest:
    """Choose "Your own model…" and upload ``files`` (name, bytes) to it."""
    if model_box(at).value != "own":
        model_box(at).set_value("own").run()
    model_uploader(at).set_value([(n, d, "application/octet-stream") for n, d in files]).run()
    assert not at.exception
    return at


def result(downloads) -> dict:
    return json.loads(downloads[JSON_LABEL][0]())  # made on click


def test_an_uploaded_model_detects_and_the_sliders_never_rerun_it(runs, own_runs, downloads):
    at = start("haar-faces", source="Sample photo")
    use_own_model(at, [("mine.onnx", tiny_model())])
    assert not at.error
    assert any(
        c.value == "An uploaded Ultralytics detection model, 32×32 input. Licence: as supplied."
        for c in at.caption
    )
    assert shown_labels(at) == ["bird"]  # 0.9 and 0.3: the cat is under the page's 0.5
    # Net (12, 9)-(20, 15) on the 32-px input is (192, 144)-(320, 240) on the 512-px photo.
    assert at.dataframe[0].value["box (x1, y1, x2, y2)"][0] == "[192.0, 144.0, 320.0, 240.0]"
    after_upload = own_runs.runs
    assert 2 <= after_upload <= 5  # its warm-up, then the photo's first and warm runs

    slider(at, "Confidence").set_value(0.25).run()
    assert shown_labels(at) == ["bird", "cat"]
    assert at.multiselect[0].options == ["bird", "cat"]  # the model's own class names
    at.multiselect[0].set_value(["cat"]).run()
    assert shown_labels(at) == ["cat"]
    slider(at, "IoU").set_value(0.9).run()
    assert own_runs.runs == after_upload  # each change above only filtered its candidates

    payload = result(downloads)
    assert payload["model"] == "mine.onnx" and payload["file"] == "astronaut.png"
    assert [d["label"] for d in payload["detections"]] == ["cat"]
    for label in (JSON_LABEL, "Download detections (CSV)", "Download annotated image (PNG)"):
        assert downloads[label][1].startswith("astronaut_mine_detections."), label
    assert not at.exception and not at.error


def test_a_labels_file_names_the_classes_and_the_model_stays_across_pictures(runs, own_runs):
    at = start("haar-faces")
    plain = ("plain.onnx", tiny_onnx({"output0": ultralytics_output(3)}))
    use_own_model(at, [plain])
    assert shown_labels(at) == ["class 2"]  # class 0 (0.3) is under 0.5
    use_own_model(at, [plain, ("birds.txt", b"sparrow\nrobin\nowl\n")])
    assert shown_labels(at) == ["owl"]
    upload(at, "cat.png", png(skimage.data.chelsea()))  # a new picture: the model stays
    assert shown_labels(at) == ["owl"] and not at.error


def test_a_caffe_pair_with_its_labels_is_used_like_a_catalog_model(runs, own_runs, tmp_path):
    write_tiny_ssd(tmp_path)  # bright cells are class 15
    voc = "\n".join(["background", *(f"voc{i}" for i in range(1, 21))]).encode()
    at = start("haar-faces")
    upload(at, "white.png", png(np.full((300, 300, 3), 255, np.uint8)))
    files = [(f.name, f.read_bytes()) for f in sorted(tmp_path.glob("MobileNetSSD_deploy.*"))]
    use_own_model(at, [*files, ("voc.txt", voc)])
    assert not at.error
    assert set(shown_labels(at)) == {"voc15"}


def test_a_garbage_model_is_one_sentence_and_the_page_keeps_working(runs, own_runs):
    at = start("haar-faces", source="Sample photo")
    faces = shown_labels(at)
    use_own_model(at, [("weights.onnx", np.random.default_rng(0).bytes(5000))])
    assert [e.value for e in at.error] == [
        "weights.onnx is not a readable ONNX model: the file is damaged, truncated or of "
        "another kind."
    ]
    # The rest of the page still shows the model used before, and says so.
    assert at.info[0].value == (
        "Until your model is loaded, the page shows Haar cascade faces (built into OpenCV)."
    )
    assert shown_labels(at) == faces and len(at.get("image")) == 2
    slider(at, "Confidence").set_value(0.5).run()  # the bad file is not loaded again
    assert len(at.error) == 1 and own_runs.runs == 0

    use_own_model(at, [("mine.onnx", tiny_model())])
    assert not at.error and shown_labels(at) == ["bird"]  # at the confidence of 0.5 set above
    # A bad file after a good one: one sentence, and the good model stays in use.
    use_own_model(at, [("half.prototxt", b"name: 'x'")])
    assert [e.value for e in at.error] == [
        "Give one model: a .onnx file, or a .prototxt with its .caffemodel."
    ]
    assert shown_labels(at) == ["bird"]


def test_a_second_model_replaces_the_first(runs, own_runs):
    at = start("haar-faces", source="Sample photo")
    use_own_model(at, [("first.onnx", tiny_model())])
    assert shown_labels(at) == ["bird"]
    assert model_uploader(at).value in (None, [])  # emptied: the next drop replaces it
    assert "Loaded: first.onnx" in [t.value for t in at.text]
    plain = tiny_onnx({"output0": ultralytics_output(3)})
    use_own_model(at, [("second.onnx", plain)])
    assert not at.error and shown_labels(at) == ["class 2"]  # class 0 (0.3) is under 0.5
    texts = [t.value for t in at.text]
    assert "Loaded: second.onnx" in texts and not any("first.onnx" in t for t in texts)
    assert len([u for u in at.file_uploader if u.label == "Drop your model here"]) == 1
    held = at.session_state[ui.sections.own_model.OWN_MODEL]
    assert held.detector.spec.name == "second.onnx"  # the first one is gone from the session
    at.button(key="vision_own_model_remove").click().run()
    assert ui.sections.own_model.OWN_MODEL not in at.session_state
    assert at.info[-1].value.startswith("Until your model is loaded")


def test_an_uploaded_model_is_private_to_its_session(runs, own_runs):
    first = start("haar-faces")
    use_own_model(first, [("secret.onnx", tiny_model())])
    assert shown_labels(first) == ["bird"]
    second = start()
    model_box(second).set_value("own").run()
    assert second.info[-1].value.startswith("Until your model is loaded")
    assert not any("secret.onnx" in t.value for t in second.text)
    assert "bird" not in shown_labels(second)


def test_the_link_brings_the_model_back_and_remove_forgets_it(runs, own_runs):
    first = start("haar-faces", source="Sample photo")
    use_own_model(first, [("first.onnx", tiny_model())])
    link = first.query_params["w"]

    def reopened() -> AppTest:  # a reload: a new session on the same link
        at = AppTest.from_file(PAGE, default_timeout=60)
        at.query_params["w"] = link if isinstance(link, str) else link[-1]
        return at.run()

    again = reopened()
    assert not again.exception and not again.error
    assert model_box(again).value == "own" and "Loaded: first.onnx" in [t.value for t in again.text]
    assert shown_labels(again) == ["bird"]
    again.button(key="vision_own_model_remove").click().run()
    third = reopened()
    assert not any("first.onnx" in t.value for t in third.text)
    assert third.info[-1].value.startswith("Until your model is loaded")


def tint(colour_id: int, under: int = 0) -> np.ndarray:
    return np.rint(under * (1 - MASK_OPACITY) + np.array(class_colour(colour_id)) * MASK_OPACITY)


def test_masks_are_drawn_where_the_picture_is_on_the_scaled_and_padded_screen_copy(
    runs, own_runs, drawn
):
    at = start("haar-faces")
    # 3000 × 40 px: shown at 1460/3000 and padded above and below to a 1:40 band.
    upload(at, "strip.png", png(np.zeros((40, 3000, 3), np.uint8)))
    use_own_model(at, [("seg.onnx", seg_model())])
    toggle = next(t for t in at.toggle if t.label == "Show masks")
    assert toggle.value is True and toggle.help
    # seg_model(): classes 0 and 1 cover the whole input, their masks its left and right half.
    screen, detections = drawn[-1]
    assert instance_masks(detections) is not None
    x1, y1, x2, y2 = detections.xyxy[0]
    assert (x1, x2) == (0, 1460) and y1 > 0  # the box is moved down with the picture
    top, bottom = int(np.ceil(y1)), int(np.floor(y2))
    assert (screen[:top] == 128).all()  # the grey band above is left alone
    inside = screen[top:bottom]
    assert (inside[:, :700] == tint(0)).all()  # the left half of the picture, tinted
    assert (inside[:, 760:] == tint(1)).all()  # the right half, the other object's

    toggle.set_value(False).run()
    screen, _ = drawn[-1]
    assert (screen[top:bottom] == 0).all()
    assert own_runs.runs <= 5  # the toggle only redraws


def test_the_full_size_download_has_the_masks(runs, own_runs, downloads, monkeypatch):
    outlined = []
    real = InstanceMasks.record
    monkeypatch.setattr(InstanceMasks, "record", lambda *a: outlined.append(1) or real(*a))
    at = start("haar-faces")
    upload(at, "dark.png", png(np.zeros((64, 64, 3), np.uint8)))
    use_own_model(at, [("seg.onnx", seg_model())])
    slider(at, "Confidence").set_value(0.8).run()
    assert not outlined  # the table and CSV skip the masks; the JSON outlines them on click

    picture = np.asarray(Image.open(io.BytesIO(downloads["Download annotated image (PNG)"][0]())))
    assert (picture[20:40, 8:24] == tint(0)).all() and (picture[20:40, 40:56] == 0).all()
    record = result(downloads)["detections"][0]
    assert record["mask"]["area_px"] == pytest.approx(32 * 64, abs=64)


def test_the_real_seg_export_shows_the_astronauts_mask(runs, drawn, downloads):
    name = "yolov8n-seg_int8_320.onnx"
    at = start("haar-faces", source="Sample photo")
    use_own_model(at, [(name, require_fixture(name).read_bytes())])
    assert not at.error
    assert "person" in shown_labels(at)
    assert next(t for t in at.toggle if t.label == "Show masks").value
    person = next(d for d in result(downloads)["detections"] if d["label"] == "person")
    x1, y1, x2, y2 = person["box"]
    assert 0.3 < person["mask"]["area_px"] / ((x2 - x1) * (y2 - y1)) < 0.95
    screen, _ = drawn[-1]
    original = skimage.data.astronaut()
    changed = (screen != original).any(axis=2)
    box = changed[int(y1) + 10 : int(y2) - 10, int(x1) + 10 : int(x2) - 10]
    assert box.mean() > 0.3  # the mask colours most of the person's box


@pytest.fixture
def pose_runs(monkeypatch) -> Counter:
    """Counts BlazePose runs (its warm-up included) and needs its files and runtime."""
    pytest.importorskip("ai_edge_litert")
    require_model("blazepose")
    counter = Counter()
    real = ui.sections.vision.load_pose_estimator

    def counted():
        estimator = real()
        original = estimator.estimate

        def estimate(rgb):
            counter.runs += 1
            return original(rgb)

        estimator.estimate = estimate
        return estimator

    monkeypatch.setattr(ui.sections.vision, "load_pose_estimator", counted)
    return counter


def test_blazepose_draws_a_skeleton_and_the_json_has_keypoints(
    runs, pose_runs, downloads, monkeypatch
):
    skeletons = []  # the keypoints of each drawing's people
    real = SkeletonAnnotator.annotate

    def spy(self, scene, detections):
        if "keypoints" in detections.data:  # box detectors' drawings have none
            skeletons.append(detections.data["keypoints"])
        return real(self, scene, detections)

    monkeypatch.setattr(SkeletonAnnotator, "annotate", spy)
    at = start("blazepose")
    # 2048 px: the screen copy is scaled to 1460 px, the JSON keeps the picture's pixels.
    big = np.asarray(
        __import__("PIL.Image", fromlist=["Image"])
        .fromarray(skimage.data.astronaut())
        .resize((2048, 2048))
    )
    upload(at, "astronaut.png", png(big))
    assert not at.error and shown_labels(at) == ["person"]
    payload = result(downloads)
    assert payload["model"] == "blazepose" and len(payload["keypoint_names"]) == 33
    person = payload["detections"][0]
    keypoints = np.array(person["keypoints"])
    assert keypoints.shape == (33, 3)
    nose, left_hip = keypoints[0], keypoints[23]
    assert nose[1] < left_hip[1]  # her nose is above her hips
    on_screen = skeletons[-1][0]
    np.testing.assert_allclose(on_screen[:, :2], keypoints[:, :2] * 1460 / 2048, atol=0.2)
    assert any(c.value.startswith("Poses: person detector") for c in at.caption)

    before = pose_runs.runs
    slider(at, "Confidence").set_value(1.0).run()  # above every person's score
    assert headline(at) == "0 detection(s)" and not result(downloads)["detections"]
    slider(at, "Confidence").set_value(0.25).run()
    assert shown_labels(at) == ["person"]
    assert pose_runs.runs == before  # the slider filters the cached people
