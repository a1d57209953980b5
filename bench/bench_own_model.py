"""Your own model's speed: ``python bench/bench_own_model.py [--runs N]``.

For each Ultralytics YOLOv8n export of ``../shared/models`` (AGPL test fixtures: detection
at 640 and 320, segmentation at 320), prints median milliseconds on the astronaut photo
and the ratio the project targets: the end-to-end time the loaded model reports
(preprocess + inference + decode + filtering) against a bare onnxruntime session's
inference on the same input (target: at most 1.5×). For the segmentation export it also
times rasterising the shown masks (area and polygon for the JSON, and drawing them).

Bare and loaded-model runs alternate in blocks so that machine load affects both alike.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import onnxruntime as ort
import skimage.data

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from analysis.vision.annotate import MaskAnnotator
from analysis.vision.detections import DetectionFilter, to_supervision
from analysis.vision.detectors import detect
from analysis.vision.image import letterbox_blob
from analysis.vision.own_model import load_model_file
from models.locate import model_dirs

FIXTURES = ("yolov8n_int8_640.onnx", "yolov8n_int8_320.onnx", "yolov8n-seg_int8_320.onnx")
BLOCK = 10  # runs of one kind in a row


def ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0


def find(file_name: str) -> Path | None:
    return next((d / file_name for d in model_dirs() if (d / file_name).is_file()), None)


def bench(path: Path, runs: int) -> None:
    image = skimage.data.astronaut()
    detector = load_model_file(path, path.name)
    blob, _ = letterbox_blob(image, detector.size, bgr=False, unit=1 / 255)
    bare = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = bare.get_inputs()[0].name
    params = DetectionFilter(0.5, 0.45)
    for _ in range(5):  # warm-up both
        bare.run(None, {name: blob})
        detect(detector, image, params)

    bare_ms, reported, stages = [], [], []
    for _ in range(max(1, runs // BLOCK)):
        for _ in range(BLOCK):
            start = time.perf_counter()
            bare.run(None, {name: blob})
            bare_ms.append(ms(start))
        for _ in range(BLOCK):
            shown, timings = detect(detector, image, params)
            reported.append(timings.total)
            stages.append((timings.preprocess, timings.inference, timings.postprocess))

    bare_median, reported_median = statistics.median(bare_ms), statistics.median(reported)
    pre, inf, post = (statistics.median(s) for s in zip(*stages, strict=True))
    width, height = detector.size
    print(f"{path.name} ({detector.layout.kind}, {width}×{height}), {len(bare_ms)} runs each:")
    print(f"  bare onnxruntime inference          {bare_median:7.2f} ms")
    print(f"  model: preprocess {pre:.2f} + inference {inf:.2f} + postprocess {post:.2f} ms")
    print(f"  end-to-end (reported total)         {reported_median:7.2f} ms")
    print(f"  ratio end-to-end / bare onnxruntime {reported_median / bare_median:7.2f}x  "
          "(target ≤ 1.5)")  # fmt: skip
    if shown.masks is not None:
        mask_times = []
        for _ in range(20):
            start = time.perf_counter()
            shown.to_records()
            MaskAnnotator().annotate(image.copy(), to_supervision(shown))
            mask_times.append(ms(start))
        masks_median = statistics.median(mask_times)
        print(f"  {len(shown)} masks: JSON records + drawing  {masks_median:7.2f} ms")
        ratio = (reported_median + masks_median) / bare_median
        print(f"  ratio with masks / bare onnxruntime {ratio:7.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=60)
    args = parser.parse_args()
    for file_name in FIXTURES:
        path = find(file_name)
        if path is None:
            print(f"{file_name}: not in any models directory, skipped")
            continue
        bench(path, args.runs)


if __name__ == "__main__":
    main()
