"""Video speed on OpenCV's vtest.avi (768×576, 795 frames): ``python bench/bench_video.py``.

Every frame analysed with YOLOX-Nano. Prints seconds, frames per second and the ratios the
project targets:

- the whole pass (decode + inference + tracking + annotation + H.264 encoding, as the page
  and the CLI run it) against bare onnxruntime inference on the same frames, with the
  picture adapter's settings (target: at most 1.6×);
- a naive OpenCV loop (capture → detect → draw → ``cv2.VideoWriter`` mp4v) against the pass;
- what a confidence change costs on the analysed video: the pass's tracks filtered (target
  under 0.5 s), against tracking all the candidates again (what an IoU or class change costs);
- what moving lines and zones, and the class filter, cost (counted from the tracks; target
  under 0.5 s on an 80-s video, which vtest is).

The video comes from Debian's opencv-doc (installed, or ``--video PATH``).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from analysis.cores import usable_cores
from analysis.video.io import VideoFile
from analysis.video.pipeline import analyse_video, video_detector
from analysis.video.regions import Line, Zone, count_regions
from analysis.video.tracking import track_all
from analysis.vision.annotate import annotate
from analysis.vision.detections import DetectionFilter, filter_detections
from analysis.vision.detectors import load_detector
from analysis.vision.image import letterbox_blob
from models import get_spec, resolve_files

VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
PARAMS = DetectionFilter(confidence=0.4, iou=0.45)


def bare_inference_s(video: Path) -> tuple[float, int]:
    """Seconds inside ``session.run`` alone over every frame, and the frame count."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = min(4, usable_cores())  # as the picture adapter
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    model = str(resolve_files(get_spec("yolox-nano"))["model"])
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    session.run(
        None, {name: letterbox_blob(np.zeros((576, 768, 3), np.uint8), (416, 416), bgr=True)[0]}
    )
    spent, frames = 0.0, 0
    with VideoFile(video) as file:
        for frame in file.frames():
            blob, _ = letterbox_blob(frame.rgb, (416, 416), bgr=True)  # YOLOX's input
            start = time.perf_counter()
            session.run(None, {name: blob})
            spent += time.perf_counter() - start
            frames += 1
    return spent, frames


def naive_loop_s(video: Path, out: Path) -> float:
    """Capture → detect → draw → mp4v, one frame after the other."""
    detector = load_detector("yolox-nano")
    detector.detect(np.zeros((64, 64, 3), np.uint8))
    start = time.perf_counter()
    capture = cv2.VideoCapture(str(video))
    fps = capture.get(cv2.CAP_PROP_FPS)
    size = (int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    while True:
        ok, bgr = capture.read()
        if not ok:
            break
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        raw, _ = detector.detect(rgb)
        drawn = annotate(rgb, filter_detections(raw, PARAMS))
        writer.write(cv2.cvtColor(drawn, cv2.COLOR_RGB2BGR))
    writer.release()
    capture.release()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=VTEST, help="default: opencv-doc's vtest")
    args = parser.parse_args()
    if not args.video.exists():
        sys.exit(f"{args.video} is missing: apt-get install opencv-doc, or pass --video PATH.")

    load = os.getloadavg()[0]
    bare, frames = bare_inference_s(args.video)
    detector = video_detector("yolox-nano")
    detector.detect(np.zeros((64, 64, 3), np.uint8))
    with tempfile.TemporaryDirectory() as folder:
        start, cpu = time.perf_counter(), time.process_time()
        analysis = analyse_video(
            args.video, detector, "yolox-nano", PARAMS, output=Path(folder) / "out.mp4"
        )
        whole, whole_cpu = time.perf_counter() - start, time.process_time() - cpu
        naive = naive_loop_s(args.video, Path(folder) / "naive.mp4")
    start = time.perf_counter()
    track_all(analysis.times, analysis.candidates, DetectionFilter(0.6), analysis.frame_rate)
    refilter = time.perf_counter() - start
    start = time.perf_counter()  # a copy of the candidates: not the pass's, tracked again
    track_all(analysis.times, list(analysis.candidates), DetectionFilter(0.6), analysis.frame_rate)
    retrack = time.perf_counter() - start
    lines = [Line(0, 300, 768, 300, "across"), Line(400, 0, 400, 576, "down")]
    zones = [Zone(((100, 150), (600, 150), (600, 500), (100, 500)), "square")]
    start = time.perf_counter()
    counted = count_regions(analysis.tracking, lines, zones)
    recount = time.perf_counter() - start
    start = time.perf_counter()
    analysis.tracking.of_labels(["person"]).counts()
    class_filter = time.perf_counter() - start

    print(f"{args.video.name}: {frames} frames, {usable_cores()} usable core(s), load {load:.1f}")
    print(f"  bare onnxruntime inference  {bare:6.2f} s  {frames / bare:6.1f} fps")
    print(f"  whole pass (Percept)        {whole:6.2f} s  {frames / whole:6.1f} fps")
    print(f"    its CPU time {whole_cpu:.2f} s, load average {os.getloadavg()[0]:.1f} after it")
    print(f"  naive OpenCV loop (mp4v)    {naive:6.2f} s  {frames / naive:6.1f} fps")
    print("  stages (ms, summed; they overlap): " + str(analysis.timings_ms))
    print(f"  confidence change (the tracks filtered): {refilter:.3f} s (target < 0.5 s)")
    print(f"  tracking all the candidates again (IoU or class change): {retrack:.2f} s")
    print(f"  2 lines and a zone counted from the tracks: {recount:.3f} s (target < 0.5 s)")
    print(f"    {counted.line_counts()} {counted.zone_counts()}")
    print(f"  class filter on the objects: {class_filter:.3f} s")
    print(f"  objects: {analysis.tracking.counts()}")
    print(f"  ratio whole pass / bare inference: {whole / bare:.2f}x (target ≤ 1.6x)")
    print(f"  ratio naive loop / whole pass:     {naive / whole:.2f}x")


if __name__ == "__main__":
    main()
