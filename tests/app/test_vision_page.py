"""The Vision page in AppTest: uploads, sliders that never re-run the network, bad input."""

from __future__ import annotations

import csv
import io
import json
import re

import numpy as np
import pytest
import skimage.data
import streamlit as st
from PIL import Image
from streamlit.testing.v1 import AppTest

import ui.sections.vision
from analysis.commands.cli import main as cli_main
from analysis.filenames import safe_stem
from analysis.vision.detections import DEFAULT_CONFIDENCE
from tests.analysis.vision.test_detectors import write_tiny_ssd
from tests.conftest import require_model
from tests.support.corpus import jpeg, png, png_header, truncated, wav
from tests.support.defaults import own_default, started_elsewhere

PAGE = "../../app_pages/vision.py"
WARM_RUNS = 3  # the page times up to this many runs after the first
NOT_A_PICTURE = "This file is not a picture we can read (use JPEG, PNG, WebP, BMP, TIFF or GIF)."


class Counter:
    """Counts network runs by wrapping every detector the page loads."""

    def __init__(self) -> None:
        self.runs = 0

    def wrap(self, detector):
        original = detector.detect

        def counted(rgb):
            self.runs += 1
            return original(rgb)

        detector.detect = counted
        return detector


@pytest.fixture
def runs(monkeypatch) -> Counter:
    """A fresh cache (no detector or result from an earlier test) and a run counter."""
    st.cache_resource.clear()
    counter = Counter()
    real = ui.sections.vision.load_detector
    monkeypatch.setattr(ui.sections.vision, "load_detector", lambda n: counter.wrap(real(n)))
    yield counter
    st.cache_resource.clear()


def start(model: str | None = None, source: str | None = None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    if model is not None:
        model_box(at).set_value(model).run()
    if source is not None:
        at.radio(key="vision_source").set_value(source).run()
    return at


def model_box(at: AppTest):
    return next(box for box in at.selectbox if box.label == "Model")


def slider(at: AppTest, word: str):
    return next(s for s in at.slider if word in s.label)


def shown_labels(at: AppTest) -> list[str]:
    return list(at.dataframe[0].value["label"])


def headline(at: AppTest) -> str:
    return at.subheader[0].value


def upload(at: AppTest, name: str, data: bytes, mime: str = "image/png") -> AppTest:
    at.file_uploader[0].upload(name, data, mime).run()
    assert not at.exception
    return at


def test_page_opens_on_the_uploader_with_a_sample_its_boxes_table_latency_downloads(runs):
    at = start()
    assert at.title[0].value == "Vision"
    assert not at.error and not at.camera_input  # the camera is not requested on load
    assert at.radio(key="vision_source").value == "Upload a picture"
    # Until a picture is given, a sample shows what the page does, and says so.
    assert at.info[0].value == (
        "No picture yet, so here is a sample photo (Astronaut (Eileen Collins)). "
        "Drop a picture above to analyse your own."
    )
    assert not at.error
    assert len(at.get("image")) == 2  # annotated and original tabs
    assert [t.value for t in at.text] == ["astronaut.png — 512×512 px"]
    assert headline(at).endswith("detection(s)")
    assert any(m.value.startswith("**Latency** — decode") for m in at.markdown)
    labels = [b.label for b in at.download_button]
    assert labels == [
        "Download annotated image (PNG)",
        "Download detections (CSV)",
        "Download detections (JSON)",
    ]
    # The model's warm-up on a blank image, the sample's first run, then its warm runs.
    assert 2 <= runs.runs <= 2 + WARM_RUNS


def test_sliders_and_class_filter_never_rerun_the_network(runs):
    pytest.importorskip("onnxruntime")
    require_model("yolox-nano")
    at = start("yolox-nano")
    upload(at, "coffee.png", png(skimage.data.coffee()))
    before = runs.runs
    assert shown_labels(at) == ["cup", "dining table"]

    slider(at, "Confidence").set_value(0.8).run()
    assert shown_labels(at) == ["cup"]
    slider(at, "Confidence").set_value(0.1).run()
    slider(at, "IoU").set_value(1.0).run()  # no merging: every overlapping candidate shows
    assert len(shown_labels(at)) > 10
    slider(at, "IoU").set_value(0.45).run()
    assert shown_labels(at) == ["cup", "dining table"]
    classes = at.multiselect[0]
    assert classes.options[:2] == ["cup", "dining table"]
    classes.set_value(["dining table"]).run()
    assert set(shown_labels(at)) == {"dining table"}
    assert runs.runs == before  # every change above only filtered cached candidates
    assert not at.exception and not at.error


def test_the_same_picture_is_detected_once_per_model(runs):
    at = start("haar-faces")
    data = png(skimage.data.astronaut())
    upload(at, "astronaut.png", data)
    assert shown_labels(at)[0] == "face"
    after_first = runs.runs
    upload(at, "copy-of-astronaut.png", data)  # same bytes, new name: same content hash
    assert runs.runs == after_first
    model_box(at).set_value("hog-people").run()
    assert runs.runs > after_first  # the new model's warm-up, then this picture


@pytest.mark.parametrize(
    ("name", "data", "mime", "message"),
    [
        ("empty.png", b"", "image/png", "The file is empty: there is no picture in it."),
        ("noise.jpg", np.random.default_rng(0).bytes(4096), "image/jpeg", NOT_A_PICTURE),
        (
            "cut.jpg",
            truncated(jpeg(skimage.data.chelsea())),
            "image/jpeg",
            "The picture is damaged or incomplete (truncated file), so it cannot be read.",
        ),
        ("notes.png", b"shopping list: eggs, milk\n", "image/png", NOT_A_PICTURE),
        (
            "song.wav",
            wav(seconds=0.1, rate=8000),
            "audio/wav",
            "This file is a sound, not a picture: open it on the Audio page.",
        ),
        (
            "bomb.png",
            png_header(30_000, 30_000),
            "image/png",
            "The picture is too large (900 MP); the limit is 50 megapixels.",
        ),
    ],
    ids=["empty", "random", "truncated", "text", "audio", "bomb"],
)
def test_bad_upload_is_one_message_and_the_next_picture_works(runs, name, data, mime, message):
    at = start("haar-faces")
    upload(at, name, data, mime)
    assert [e.value for e in at.error] == [message]
    assert not at.get("image") and not at.dataframe  # nothing half-drawn below the error
    upload(at, "astronaut.jpg", jpeg(skimage.data.astronaut()), "image/jpeg")
    assert not at.error
    assert shown_labels(at)[0] == "face"


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def valid_odd_pictures() -> list[tuple[str, bytes]]:
    astronaut = Image.fromarray(skimage.data.astronaut()).resize((256, 256))
    rgba = astronaut.convert("RGBA")
    rgba.putalpha(128)
    frames = [astronaut, astronaut.transpose(Image.Transpose.FLIP_LEFT_RIGHT)]
    sixteen = (np.asarray(astronaut.convert("L"), np.uint16) * 257).astype(np.uint16)
    return [
        ("gray.png", encode(astronaut.convert("L"), "PNG")),
        ("alpha.png", encode(rgba, "PNG")),
        ("sixteen-bit.png", encode(Image.fromarray(sixteen), "PNG")),
        ("cmyk.jpg", encode(astronaut.convert("CMYK"), "JPEG")),
        ("animated.gif", encode(frames[0], "GIF", save_all=True, append_images=frames[1:])),
        ("picture.bmp", encode(astronaut, "BMP")),
        ("picture.webp", encode(astronaut, "WEBP")),
        ("picture.tiff", encode(astronaut, "TIFF")),
    ]


def test_every_supported_kind_of_picture_is_shown(runs):
    at = start("haar-faces")
    for name, data in valid_odd_pictures():
        upload(at, name, data, "application/octet-stream")
        assert not at.error, name
        assert at.text[0].value == f"{name} — 256×256 px"
        assert len(at.get("image")) == 2 and at.dataframe


def test_odd_but_valid_pictures_are_shown(runs):
    at = start("haar-faces")
    exif = Image.Exif()
    exif[0x0112] = 6  # shot with the camera turned: shown upright (portrait)
    buffer = io.BytesIO()
    Image.fromarray(skimage.data.astronaut()[:, :300]).save(buffer, "JPEG", exif=exif.tobytes())
    upload(at, "rotated.jpg", buffer.getvalue(), "image/jpeg")
    assert not at.error
    assert at.text[0].value == "rotated.jpg — 512×300 px"
    upload(at, "pano.png", png(np.zeros((300, 8000, 3), np.uint8)))
    assert not at.error and at.text[0].value == "pano.png — 8000×300 px"
    upload(at, "tiny.png", png(np.zeros((2, 2, 3), np.uint8)))
    assert not at.error and headline(at) == "0 detection(s)"


def test_model_list_shows_what_is_missing_and_how_to_get_it(runs, tmp_path, monkeypatch):
    monkeypatch.setattr("models.locate.PROJECT_MODELS_DIR", tmp_path / "project")
    monkeypatch.setattr("models.locate.SHARED_MODELS_DIR", tmp_path / "shared")
    monkeypatch.delenv("PERCEPT_MODELS_DIR", raising=False)
    at = start()
    assert model_box(at).options == [
        "Haar cascade faces (built into OpenCV)",
        "HOG people detector (built into OpenCV)",
        "Your own model…",
    ]
    assert any("not deep learning" in c.value for c in at.caption)
    commands = [c.value for c in at.code]
    assert "python -m models fetch yolox-nano" in commands
    assert "python -m models fetch mobilenet-ssd" in commands
    assert "python -m models fetch blazepose" in commands
    assert not at.error


def test_caffe_ssd_is_selectable_when_its_files_are_present(runs, tmp_path, monkeypatch):
    write_tiny_ssd(tmp_path)
    monkeypatch.setenv("PERCEPT_MODELS_DIR", str(tmp_path))
    at = start("mobilenet-ssd")
    bright = np.full((300, 300, 3), 255, np.uint8)
    upload(at, "white.png", png(bright))
    assert not at.error
    assert set(shown_labels(at)) == {"person"}


def test_camera_snapshot_is_analysed_when_the_camera_is_the_source(runs):
    at = start("haar-faces")
    upload(at, "holiday.png", png(skimage.data.chelsea()))
    at.radio(key="vision_source").set_value("Camera").run()
    assert len(at.camera_input) == 1 and not at.file_uploader
    assert at.info[0].value.endswith("Take a snapshot above to analyse it.")
    at.camera_input[0].set_value(("shot.jpg", jpeg(skimage.data.astronaut()), "image/jpeg")).run()
    assert not at.error and not at.info
    # The snapshot is the picture shown, and only its name is on screen.
    assert [t.value for t in at.text] == ["camera.jpg — 512×512 px"]
    assert shown_labels(at)[0] == "face"


def test_file_names_are_never_rendered_as_markup(runs):
    at = start("haar-faces")
    upload(at, "<b>**bold**</b>.png", png(skimage.data.astronaut()))
    assert at.text[0].value.startswith("<b>**bold**</b>.png — ")  # shown as plain text
    assert all("<b>" not in m.value for m in at.markdown)


def test_download_names_are_safe():
    assert safe_stem("../../etc/passwd", "image") == "passwd"
    assert safe_stem("my photo<script>.png", "image") == "my_photo_script"
    assert safe_stem("日本.jpg", "image") == "image"
    assert len(safe_stem("a" * 200 + ".png", "image")) == 60


def test_the_upload_and_the_settings_survive_a_source_switch(runs):
    at = start("haar-faces")
    upload(at, "cat on the sofa.png", png(skimage.data.chelsea()))
    slider(at, "Confidence").set_value(0.6).run()
    slider(at, "IoU").set_value(0.3).run()
    at.radio(key="vision_source").set_value("Sample photo").run()
    # One source at a time: the name shown belongs to the picture shown.
    assert [t.value for t in at.text] == ["astronaut.png — 512×512 px"]
    assert not at.file_uploader
    at.radio(key="vision_source").set_value("Upload a picture").run()
    assert not at.error
    assert [t.value for t in at.text] == [
        "Still loaded: cat on the sofa.png",
        "cat on the sofa.png — 451×300 px",
    ]
    assert len(at.get("image")) == 2
    assert slider(at, "Confidence").value == pytest.approx(0.6)
    assert slider(at, "IoU").value == pytest.approx(0.3)
    assert model_box(at).value == "haar-faces"
    at.button(key="vision_upload_remove").click().run()
    assert at.info[0].value.startswith("No picture yet")  # removed: back to the sample
    assert [t.value for t in at.text] == ["astronaut.png — 512×512 px"]


def test_defaults_show_the_sample_objects_and_every_control_says_what_it_does(runs):
    at = start(source="Sample photo")
    assert slider(at, "Confidence").value == pytest.approx(DEFAULT_CONFIDENCE)  # as every page
    advanced = next(e for e in at.expander if e.label == "Advanced")
    assert [s.label for s in advanced.slider] == ["Overlap (IoU) for merging boxes"]
    controls = [*at.radio, *at.selectbox, *at.slider, *at.multiselect]
    assert len(controls) == 6  # source, model, sample, confidence, IoU, classes
    for control in controls:
        assert control.help and control.help.endswith("."), control.label


def test_every_control_starts_at_its_stated_default_whatever_the_timing_of_the_first_click(runs):
    # A click during the first run can make the browser draw a control before it hears the
    # remembered value: it then shows the control's own default and sends that back.
    assert started_elsewhere(start()) == []
    at = start(model="own", source="Sample photo")
    assert [s.value for s in at.slider] == [own_default(s) for s in at.slider]
    confidence = slider(at, "Confidence")
    confidence.set_value(own_default(confidence)).run()  # what such a browser sends
    assert slider(at, "Confidence").value == pytest.approx(DEFAULT_CONFIDENCE)
    assert len(at.dataframe[0].value) == len(start(source="Sample photo").dataframe[0].value)


def test_a_missing_model_says_what_it_would_add_and_which_file_is_missing(
    runs, tmp_path, monkeypatch
):
    (tmp_path / "MobileNetSSD_deploy.prototxt").write_text("name: 'x'")
    monkeypatch.setenv("PERCEPT_MODELS_DIR", str(tmp_path))
    monkeypatch.setattr("models.locate.PROJECT_MODELS_DIR", tmp_path / "project")
    monkeypatch.setattr("models.locate.SHARED_MODELS_DIR", tmp_path / "shared")
    at = start()
    notes = [m.value for m in at.markdown]
    assert any(
        n.startswith("**MobileNet-SSD (Caffe, PASCAL VOC)** would add boxes around everyday")
        for n in notes
    )
    assert (
        "Missing: MobileNetSSD_deploy.caffemodel (MobileNetSSD_deploy.prototxt is already "
        "here). To get it, run:" in [c.value for c in at.caption]
    )
    fetch = next(c for c in at.code if c.value == "python -m models fetch mobilenet-ssd")
    assert fetch.proto.wrap_lines  # a narrow column wraps it, never cuts it


def test_the_command_line_default_confidence_is_the_pages(runs, tmp_path, capsys):
    at = start(source="Sample photo")
    image = tmp_path / "astronaut.png"
    image.write_bytes(png(skimage.data.astronaut()))
    assert cli_main(["detect", str(image), "--model", "haar-faces", "--json"]) == 0
    thresholds = json.loads(capsys.readouterr().out)["thresholds"]
    assert thresholds["confidence"] == pytest.approx(slider(at, "Confidence").value)


def latency(at: AppTest) -> dict[str, float]:
    line = next(m.value for m in at.markdown if m.value.startswith("**Latency** — "))
    return {name: float(ms) for name, ms in re.findall(r"(\w+) ([\d.]+) ms", line)}


def test_latency_counts_decoding_and_drawing_and_says_which_runs_it_shows(runs):
    at = start("haar-faces")
    upload(at, "astronaut.jpg", jpeg(skimage.data.astronaut()), "image/jpeg")
    stages = latency(at)
    assert list(stages) == [
        "decode",
        "preprocess",
        "inference",
        "postprocess",
        "draw",
        "total",
    ]
    assert stages["decode"] > 0 and stages["draw"] > 0
    parts = sum(v for k, v in stages.items() if k != "total")
    assert stages["total"] == pytest.approx(parts, abs=0.3)
    note = next(c.value for c in at.caption if c.value.startswith("Preprocess, inference"))
    assert re.search(r"median of [123] warm runs; the first run, with set-up, took [\d.]+ ms", note)
    before = runs.runs
    slider(at, "Confidence").set_value(0.5).run()
    assert runs.runs == before  # a slider move is not timed by running the network again
    assert latency(at)["decode"] == stages["decode"]  # decoded once, when it arrived


def test_the_first_run_is_not_repeated_when_it_is_slow(runs, monkeypatch):
    at = start("haar-faces")
    monkeypatch.setattr("time.perf_counter", _slow_clock())
    upload(at, "astronaut.png", png(skimage.data.astronaut()))
    note = next(c.value for c in at.caption if c.value.startswith("Preprocess, inference"))
    assert "one run (it took too long to repeat)" in note


def _slow_clock():
    """A clock where every reading is two seconds after the last one."""
    now = [0.0]

    def clock() -> float:
        now[0] += 2.0
        return now[0]

    return clock


@pytest.fixture
def downloads(monkeypatch) -> dict[str, tuple[object, str]]:
    """Label → (data, file name) of each download button the page draws."""
    seen: dict[str, tuple[object, str]] = {}
    real = st.download_button

    def spy(label, data, file_name=None, *args, **kwargs):
        seen[label] = (data, file_name)
        return real(label, data, file_name, *args, **kwargs)

    monkeypatch.setattr(st, "download_button", spy)
    return seen


def test_detections_download_as_csv_and_json_with_file_model_and_thresholds(runs, downloads):
    at = start("haar-faces")
    upload(at, "crew photo.jpg", jpeg(skimage.data.astronaut()), "image/jpeg")
    slider(at, "Confidence").set_value(0.4).run()
    at.multiselect[0].set_value(["face"]).run()
    csv_text, csv_name = downloads["Download detections (CSV)"]
    rows = list(csv.reader(io.StringIO(csv_text)))
    assert csv_name == "crew_photo_detections.csv"
    assert rows[0] == ["label", "score", "x1", "y1", "x2", "y2"]
    assert [r[0] for r in rows[1:]] == shown_labels(at) and rows[1][0] == "face"
    assert all(0 <= float(v) <= 512 for r in rows[1:] for v in r[2:])
    payload, json_name = downloads["Download detections (JSON)"]
    result = json.loads(payload())  # made on click
    assert json_name == "crew_photo_detections.json"
    assert result["file"] == "crew photo.jpg" and result["model"] == "haar-faces"
    assert result["thresholds"] == {"confidence": 0.4, "iou": 0.45, "classes": ["face"]}
    assert [d["label"] for d in result["detections"]] == [r[0] for r in rows[1:]]
