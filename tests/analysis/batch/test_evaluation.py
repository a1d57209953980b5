"""Scoring a detector against ground truth: a generated labelled set with known answers, read
as YOLO labels and as COCO annotations, run through a batch with an own ONNX model file."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from analysis.batch.evaluation import evaluate
from analysis.batch.run import run_batch
from analysis.batch.settings import OwnModel
from analysis.batch.survey import survey
from analysis.batch.truth import find_ground_truth, read_ground_truth
from analysis.errors import InputError
from tests.analysis.vision.test_own_model import tiny_onnx
from tests.support.live_app import PROJECT_ROOT

SIDE = 64  # px: twice the tiny model's 32-px input, so its boxes scale by 2
CAT, DOG = (8, 8, 24, 40), (36, 36, 60, 60)  # where the pictures show them, px
PICTURES = 6


def yolo_line(class_id: int, box: tuple[int, int, int, int]) -> str:
    x1, y1, x2, y2 = box
    cx, cy, w, h = (x1 + x2) / 2 / SIDE, (y1 + y2) / 2 / SIDE, (x2 - x1) / SIDE, (y2 - y1) / SIDE
    return f"{class_id} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}"


def write_labelled_set(folder: Path) -> Path:
    """``PICTURES`` pictures, each a cat box and a dog box drawn where their YOLO labels say,
    ``classes.txt``, and one picture without labels (not scored)."""
    folder.mkdir(parents=True)
    for index in range(PICTURES + 1):
        canvas = np.full((SIDE, SIDE, 3), 40, np.uint8)
        for (x1, y1, x2, y2), colour in ((CAT, (250, 180, 40)), (DOG, (40, 120, 250))):
            canvas[y1:y2, x1:x2] = colour
        Image.fromarray(canvas).save(folder / f"pic_{index}.png")
        if index < PICTURES:
            lines = [yolo_line(0, CAT), yolo_line(1, DOG)]
            (folder / f"pic_{index}.txt").write_text("\n".join(lines) + "\n")
    (folder / "classes.txt").write_text("cat\ndog\n")
    return folder


def model_file(folder: Path, boxes: dict[int, tuple[int, int, int, int]]) -> Path:
    """An own ONNX model (end-to-end rows, 32-px input) that always finds ``boxes``
    ({class id: box in the 64-px pictures}) at score 0.9."""
    output = np.zeros((1, 10, 6), np.float32)
    for row, (class_id, box) in enumerate(boxes.items()):
        output[0, row] = (*(v / 2 for v in box), 0.9, class_id)
    path = folder / "mine.onnx"
    path.write_bytes(tiny_onnx({"output0": output}))
    (folder / "mine.txt").write_text("cat\ndog\n")
    return path


@pytest.fixture(scope="module")
def client() -> Iterator[object]:
    """An in-process cluster: the own model travels in the worker plugin all the same."""
    from distributed import Client

    with Client(processes=False, n_workers=1, dashboard_address=None) as client:
        yield client


def own(path: Path) -> OwnModel:
    return OwnModel(path.name, path.read_bytes(), ("cat", "dog"))


def test_a_model_that_finds_every_labelled_box_scores_map_1(client, tmp_path):
    folder = write_labelled_set(tmp_path / "in")
    model = own(model_file(tmp_path, {0: CAT, 1: DOG}))
    summary = run_batch(
        folder, tmp_path / "out", model.settings(), client, own=model, ground_truth=folder
    )
    score = summary.evaluation
    assert score["map50"] == pytest.approx(1.0) and score["map50_95"] == pytest.approx(1.0)
    assert score["pictures"] == PICTURES  # the picture without labels is not scored
    assert score["per_class"]["cat"] == {
        "truths": PICTURES, "detections": PICTURES, "precision": 1.0, "recall": 1.0, "ap50": 1.0
    }  # fmt: skip
    assert score["confusion_matrix"]["matrix"] == [[6, 0, 0], [0, 6, 0], [0, 0, 0]]
    assert json.loads((tmp_path / "out" / "evaluation.json").read_text()) == score
    html = (tmp_path / "out" / "report.html").read_text()
    assert "Score against the ground truth" in html and "mAP@50 1.000" in html
    assert (summary.ok, summary.skipped) == (PICTURES + 1, PICTURES + 1)  # labels: skipped


def test_a_model_that_misses_a_class_has_that_class_recall_0(client, tmp_path):
    folder = write_labelled_set(tmp_path / "in")
    model = own(model_file(tmp_path, {0: CAT}))
    summary = run_batch(
        folder, tmp_path / "out", model.settings(), client, own=model, ground_truth=folder
    )
    score = summary.evaluation
    assert score["per_class"]["dog"]["recall"] == 0.0
    assert score["per_class"]["dog"]["precision"] is None  # never detected: not measurable
    assert score["per_class"]["cat"]["recall"] == 1.0
    assert score["map50"] == pytest.approx(0.5)
    assert score["confusion_matrix"]["matrix"][1] == [0, 0, PICTURES]  # every dog missed
    worst = score["worst_files"][0]
    assert (worst["misses"], worst["false_alarms"], worst["correct"]) == (1, 0, 1)


def test_the_command_line_scores_an_own_model_file(tmp_path):
    folder = write_labelled_set(tmp_path / "in")
    path = model_file(tmp_path, {0: CAT, 1: (0, 0, 10, 10)})  # the dog box is in the wrong place
    command = [
        sys.executable, "-m", "analysis", "batch", str(folder), "--task", "detect",
        "--model-file", str(path), "--labels", str(tmp_path / "mine.txt"), "-o",
        str(tmp_path / "out"), "--ground-truth", str(folder), "--workers", "1", "--json",
        "--format", "csv",
    ]  # fmt: skip
    done = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    score = json.loads(done.stdout)["evaluation"]
    assert set(score) >= {"map50", "map50_95", "per_class"}
    dog = score["per_class"]["dog"]
    assert (dog["recall"], dog["precision"]) == (0.0, 0.0)  # found, but never where it is
    assert score["worst_files"][0]["false_alarms"] == 1
    written = {p.name for p in (tmp_path / "out").iterdir()}
    assert {"files.csv", "detections.csv", "evaluation_files.csv", "truth.csv"} <= written
    assert not any(name.endswith(".parquet") for name in written)


def test_coco_annotations_give_the_same_boxes_as_the_yolo_labels(tmp_path):
    folder = write_labelled_set(tmp_path / "in")
    entries = survey(folder, "detect")
    yolo = read_ground_truth(folder, folder, entries)
    coco = {
        "images": [{"id": i, "file_name": f"pic_{i}.png", "width": SIDE, "height": SIDE}
                   for i in range(PICTURES)],
        "annotations": [
            {"id": 2 * i + k, "image_id": i, "category_id": k + 1, "iscrowd": 0,
             "bbox": [box[0], box[1], box[2] - box[0], box[3] - box[1]]}
            for i in range(PICTURES) for k, box in enumerate((CAT, DOG))
        ],
        "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}],
    }  # fmt: skip
    (folder / "annotations.json").write_text(json.dumps(coco))
    assert find_ground_truth(folder) == folder / "annotations.json"
    from_coco = read_ground_truth(folder / "annotations.json", folder, entries)
    assert from_coco.classes == yolo.classes == ("cat", "dog")
    assert from_coco.paths == yolo.paths
    columns = ["x1", "y1", "x2", "y2"]
    np.testing.assert_allclose(
        from_coco.boxes.sort_values(["path", "label"])[columns].to_numpy(),
        yolo.boxes.sort_values(["path", "label"])[columns].to_numpy(),
        atol=1e-3,
    )
    perfect = yolo.boxes.assign(score=0.8)
    assert evaluate(perfect, from_coco).map50 == pytest.approx(1.0)


def test_labels_that_share_no_name_with_the_model_say_so(tmp_path):
    folder = write_labelled_set(tmp_path / "in")
    truth = read_ground_truth(folder, folder, survey(folder, "detect"))
    other = truth.boxes.assign(label="class 0", score=0.9)
    score = evaluate(other, truth)
    assert score.map50 == 0.0 and "no name in common" in score.note


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"pic_0.txt": "0 0.5 0.5\n"}, "Line 1 of pic_0.txt is not"),
        ({"pic_0.txt": "7 0.5 0.5 0.1 0.1\n"}, "names class 7"),
        ({"classes.txt": None}, "No class names"),
    ],
)
def test_bad_yolo_labels_are_one_sentence(tmp_path, files, message):
    folder = write_labelled_set(tmp_path / "in")
    for name, text in files.items():
        if text is None:
            (folder / name).unlink()
        else:
            (folder / name).write_text(text)
    with pytest.raises(InputError, match=message):
        read_ground_truth(folder, folder, survey(folder, "detect"))


def test_a_ground_truth_that_labels_no_picture_is_refused(tmp_path):
    folder = write_labelled_set(tmp_path / "in")
    (tmp_path / "other.json").write_text(
        json.dumps({"images": [{"id": 1, "file_name": "elsewhere.jpg"}], "annotations": [],
                    "categories": [{"id": 1, "name": "cat"}]})
    )  # fmt: skip
    with pytest.raises(InputError, match="label none of the pictures"):
        read_ground_truth(tmp_path / "other.json", folder, survey(folder, "detect"))
    with pytest.raises(InputError, match="not COCO annotations"):
        (tmp_path / "bad.json").write_text("[]")
        read_ground_truth(tmp_path / "bad.json", folder, survey(folder, "detect"))
