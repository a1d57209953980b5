"""``python -m analysis detect IMAGE``: find objects or faces in a picture.

``--model-file`` runs your own model instead of a catalog one (a ``.onnx``, or given twice a
``.prototxt`` and its ``.caffemodel``; see :mod:`analysis.vision.own_model`), ``--labels`` names
its classes. Prints one line per detection, or with ``--json`` one JSON object::

    {"file": ..., "model": ..., "thresholds": {"confidence": ..., "iou": ..., "classes": ...},
     "image": {"width": ..., "height": ...},
     "detections": [{"label": ..., "score": ..., "box": [x1, y1, x2, y2]}],
     "timings_ms": {"preprocess": ..., "inference": ..., "postprocess": ..., "total": ...}}

Detections of segmentation models also have ``"mask": {"area_px": N, "polygon": [[x, y], ...]}``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from analysis.commands.options import add_output_options, repeats
from analysis.errors import InputError
from analysis.vision.annotate import annotate
from analysis.vision.detections import DEFAULT_CONFIDENCE, DetectionFilter
from analysis.vision.detectors import PREFERENCE, best_available, detect, load_detector
from analysis.vision.exports import detection_result
from analysis.vision.image import decode_image, encode_png
from analysis.vision.own_model import load_model_paths
from analysis.vision.timings import median_timings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("image", type=Path, help="picture to analyse (jpg, png, webp, ...)")
    parser.add_argument("-o", "--output", type=Path, help="write the annotated picture (PNG)")
    parser.add_argument(
        "--model",
        choices=PREFERENCE,
        help="catalog model (default: the best one whose files are present)",
    )
    parser.add_argument(
        "--model-file",
        type=Path,
        action="append",
        metavar="PATH",
        help="your own model instead: a .onnx file, or --model-file twice for a Caffe "
        ".prototxt and its .caffemodel",
    )
    parser.add_argument(
        "--labels", type=Path, metavar="FILE", help="class names of --model-file, one per line"
    )
    parser.add_argument(
        "--conf",
        type=float,
        default=DEFAULT_CONFIDENCE,
        help=f"minimum score (default {DEFAULT_CONFIDENCE}, as on every page; adapters keep "
        "≥ 0.05)",
    )
    parser.add_argument("--iou", type=float, default=0.45, help="NMS IoU threshold (default 0.45)")
    add_output_options(parser)


def run(args: argparse.Namespace) -> int:
    repeat = repeats(args)
    params = DetectionFilter(confidence=args.conf, iou=args.iou)
    rgb = decode_image(args.image)
    if args.model_file:
        if args.model:
            raise InputError("Give --model or --model-file, not both.")
        detector = load_model_paths(args.model_file, args.labels)
        model = detector.spec.name
    elif args.labels:
        raise InputError("--labels names the classes of a --model-file.")
    else:
        model = args.model or best_available()
        detector = load_detector(model)

    if repeat > 1:
        detect(detector, rgb, params)  # warm-up: first runs allocate and optimise
    runs = [detect(detector, rgb, params) for _ in range(repeat)]
    detections = runs[-1][0]
    timings = median_timings([t for _, t in runs])

    if args.output:
        try:
            args.output.write_bytes(encode_png(annotate(rgb, detections)))
        except OSError as error:
            raise InputError(f"Could not write the output: {error.strerror}.") from error
    if args.json:
        result = detection_result(args.image.name, model, params, rgb, detections, timings)
        print(json.dumps(result))
    else:
        print(f"{model}: {len(detections)} detection(s) in {rgb.shape[1]}×{rgb.shape[0]} px")
        for record in detections.to_records():
            box = ", ".join(f"{v:.0f}" for v in record["box"])
            print(f"  {record['label']:<16} {record['score']:.2f}  [{box}]")
        print("  " + ", ".join(f"{k} {v:.1f} ms" for k, v in timings.as_dict().items()))
    return 0
