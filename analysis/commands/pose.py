"""``python -m analysis pose IMAGE``: find people and their 33 body keypoints (BlazePose).

Prints one line per person, or with ``--json`` one JSON object::

    {"model": "blazepose", "image": {"width": ..., "height": ...},
     "keypoint_names": ["nose", "left eye inner", ...],
     "detections": [{"label": "person", "score": ..., "box": [x1, y1, x2, y2],
                     "keypoints": [[x, y, score], ...]}],
     "timings_ms": {"preprocess": ..., "inference": ..., "postprocess": ..., "total": ...,
                    "detector": {...}, "landmarks": [{...} per person], "filtering": ...}}

Keypoints are in image pixels (out-of-frame body parts may lie outside the image); their
score is the landmark's visibility in [0, 1].
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from analysis.commands.options import add_output_options, repeats
from analysis.errors import InputError
from analysis.vision.annotate import annotate
from analysis.vision.detections import DEFAULT_CONFIDENCE, DetectionFilter
from analysis.vision.exports import pose_result
from analysis.vision.image import decode_image, encode_png
from analysis.vision.pose import MIN_PERSON_SCORE, estimate_poses, load_pose_estimator
from analysis.vision.timings import median_timings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("image", type=Path, help="picture to analyse (jpg, png, webp, ...)")
    parser.add_argument("-o", "--output", type=Path, help="write the annotated picture (PNG)")
    parser.add_argument(
        "--conf",
        type=float,
        default=DEFAULT_CONFIDENCE,
        help=f"minimum person score (default {DEFAULT_CONFIDENCE}; the detector keeps ≥ "
        f"{MIN_PERSON_SCORE})",
    )
    parser.add_argument(
        "--iou", type=float, default=0.45, help="NMS IoU threshold on person boxes (default 0.45)"
    )
    add_output_options(parser)


def run(args: argparse.Namespace) -> int:
    repeat = repeats(args)
    params = DetectionFilter(confidence=args.conf, iou=args.iou)
    rgb = decode_image(args.image)
    estimator = load_pose_estimator()

    if repeat > 1:
        estimator.estimate(rgb)  # warm-up: first runs allocate and optimise
    runs = [estimate_poses(estimator, rgb, params) for _ in range(repeat)]
    poses = runs[-1][0]
    timings = median_timings([t for _, t in runs])

    if args.output:
        try:
            args.output.write_bytes(encode_png(annotate(rgb, poses.to_supervision())))
        except OSError as error:
            raise InputError(f"Could not write the output: {error.strerror}.") from error
    if args.json:
        print(json.dumps(pose_result(rgb, poses, timings)))
    else:
        print(f"blazepose: {len(poses)} person(s) in {rgb.shape[1]}×{rgb.shape[0]} px")
        for record in poses.to_records():
            box = ", ".join(f"{v:.0f}" for v in record["box"])
            x, y, _ = record["keypoints"][0]
            print(f"  person {record['score']:.2f}  [{box}]  nose at ({x:.0f}, {y:.0f})")
        stages = timings.as_dict()
        print(
            f"  detector {timings.detector.total:.1f} ms, landmarks "
            + (", ".join(f"{t.total:.1f}" for t in timings.landmarks) or "-")
            + f" ms, total {stages['total']:.1f} ms"
        )
    return 0
