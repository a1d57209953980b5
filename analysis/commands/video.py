"""``python -m analysis video INPUT``: detect, track and count what moves in a video.

With ``--json`` prints one JSON object::

    {"model": ..., "video": {"width", "height", "fps", "frames", "duration_s"},
     "frames_analysed": K,
     "tracks": [{"id", "label", "first_s", "last_s", "frames", "best_score"}],
     "counts": {label: distinct tracks},
     "timings_ms": {"decode", "inference", "tracking", "annotate", "encode", "total"},
     "output": path or null}

and, with ``--line``, ``"crossings": {label: {"in": n, "out": m}}``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from analysis.errors import InputError
from analysis.video.exports import result_json
from analysis.video.pipeline import analyse_video, video_detector
from analysis.video.tracking import Line
from analysis.vision.detections import DetectionFilter
from analysis.vision.detectors import PREFERENCE, best_available


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("video", type=Path, help="video to analyse (mp4, mov, webm, mkv, avi…)")
    parser.add_argument("-o", "--output", type=Path, help="write the annotated video (H.264 MP4)")
    parser.add_argument(
        "--model",
        choices=PREFERENCE,
        help="catalog model (default: the best one whose files are present)",
    )
    parser.add_argument("--conf", type=float, default=0.5, help="minimum score (default 0.5)")
    parser.add_argument("--iou", type=float, default=0.45, help="NMS IoU threshold (default 0.45)")
    parser.add_argument(
        "--stride", type=int, default=1, help="analyse every Nth frame (default 1: all)"
    )
    parser.add_argument(
        "--line", type=Line.parse, help="count crossings of the line x1,y1,x2,y2 (pixels)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    params = DetectionFilter(confidence=args.conf, iou=args.iou)
    if args.output is not None and args.output.suffix.lower() != ".mp4":
        raise InputError(f"The output must be an .mp4 file, not {args.output.name}.")
    model = args.model or best_available()
    analysis = analyse_video(
        args.video,
        video_detector(model),
        model,
        params,
        stride=args.stride,
        line=args.line,
        output=args.output,
    )
    if args.json:
        print(json.dumps(result_json(analysis, args.output)))
        return 0
    info = analysis.info
    print(
        f"{model}: {len(analysis.times)} of {info.frames} frame(s) analysed, "
        f"{info.width}×{info.height} px, {info.fps:.2f} fps, {info.duration_s:.1f} s"
    )
    if analysis.note:
        print(f"  {analysis.note}")
    counts = analysis.tracking.counts()
    print("  " + (", ".join(f"{label}: {n}" for label, n in counts.items()) or "no tracks"))
    for label, sides in (analysis.tracking.crossings or {}).items():
        print(f"  crossed the line: {label} in {sides['in']}, out {sides['out']}")
    print("  " + ", ".join(f"{k} {v:.0f} ms" for k, v in analysis.timings_ms.items()))
    if args.output:
        print(f"  wrote {args.output}")
    return 0
