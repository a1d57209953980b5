"""``python -m analysis video INPUT``: detect, track and count what moves in a video.

With ``--json`` prints one JSON object::

    {"model": ..., "video": {"width", "height", "fps", "frames", "duration_s"},
     "frames_analysed": K,
     "tracks": [{"id", "label", "first_s", "last_s", "frames", "best_score"}],
     "counts": {label: distinct tracks},
     "timings_ms": {"decode", "inference", "tracking", "annotate", "encode", "total"},
     "output": path or null,
     "lines": {NAME: {"in": {label: n}, "out": {label: n}}},
     "zones": {NAME: {label: {"entered": n, "mean_dwell_s": s}}},
     "rules": {"min_track_s", "max_gap_s", "class_agnostic"}}

Tracks and counts hold confirmed objects only (seen for at least ``--min-track-s``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from analysis.errors import InputError
from analysis.video.exports import result_json
from analysis.video.pipeline import analyse_video, video_detector
from analysis.video.regions import Line, Zone
from analysis.video.tracking import MIN_TRACK_S, TrackRules
from analysis.vision.detections import DEFAULT_CONFIDENCE, DetectionFilter
from analysis.vision.detectors import PREFERENCE, best_available


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("video", type=Path, help="video to analyse (mp4, mov, webm, mkv, avi…)")
    parser.add_argument("-o", "--output", type=Path, help="write the annotated video (H.264 MP4)")
    parser.add_argument(
        "--model",
        choices=PREFERENCE,
        help="catalog model (default: the best one whose files are present)",
    )
    parser.add_argument(
        "--conf",
        type=float,
        default=DEFAULT_CONFIDENCE,
        help=f"minimum score (default {DEFAULT_CONFIDENCE})",
    )
    parser.add_argument("--iou", type=float, default=0.45, help="NMS IoU threshold (default 0.45)")
    parser.add_argument(
        "--stride", type=int, default=1, help="analyse every Nth frame (default 1: all)"
    )
    parser.add_argument(
        "--line",
        action="append",
        default=[],
        metavar="NAME=x1,y1,x2,y2",
        help="count crossings of this line (pixels; 'in' is moving up across a line drawn "
        "left to right); repeat for several",
    )
    parser.add_argument(
        "--zone",
        action="append",
        default=[],
        metavar="NAME=x1,y1,x2,y2,x3,y3,...",
        help="count objects entering this polygon and their time in it (pixels); repeatable",
    )
    parser.add_argument(
        "--min-track-s",
        type=float,
        default=MIN_TRACK_S,
        help=f"an object must be tracked this long to count, s (default {MIN_TRACK_S})",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    params = DetectionFilter(confidence=args.conf, iou=args.iou)
    lines = [Line.parse(text, f"line {n}") for n, text in enumerate(args.line, start=1)]
    zones = [Zone.parse(text, f"zone {n}") for n, text in enumerate(args.zone, start=1)]
    names = [region.name for region in (*lines, *zones)]
    if len(set(names)) < len(names):
        raise InputError("Each line and zone needs its own name.")
    if args.output is not None and args.output.suffix.lower() != ".mp4":
        raise InputError(f"The output must be an .mp4 file, not {args.output.name}.")
    model = args.model or best_available()
    analysis = analyse_video(
        args.video,
        video_detector(model),
        model,
        params,
        stride=args.stride,
        lines=lines,
        zones=zones,
        rules=TrackRules(min_track_s=args.min_track_s),
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
    result = result_json(analysis, args.output)
    counts = ", ".join(f"{label}: {n}" for label, n in result["counts"].items())
    print(f"  objects seen for {args.min_track_s:g} s or more: {counts or 'none'}")
    for name, sides in result["lines"].items():
        print(f"  line {name}: in {_per_label(sides['in'])}; out {_per_label(sides['out'])}")
    for name, per_label in result["zones"].items():
        entered = ", ".join(
            f"{label} {v['entered']} (mean {v['mean_dwell_s']:.1f} s)"
            for label, v in per_label.items()
        )
        print(f"  zone {name}: entered {entered or 'by none'}")
    print("  " + ", ".join(f"{k} {v:.0f} ms" for k, v in analysis.timings_ms.items()))
    if args.output:
        print(f"  wrote {args.output}")
    return 0


def _per_label(counts: dict[str, int]) -> str:
    return ", ".join(f"{label} {n}" for label, n in counts.items()) or "0"
