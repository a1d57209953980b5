"""BlazePose speed, stage by stage: ``python bench/bench_pose.py [IMAGE] [--runs N]``.

On a photo (default: scikit-image's astronaut, one person; pass e.g. a photo with several
people) prints median milliseconds of

- the detector stage (letterbox, inference, anchor decode + weighted NMS) and each person's
  landmark stage (rotated crop, inference, projection), as ``PoseEstimator`` reports them;
- the end-to-end time (reported total and wall clock) and drawing the skeletons;
- the bare interpreters: set the input, invoke, read the outputs, on the same inputs with
  the same thread count;

and the ratio end-to-end / (bare detector + people × bare landmarks), the pipeline's own
overhead. Bare and pipeline runs alternate in blocks so that machine load affects both alike.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import skimage.data

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from analysis.cores import usable_cores
from analysis.vision.blazepose import DETECTOR_SIZE, LANDMARK_SIZE
from analysis.vision.detections import DetectionFilter
from analysis.vision.image import decode_image, letterbox
from analysis.vision.pose import estimate_poses, filter_poses, load_pose_estimator
from analysis.vision.skeleton import SkeletonAnnotator
from models import get_spec, resolve_files

BLOCK = 10  # runs of one kind in a row


def ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0


class Bare:
    """One interpreter alone: set the input, invoke, read every output."""

    def __init__(self, path: Path, tensor: np.ndarray, threads: int) -> None:
        from ai_edge_litert.interpreter import Interpreter

        self.interpreter = Interpreter(model_path=str(path), num_threads=threads)
        self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]["index"]
        self.outputs = [o["index"] for o in self.interpreter.get_output_details()]
        self.tensor = tensor

    def __call__(self) -> float:
        start = time.perf_counter()
        self.interpreter.set_tensor(self.input, self.tensor)
        self.interpreter.invoke()
        for index in self.outputs:
            self.interpreter.get_tensor(index)
        return ms(start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("image", nargs="?", type=Path, help="photo (default: the astronaut)")
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()

    rgb = decode_image(args.image) if args.image else skimage.data.astronaut()
    name = args.image.name if args.image else "astronaut"
    threads = min(4, usable_cores())  # as PoseEstimator's default
    estimator = load_pose_estimator(threads)
    paths = resolve_files(get_spec("blazepose"))
    square, _, _ = letterbox(
        rgb, (DETECTOR_SIZE, DETECTOR_SIZE), centred=True, pad=0, interpolation=None
    )
    detector_input = (square.astype(np.float32) * (2 / 255) - 1)[np.newaxis]
    crop = np.random.default_rng(0).random((1, LANDMARK_SIZE, LANDMARK_SIZE, 3), np.float32)
    bare_detector = Bare(paths["detector"], detector_input, threads)
    bare_landmarks = Bare(paths["landmarks"], crop, threads)

    params = DetectionFilter(0.5, 0.45)
    for _ in range(5):  # warm-up: XNNPACK prepares its kernels on the first invokes
        estimate_poses(estimator, rgb, params)
        bare_detector()
        bare_landmarks()

    detector, landmarks, filtering, reported, wall = [], [], [], [], []
    bare_det, bare_lmk = [], []
    for _ in range(max(1, args.runs // BLOCK)):
        for _ in range(BLOCK):
            bare_det.append(bare_detector())
            bare_lmk.append(bare_landmarks())
        for _ in range(BLOCK):
            start = time.perf_counter()
            raw, timings = estimator.estimate(rgb)
            filter_start = time.perf_counter()
            filter_poses(raw, params)
            filtering.append(ms(filter_start))
            wall.append(ms(start))
            reported.append(timings.total + filtering[-1])
            detector.append(timings.detector)
            landmarks.append(timings.landmarks)

    people = len(landmarks[-1])
    shown = filter_poses(raw, params)

    def draw() -> None:
        SkeletonAnnotator().annotate(rgb.copy(), shown.to_supervision())

    draw_ms = statistics.median(_timed(draw) for _ in range(20))

    def med(values) -> float:
        return statistics.median(values)

    print(f"BlazePose on {name} ({rgb.shape[1]}×{rgb.shape[0]}), {threads} threads, ")
    print(f"{len(wall)} runs, medians; {people} candidate(s), {len(shown)} shown at 0.5:")
    print(
        f"  detector:  preprocess {med(t.preprocess for t in detector):6.2f}"
        f"  inference {med(t.inference for t in detector):6.2f}"
        f"  postprocess {med(t.postprocess for t in detector):6.2f} ms"
    )
    for i in range(people):
        runs = [t[i] for t in landmarks if len(t) == people]
        print(
            f"  person {i + 1}:  preprocess {med(t.preprocess for t in runs):6.2f}"
            f"  inference {med(t.inference for t in runs):6.2f}"
            f"  postprocess {med(t.postprocess for t in runs):6.2f} ms"
        )
    print(f"  filtering (confidence + NMS)          {med(filtering):7.3f} ms")
    print(f"  end-to-end (reported total)           {med(reported):7.2f} ms")
    print(f"  end-to-end (wall clock)               {med(wall):7.2f} ms")
    print(f"  drawing the skeletons                 {draw_ms:7.2f} ms")
    bare_total = med(bare_det) + people * med(bare_lmk)
    print("Bare interpreters (set input, invoke, read outputs):")
    print(f"  detector                              {med(bare_det):7.2f} ms")
    print(f"  landmarks, one person                 {med(bare_lmk):7.2f} ms")
    print(f"  detector + {people} × landmarks            {bare_total:7.2f} ms")
    print(f"  ratio end-to-end / bare               {med(reported) / bare_total:7.2f}x")


def _timed(function) -> float:
    start = time.perf_counter()
    function()
    return ms(start)


if __name__ == "__main__":
    main()
