"""Detections leave Percept as CSV and JSON that say which file, model and thresholds gave them."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import skimage.data
from PIL import Image

from analysis.commands.cli import main as cli_main
from analysis.vision.detections import Detections
from analysis.vision.exports import detections_csv


def test_csv_has_one_row_per_box_best_first_in_picture_pixels():
    detections = Detections(
        np.array([[1, 2, 30, 40], [5.5, 6, 70.5, 80]], float),
        np.array([0.4, 0.9]),
        np.array([0, 1]),
        ("person", "sports ball"),
    )
    rows = list(csv.reader(io.StringIO(detections_csv(detections))))
    assert rows == [
        ["label", "score", "x1", "y1", "x2", "y2"],
        ["sports ball", "0.9", "5.5", "6.0", "70.5", "80.0"],
        ["person", "0.4", "1.0", "2.0", "30.0", "40.0"],
    ]
    assert detections_csv(Detections.empty(("person",))) == "label,score,x1,y1,x2,y2\n"


def test_cli_json_records_the_file_model_and_thresholds(tmp_path, capsys):
    image = tmp_path / "crew.png"
    Image.fromarray(skimage.data.astronaut()).save(image)
    code = cli_main(
        ["detect", str(image), "--model", "haar-faces", "--conf", "0.3", "--iou", "0.6", "--json"]
    )
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["file"] == "crew.png" and result["model"] == "haar-faces"
    assert result["thresholds"] == {"confidence": 0.3, "iou": 0.6, "classes": None}
    assert result["detections"][0]["label"] == "face"
