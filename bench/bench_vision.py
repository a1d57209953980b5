"""Vision speed, measured in one run: ``python bench/bench_vision.py [--runs N]``.

Prints median milliseconds and the ratios the project targets:

- end-to-end YOLOX-Nano (preprocess + inference + postprocess, as reported by the adapter
  and the CLI) against a bare onnxruntime session's inference on the same input
  (target: at most 1.5×);
- OpenCV DNN running the same ONNX file, for reference;
- what a confidence or class change costs (filtering cached candidates, no inference);
- drawing the boxes on a 300-px and a 4000-px picture.

Bare and adapter runs alternate in blocks so that machine load affects both alike.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort
import skimage.data

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from analysis.vision.annotate import annotate
from analysis.vision.detections import DetectionFilter, filter_detections
from analysis.vision.detectors import detect, load_detector
from analysis.vision.image import letterbox_blob
from models import get_spec, resolve_files


def ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0


BLOCK = 20  # runs of one kind in a row


def median_ms(function, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(ms(start))
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()

    path = resolve_files(get_spec("yolox-nano"))["model"]
    image = skimage.data.astronaut()
    blob, _ = letterbox_blob(image, (416, 416), bgr=True)

    bare = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = bare.get_inputs()[0].name
    detector = load_detector("yolox-nano")
    params = DetectionFilter(0.5, 0.45)
    for _ in range(20):  # warm-up both
        bare.run(None, {name: blob})
        detect(detector, image, params)

    bare_ms, reported, wall, stages = [], [], [], []
    # Alternate blocks, not single runs: onnxruntime's threads spin briefly after a run, which
    # helps the next run of the same session (as in the app) but slows another session's.
    for _ in range(max(1, args.runs // BLOCK)):
        for _ in range(BLOCK):
            start = time.perf_counter()
            bare.run(None, {name: blob})
            bare_ms.append(ms(start))
        for _ in range(BLOCK):
            start = time.perf_counter()
            _, timings = detect(detector, image, params)
            wall.append(ms(start))
            reported.append(timings.total)
            stages.append((timings.preprocess, timings.inference, timings.postprocess))

    net = cv2.dnn.readNetFromONNX(str(path))

    def opencv_run() -> None:
        net.setInput(blob)
        net.forward()

    for _ in range(5):
        opencv_run()
    opencv_ms = median_ms(opencv_run, max(20, args.runs // 5))

    raw, _ = detector.detect(image)
    slider = [DetectionFilter(c, 0.45) for c in np.linspace(0.05, 0.95, 19)]
    filter_ms = median_ms(lambda: [filter_detections(raw, p) for p in slider], 50) / len(slider)
    class_ms = median_ms(
        lambda: filter_detections(raw, DetectionFilter(0.3, 0.45, ("person",))), 200
    )

    shown = filter_detections(raw, params)
    big = cv2.resize(image, (4000, 4000))
    big_shown = filter_detections(raw, params)
    big_shown = type(big_shown)(
        big_shown.boxes * (4000 / 512), big_shown.scores, big_shown.class_ids, big_shown.class_names
    )
    small = cv2.resize(image, (300, 300))
    small_shown = type(shown)(
        shown.boxes * (300 / 512), shown.scores, shown.class_ids, shown.class_names
    )
    draw_small = median_ms(lambda: annotate(small, small_shown), 50)
    draw_big = median_ms(lambda: annotate(big, big_shown), 10)

    bare_median = statistics.median(bare_ms)
    reported_median = statistics.median(reported)
    pre, inf, post = (statistics.median(s) for s in zip(*stages, strict=True))
    print(f"YOLOX-Nano on astronaut (512×512), {len(bare_ms)} runs each, in blocks, medians:")
    print(f"  bare onnxruntime inference          {bare_median:7.2f} ms")
    print(f"  adapter: preprocess {pre:.2f} + inference {inf:.2f} + postprocess {post:.2f} ms")
    print(f"  adapter end-to-end (reported total) {reported_median:7.2f} ms")
    print(f"  adapter end-to-end (wall clock)     {statistics.median(wall):7.2f} ms")
    print(f"  OpenCV DNN inference, same file     {opencv_ms:7.2f} ms")
    ratio = reported_median / bare_median
    print(f"  ratio end-to-end / bare onnxruntime {ratio:7.2f}x  (target ≤ 1.5)")
    print(f"  ratio OpenCV DNN / bare onnxruntime {opencv_ms / bare_median:7.2f}x")
    print(f"Slider changes on {len(raw)} cached candidates (no inference):")
    print(f"  confidence change                   {filter_ms:7.3f} ms")
    print(f"  class filter change                 {class_ms:7.3f} ms")
    print("Drawing the boxes:")
    print(f"  300×300 picture                     {draw_small:7.2f} ms")
    print(f"  4000×4000 picture                   {draw_big:7.2f} ms")


if __name__ == "__main__":
    main()
